"""Tabular methods: exact Q* and Q^pi, TD learners converging to them, exploration."""

import itertools
from statistics import NormalDist

import numpy as np
import pytest

from purerl import exact
from purerl.algos import tabular as tb
from purerl.algos.exploration import boltzmann_probs, epsilon_greedy, epsilon_greedy_probs, greedy_probs

HORIZONS = [None, 4]


def mdp_for(seed, horizon, gamma=0.9, n_states=3, n_actions=2):
    return exact.random_mdp(np.random.default_rng(seed), n_states=n_states, n_actions=n_actions,
                            horizon=horizon, gamma=gamma)


def uniform_policy(mdp):
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


# ---------------------------------------------------------------- exact solutions


@pytest.mark.parametrize("horizon", HORIZONS)
@pytest.mark.parametrize("seed", range(5))
def test_value_iteration_satisfies_bellman_optimality(seed, horizon):
    mdp = mdp_for(seed, horizon, n_states=4, n_actions=3)
    Q = tb.value_iteration(mdp)
    assert Q.shape == tb.q_shape(mdp)
    assert tb.bellman_optimality_residual(mdp, Q) <= 1e-10
    # A wrong Q has a residual: the check can fail.
    wrong = Q.copy()
    wrong[0, 1, 2] += 1e-6
    assert tb.bellman_optimality_residual(mdp, wrong) > 1e-7


@pytest.mark.parametrize("horizon", HORIZONS)
@pytest.mark.parametrize("seed", range(3))
def test_q_star_is_the_best_deterministic_policy(seed, horizon):
    # Enumerate every stationary deterministic policy (for a finite horizon the
    # optimal policy may depend on the step, so only Q* >= Q^pi is asserted there).
    mdp = mdp_for(seed, horizon, n_states=3, n_actions=2)
    Q_star = tb.value_iteration(mdp)
    best = -np.inf * np.ones_like(Q_star)
    for actions in itertools.product(range(2), repeat=3):
        pi = np.eye(2)[list(actions)]
        Q_pi = tb.policy_q_values(mdp, pi)
        assert np.all(Q_pi <= Q_star + 1e-9)
        best = np.maximum(best, Q_pi)
    if horizon is None:
        np.testing.assert_allclose(best, Q_star, atol=1e-9)
        pi_star = greedy_probs(Q_star[0])
        np.testing.assert_allclose(tb.policy_q_values(mdp, pi_star), Q_star, atol=1e-9)


# ---------------------------------------------------------------- TD convergence
# Tolerances are relative to max |Q| and hold at these fixed seeds: the
# largest error observed over these cases is 0.030 (finite horizon; 0.017
# infinite), so TOL = 0.05 leaves a margin, while a bug that moves the fixed
# point (dropping gamma, the termination mask, the wrong next action) fails.

TOL = 0.05
STEPS = 100_000


def rel_err(Q, Q_ref):
    return np.abs(Q - Q_ref).max() / np.abs(Q_ref).max()


@pytest.mark.parametrize("horizon, omega", [(None, 0.65), (4, 0.8)])
@pytest.mark.parametrize("seed", range(3))
def test_q_learning_converges_to_q_star(seed, horizon, omega):
    mdp = mdp_for(seed, horizon)
    Q, counts = tb.q_learning(mdp, np.random.default_rng(100 + seed), steps=STEPS, eps=0.3, omega=omega)
    assert counts.sum() == STEPS and counts.min() > 0
    assert rel_err(Q, tb.value_iteration(mdp)) < TOL


def test_q_learning_with_boltzmann_exploration_converges_to_q_star():
    mdp = mdp_for(0, None)
    Q, _ = tb.td_learn(mdp, np.random.default_rng(9), steps=STEPS, behavior=lambda Q: boltzmann_probs(Q, 1.0),
                       target="max", omega=0.65)
    assert rel_err(Q, tb.value_iteration(mdp)) < TOL


@pytest.mark.parametrize("kwargs", [
    {},                                   # one-step SARSA
    {"n": 3},                             # n-step SARSA
    {"lam": 0.7},                         # lambda-return, forward view
    {"lam": 0.7, "view": "backward"},     # eligibility traces
])
@pytest.mark.parametrize("horizon, omega", [(None, 0.65), (4, 0.8)])
def test_sarsa_family_converges_to_q_pi(kwargs, horizon, omega):
    mdp = mdp_for(1, horizon)
    pi = np.random.default_rng(5).dirichlet(np.ones(2), size=3)
    Q, _ = tb.sarsa(mdp, np.random.default_rng(7), steps=STEPS, policy=pi, omega=omega, **kwargs)
    assert rel_err(Q, tb.policy_q_values(mdp, pi)) < TOL


def test_expected_sarsa_off_policy_evaluates_the_target_policy():
    # Behave uniformly, evaluate a different policy through the expected target.
    mdp = mdp_for(2, None)
    pi = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    b = uniform_policy(mdp)[None]
    Q, _ = tb.td_learn(mdp, np.random.default_rng(3), steps=STEPS, behavior=lambda Q: b,
                       target="expected", target_probs=pi, omega=0.65)
    err = rel_err(Q, tb.policy_q_values(mdp, pi))
    assert err < TOL
    # ... and not the behavior's Q^b, which is a few percent away.
    assert rel_err(Q, tb.policy_q_values(mdp, uniform_policy(mdp))) > 3 * err


