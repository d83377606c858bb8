"""Sampled REINFORCE estimates against the exact oracle, for what enumeration
cannot show: that trajectories drawn with an rng (exact.sample_batch) give
estimates whose sample mean falls where the exact mean and covariance say.

The confidence region. With N i.i.d. estimates g_i of mean mu and covariance
Sigma (both exact, from the oracle), d = mean(g_i) - mu has Cov[d] = Sigma / N
and lies in the range of Sigma, so D = N d^T Sigma^+ d has E[D] = rank(Sigma)
exactly. Markov's inequality gives P(D >= rank / alpha) <= alpha with no
normal approximation: the false-alarm rate of this test is at most
alpha = 1%. The seed is fixed, so the outcome is reproducible."""

import numpy as np
from exact_cases import full_return, reward_to_go

from purerl import estimators as E
from purerl import exact
from purerl.tabular_policies import TabularSoftmax

ALPHA = 0.01
N = 100_000


def _statistic(mdp, policy, theta, estimator, batch, target):
    """(D, threshold rank / ALPHA) for the sample mean of estimator over the batch."""
    _, cov = exact.moments(mdp, policy, theta, estimator)
    d = estimator(batch).mean(axis=0) - target
    return N * d @ np.linalg.pinv(cov) @ d, np.linalg.matrix_rank(cov) / ALPHA


def test_sampled_reinforce_lies_in_the_exact_confidence_region():
    rng = np.random.default_rng(7)
    mdp = exact.random_mdp(rng, n_states=3, n_actions=3, horizon=4, gamma=0.9)
    policy = TabularSoftmax(3, 3)
    theta = rng.uniform(-2.0, 2.0, size=policy.n_params)
    grad = exact.policy_gradient(mdp, policy, theta)
    batch = exact.sample_batch(mdp, policy, theta, np.random.default_rng(1), m=N)  # N trajectories
    for estimator in (full_return, reward_to_go):
        D, threshold = _statistic(mdp, policy, theta, estimator, batch, grad)
        assert D < threshold, (estimator.__name__, D, threshold)

    # The test has power: the same samples reject an estimator with a modest bias
    # (reward-to-go without gamma^t, biased by about 10% of grad J here).
    def no_discount(b):
        return b.score_estimate(E.discounted_returns(b.rewards, b.terminated, gamma=b.gamma))

    D, threshold = _statistic(mdp, policy, theta, no_discount, batch, grad)
    assert D > threshold
