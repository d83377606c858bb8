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

# Python floats, not numpy scalars, so float32 parameters stay float32 (NEP 50).
LOG_2PI = float(np.log(2.0 * np.pi))
LOG_2PI_E = float(np.log(2.0 * np.pi * np.e))

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
# batch-first heads for network policies
# ----------------------------------------------------------------------------


def _check_other(dist, other):
    """KL and its gradient compare two distributions of one kind and one shape."""
    owner = type(dist).__name__
    if type(other) is not type(dist):
        raise ValueError(f"{owner}: other must be a {owner}, got {type(other).__name__}")
    if other.shape != dist.shape:
        raise ValueError(
            f"{owner}: other must have parameter shape {dist.shape}, got {other.shape}"
        )


class Categorical:
    """Categorical distribution over K actions from logits z (B, K), one row per sample.

        pi_k = exp(z_k) / sum_j exp(z_j)          log pi_k = z_k - logsumexp(z)
        score            d log pi_a / d z   = e_a - pi
        entropy          H = -sum_k pi_k log pi_k,     dH/dz = -pi * (log pi + H)
        KL(p || q)       sum_k p_k (log p_k - log q_k), d KL / d z_q = q - p
        Fisher in z      F = E[score score^T] = diag(pi) - pi pi^T

    Yamazaki, "Robot Perception and Control: Reinforcement Learning",
    "Categorical Policies" (log-likelihood by indexing the log-probabilities);
    KL and Fisher from the handwritten notes "Policy Gradients / Q Learning"
    (KL trust region, D_KL ~ 1/2 d^T F d, natural gradient). Attributes:
    logits, logp (B, K) log-probabilities, probs (B, K); actions are int64 (B,).
    """

    def __init__(self, logits):
        xp = get_xp(logits)
        logits = _as_float("Categorical", "logits", logits, xp)
        if logits.ndim != 2 or logits.shape[1] < 1:
            raise ValueError(
                f"Categorical: logits must have shape (B, K) with K >= 1, got {tuple(logits.shape)}"
            )
        self.xp, self.logits, self.shape = xp, logits, tuple(logits.shape)
        self.logp = log_softmax(logits, axis=1)
        self.probs = xp.exp(self.logp)

    def _actions(self, a):
        a = _as_index("Categorical", "actions", a, self.shape[1], self.xp)
        _check_shape("Categorical", "actions", a, self.shape[:1])
        return a

    def sample(self, rng):
        """a ~ pi, int64 (B,), by inverse CDF on the host (module docstring)."""
        return _sample_rows(self.probs, rng, self.xp)

    def mode(self):
        """argmax_k pi_k, int64 (B,)."""
        return self.logits.argmax(axis=1).astype(self.xp.int64)

    def log_prob(self, a):
        """log pi_a for actions a (B,), shape (B,)."""
        a = self._actions(a)
        return self.xp.take_along_axis(self.logp, a[:, None], axis=1)[:, 0]

    def entropy(self):
        """H = -sum_k pi_k log pi_k, shape (B,)."""
        return -(self.probs * self.logp).sum(axis=1)

    def kl(self, other):
        """KL(self || other) = sum_k p_k (log p_k - log q_k), shape (B,)."""
        _check_other(self, other)
        return (self.probs * (self.logp - other.logp)).sum(axis=1)

    def score(self, a):
        """d log pi_a / d logits = onehot(a) - pi, shape (B, K)."""
        a = self._actions(a)
        g = -self.probs
        g[self.xp.arange(self.shape[0]), a] += 1.0
        return g

    def entropy_grad(self):
        """dH / d logits = -pi * (log pi + H), shape (B, K)."""
        return -self.probs * (self.logp + self.entropy()[:, None])

    def kl_grad(self, other):
        """d KL(self || other) / d other.logits = other.probs - self.probs, shape (B, K)."""
        _check_other(self, other)
        return other.probs - self.probs

    def fisher_vp(self, v):
        """F v = pi * v - pi (pi . v) per sample; v and the result (B, K)."""
        v = _as_float("Categorical.fisher_vp", "v", v, self.xp)
        _check_shape("Categorical.fisher_vp", "v", v, self.shape)
        return self.probs * v - self.probs * (self.probs * v).sum(axis=1, keepdims=True)

    def fisher(self):
        """F = diag(pi) - pi pi^T per sample, shape (B, K, K)."""
        eye = self.xp.eye(self.shape[1], dtype=self.probs.dtype)
        return self.probs[:, :, None] * eye - self.probs[:, :, None] * self.probs[:, None, :]