# ---------------------------------------------------------------- exact identities between TD variants


def run(mdp, **kwargs):
    pi = np.random.default_rng(0).dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)
    Q0 = np.random.default_rng(1).normal(size=tb.q_shape(mdp))
    Q, _ = tb.sarsa(mdp, np.random.default_rng(2), steps=2000, policy=pi, Q=Q0, segment=40, **kwargs)
    return Q


@pytest.mark.parametrize("horizon", HORIZONS)
@pytest.mark.parametrize("lam", [0.0, 0.5, 0.9, 1.0])
def test_forward_view_equals_backward_view(horizon, lam):
    # With Q fixed within a segment, sum_t delta_t e_t = sum_t (y^lam_t - Q(x_t)).
    mdp = mdp_for(3, horizon)
    np.testing.assert_allclose(run(mdp, lam=lam), run(mdp, lam=lam, view="backward"), rtol=0, atol=1e-10)


@pytest.mark.parametrize("horizon", HORIZONS)
def test_lambda_zero_is_one_step_and_lambda_one_is_full_n_step(horizon):
    mdp = mdp_for(4, horizon)
    np.testing.assert_allclose(run(mdp, lam=0.0), run(mdp, n=1), atol=1e-12)
    np.testing.assert_allclose(run(mdp, lam=1.0), run(mdp, n=40), atol=1e-12)
    assert np.abs(run(mdp, n=1) - run(mdp, n=2)).max() > 1e-3


def test_rollout_kernel_episode_structure():
    mdp = mdp_for(0, 4)
    probs = np.cumsum(np.broadcast_to(uniform_policy(mdp), tb.q_shape(mdp)), axis=-1)
    u = np.random.default_rng(0).random((40, 3))
    ks, s, a, r, s2, a2, term, *_ = tb.rollout_kernel(
        np.ascontiguousarray(probs), np.cumsum(mdp.P, -1), mdp.R, np.cumsum(mdp.mu0), 4, 0, 0, 0, u)
    assert np.array_equal(ks, np.arange(40) % 4)
    assert np.array_equal(term, ks == 3)
    assert np.array_equal(r, mdp.R[s, a])
    assert np.array_equal(s[1:][~term[:-1]], s2[:-1][~term[:-1]])  # the chain continues within episodes
    assert np.array_equal(a[1:], a2[:-1])


def test_td_learn_rejects_bad_arguments():
    mdp = mdp_for(0, None)
    with pytest.raises(ValueError, match="target"):
        tb.td_learn(mdp, np.random.default_rng(0), steps=10, behavior=lambda Q: Q, target="best")
    with pytest.raises(ValueError, match="biased"):
        tb.q_learning(mdp, np.random.default_rng(0), steps=10, n=3)
    with pytest.raises(ValueError, match="omega"):
        tb.q_learning(mdp, np.random.default_rng(0), steps=10, omega=0.4)
    with pytest.raises(ValueError, match="backward"):
        tb.sarsa(mdp, np.random.default_rng(0), steps=10, view="backward")


# ---------------------------------------------------------------- exploration


def test_epsilon_greedy_probs():
    q = np.array([[1.0, 3.0, 2.0], [0.0, 0.0, -1.0]])
    np.testing.assert_allclose(epsilon_greedy_probs(q, 0.3), [[0.1, 0.8, 0.1], [0.8, 0.1, 0.1]])
    np.testing.assert_allclose(epsilon_greedy_probs(q, 1.0), np.full((2, 3), 1 / 3))
    np.testing.assert_array_equal(epsilon_greedy_probs(q, 0.0), greedy_probs(q))
    with pytest.raises(ValueError, match="eps"):
        epsilon_greedy_probs(q, 1.5)


def test_epsilon_greedy_sampler_matches_its_probabilities():
    # Pearson chi-square per row, false-alarm rate 1e-3 each (2 dof), fixed seed.
    q = np.array([[1.0, 3.0, 2.0], [0.0, 5.0, -1.0]])
    m = 20_000
    actions = epsilon_greedy(np.repeat(q, m, axis=0), 0.3, np.random.default_rng(0)).reshape(2, m)
    crit = 2 * (1 - 2 / 18 + NormalDist().inv_cdf(1 - 1e-3) * np.sqrt(2 / 18)) ** 3
    for row, p in zip(actions, epsilon_greedy_probs(q, 0.3)):
        counts = np.bincount(row, minlength=3)
        assert ((counts - m * p) ** 2 / (m * p)).sum() < crit


def test_boltzmann_tends_to_greedy_as_temperature_falls():
    q = np.random.default_rng(0).normal(size=(50, 4))
    greedy = greedy_probs(q)
    gaps = [np.abs(boltzmann_probs(q, T) - greedy).max() for T in (1.0, 0.1, 0.01, 1e-4)]
    assert all(a > b for a, b in zip(gaps, gaps[1:]))  # strictly closer as T falls
    assert gaps[-1] < 1e-6
    np.testing.assert_array_equal(boltzmann_probs(q, 0.0), greedy)
    np.testing.assert_allclose(boltzmann_probs(q, 1e6), 0.25, atol=1e-5)
    # No overflow for large values; ties share the limit.
    np.testing.assert_allclose(boltzmann_probs(np.array([[1e4, 1e4, 0.0]]), 1e-3), [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(boltzmann_probs(q, 1.0).sum(-1), 1.0)
