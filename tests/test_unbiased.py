"""Unbiasedness as an identity: E[g_hat] = grad J(theta) to 1e-9, computed exactly
by enumerating every trajectory (or every pair of trajectories, for batch
baselines) of random small MDPs. Every estimator here is assembled from the
library's functions: the policy's score times weights from purerl.estimators
and purerl.baselines. Negative controls find the bias of the two classic
mistakes, and its exact size."""

import numpy as np
from exact_cases import Problem, discounts, full_return, problems, reward_to_go
from hypothesis import given, settings

from purerl import baselines as B
from purerl import estimators as E
from purerl import exact
from purerl.importance import importance_weights
from purerl.tabular_policies import TabularSoftmax

TOL = 1e-9


def unbiased(case, estimator, n=1, behavior=None):
    bias, _ = exact.bias_and_covariance(case.mdp, case.policy, case.theta, estimator, n=n, behavior=behavior)
    assert np.abs(bias).max() < TOL, bias
    return bias


def exact_values(case):
    """values[t] = V_t(s_t) and next_values[t] = V_{t+1}(s_{t+1}) of pi_theta, as functions of a batch."""
    V, _ = exact.evaluate(case.mdp, case.policy.probs(case.theta))  # (H + 1, S), V_H = 0
    t = np.arange(case.mdp.horizon)[:, None, None]

    def values(batch):
        nxt = np.concatenate([batch.states[1:], batch.states[-1:]])  # s_H is never used: V_H = 0
        return V[t, batch.states], V[t + 1, nxt]
    return values


@settings(max_examples=20, deadline=None)
@given(problems())
def test_monte_carlo_estimators_are_unbiased(case):
    rng = case.rng
    H = case.mdp.horizon
    b, b_t, table = rng.normal() * 3, rng.normal(size=(H, 1, 1)) * 3, rng.normal(size=case.mdp.n_states) * 3
    values = exact_values(case)

    def rtg(batch):
        return E.reward_to_go(batch.rewards, batch.terminated, gamma=batch.gamma)

    unbiased(case, full_return)                                                  # R(tau)
    unbiased(case, reward_to_go)                                                 # causality
    unbiased(case, lambda bt: full_return(bt) - b * bt.score_estimate(np.ones(bt.shape)))  # R(tau) - b
    unbiased(case, lambda bt: bt.score_estimate(rtg(bt) - b))                    # constant b
    unbiased(case, lambda bt: bt.score_estimate(rtg(bt) - b_t))                  # time-dependent b_t
    unbiased(case, lambda bt: bt.score_estimate(                                 # any b(s_t)
        rtg(bt) - B.state_baseline(lambda s: table[s], bt.states)))
    unbiased(case, lambda bt: bt.score_estimate(rtg(bt) - discounts(bt) * values(bt)[0]))  # gamma^t V_t(s_t)


@settings(max_examples=20, deadline=None)
@given(problems())
def test_bootstrapped_advantages_with_the_true_values_are_unbiased(case):
    """With the exact V, E[A_hat_t | s_t, a_t] = Q_t - V_t for GAE at any lam and for
    n-step returns at any n, so sum_t gamma^t score_t A_hat_t is unbiased."""
    values = exact_values(case)
    lam, n = case.rng.choice([0.0, 0.3, 0.9, 1.0]), int(case.rng.integers(1, 5))

    def gae(batch):
        v, nv = values(batch)
        adv = E.gae(batch.rewards, v, nv, batch.terminated, batch.truncated, gamma=batch.gamma, lam=lam)
        return batch.score_estimate(discounts(batch) * adv)

    def nstep(batch):
        v, nv = values(batch)
        y = E.nstep_returns(batch.rewards, nv, batch.terminated, batch.truncated, gamma=batch.gamma, n=n)
        return batch.score_estimate(discounts(batch) * (y - v))

    unbiased(case, gae)
    unbiased(case, nstep)


@settings(max_examples=20, deadline=None)
@given(problems(max_states=3, max_actions=2, max_horizon=3))
def test_leave_one_out_batch_baselines_are_unbiased_at_n2(case):
    def loo_constant(batch):  # b_i = R(tau_j), j the other trajectory of the pair
        R = E.total_return(batch.rewards, batch.terminated, gamma=batch.gamma)
        return batch.score_estimate(R - B.leave_one_out_baseline(R[0])[None])

    def loo_time(batch):  # b_t from the other trajectory's reward-to-go at the same t
        G = E.reward_to_go(batch.rewards, batch.terminated, gamma=batch.gamma)
        return batch.score_estimate(G - B.leave_one_out_baseline(G))

    unbiased(case, loo_constant, n=2)
    unbiased(case, loo_time, n=2)


