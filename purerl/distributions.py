"""Policy distributions: log-probabilities, scores, entropy, KL and Fisher.

Batch-first heads for network policies (Categorical, Bernoulli, DiagGaussian).
The two tabular softmax policies of the policy-gradient chapter live in
purerl/tabular_policies.py. Every gradient here is written out by hand
and checked against central finite differences in tests/test_distributions.py.

Array module: each object takes numpy or CuPy from the arrays it is given
(purerl.backend.get_xp). Sampling always draws from the passed
numpy.random.Generator on the host and moves the result to the device, so a
seed gives the same draws on either backend (one small host-device copy per
call).
"""

import numpy as np

from purerl.backend import get_xp, to_device, to_numpy
from purerl.probability import (as_float, as_index, check_other, check_rng, check_shape, log_sigmoid, log_softmax,
                                sample_rows)

# Python floats, not numpy scalars, so float32 parameters stay float32 (NEP 50).
LOG_2PI = float(np.log(2.0 * np.pi))
LOG_2PI_E = float(np.log(2.0 * np.pi * np.e))

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
        logits = as_float("Categorical", "logits", logits, xp)
        if logits.ndim != 2 or logits.shape[1] < 1:
            raise ValueError(
                f"Categorical: logits must have shape (B, K) with K >= 1, got {tuple(logits.shape)}"
            )
        self.xp, self.logits, self.shape = xp, logits, tuple(logits.shape)
        self.logp = log_softmax(logits, axis=1)
        self.probs = xp.exp(self.logp)

    def _actions(self, a):
        a = as_index("Categorical", "actions", a, self.shape[1], self.xp)
        check_shape("Categorical", "actions", a, self.shape[:1])
        return a

    def sample(self, rng):
        """a ~ pi, int64 (B,), by inverse CDF on the host (module docstring)."""
        check_rng("Categorical.sample", rng)
        return sample_rows(self.probs, rng, self.xp)

    def mode(self):
        """argmax_k pi_k, int64 (B,)."""
        return self.logits.argmax(axis=1).astype(self.xp.int64)

    def log_prob(self, a):
        """log pi_a for actions a (B,), shape (B,)."""
        a = self._actions(a)
        return self.logp[self.xp.arange(self.shape[0]), a]

    def entropy(self):
        """H = -sum_k pi_k log pi_k, shape (B,)."""
        return -(self.probs * self.logp).sum(axis=1)

    def kl(self, other):
        """KL(self || other) = sum_k p_k (log p_k - log q_k), shape (B,)."""
        check_other(self, other)
        return (self.probs * (self.logp - other.logp)).sum(axis=1)

    def score(self, a):
        """d log pi_a / d logits = onehot(a) - pi, shape (B, K)."""
        onehot = self.xp.arange(self.shape[1]) == self._actions(a)[:, None]  # (B, K)
        return onehot.astype(self.probs.dtype) - self.probs

    def entropy_grad(self):
        """dH / d logits = -pi * (log pi + H), shape (B, K)."""
        return -self.probs * (self.logp + self.entropy()[:, None])

    def kl_grad(self, other):
        """d KL(self || other) / d other.logits = other.probs - self.probs, shape (B, K)."""
        check_other(self, other)
        return other.probs - self.probs

    def fisher_vp(self, v):
        """F v = pi * v - pi (pi . v) per sample; v and the result (B, K)."""
        v = as_float("Categorical.fisher_vp", "v", v, self.xp)
        check_shape("Categorical.fisher_vp", "v", v, self.shape)
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
        logits = as_float("Bernoulli", "logits", logits, xp)
        if logits.ndim != 1:
            raise ValueError(f"Bernoulli: logits must have shape (B,), got {tuple(logits.shape)}")
        self.xp, self.logits, self.shape = xp, logits, tuple(logits.shape)
        self.logp1, self.logp0 = log_sigmoid(logits), log_sigmoid(-logits)
        self.p, self.q = xp.exp(self.logp1), xp.exp(self.logp0)

    def _actions(self, a):
        a = as_index("Bernoulli", "actions", a, 2, self.xp)
        check_shape("Bernoulli", "actions", a, self.shape)
        return a

    def sample(self, rng):
        """a ~ Bernoulli(p), int64 (B,): 1 where u < p, u ~ U[0, 1) drawn on the host."""
        check_rng("Bernoulli.sample", rng)
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
        check_other(self, other)
        return self.p * (self.logp1 - other.logp1) + self.q * (self.logp0 - other.logp0)

    def score(self, a):
        """d log P(a) / d logit = a - p, shape (B,)."""
        return self._actions(a).astype(self.p.dtype) - self.p

    def entropy_grad(self):
        """dH/dx = (dH/dp)(dp/dx) = (-x) p (1 - p), since log(p/(1-p)) = x; shape (B,)."""
        return -self.logits * self.p * self.q

    def kl_grad(self, other):
        """d KL(self || other) / d other.logits = other.p - self.p, shape (B,)."""
        check_other(self, other)
        return other.p - self.p

    def fisher_vp(self, v):
        """F v = p (1 - p) v per sample; v and the result (B,)."""
        v = as_float("Bernoulli.fisher_vp", "v", v, self.xp)
        check_shape("Bernoulli.fisher_vp", "v", v, self.shape)
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
        mean = as_float("DiagGaussian", "mean", mean, xp)
        log_std = as_float("DiagGaussian", "log_std", log_std, xp)
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
        a = as_float("DiagGaussian", "actions", a, self.xp)
        check_shape("DiagGaussian", "actions", a, self.shape)
        return a

    def _pair(self, name, v_mean, v_log_std):
        v_mean = as_float("DiagGaussian", f"{name} mean part", v_mean, self.xp)
        v_log_std = as_float("DiagGaussian", f"{name} log_std part", v_log_std, self.xp)
        check_shape("DiagGaussian", f"{name} mean part", v_mean, self.shape)
        if tuple(v_log_std.shape) not in (self.shape[1:], self.shape):
            check_shape("DiagGaussian", f"{name} log_std part", v_log_std, self.shape)
        return v_mean, v_log_std

    def sample(self, rng):
        """a = mu + sigma * z, z ~ N(0, I) drawn on the host; shape (B, D), mean's dtype."""
        check_rng("DiagGaussian.sample", rng)
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
        """KL(self || other), shape (B,).

            KL = sum_i [ log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2 ]
               = sum_i [ (expm1(d) - d) / 2 + (m1 - m2)^2 / (2 s2^2) ],  d = 2 (log s1 - log s2)

        The second form is the same number written so that each term is >= 0
        in floating point and keeps its precision when the two are close (the
        trust-region regime, KL ~ 1e-6), where the first form cancels.
        """
        check_other(self, other)
        xp = self.xp
        d = 2.0 * (self.log_std - other.log_std)
        spread = 0.5 * (xp.expm1(d) - d)
        shift = (self.mean - other.mean) ** 2 / (2.0 * other.std**2)
        return (spread + shift).sum(axis=1)

    def score(self, a):
        """(d log pi(a) / d mu, d log pi(a) / d log_std) = (z / sigma, z^2 - 1), each (B, D)."""
        z = (self._actions(a) - self.mean) / self.std
        return z / self.std, z**2 - 1.0

    def entropy_grad(self):
        """(dH / d mu, dH / d log_std) = (0, 1), each (B, D)."""
        return self.xp.zeros_like(self.mean), self.xp.ones_like(self.std)

    def kl_grad(self, other):
        """Gradient of KL(self || other) in (other.mean, other.log_std), each (B, D)."""
        check_other(self, other)
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
