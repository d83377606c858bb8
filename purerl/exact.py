"""Small tabular MDPs solved exactly: J(theta) and grad J(theta) by dynamic programming.

These are the ground truth the estimators are tested against (the oracle
that enumerates trajectories is purerl/enumeration.py; its public names are
re-exported here, so `from purerl import exact` reaches all of it),
and the model the tabular TD methods learn in. Host numpy, float64 throughout.

Notation (course notes "Chapter 4", section 4.2; CMU 10-403, Policy
gradients, "Policy objective"): states s in {0..S-1}, actions a in {0..A-1},
P[s, a, s'] = P(s'|s, a), deterministic reward r(s, a) = R[s, a], initial
distribution mu0, discount gamma, horizon H (finite: steps t = 0..H-1), and

    J(theta) = E_{tau ~ p_theta} [ sum_{t=0}^{H-1} gamma^t r(s_t, a_t) ] = sum_s mu0(s) V_0(s)

(H = None: infinite-horizon discounted, sum over all t, gamma < 1).
"""

from dataclasses import dataclass

import numpy as np

from purerl.enumeration import (
    Batch,
    Trajectories,
    covariance,
    distribution_table,
    draw,
    enumerate_batch,
    enumerate_trajectories,
    expectation,
    moments,
    sample_batch,
    score_table,
)
from purerl.probability import check_rng


