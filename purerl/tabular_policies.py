"""The tabular softmax policies of the policy-gradient chapter.

TabularSoftmax (one preference per state-action pair) and LinearSoftmax
(linear in features phi(s, a)), with their closed-form scores. The exact
oracle (purerl/exact.py) enumerates trajectories of small MDPs under these
policies. theta is one flat vector; states and actions are integers.
Validation and the stable log-softmax are shared with purerl/distributions.py (purerl/probability.py).
"""

from purerl.backend import get_xp
from purerl.probability import as_float, as_index, check_rng, check_shape, log_softmax, positive_int, sample_rows

class _SoftmaxPolicy:
    """Shared code for pi_theta(a|s) = exp(f_theta(s, a)) / sum_a' exp(f_theta(s, a')).

    Subclasses define n_states, n_actions, n_params, logits(theta) -> (S, A)
    holding f_theta(s, a), and _score_rows(theta, pi, s, a) -> (T, n_params).
    States s and actions a are integer scalars or arrays of shape (T,).
    """

    def _theta(self, theta):
        xp = get_xp(theta)
        theta = as_float(type(self).__name__, "theta", theta, xp)
        check_shape(type(self).__name__, "theta", theta, (self.n_params,))
        return theta, xp

    def _index(self, name, x, n, xp):
        x = as_index(type(self).__name__, name, x, n, xp)
        if x.ndim > 1:
            raise ValueError(
                f"{type(self).__name__}: {name} must be a scalar or shape (T,), got {x.shape}"
            )
        return x

    def _states_actions(self, s, a, xp):
        s = self._index("s", s, self.n_states, xp)
        a = self._index("a", a, self.n_actions, xp)
        if s.shape != a.shape:
            raise ValueError(
                f"{type(self).__name__}: s and a must have the same shape, "
                f"got {s.shape} and {a.shape}"
            )
        return s, a

    def log_probs(self, theta):
        """log pi_theta(a|s) for every state and action, shape (S, A)."""
        return log_softmax(self.logits(theta), axis=1)

    def probs(self, theta):
        """pi_theta(a|s) for every state and action, shape (S, A); rows sum to 1."""
        xp = get_xp(theta)
        return xp.exp(self.log_probs(theta))

    def log_prob(self, theta, s, a):
        """log pi_theta(a|s): a scalar for scalar s, a; shape (T,) for arrays (T,)."""
        theta, xp = self._theta(theta)
        s, a = self._states_actions(s, a, xp)
        return self.log_probs(theta)[s, a]

    def sample(self, theta, s, rng):
        """a ~ pi_theta(.|s): an int for scalar s, an int64 array (T,) for s of shape (T,).
        Drawn on the host from rng (see the module docstring)."""
        check_rng(f"{type(self).__name__}.sample", rng)
        theta, xp = self._theta(theta)
        s = self._index("s", s, self.n_states, xp)
        a = sample_rows(self.probs(theta)[s.reshape(-1)], rng, xp)
        return int(a[0]) if s.ndim == 0 else a

    def score(self, theta, s, a):
        """grad_theta log pi_theta(a|s): (n_params,) for scalar s, a;
        (T, n_params) for arrays s, a of shape (T,), row t for (s_t, a_t)."""
        theta, xp = self._theta(theta)
        s, a = self._states_actions(s, a, xp)
        rows = self._score_rows(theta, self.probs(theta), s.reshape(-1), a.reshape(-1))
        return rows[0] if s.ndim == 0 else rows

    def score_table(self, theta):
        """grad_theta log pi_theta(a|s) for every (s, a): shape (S, A, n_params)."""
        xp = get_xp(theta)
        s, a = xp.meshgrid(xp.arange(self.n_states), xp.arange(self.n_actions), indexing="ij")
        rows = self.score(theta, s.reshape(-1), a.reshape(-1))
        return rows.reshape(self.n_states, self.n_actions, self.n_params)


class TabularSoftmax(_SoftmaxPolicy):
    """Tabular softmax policy, one preference theta_{s,a} per state-action pair.

        pi_theta(a|s) = exp(theta_{s,a}) / sum_a' exp(theta_{s,a'})
        d log pi_theta(a|s) / d theta_{s',b} = 1[s' = s] (1[b = a] - pi_theta(b|s))

    Course notes, "Chapter 4: Policy Gradients", section 4.5 "Policy
    parameterizations" (the normaliser there sums over a' for the same s).
    theta is flat, shape (S * A,), row-major: theta_{s,a} = theta[s * A + a].
    """

    def __init__(self, n_states, n_actions):
        self.n_states = positive_int("TabularSoftmax", "n_states", n_states)
        self.n_actions = positive_int("TabularSoftmax", "n_actions", n_actions)
        self.n_params = self.n_states * self.n_actions

    def logits(self, theta):
        """f_theta(s, a) = theta_{s,a}, shape (S, A)."""
        theta, _ = self._theta(theta)
        return theta.reshape(self.n_states, self.n_actions)

    def _score_rows(self, theta, pi, s, a):
        xp = get_xp(theta)
        t = xp.arange(s.shape[0])
        g = xp.zeros((s.shape[0], self.n_states, self.n_actions), dtype=theta.dtype)
        g[t, s, :] = -pi[s]  # - pi_theta(b|s) in row s only
        g[t, s, a] += 1.0  # + 1[b = a]
        return g.reshape(s.shape[0], self.n_params)


class LinearSoftmax(_SoftmaxPolicy):
    """Linear-in-features softmax policy over a feature table phi(s, a) in R^d.

        pi_theta(a|s) = exp(theta . phi(s, a)) / sum_a' exp(theta . phi(s, a'))
        grad_theta log pi_theta(a|s) = phi(s, a) - sum_a' pi_theta(a'|s) phi(s, a')
                                     = phi(s, a) - E_{a' ~ pi_theta(.|s)} phi(s, a')

    Course notes, "Chapter 4: Policy Gradients", section 4.5.1 "Linear in
    features". features has shape (S, A, d); theta has shape (d,).
    TabularSoftmax is the special case phi(s, a) = one-hot of (s, a).
    """

    def __init__(self, features):
        xp = get_xp(features)
        self.features = as_float("LinearSoftmax", "features", features, xp)
        if self.features.ndim != 3 or min(self.features.shape) < 1:
            raise ValueError(
                "LinearSoftmax: features must have shape (S, A, d) with S, A, d >= 1, "
                f"got {tuple(self.features.shape)}"
            )
        self.n_states, self.n_actions, self.n_params = (int(n) for n in self.features.shape)

    def logits(self, theta):
        """f_theta(s, a) = theta . phi(s, a), shape (S, A)."""
        theta, _ = self._theta(theta)
        return self.features @ theta

    def _score_rows(self, theta, pi, s, a):
        phi_s = self.features[s]  # (T, A, d)
        expected_phi = (pi[s][:, :, None] * phi_s).sum(axis=1)  # E_{a'~pi(.|s_t)} phi(s_t, a')
        return self.features[s, a] - expected_phi
