"""The trajectory oracle: every trajectory of a small finite-horizon MDP with its
exact probability, and the exact mean and covariance of a gradient estimator.

An estimator is any callable `estimator(batch) -> (M, n_params)` over a
Batch: M batches of n trajectories each, laid out time-major like a rollout
(arrays (H, M, n)), with the policy's scores attached. Written with the
library's own functions (purerl.estimators for the weights, the policy's
`score` from purerl.distributions for grad log pi, Batch.score_estimate for
their product), the same callable runs on enumerated batches here, giving
E[g_hat] and Cov[g_hat] as exact finite sums, and on sampled batches
(sample_batch). For n >= 2 the oracle enumerates every ordered n-tuple of
trajectories, so batch estimators (a baseline from the batch, leave-one-out)
get their exact moments too; the tuple count is (number of trajectories)^n.

Used through purerl.exact, which re-exports these names and adds the exact
grad J(theta) to compare against (exact.bias_and_covariance).
"""

from dataclasses import dataclass

import numpy as np

from purerl.probability import check_rng, positive_int


def distribution_table(name, p, shape=None):
    """p as a float64 array of probabilities over its last axis (checked), e.g. a policy (S, A)."""
    p = np.asarray(p, dtype=np.float64)
    if shape is not None and p.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must hold probabilities: finite and nonnegative")
    error = np.abs(p.sum(axis=-1) - 1.0)
    if np.any(error > 1e-9):  # exact answers need exact distributions
        worst = np.unravel_index(np.argmax(error), error.shape)
        where = f"row [{', '.join(map(str, worst))}]" if worst else "it"
        raise ValueError(f"{name} must sum to 1 over its last axis (to 1e-9); {where} sums to "
                         f"{float(p[worst].sum())!r}; normalise it in float64, e.g. p / p.sum(-1, keepdims=True)")
    return p


def draw(probs, rng):
    """One index per row of probs (M, K) by inverse CDF, from a single rng.random(M) call.

    A zero-probability entry is never drawn: it would need cdf_{k-1} < u <= cdf_k.
    """
    cdf = np.cumsum(probs, axis=1)
    u = (1.0 - rng.random(probs.shape[0]))[:, None] * cdf[:, -1:]
    return np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1)


def score_table(mdp, policy, theta):
    """grad_theta log pi_theta(a|s) for every (s, a), shape (S, A, n_params), from policy.score."""
    s, a = np.meshgrid(np.arange(mdp.n_states), np.arange(mdp.n_actions), indexing="ij")
    rows = np.asarray(policy.score(theta, s.ravel(), a.ravel()), dtype=np.float64)
    return rows.reshape(mdp.n_states, mdp.n_actions, -1)


