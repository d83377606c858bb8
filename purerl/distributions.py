"""Policy distributions: log-probabilities, scores, entropy, KL and Fisher.

Batch-first heads for network policies (Categorical, Bernoulli, DiagGaussian)
and the two tabular softmax policies of the policy-gradient chapter
(TabularSoftmax, LinearSoftmax). Every gradient here is written out by hand
and checked against central finite differences in tests/test_distributions.py.

Array module: each object takes numpy or CuPy from the arrays it is given
(purerl.backend.get_xp). Sampling always draws from the passed
numpy.random.Generator on the host and moves the result to the device, so a
seed gives the same draws on either backend (one small host-device copy per
call).
"""

import numpy as np

from purerl.backend import get_xp, to_device, to_numpy

# ----------------------------------------------------------------------------
# validation and numerically stable primitives
# ----------------------------------------------------------------------------


def _as_float(owner, name, x, xp):
    """x as a finite float array of module xp (integer input becomes float64)."""
    x = xp.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(xp.float64)
    elif x.dtype.kind != "f":
        raise ValueError(f"{owner}: {name} must be a real float array, got dtype {x.dtype}")
    finite = xp.isfinite(x)
    if not bool(xp.all(finite)):
        bad = int(x.size - int(finite.sum()))
        raise ValueError(
            f"{owner}: {name} must be finite; got {bad} nan/inf entries out of {x.size}"
        )
    return x


def _as_index(owner, name, x, n, xp):
    """x as an int64 array of whole numbers in [0, n); floats holding whole
    numbers are accepted because rollout buffers often store actions as floats."""
    x = xp.asarray(x)
    if x.dtype.kind == "f":
        if not bool(xp.all(x == xp.floor(x))):  # also rejects nan and inf
            raise ValueError(f"{owner}: {name} must be whole numbers in [0, {n - 1}], got {x}")
    elif x.dtype.kind not in "biu":
        raise ValueError(f"{owner}: {name} must be integers, got dtype {x.dtype}")
    if x.size and (int(x.min()) < 0 or int(x.max()) >= n):
        raise ValueError(
            f"{owner}: {name} must be integers in [0, {n - 1}], "
            f"got values from {int(x.min())} to {int(x.max())}"
        )
    return x.astype(xp.int64)


def _check_shape(owner, name, x, shape):
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{owner}: {name} must have shape {tuple(shape)}, got {tuple(x.shape)}")


def log_softmax(logits, axis=-1):
    """log pi_k = z_k - log sum_j exp(z_j), computed as (z_k - m) - log sum_j exp(z_j - m)
    with m = max_j z_j, so logits of 1000 do not overflow exp."""
    xp = get_xp(logits)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def log_sigmoid(x):
    """log sigma(x) = -log(1 + exp(-x)) = -logaddexp(0, -x); stable for |x| large."""
    xp = get_xp(x)
    return -xp.logaddexp(0.0, -x)


def _sample_rows(probs, rng, xp):
    """One index per row of probs (N, K) by inverse CDF, drawn on the host.

    u ~ U(0, 1] is scaled by each row's total so rounding in the sum cannot
    make the last category unreachable, and a zero-probability category is
    never drawn (it needs cdf_{k-1} < u <= cdf_k, an empty interval).
    """
    p = to_numpy(probs)
    cdf = np.cumsum(p, axis=1)
    u = (1.0 - rng.random(p.shape[0]))[:, None] * cdf[:, -1:]
    idx = np.minimum((cdf < u).sum(axis=1), p.shape[1] - 1)
    return to_device(idx.astype(np.int64), xp)


# ----------------------------------------------------------------------------
# tabular policies of the policy-gradient chapter
# ----------------------------------------------------------------------------


class _SoftmaxPolicy:
    """Shared code for pi_theta(a|s) = exp(f_theta(s, a)) / sum_a' exp(f_theta(s, a')).

    Subclasses define n_states, n_actions, n_params, logits(theta) -> (S, A)
    holding f_theta(s, a), and _score_rows(theta, pi, s, a) -> (T, n_params).
    States s and actions a are integer scalars or arrays of shape (T,).
    """

    def _theta(self, theta):
        xp = get_xp(theta)
        theta = _as_float(type(self).__name__, "theta", theta, xp)
        _check_shape(type(self).__name__, "theta", theta, (self.n_params,))
        return theta, xp

    def _index(self, name, x, n, xp):
        x = _as_index(type(self).__name__, name, x, n, xp)
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
        theta, xp = self._theta(theta)
        s = self._index("s", s, self.n_states, xp)
        a = _sample_rows(self.probs(theta)[s.reshape(-1)], rng, xp)
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


def _positive_int(owner, name, n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {n!r}")
    return int(n)


class TabularSoftmax(_SoftmaxPolicy):
    """Tabular softmax policy, one preference theta_{s,a} per state-action pair.

        pi_theta(a|s) = exp(theta_{s,a}) / sum_a' exp(theta_{s,a'})
        d log pi_theta(a|s) / d theta_{s',b} = 1[s' = s] (1[b = a] - pi_theta(b|s))

    Course notes, "Chapter 4: Policy Gradients", section 4.5 "Policy
    parameterizations" (the normaliser there sums over a' for the same s).
    theta is flat, shape (S * A,), row-major: theta_{s,a} = theta[s * A + a].
    """

    def __init__(self, n_states, n_actions):
        self.n_states = _positive_int("TabularSoftmax", "n_states", n_states)
        self.n_actions = _positive_int("TabularSoftmax", "n_actions", n_actions)
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
        self.features = _as_float("LinearSoftmax", "features", features, xp)
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
