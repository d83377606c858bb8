"""The variance-optimal baseline, exactly: for g_hat = u - b h with E[h] = 0,

    trace Cov[g_hat](b) - trace Cov[g_hat](b*) = E[|h|^2] (b - b*)^2 >= 0,   b* = E[h . u] / E[|h|^2]

and per coordinate Var_k(b_k) - Var_k(b*_k) = E[h_k^2] (b_k - b*_k)^2. Tested for
the full-return form (h = grad log p(tau), u = h R(tau); the handwritten
notes' b* = E[g^2 r] / E[g^2]) and the reward-to-go form (h = sum_t gamma^t
score_t, u = sum_t gamma^t score_t G_t), with the covariances from the oracle."""

import numpy as np
from exact_cases import discounts, problems, reward_to_go, trajectory_scores
from hypothesis import given, settings

from purerl import baselines as B
from purerl import estimators as E
from purerl import exact


def _cov(case, estimator):
    return exact.covariance(case.mdp, case.policy, case.theta, estimator)


def _check_quadratic(case, h_of, u_of, per_coordinate):
    """Check the exact quadratic excess variance around b* for a few other b."""
    batch, w = exact.enumerate_batch(case.mdp, case.policy, case.theta)
    h, u = h_of(batch), u_of(batch)
    b_star = B.optimal_baseline_general(h, u, weights=w, per_coordinate=per_coordinate)
    h2 = w @ h**2 if per_coordinate else w @ (h**2).sum(axis=1)  # E[h_k^2] or E[|h|^2]

    def spread(b):  # per-coordinate variances (or the trace) of u - b h
        var = np.diag(_cov(case, lambda bt: u_of(bt) - b * h_of(bt)))
        return var if per_coordinate else var.sum()

    at_best = spread(b_star)
    scale = 1.0 + np.abs(at_best).max()
    for b in [b_star + case.rng.normal(size=np.shape(b_star)) * 2, np.zeros(np.shape(b_star)), b_star + 1e-3]:
        excess = spread(b) - at_best
        np.testing.assert_allclose(excess, h2 * (b - b_star) ** 2, rtol=0, atol=1e-9 * scale)
        assert np.all(excess >= -1e-9 * scale)
    return at_best


@settings(max_examples=20, deadline=None)
@given(problems())
def test_scalar_b_star_minimises_the_trace_for_the_full_return_estimator(case):
    def R(bt):
        return E.total_return(bt.rewards, bt.terminated, gamma=bt.gamma)[0, :, :1]  # (M, 1)

    def u_of(bt):
        return trajectory_scores(bt) * R(bt)

    trace_scalar = _check_quadratic(case, trajectory_scores, u_of, per_coordinate=False)
    per_coord = _check_quadratic(case, trajectory_scores, u_of, per_coordinate=True)
    # the per-coordinate optimum is at least as good in total as the best single b
    assert per_coord.sum() <= trace_scalar + 1e-9 * (1 + trace_scalar)
    # and optimal_baseline is optimal_baseline_general with h = g, u = g R
    batch, w = exact.enumerate_batch(case.mdp, case.policy, case.theta)
    g, Rv = trajectory_scores(batch), R(batch)[:, 0]
    general = B.optimal_baseline_general(g, g * Rv[:, None], w)
    assert np.allclose(B.optimal_baseline(g, Rv, weights=w), general)


@settings(max_examples=20, deadline=None)
@given(problems())
def test_b_star_for_the_reward_to_go_form(case):
    def h_of(bt):
        return bt.score_estimate(discounts(bt))

    trace = _check_quadratic(case, h_of, reward_to_go, per_coordinate=False)
    per_coord = _check_quadratic(case, h_of, reward_to_go, per_coordinate=True)
    assert per_coord.sum() <= trace + 1e-9 * (1 + trace)


def test_reward_to_go_variance_report_counts_every_mdp():
    report = exact.reward_to_go_variance_report(n_mdps=6, seed=1, n_states=2, n_actions=2, horizon=2)
    assert report["trace_lower"] + report["trace_equal"] + report["trace_higher"] == 6
    low, mid, high = report["trace_ratio_min_median_max"]
    assert 0 < low <= mid <= high