@dataclass(frozen=True)
class Trajectories:
    """M trajectories of a finite-horizon MDP: states, actions (H, M) int64,
    rewards (H, M) float64, and prob (M,), each trajectory's probability."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    prob: np.ndarray


def _branch(columns, prob, factor, k):
    """Split every trajectory into k children weighted by factor (M, k); drop zero-probability ones."""
    p = (prob[:, None] * factor).ravel()
    keep = np.flatnonzero(p > 0)
    parent, child = np.divmod(keep, k)
    return [c[:, parent] for c in columns], child, p[keep]


def enumerate_trajectories(mdp, pi):
    """Every trajectory tau = (s_0, a_0, ..., s_{H-1}, a_{H-1}) with positive probability under pi (S, A):

        p(tau) = mu0(s_0) prod_{t=0}^{H-1} pi(a_t|s_t) prod_{t=0}^{H-2} P(s_{t+1}|s_t, a_t)

    (course notes "Chapter 4", eq. 4.2). At most (S A)^H of them; their
    probabilities sum to 1. Rewards r_t = r(s_t, a_t).
    """
    if mdp.horizon is None:
        raise ValueError("enumerate_trajectories needs a finite horizon (mdp.horizon is None)")
    pi = distribution_table("pi", pi, (mdp.n_states, mdp.n_actions))
    states = np.flatnonzero(mdp.mu0 > 0)[None, :]
    actions = np.zeros((0, states.shape[1]), dtype=np.int64)
    prob = mdp.mu0[states[0]]
    for t in range(mdp.horizon):
        (states, actions), a, prob = _branch([states, actions], prob, pi[states[t]], mdp.n_actions)
        actions = np.vstack([actions, a[None, :]])
        if t < mdp.horizon - 1:
            factor = mdp.P[states[t], actions[t]]  # (M, S): P(s_{t+1}|s_t, a_t)
            (states, actions), s_next, prob = _branch([states, actions], prob, factor, mdp.n_states)
            states = np.vstack([states, s_next[None, :]])
    return Trajectories(states.astype(np.int64), actions.astype(np.int64), mdp.R[states, actions], prob)


@dataclass(frozen=True)
class Batch:
    """M batches of n trajectories each, time-major like a rollout: arrays (H, M, n).

    states, actions (int64), rewards; terminated (True at the horizon's last
    step: the finite-horizon MDP ends there) and truncated (all False);
    log_probs = log pi_theta(a_t|s_t); behavior_log_probs = log beta(a_t|s_t)
    of the policy that drew the data (equal to log_probs on-policy);
    scores (H, M, n, n_params) = grad_theta log pi_theta(a_t|s_t); gamma.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    log_probs: np.ndarray
    behavior_log_probs: np.ndarray
    scores: np.ndarray
    gamma: float

    @property
    def shape(self):
        """(H, M, n)."""
        return self.rewards.shape

    def score_estimate(self, weights):
        """The score-function gradient estimate of each of the M batches, shape (M, n_params):

            g_hat = (1/n) sum_{i=1}^{n} sum_{t=0}^{H-1} grad log pi_theta(a_t^(i)|s_t^(i)) weights_t^(i)

        CMU 10-403, Policy gradients, "Likelihood ratio gradient estimator" and
        "REINFORCE" (g_hat is a sum of terms grad log pi(a_t|s_t) A_hat_t).
        weights (H, M, n): R(tau), gamma^t G_t, advantages, importance-weighted returns...
        """
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != self.shape:
            raise ValueError(f"weights must have shape (H, M, n) = {self.shape}, got {w.shape}")
        return np.einsum("tmnp,tmn->mp", self.scores, w) / self.shape[2]


def _tables(mdp, policy, theta, behavior):
    shape = (mdp.n_states, mdp.n_actions)
    pi = distribution_table("policy.probs(theta)", policy.probs(theta), shape)
    beta = pi if behavior is None else distribution_table("behavior", behavior, shape)
    with np.errstate(divide="ignore"):  # log 0 = -inf for actions beta never takes
        return np.log(pi), np.log(beta), beta, score_table(mdp, policy, theta)


def _batch(mdp, trajs, idx, tables):
    """The Batch of trajectory tuples idx (M, n) (indices into trajs)."""
    log_pi, log_beta, _, scores = tables
    s, a = trajs.states[:, idx], trajs.actions[:, idx]  # (H, M, n)
    terminated = np.zeros(s.shape, dtype=bool)
    terminated[-1] = True
    return Batch(s, a, trajs.rewards[:, idx], terminated, np.zeros(s.shape, dtype=bool),
                 log_pi[s, a], log_beta[s, a], scores[s, a], mdp.gamma)


def _chunks(mdp, policy, theta, n, behavior, max_tuples, chunk):
    """Yield (Batch, tuple probabilities) over all ordered n-tuples, `chunk` tuples at a time."""
    n = positive_int("exact", "n (trajectories per batch)", n)
    tables = _tables(mdp, policy, theta, behavior)
    trajs = enumerate_trajectories(mdp, tables[2])
    count = trajs.prob.size ** n
    if count > max_tuples:
        raise ValueError(
            f"{trajs.prob.size} trajectories give {count} batches of n={n}, over max_tuples={max_tuples}; "
            "use a smaller MDP (states, actions, horizon) or n, or raise max_tuples"
        )
    for start in range(0, count, chunk):
        flat = np.arange(start, min(start + chunk, count))
        idx = np.stack(np.unravel_index(flat, (trajs.prob.size,) * n), axis=1)
        yield _batch(mdp, trajs, idx, tables), trajs.prob[idx].prod(axis=1)