def _table(owner, name, x, shape):
    x = np.array(x, dtype=np.float64)  # a private copy, then frozen below
    if x.shape != tuple(shape):
        raise ValueError(f"{owner}: {name} must have shape {tuple(shape)}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{owner}: {name} must be finite")
    x.setflags(write=False)
    return x


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A finite MDP (S states, A actions) with deterministic rewards r(s, a).

    P (S, A, S): transition probabilities P[s, a, s'];  R (S, A): reward r(s, a);
    mu0 (S,): initial-state distribution;  gamma in [0, 1];  horizon: H >= 1
    steps (finite horizon), or None for the infinite-horizon discounted MDP
    (then gamma < 1). Arrays are copied and made read-only.
    """

    P: np.ndarray
    R: np.ndarray
    mu0: np.ndarray
    gamma: float
    horizon: int | None

    def __post_init__(self):
        R = _table("TabularMDP", "R", self.R, np.shape(self.R))
        if R.ndim != 2 or min(R.shape) < 1:
            raise ValueError(f"TabularMDP: R must have shape (S, A), got {R.shape}")
        S, A = R.shape
        P = _table("TabularMDP", "P", self.P, (S, A, S))
        mu0 = _table("TabularMDP", "mu0", self.mu0, (S,))
        distribution_table("TabularMDP: P", P)
        distribution_table("TabularMDP: mu0", mu0)
        gamma = float(self.gamma)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"TabularMDP: gamma must be in [0, 1], got {self.gamma!r}")
        H = self.horizon
        if H is None:
            if gamma >= 1.0:
                raise ValueError("TabularMDP: an infinite horizon (horizon=None) needs gamma < 1")
        elif isinstance(H, bool) or not isinstance(H, (int, np.integer)) or H < 1:
            raise ValueError(f"TabularMDP: horizon must be a positive integer or None, got {H!r}")
        for name, value in (("P", P), ("R", R), ("mu0", mu0), ("gamma", gamma),
                            ("horizon", None if H is None else int(H))):
            object.__setattr__(self, name, value)

    @property
    def n_states(self):
        return self.R.shape[0]

    @property
    def n_actions(self):
        return self.R.shape[1]

    def sample_step(self, s, a, rng):
        """(s_next, r): s_next ~ P(.|s, a) drawn from rng, r = r(s, a) as a float."""
        s, a = int(s), int(a)
        if not (0 <= s < self.n_states and 0 <= a < self.n_actions):
            raise ValueError(
                f"sample_step: need 0 <= s < {self.n_states} and 0 <= a < {self.n_actions}, got s={s}, a={a}"
            )
        return int(draw(self.P[s, a][None, :], rng)[0]), float(self.R[s, a])


def random_mdp(rng, n_states=3, n_actions=2, horizon=4, gamma=0.9, integer_rewards=True):
    """A random TabularMDP: P[s, a, :] and mu0 ~ Dirichlet(1, ..., 1) (dense, so every
    trajectory has positive probability); rewards uniform integers in {-2..2}
    (integer_rewards, exact in float) or standard normal."""
    check_rng("random_mdp", rng)
    P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    if integer_rewards:
        R = rng.integers(-2, 3, size=(n_states, n_actions)).astype(np.float64)
    else:
        R = rng.normal(size=(n_states, n_actions))
    mu0 = rng.dirichlet(np.ones(n_states))
    return TabularMDP(P=P, R=R, mu0=mu0, gamma=gamma, horizon=horizon)


# ----------------------------------------------------------------------------
# dynamic programming for a fixed policy table pi (S, A)
# ----------------------------------------------------------------------------


def evaluate(mdp, pi):
    """Exact V and Q of policy pi (S, A) by the Bellman expectation equations.

        Q_t(s, a) = r(s, a) + gamma sum_s' P(s'|s, a) V_{t+1}(s'),   V_H = 0
        V_t(s)    = sum_a pi(a|s) Q_t(s, a)

    Yamazaki, "Bellman Equation". Finite horizon: V (H+1, S), Q (H, S, A),
    value-to-go from step t. Infinite horizon: V (S,) solving
    (I - gamma P_pi) V = r_pi, Q (S, A).
    """
    pi = distribution_table("pi", pi, (mdp.n_states, mdp.n_actions))
    if mdp.horizon is None:
        P_pi = np.einsum("sa,sat->st", pi, mdp.P)
        r_pi = (pi * mdp.R).sum(axis=1)
        V = np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * P_pi, r_pi)
        return V, mdp.R + mdp.gamma * mdp.P @ V
    H = mdp.horizon
    V = np.zeros((H + 1, mdp.n_states))
    Q = np.zeros((H, mdp.n_states, mdp.n_actions))
    for t in range(H - 1, -1, -1):
        Q[t] = mdp.R + mdp.gamma * mdp.P @ V[t + 1]
        V[t] = (pi * Q[t]).sum(axis=1)
    return V, Q


def visitation(mdp, pi):
    """State distributions under pi: d_t(s) = Pr(s_t = s), shape (H, S), for a finite
    horizon; for H = None the discounted visitation d(s) = sum_t gamma^t Pr(s_t = s)
    (S,), which sums to 1 / (1 - gamma).

        d_0 = mu0,   d_{t+1}(s') = sum_{s, a} d_t(s) pi(a|s) P(s'|s, a)
    """
    pi = distribution_table("pi", pi, (mdp.n_states, mdp.n_actions))
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    if mdp.horizon is None:
        return np.linalg.solve((np.eye(mdp.n_states) - mdp.gamma * P_pi).T, mdp.mu0)
    d = np.zeros((mdp.horizon, mdp.n_states))
    d[0] = mdp.mu0
    for t in range(1, mdp.horizon):
        d[t] = d[t - 1] @ P_pi
    return d


def objective(mdp, policy, theta):
    """J(theta) = sum_s mu0(s) V_0^{pi_theta}(s), exactly (course notes "Chapter 4", eq. 4.1)."""
    V, _ = evaluate(mdp, _probs(mdp, policy, theta))
    return float(mdp.mu0 @ (V if mdp.horizon is None else V[0]))


def policy_gradient(mdp, policy, theta):
    """grad J(theta) exactly, by the policy gradient theorem:

        grad J = sum_{t=0}^{H-1} gamma^t sum_s d_t(s) sum_a pi(a|s) Q_t(s, a) grad log pi_theta(a|s)

    (course notes "Chapter 4", eq. 4.3, with gamma^t Q in the discounted case;
    Yamazaki, "Policy Gradient": dV/dtheta = E_a[d log pi/d theta Q]). The score
    grad log pi_theta(a|s) is the policy's own `score` (purerl.distributions).
    Infinite horizon: the same with d(s) the discounted visitation. Shape (n_params,).
    """
    pi = _probs(mdp, policy, theta)
    _, Q = evaluate(mdp, pi)
    d = visitation(mdp, pi)
    if mdp.horizon is None:
        weight = d[:, None] * pi * Q
    else:
        discount = mdp.gamma ** np.arange(mdp.horizon)
        weight = np.einsum("t,ts,sa,tsa->sa", discount, d, pi, Q)
    return np.einsum("sa,sap->p", weight, score_table(mdp, policy, theta))


def _probs(mdp, policy, theta):
    return distribution_table("policy.probs(theta)", policy.probs(theta), (mdp.n_states, mdp.n_actions))


def bias_and_covariance(mdp, policy, theta, estimator, n=1, behavior=None, max_tuples=2_000_000):
    """The exact bias vector and covariance matrix of a user's gradient estimator.

        bias = E[g_hat] - grad J(theta),    cov = Cov[g_hat]

    over every batch of n trajectories drawn from pi_theta (or from the
    behaviour table `behavior` (S, A)); `estimator(batch) -> (M, n_params)`
    as in purerl.enumeration.moments. An unbiased estimator has bias 0 up to
    rounding (about 1e-12 here), whatever the MDP and theta.
    """
    mean, cov = moments(mdp, policy, theta, estimator, n=n, behavior=behavior, max_tuples=max_tuples)
    return mean - policy_gradient(mdp, policy, theta), cov
__all__ = [
    "TabularMDP", "random_mdp", "evaluate", "visitation", "objective", "policy_gradient",
    "bias_and_covariance", "reward_to_go_variance_report",
    # from purerl.enumeration
    "Batch", "Trajectories", "draw", "score_table", "distribution_table", "enumerate_trajectories",
    "enumerate_batch", "moments", "expectation", "covariance", "sample_batch",
]


def reward_to_go_variance_report(n_mdps=200, seed=0, n_states=3, n_actions=3, horizon=4, gamma=0.9):
    """How often the reward-to-go estimator has less variance than the full-return one.

    Not a theorem: dropping past rewards removes terms whose mean is zero but
    whose covariance with the kept terms can be negative. For n_mdps random
    MDPs (random_mdp) with a tabular softmax policy at theta ~ U(-2, 2), this
    compares trace Cov[sum_t score_t R(tau)] with trace Cov[sum_t score_t
    gamma^t G_t] exactly and returns counts and the spread of their ratio.
    """
    from purerl import estimators
    from purerl.tabular_policies import TabularSoftmax

    def full(batch):
        R = estimators.total_return(batch.rewards, batch.terminated, gamma=batch.gamma)
        return batch.score_estimate(R)

    def rtg(batch):
        G = estimators.reward_to_go(batch.rewards, batch.terminated, gamma=batch.gamma)
        return batch.score_estimate(G)

    rng = np.random.default_rng(seed)
    policy = TabularSoftmax(n_states, n_actions)
    traces, every_coordinate = [], 0
    for _ in range(n_mdps):
        mdp = random_mdp(rng, n_states, n_actions, horizon, gamma)
        theta = rng.uniform(-2.0, 2.0, size=policy.n_params)
        var_full = np.diag(covariance(mdp, policy, theta, full))
        var_rtg = np.diag(covariance(mdp, policy, theta, rtg))
        traces.append((var_rtg.sum(), var_full.sum()))
        every_coordinate += bool(np.all(var_rtg <= var_full + 1e-12))
    rtg_trace, full_trace = np.array(traces).T
    tie = np.abs(rtg_trace - full_trace) <= 1e-12 * np.maximum(1.0, full_trace)  # e.g. all rewards 0
    ratio = rtg_trace[~tie] / full_trace[~tie]
    return {
        "n_mdps": n_mdps,
        "trace_lower": int((~tie & (rtg_trace < full_trace)).sum()),
        "trace_equal": int(tie.sum()),
        "trace_higher": int((~tie & (rtg_trace > full_trace)).sum()),
        "every_coordinate_lower_or_equal": every_coordinate,
        "trace_ratio_min_median_max": tuple(round(float(x), 3) for x in np.percentile(ratio, [0, 50, 100])),
    }
