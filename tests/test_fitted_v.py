"""Fitted V: MC regression and TD fitted-V iteration with the proximal term.

References are closed forms computed independently of the code: least
squares and the proximal least-squares solution for a linear V_phi, the
Bellman solution of a small deterministic chain, and central finite
differences of the objective in float64.
"""

import numpy as np
import pytest

import envs
from purerl.algos.base import EpisodeStats
from purerl.algos.fitted_v import (fit_values, fitted_v_iteration, proximal_value_loss, td_fitted_targets,
                                   value_loss)
from purerl.optim import SGD, Adam
from purerl.policies import ValueFunction, make_policy
from purerl.rollout import RolloutCollector


def linear_problem(seed=0, batch=64, dim=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, dim))
    y = X @ rng.standard_normal(dim) + 0.7 + 0.1 * rng.standard_normal(batch)
    vf = ValueFunction(dim, hidden=())  # V_phi(s) = s . W + b: the loss is quadratic in phi
    return rng, vf, X, y


def design(X):
    """[X, 1]: the features of V = X W + b, in the order of phi = [W, b] (checked below)."""
    return np.hstack([X, np.ones((len(X), 1))])


def test_linear_phi_layout_is_w_then_b():
    _, vf, X, _ = linear_problem()
    phi = np.arange(vf.n_params, dtype=np.float64)
    np.testing.assert_allclose(vf(phi, X), design(X) @ phi)


def test_mc_regression_converges_to_least_squares():
    rng, vf, X, y = linear_problem()
    phi = vf.init(rng)
    expected = np.linalg.lstsq(design(X), y, rcond=None)[0]
    fit_values(vf, phi, X, y, SGD(0.1), rng, epochs=2000)
    np.testing.assert_allclose(phi, expected, atol=1e-8)


def test_minibatch_adam_regression_reaches_least_squares_loss():
    rng, vf, X, y = linear_problem(batch=256)
    phi = vf.init(rng)
    Z = design(X)
    best = np.mean((Z @ np.linalg.lstsq(Z, y, rcond=None)[0] - y) ** 2)
    fit_values(vf, phi, X, y, Adam(1e-2), rng, epochs=300, batch_size=32)
    loss, _ = value_loss(vf, phi, X, y)
    assert loss < best * 1.05


@pytest.mark.parametrize("lam", [0.1, 3.0])
def test_proximal_fit_converges_to_its_closed_form(lam):
    # argmin (1/B)|Z phi - y|^2 + lam |phi - phi_i|^2 solves
    # (Z^T Z / B + lam I) phi = Z^T y / B + lam phi_i.
    rng, vf, X, y = linear_problem(seed=1)
    phi_i = vf.init(rng) + rng.standard_normal(vf.n_params)
    Z, B = design(X), len(X)
    expected = np.linalg.solve(Z.T @ Z / B + lam * np.eye(vf.n_params), Z.T @ y / B + lam * phi_i)
    phi = phi_i.copy()
    fit_values(vf, phi, X, y, SGD(0.05), rng, epochs=3000, phi_anchor=phi_i, lam=lam)
    np.testing.assert_allclose(phi, expected, atol=1e-8)


def test_huge_lambda_keeps_phi_near_the_anchor():
    # At the optimum the proximal pull 2 lam (phi - phi_i) balances the data
    # gradient g, so phi moves by about |g(phi_i)| / (2 lam): 1e-6 of the
    # O(1) move to the least-squares solution that lam = 0 makes.
    rng, vf, X, y = linear_problem(seed=2)
    phi_i = vf.init(rng)
    _, g = value_loss(vf, phi_i, X, y)
    lam = 1e6
    free, held = phi_i.copy(), phi_i.copy()
    fit_values(vf, free, X, y, SGD(0.1), rng, epochs=2000)
    fit_values(vf, held, X, y, SGD(0.4 / lam), rng, epochs=200, phi_anchor=phi_i, lam=lam)
    assert np.linalg.norm(free - phi_i) > 0.1
    assert np.linalg.norm(held - phi_i) == pytest.approx(np.linalg.norm(g) / (2 * lam), rel=1e-3)


def test_proximal_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    vf = ValueFunction(3, hidden=(5,))
    phi, phi_i = vf.init(rng), vf.init(rng)
    obs, y = rng.standard_normal((7, 3)), rng.standard_normal(7)
    lam = 0.37
    _, grad = proximal_value_loss(vf, phi, obs, y, phi_i, lam)

    def objective(p):
        return np.mean((vf(p, obs) - y) ** 2) + lam * np.sum((p - phi_i) ** 2)

    h = 1e-6
    fd = np.array([(objective(phi + h * e) - objective(phi - h * e)) / (2 * h) for e in np.eye(vf.n_params)])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    loss, _ = proximal_value_loss(vf, phi, obs, y, phi_i, lam)
    assert loss == pytest.approx(objective(phi), rel=1e-12)