def enumerate_batch(mdp, policy, theta, n=1, behavior=None, max_tuples=2_000_000):
    """(Batch of every ordered n-tuple of trajectories, their probabilities (M,)).

    Trajectories are drawn from pi_theta, or from the behaviour policy
    `behavior` (an (S, A) table) for off-policy estimators; scores and
    log_probs are always those of pi_theta.
    """
    (batch, weights), = _chunks(mdp, policy, theta, n, behavior, max_tuples, chunk=max_tuples)
    return batch, weights


def moments(mdp, policy, theta, estimator, n=1, behavior=None, max_tuples=2_000_000, chunk=1 << 16):
    """(E[g_hat], Cov[g_hat]) exactly, as finite sums over every batch of n trajectories:

        E[g_hat] = sum_b p(b) g_hat(b),   Cov[g_hat] = sum_b p(b) (g_hat(b) - E)(g_hat(b) - E)^T

    with p(b) = prod_i p(tau_i) under pi_theta (or `behavior`). estimator(batch)
    returns (M, n_params). Shapes: mean (n_params,), cov (n_params, n_params).
    """
    total, shift, first, second = 0.0, None, 0.0, 0.0
    for batch, w in _chunks(mdp, policy, theta, n, behavior, max_tuples, chunk):
        g = np.asarray(estimator(batch), dtype=np.float64)
        want = (batch.shape[1], batch.scores.shape[-1])
        if g.shape != want:
            raise ValueError(f"estimator(batch) must return (M, n_params) = {want}, got {g.shape}")
        if not np.all(np.isfinite(g)):
            raise ValueError("estimator(batch) returned nan or inf")
        if shift is None:  # accumulate around a nearby point to avoid cancellation
            shift = w @ g / w.sum()
        x = g - shift
        total, first, second = total + w.sum(), first + w @ x, second + (w[:, None] * x).T @ x
    mean_x = first / total
    return shift + mean_x, second / total - np.outer(mean_x, mean_x)


def expectation(mdp, policy, theta, estimator, n=1, behavior=None, max_tuples=2_000_000):
    """E[g_hat] exactly (see moments), shape (n_params,)."""
    return moments(mdp, policy, theta, estimator, n, behavior, max_tuples)[0]


def covariance(mdp, policy, theta, estimator, n=1, behavior=None, max_tuples=2_000_000):
    """Cov[g_hat] exactly (see moments), shape (n_params, n_params)."""
    return moments(mdp, policy, theta, estimator, n, behavior, max_tuples)[1]


def sample_batch(mdp, policy, theta, rng, m, n=1, behavior=None):
    """A Batch of m batches of n trajectories sampled from pi_theta (or `behavior`) with rng.

    Same layout as enumerate_batch, so one estimator callable serves both.
    """
    if mdp.horizon is None:
        raise ValueError("sample_batch needs a finite horizon (mdp.horizon is None)")
    check_rng("sample_batch", rng)
    m, n = positive_int("sample_batch", "m (batches)", m), positive_int("sample_batch", "n (trajectories per batch)", n)
    tables = _tables(mdp, policy, theta, behavior)
    beta, count = tables[2], m * n
    states = np.zeros((mdp.horizon, count), dtype=np.int64)
    actions = np.zeros((mdp.horizon, count), dtype=np.int64)
    states[0] = draw(np.broadcast_to(mdp.mu0, (count, mdp.n_states)), rng)
    for t in range(mdp.horizon):
        actions[t] = draw(beta[states[t]], rng)
        if t < mdp.horizon - 1:
            states[t + 1] = draw(mdp.P[states[t], actions[t]], rng)
    trajs = Trajectories(states, actions, mdp.R[states, actions], np.full(count, 1.0 / count))
    return _batch(mdp, trajs, np.arange(count).reshape(m, n), tables)