class Bernoulli:
    """Bernoulli distribution over {0, 1} from a logit x (B,): P(a = 1) = p = sigmoid(x).

        log p = log sigmoid(x),  log (1 - p) = log sigmoid(-x)   (stable, no 1 - p)
        score            d log P(a) / dx = a - p
        entropy          H = -p log p - (1-p) log(1-p),   dH/dx = -x p (1-p)
        KL(p || q)       p log(p/q) + (1-p) log((1-p)/(1-q)),  d KL / d x_q = q - p
        Fisher in x      F = p (1 - p)

    Karpathy's Pong network: CMU 10-403, Policy gradients, "Policy network"
    slides of "Pong from Pixels" (one output unit, p = sigmoid, the
    probability of moving up). Attributes: logits (B,), p = P(1) and
    q = P(0) = sigmoid(-x), each from its own log so neither loses precision
    near 0 or 1; actions are int64 (B,) in {0, 1}.
    """

    def __init__(self, logits):
        xp = get_xp(logits)
        logits = _as_float("Bernoulli", "logits", logits, xp)
        if logits.ndim != 1:
            raise ValueError(f"Bernoulli: logits must have shape (B,), got {tuple(logits.shape)}")
        self.xp, self.logits, self.shape = xp, logits, tuple(logits.shape)
        self.logp1, self.logp0 = log_sigmoid(logits), log_sigmoid(-logits)
        self.p, self.q = xp.exp(self.logp1), xp.exp(self.logp0)

    def _actions(self, a):
        a = _as_index("Bernoulli", "actions", a, 2, self.xp)
        _check_shape("Bernoulli", "actions", a, self.shape)
        return a

    def sample(self, rng):
        """a ~ Bernoulli(p), int64 (B,): 1 where u < p, u ~ U[0, 1) drawn on the host."""
        a = (rng.random(self.shape[0]) < to_numpy(self.p)).astype(np.int64)
        return to_device(a, self.xp)

    def mode(self):
        """1 where p > 1/2 (logit > 0), else 0; int64 (B,)."""
        return (self.logits > 0).astype(self.xp.int64)

    def log_prob(self, a):
        """log P(a) = a log p + (1 - a) log(1 - p), shape (B,)."""
        return self.xp.where(self._actions(a) == 1, self.logp1, self.logp0)

    def entropy(self):
        return -(self.p * self.logp1 + self.q * self.logp0)

    def kl(self, other):
        """KL(self || other), shape (B,)."""
        _check_other(self, other)
        return self.p * (self.logp1 - other.logp1) + self.q * (self.logp0 - other.logp0)

    def score(self, a):
        """d log P(a) / d logit = a - p, shape (B,)."""
        return self._actions(a).astype(self.p.dtype) - self.p

    def entropy_grad(self):
        """dH/dx = (dH/dp)(dp/dx) = (-x) p (1 - p), since log(p/(1-p)) = x; shape (B,)."""
        return -self.logits * self.p * self.q

    def kl_grad(self, other):
        """d KL(self || other) / d other.logits = other.p - self.p, shape (B,)."""
        _check_other(self, other)
        return other.p - self.p

    def fisher_vp(self, v):
        """F v = p (1 - p) v per sample; v and the result (B,)."""
        v = _as_float("Bernoulli.fisher_vp", "v", v, self.xp)
        _check_shape("Bernoulli.fisher_vp", "v", v, self.shape)
        return self.p * self.q * v

    def fisher(self):
        """F = p (1 - p) per sample (a 1x1 matrix per sample), shape (B,)."""
        return self.p * self.q