def chain(gamma=0.5):
    """A deterministic 3-state chain s0 -> s1 -> s2 -> end, reward 1 per step.

    With one-hot features a linear V_phi can represent any 3 values, so the
    TD fixed point is exact: V = (1 + g + g^2, 1 + g, 1).
    """
    obs = np.eye(3)
    next_obs = np.vstack([np.eye(3)[1:], np.zeros((1, 3))])
    rewards = np.ones(3)
    terminated = np.array([False, False, True])
    return obs, rewards, next_obs, terminated, np.array([1 + gamma + gamma**2, 1 + gamma, 1.0])


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_fitted_v_iteration_reaches_the_bellman_solution(lam):
    gamma = 0.5
    obs, rewards, next_obs, terminated, v_true = chain(gamma)
    vf = ValueFunction(3, hidden=())
    rng = np.random.default_rng(0)
    phi = vf.init(rng)
    losses = fitted_v_iteration(vf, phi, obs, rewards, next_obs, terminated, SGD(0.2), rng,
                                gamma=gamma, lam=lam, iterations=60, epochs=200)
    np.testing.assert_allclose(vf(phi, obs), v_true, atol=1e-6)
    assert len(losses) == 60 and losses[-1] < 1e-10


def test_td_targets_stop_at_termination_and_use_the_frozen_phi():
    obs, rewards, next_obs, terminated, _ = chain()
    vf = ValueFunction(3, hidden=())
    phi = np.array([2.0, 3.0, 5.0, 0.25])  # V(e_k) = phi_k + 0.25
    y = td_fitted_targets(vf, phi, rewards, next_obs, terminated, gamma=0.5)
    np.testing.assert_array_equal(y, [1 + 0.5 * 3.25, 1 + 0.5 * 5.25, 1.0])


def test_minibatches_visit_every_sample_once_per_epoch():
    rng, vf, X, y = linear_problem(batch=10)
    seen = []

    def spy_forward(phi, obs, _orig=vf.forward):
        seen.append(obs.copy())
        return _orig(phi, obs)

    vf.forward = spy_forward
    fit_values(vf, vf.init(rng), X, y, SGD(0.01), rng, epochs=2, batch_size=4)
    assert [len(s) for s in seen] == [4, 4, 2, 4, 4, 2]
    for epoch in (seen[:3], seen[3:]):
        rows = np.vstack(epoch)
        assert sorted(map(tuple, rows)) == sorted(map(tuple, X))


def test_bad_arguments_are_named():
    rng, vf, X, y = linear_problem()
    phi = vf.init(rng)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        proximal_value_loss(vf, phi, X, y, phi, -1.0)
    with pytest.raises(ValueError, match="phi_anchor"):
        fit_values(vf, phi, X, y, SGD(0.1), rng, lam=0.5)
    with pytest.raises(ValueError, match="epochs"):
        fit_values(vf, phi, X, y, SGD(0.1), rng, epochs=0)
    with pytest.raises(ValueError, match="rows"):
        fit_values(vf, phi, X[:-1], y, SGD(0.1), rng)
    with pytest.raises(ValueError, match="iterations"):
        fitted_v_iteration(vf, phi, X, y, X, y > 0, SGD(0.1), rng, gamma=0.9, lam=0.0, iterations=0)


def test_collector_next_obs_is_the_following_observation_of_the_same_episode():
    env = envs.make_vec("CartPole-v1", 3, seed=0, max_episode_steps=6)
    policy = make_policy(env.single_observation_space, env.single_action_space, hidden=(4,))
    rng = np.random.default_rng(0)
    c = RolloutCollector(env, policy, rng, EpisodeStats(), store_next_obs=True)
    c.reset()
    finals = []
    step = env.step

    def spy(actions):
        out = step(actions)
        finals.append((out[4]["_final_obs"].copy(), out[4]["final_obs"].copy()))
        return out

    env.step = spy
    r = c.collect(policy.init(rng), 20)
    assert r.next_obs.shape == r.obs.shape
    done = r.terminated | r.truncated
    assert done.any()
    for t in range(20):
        ended, final = finals[t]
        np.testing.assert_array_equal(ended, done[t])
        for i in range(3):
            expected = final[i] if done[t, i] else (r.obs[t + 1, i] if t < 19 else c.obs[i])
            np.testing.assert_array_equal(r.next_obs[t, i], expected.astype(np.float64))
