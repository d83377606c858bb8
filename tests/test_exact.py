"""The exact solver itself: the MDP's contract, J(theta) by dynamic programming
against the enumerated sum over trajectories, grad J by the policy gradient
theorem against central finite differences of exact J."""

import numpy as np
import pytest
from exact_cases import problems
from hypothesis import given, settings

from purerl import exact
from purerl.tabular_policies import LinearSoftmax, TabularSoftmax


def small_mdp(**changes):
    fields = dict(P=np.full((2, 2, 2), 0.5), R=np.zeros((2, 2)), mu0=np.array([1.0, 0.0]),
                  gamma=0.9, horizon=3)
    fields.update(changes)
    return exact.TabularMDP(**fields)


@pytest.mark.parametrize("changes, match", [
    (dict(P=np.full((2, 2, 2), 0.6)), r"P must sum to 1 over its last axis \(to 1e-9\); row \[0, 0\] sums to 1.2"),
    (dict(P=np.full((2, 2, 3), 1 / 3)), r"P must have shape \(2, 2, 2\)"),
    (dict(mu0=np.array([0.5, 0.6])), r"mu0 must sum to 1 over its last axis \(to 1e-9\); it sums to 1.1"),
    (dict(gamma=1.1), "gamma must be in"),
    (dict(gamma=1.0, horizon=None), "needs gamma < 1"),
    (dict(horizon=0), "horizon must be a positive integer"),
    (dict(R=np.array([1.0, np.nan]).reshape(1, 2)), "R must be finite"),
])
def test_invalid_mdps_are_rejected(changes, match):
    with pytest.raises(ValueError, match=match):
        small_mdp(**changes)


def test_mdp_arrays_are_private_read_only_copies():
    P = np.full((2, 2, 2), 0.5)
    mdp = small_mdp(P=P)
    P[0, 0, 0] = 7.0
    assert mdp.P[0, 0, 0] == 0.5
    with pytest.raises(ValueError):
        mdp.R[0, 0] = 1.0
    assert (mdp.n_states, mdp.n_actions) == (2, 2)


def test_sample_step_follows_the_transition_table():
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0  # every step goes to state 1
    mdp = small_mdp(P=P, R=np.array([[1.0, 2.0], [3.0, 4.0]]))
    rng = np.random.default_rng(0)
    assert [mdp.sample_step(0, 1, rng) for _ in range(5)] == [(1, 2.0)] * 5
    with pytest.raises(ValueError, match="sample_step"):
        mdp.sample_step(2, 0, rng)


def test_random_mdp_draws_valid_integer_reward_mdps():
    mdp = exact.random_mdp(np.random.default_rng(1), n_states=3, n_actions=2, horizon=4, gamma=0.9)
    assert mdp.P.shape == (3, 2, 3) and mdp.horizon == 4 and mdp.gamma == 0.9
    assert np.array_equal(mdp.R, np.round(mdp.R)) and mdp.R.min() >= -2 and mdp.R.max() <= 2


@settings(max_examples=25, deadline=None)
@given(problems())
def test_dp_objective_equals_sum_over_enumerated_trajectories(case):
    mdp, policy, theta, _ = case
    trajs = exact.enumerate_trajectories(mdp, policy.probs(theta))
    assert trajs.prob.size == (mdp.n_states * mdp.n_actions) ** mdp.horizon  # dense MDP: all of them
    assert abs(trajs.prob.sum() - 1.0) < 1e-12
    R = (mdp.gamma ** np.arange(mdp.horizon)) @ trajs.rewards  # R(tau) = sum_t gamma^t r_t
    assert abs(trajs.prob @ R - exact.objective(mdp, policy, theta)) < 1e-10


def central_differences(f, theta, h=1e-5):
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])


@settings(max_examples=25, deadline=None)
@given(problems())
def test_policy_gradient_theorem_matches_finite_differences_of_exact_j(case):
    mdp, policy, theta, _ = case
    fd = central_differences(lambda th: exact.objective(mdp, policy, th), theta)
    np.testing.assert_allclose(exact.policy_gradient(mdp, policy, theta), fd, rtol=0, atol=1e-7)