@settings(max_examples=20, deadline=None)
@given(problems())
def test_importance_sampled_estimators_are_unbiased_under_another_behaviour_policy(case):
    beta = case.rng.dirichlet(np.ones(case.mdp.n_actions), size=case.mdp.n_states)

    def whole(batch):  # rho(tau) grad log p(tau) R(tau)
        rho = importance_weights(batch.log_probs, batch.behavior_log_probs, batch.terminated,
                                   per_decision=False)
        return batch.score_estimate(rho * E.total_return(batch.rewards, batch.terminated, gamma=batch.gamma))

    def per_decision(batch):  # sum_t score_t sum_{t' >= t} gamma^t' rho_{0:t'} r_t'
        rho = importance_weights(batch.log_probs, batch.behavior_log_probs, batch.terminated)
        return batch.score_estimate(E.reward_to_go(rho * batch.rewards, batch.terminated, gamma=batch.gamma))

    unbiased(case, whole, behavior=beta)
    unbiased(case, per_decision, behavior=beta)


def test_largest_case_every_estimator():
    """The largest size the hypothesis tests draw (3 states, 3 actions, horizon 4:
    6561 trajectories), always, for the single-trajectory estimators."""
    rng = np.random.default_rng(2024)
    mdp = exact.random_mdp(rng, n_states=3, n_actions=3, horizon=4, gamma=0.9)
    case = Problem(mdp, TabularSoftmax(3, 3), rng.uniform(-2, 2, 9), rng)
    test_monte_carlo_estimators_are_unbiased.hypothesis.inner_test(case)
    test_bootstrapped_advantages_with_the_true_values_are_unbiased.hypothesis.inner_test(case)
    test_importance_sampled_estimators_are_unbiased_under_another_behaviour_policy.hypothesis.inner_test(case)


# ----------------------------------------------------------------------------
# negative controls: the test must find the bias, and its exact size
# ----------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(problems())
def test_action_dependent_baseline_is_biased_by_exactly_its_score_correlation(case):
    mdp, policy, theta = case.mdp, case.policy, case.theta
    c = np.arange(mdp.n_actions)[None, :] + np.zeros((mdp.n_states, 1))  # b(s, a) = a

    def action_baseline(batch):
        G = E.discounted_returns(batch.rewards, batch.terminated, gamma=batch.gamma)
        return batch.score_estimate(discounts(batch) * (G - c[batch.states, batch.actions]))

    bias, _ = exact.bias_and_covariance(mdp, policy, theta, action_baseline)
    # predicted: -sum_t gamma^t sum_s d_t(s) sum_a pi(a|s) b(s, a) grad log pi(a|s)
    pi = policy.probs(theta)
    d = exact.visitation(mdp, pi)
    w = np.einsum("t,ts,sa,sa->sa", mdp.gamma ** np.arange(mdp.horizon), d, pi, c)
    np.testing.assert_allclose(bias, -np.einsum("sa,sap->p", w, exact.score_table(mdp, policy, theta)),
                               rtol=0, atol=TOL)
    if case.policy.n_params == mdp.n_states * mdp.n_actions:  # tabular: provably nonzero
        assert np.abs(bias).max() > 1e-4


@settings(max_examples=20, deadline=None)
@given(problems(max_states=3, max_actions=2, max_horizon=3))
def test_batch_mean_baseline_is_biased_by_minus_grad_j_over_n(case):
    grad = exact.policy_gradient(case.mdp, case.policy, case.theta)

    def batch_mean(batch):  # b = (R_1 + R_2) / 2 includes the sample's own return
        R = E.total_return(batch.rewards, batch.terminated, gamma=batch.gamma)
        return batch.score_estimate(R - B.constant_baseline(R[0])[None])

    def batch_time_mean(batch):
        G = E.reward_to_go(batch.rewards, batch.terminated, gamma=batch.gamma)
        return batch.score_estimate(G - B.time_baseline(G))

    for estimator in (batch_mean, batch_time_mean):
        bias, _ = exact.bias_and_covariance(case.mdp, case.policy, case.theta, estimator, n=2)
        np.testing.assert_allclose(bias, -grad / 2, rtol=0, atol=TOL)


@settings(max_examples=20, deadline=None)
@given(problems(gammas=(0.9, 0.5)))
def test_dropping_gamma_t_biases_the_discounted_gradient(case):
    """sum_t score_t G_t (no gamma^t) estimates sum_t E[score_t Q_t], not grad J, when gamma < 1."""
    mdp, policy, theta = case.mdp, case.policy, case.theta

    def no_discount(batch):
        return batch.score_estimate(E.discounted_returns(batch.rewards, batch.terminated, gamma=batch.gamma))

    bias, _ = exact.bias_and_covariance(mdp, policy, theta, no_discount)
    pi = policy.probs(theta)
    _, Q = exact.evaluate(mdp, pi)
    lost = 1 - mdp.gamma ** np.arange(mdp.horizon)  # the weight missing at step t
    w = np.einsum("t,ts,sa,tsa->sa", lost, exact.visitation(mdp, pi), pi, Q)
    np.testing.assert_allclose(bias, np.einsum("sa,sap->p", w, exact.score_table(mdp, policy, theta)),
                               rtol=0, atol=TOL)
