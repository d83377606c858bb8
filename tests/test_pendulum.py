"""Pendulum-v1: conformance to Gymnasium, the step by hand, clipping, invariants."""

import math

import numpy as np
import pytest
from envs_fixtures.replay import assert_same_episode, episodes, replay
from hypothesis import given, settings
from hypothesis import strategies as st

import envs
from envs import pendulum


def test_reproduces_the_gymnasium_fixture_exactly():
    env = envs.make("Pendulum-v1")
    count = 0
    for seed, actions, *want in episodes("pendulum"):
        assert_same_episode(replay(env, seed, actions), want)
        count += 1
    assert count >= 8


def test_fixture_covers_clipping_and_truncation():
    eps = list(episodes("pendulum"))
    assert all(tr[-1] and len(tr) == 200 for *_, tr in eps)
    assert any(np.any(np.abs(actions) > 2.0) for _, actions, *_ in eps)


def test_against_gymnasium_directly():
    gymnasium = pytest.importorskip("gymnasium")
    ours, theirs = envs.make("Pendulum-v1"), gymnasium.make("Pendulum-v1")
    rng = np.random.default_rng(3)
    for seed in (0, 5, 2**40):
        o1, _ = ours.reset(seed=seed)
        o2, _ = theirs.reset(seed=seed)
        np.testing.assert_array_equal(o1, o2)
        for _ in range(200):
            a = rng.uniform(-3, 3, size=1).astype(np.float32)
            r1, r2 = ours.step(a), theirs.step(a)
            np.testing.assert_array_equal(r1[0], r2[0])
            assert r1[1:4] == tuple(r2[1:4])


def step_by_hand(theta, theta_dot, u):
    """The module docstring's equations in float64 with math (not the kernel)."""
    g, m, l, dt = 10.0, 1.0, 1.0, 0.05
    u = min(max(u, -2.0), 2.0)
    wrapped = ((theta + math.pi) % (2 * math.pi)) - math.pi
    cost = wrapped**2 + 0.1 * theta_dot**2 + 0.001 * u**2
    new_theta_dot = min(max(theta_dot + (3 * g / (2 * l) * math.sin(theta) + 3 / (m * l**2) * u) * dt, -8.0), 8.0)
    return theta + new_theta_dot * dt, new_theta_dot, -cost


@pytest.mark.parametrize("u", [0.0, 1.25, -2.0, 3.5])
def test_one_step_by_hand(u):
    env = envs.make("Pendulum-v1")
    env.reset(seed=9)
    theta, theta_dot, _ = env.get_state()["state_0"][0]
    obs, reward, terminated, truncated, _ = env.step(np.array([u], np.float32))
    want_theta, want_theta_dot, want_reward = step_by_hand(theta, theta_dot, u)
    got_theta, got_theta_dot, last_u = env.get_state()["state_0"][0]
    np.testing.assert_allclose([got_theta, got_theta_dot], [want_theta, want_theta_dot], rtol=1e-12)
    assert reward == pytest.approx(want_reward, rel=1e-7)  # the u^2 term is float32, as Gymnasium's
    assert last_u == min(max(u, -2.0), 2.0)
    assert not terminated and not truncated


def test_torque_beyond_the_bounds_is_clipped_not_rejected():
    envs_ = [envs.make("Pendulum-v1") for _ in range(2)]
    for env in envs_:
        env.reset(seed=4)
    a, b = envs_[0].step(np.array([2.0], np.float32)), envs_[1].step(np.array([7.5], np.float32))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_torque_raises(bad):
    env = envs.make("Pendulum-v1")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"invalid action .*finite float32 torques.*clipped"):
        env.step(np.array([bad], np.float32))


def test_wrong_action_shape_raises():
    env = envs.make("Pendulum-v1")
    env.reset(seed=0)
    for bad in (1.0, np.zeros(2, np.float32), np.zeros((1, 1), np.float32)):
        with pytest.raises(ValueError, match=r"shape \(1,\)"):
            env.step(bad)
    with pytest.raises(ValueError, match="numbers"):
        env.step(np.array(["a"]))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**63), torques=st.lists(st.floats(-10, 10, width=32), min_size=1, max_size=40))
def test_invariants_along_random_play(seed, torques):
    env = envs.make("Pendulum-v1")
    obs, _ = env.reset(seed=seed)
    theta, theta_dot, _ = env.get_state()["state_0"][0]
    assert -math.pi <= theta <= math.pi and -1.0 <= theta_dot <= 1.0
    for u in torques:
        obs, reward, terminated, truncated, _ = env.step(np.array([u], np.float32))
        assert obs in env.observation_space  # |theta_dot| <= 8
        assert obs[0] ** 2 + obs[1] ** 2 == pytest.approx(1.0, abs=1e-6)
        assert -(math.pi**2 + 0.1 * 64 + 0.001 * 4) <= reward <= 0.0
        assert not terminated and not truncated


def test_reset_is_gymnasiums_uniform_draw_and_options():
    env = envs.make("Pendulum-v1")
    env.reset(seed=21)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(21)))
    high = np.array([np.pi, 1.0])
    np.testing.assert_array_equal(env.get_state()["state_0"][0, :2], rng.uniform(low=-high, high=high))
    env.reset(seed=21, options={"x_init": 0.5, "y_init": 0.25})
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(21)))
    high = np.array([0.5, 0.25])
    np.testing.assert_array_equal(env.get_state()["state_0"][0, :2], rng.uniform(low=-high, high=high))
    with pytest.raises(ValueError, match="x_init"):
        env.reset(options={"x": 1.0})


def test_derived_constants_follow_the_primitives():
    p = pendulum.pendulum_params(g=9.81, m=2.0, l=0.5)
    assert p[pendulum.GRAV_COEF] == 3 * 9.81 / (2 * 0.5)
    assert p[pendulum.TORQUE_COEF] == 3.0 / (2.0 * 0.5**2)
    env = envs.make("Pendulum-v1", g=9.81)
    assert env.sim.params[pendulum.GRAV_COEF] == 3 * 9.81 / 2


def test_spec_spaces_truncation_and_render():
    env = envs.make("Pendulum-v1")
    assert (env.spec.id, env.spec.max_episode_steps) == ("Pendulum-v1", 200)
    assert env.action_space.shape == (1,) and env.action_space.dtype == np.float32
    np.testing.assert_array_equal(env.action_space.high, [2.0])
    np.testing.assert_array_equal(env.observation_space.high, [1.0, 1.0, 8.0])
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and "theta=" in text and "torque=none" in text
    for t in range(200):
        *_, truncated, _ = env.step(np.zeros(1, np.float32))
        assert truncated == (t == 199)
    assert "torque=+0.00" in env.render()