@settings(max_examples=15, deadline=None)
@given(problems(gammas=(0.9, 0.5)))
def test_infinite_horizon_gradient_and_limit_of_long_horizons(case):
    mdp, policy, theta, _ = case
    inf = exact.TabularMDP(mdp.P, mdp.R, mdp.mu0, mdp.gamma, None)
    fd = central_differences(lambda th: exact.objective(inf, policy, th), theta)
    np.testing.assert_allclose(exact.policy_gradient(inf, policy, theta), fd, rtol=0, atol=1e-6)
    # gamma^400 < 1e-18: the finite horizon J converges to the infinite-horizon one
    long = exact.TabularMDP(mdp.P, mdp.R, mdp.mu0, mdp.gamma, 400)
    assert abs(exact.objective(long, policy, theta) - exact.objective(inf, policy, theta)) < 1e-9
    assert abs(exact.visitation(inf, policy.probs(theta)).sum() - 1 / (1 - mdp.gamma)) < 1e-9


def test_enumeration_prunes_impossible_trajectories():
    P = np.zeros((2, 2, 2))
    P[:, 0, 0] = 1.0  # action 0 always leads to state 0
    P[:, 1, :] = 0.5
    mdp = small_mdp(P=P, horizon=2)
    pi = np.array([[1.0, 0.0], [0.5, 0.5]])  # state 0 never takes action 1
    trajs = exact.enumerate_trajectories(mdp, pi)
    # s_0 = 0 (mu0), a_0 = 0, s_1 = 0 (forced), a_1 = 0: a single trajectory
    assert trajs.states.T.tolist() == [[0, 0]] and trajs.actions.T.tolist() == [[0, 0]]
    assert trajs.prob.tolist() == [1.0]


def test_linear_softmax_with_one_hot_features_equals_tabular():
    mdp = exact.random_mdp(np.random.default_rng(3), n_states=2, n_actions=3, horizon=3)
    theta = np.random.default_rng(4).normal(size=6)
    linear = LinearSoftmax(np.eye(6).reshape(2, 3, 6))
    np.testing.assert_allclose(exact.policy_gradient(mdp, linear, theta),
                               exact.policy_gradient(mdp, TabularSoftmax(2, 3), theta), atol=1e-14)


def test_oracle_refuses_too_many_tuples():
    mdp = exact.random_mdp(np.random.default_rng(0), n_states=3, n_actions=3, horizon=4)
    policy = TabularSoftmax(3, 3)
    with pytest.raises(ValueError, match="over max_tuples"):
        exact.moments(mdp, policy, np.zeros(9), lambda b: b.scores.sum(axis=(0, 2)), n=2)


@pytest.mark.parametrize("n", [0, 2.0, True])
def test_exact_moments_n_must_be_a_positive_integer(n):
    """A whole float (2.0) was accepted before and a bool counted as 1; both are refused by name, like sample_batch."""
    mdp = small_mdp()
    policy = TabularSoftmax(2, 2)
    with pytest.raises(ValueError, match=r"exact: n \(trajectories per batch\) must be a positive integer"):
        exact.moments(mdp, policy, np.zeros(policy.n_params), lambda b: b.scores.sum(axis=(0, 2)), n=n)


@pytest.mark.parametrize("m, n", [(0, 1), (2, 0), (2.5, 1), (True, 1)])
def test_sample_batch_counts_must_be_positive_integers(m, n):
    mdp = small_mdp()
    policy = TabularSoftmax(2, 2)
    with pytest.raises(ValueError, match=r"sample_batch: (m \(batches\)|n \(trajectories per batch\)) must be a positive integer"):
        exact.sample_batch(mdp, policy, np.zeros(policy.n_params), np.random.default_rng(0), m, n)


def test_sampling_needs_a_generator_and_says_so():
    policy = TabularSoftmax(2, 2)
    with pytest.raises(ValueError, match=r"random_mdp: rng must be a numpy.random.Generator"):
        exact.random_mdp(0)
    with pytest.raises(ValueError, match=r"sample_batch: rng must be a numpy.random.Generator"):
        exact.sample_batch(small_mdp(), policy, np.zeros(policy.n_params), 0, 2)
    with pytest.raises(ValueError, match=r"TabularSoftmax.sample: rng must be a numpy.random.Generator"):
        policy.sample(np.zeros(policy.n_params), 0, None)