class DiagGaussian:
    """Diagonal Gaussian N(mu, diag(sigma^2)) with sigma = exp(log_std), parameters (mu, log_std).

        log pi(a) = -1/2 sum_i ((a_i - mu_i)^2 / sigma_i^2 + 2 log sigma_i + log 2 pi)
        score     with z = (a - mu) / sigma:   d/d mu = z / sigma,   d/d log_std = z^2 - 1
        entropy   H = sum_i (log sigma_i + 1/2 log(2 pi e)); dH/d mu = 0, dH/d log_std = 1
        KL(1||2)  sum_i [log sigma2_i - log sigma1_i
                         + (sigma1_i^2 + (mu1_i - mu2_i)^2) / (2 sigma2_i^2) - 1/2]
                  d/d mu2 = (mu2 - mu1) / sigma2^2,
                  d/d log_std2 = 1 - (sigma1^2 + (mu1 - mu2)^2) / sigma2^2
        Fisher    diagonal: 1 / sigma_i^2 for mu_i, 2 for log_std_i, 0 off the diagonal

    Yamazaki, "Robot Perception and Control: Reinforcement Learning",
    "Diagonal Gaussian Policies" (sampling a = mu + sigma * z and the
    log-likelihood). mean (B, D); log_std (D,) (state-independent, broadcast
    over the batch) or (B, D). Gradients are per sample, shaped (B, D) for both
    parameters: a caller with a shared log_std sums its gradient over the batch.
    fisher() orders each sample's 2D parameters as [mu_1..mu_D, log_std_1..log_std_D].
    """

    def __init__(self, mean, log_std):
        xp = get_xp(mean, log_std)
        mean = _as_float("DiagGaussian", "mean", mean, xp)
        log_std = _as_float("DiagGaussian", "log_std", log_std, xp)
        if mean.ndim != 2 or mean.shape[1] < 1:
            raise ValueError(f"DiagGaussian: mean must have shape (B, D), got {tuple(mean.shape)}")
        if tuple(log_std.shape) not in (tuple(mean.shape[1:]), tuple(mean.shape)):
            raise ValueError(
                f"DiagGaussian: log_std must have shape {tuple(mean.shape[1:])} or "
                f"{tuple(mean.shape)} to match mean, got {tuple(log_std.shape)}"
            )
        self.xp, self.mean, self.shape = xp, mean, tuple(mean.shape)
        self.log_std = xp.broadcast_to(log_std, mean.shape)
        with np.errstate(over="ignore"):  # overflow is reported just below
            self.std = xp.exp(self.log_std)
        if not bool(xp.all(xp.isfinite(self.std) & (self.std > 0))):
            raise ValueError(
                "DiagGaussian: exp(log_std) must be a positive finite number; got log_std "
                f"from {float(log_std.min())} to {float(log_std.max())} ({log_std.dtype})"
            )

    def _actions(self, a):
        a = _as_float("DiagGaussian", "actions", a, self.xp)
        _check_shape("DiagGaussian", "actions", a, self.shape)
        return a

    def _pair(self, name, v_mean, v_log_std):
        v_mean = _as_float("DiagGaussian", f"{name} mean part", v_mean, self.xp)
        v_log_std = _as_float("DiagGaussian", f"{name} log_std part", v_log_std, self.xp)
        _check_shape("DiagGaussian", f"{name} mean part", v_mean, self.shape)
        if tuple(v_log_std.shape) not in (self.shape[1:], self.shape):
            _check_shape("DiagGaussian", f"{name} log_std part", v_log_std, self.shape)
        return v_mean, v_log_std

    def sample(self, rng):
        """a = mu + sigma * z, z ~ N(0, I) drawn on the host; shape (B, D), mean's dtype."""
        z = to_device(rng.standard_normal(self.shape), self.xp).astype(self.mean.dtype)
        return self.mean + self.std * z

    def mode(self):
        """The most likely action, mu (a copy), shape (B, D)."""
        return self.mean.copy()

    def log_prob(self, a):
        z = (self._actions(a) - self.mean) / self.std
        return -0.5 * (z**2 + 2.0 * self.log_std + LOG_2PI).sum(axis=1)

    def entropy(self):
        return (self.log_std + 0.5 * LOG_2PI_E).sum(axis=1)

    def kl(self, other):
        """KL(self || other), shape (B,)."""
        _check_other(self, other)
        ratio = (self.std**2 + (self.mean - other.mean) ** 2) / (2.0 * other.std**2)
        return (other.log_std - self.log_std + ratio - 0.5).sum(axis=1)

    def score(self, a):
        """(d log pi(a) / d mu, d log pi(a) / d log_std) = (z / sigma, z^2 - 1), each (B, D)."""
        z = (self._actions(a) - self.mean) / self.std
        return z / self.std, z**2 - 1.0

    def entropy_grad(self):
        """(dH / d mu, dH / d log_std) = (0, 1), each (B, D)."""
        return self.xp.zeros_like(self.mean), self.xp.ones_like(self.std)

    def kl_grad(self, other):
        """Gradient of KL(self || other) in (other.mean, other.log_std), each (B, D)."""
        _check_other(self, other)
        var2 = other.std**2
        d_mean = (other.mean - self.mean) / var2
        d_log_std = 1.0 - (self.std**2 + (self.mean - other.mean) ** 2) / var2
        return d_mean, d_log_std

    def fisher_vp(self, v_mean, v_log_std):
        """F v = (v_mean / sigma^2, 2 v_log_std) per sample, each (B, D); v_log_std
        may also be (D,), a direction shared by every sample."""
        v_mean, v_log_std = self._pair("fisher_vp v", v_mean, v_log_std)
        return v_mean / self.std**2, self.xp.broadcast_to(2.0 * v_log_std, self.shape)

    def fisher(self):
        """Per-sample Fisher in [mu, log_std], shape (B, 2D, 2D), diagonal."""
        twos = self.xp.full(self.shape, 2.0, dtype=self.std.dtype)
        diag = self.xp.concatenate([1.0 / self.std**2, twos], axis=1)
        return diag[:, :, None] * self.xp.eye(2 * self.shape[1], dtype=diag.dtype)


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
