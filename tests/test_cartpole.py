"""CartPole-v1 and CartPoleContinuous-v1: conformance to Gymnasium, the Euler
step by hand, invariants, and loud errors."""

import math

import numpy as np
import pytest
from envs_fixtures.replay import assert_same_episode, episodes, replay
from hypothesis import given, settings
from hypothesis import strategies as st

import envs
from envs import cartpole


def test_reproduces_the_gymnasium_fixture_exactly():
    env = envs.make("CartPole-v1")
    count = 0
    for seed, actions, *want in episodes("cartpole"):
        assert_same_episode(replay(env, seed, actions), want)
        count += 1
    assert count >= 30


def test_fixture_covers_termination_and_truncation():
    flags = [(te[-1], tr[-1]) for _, _, _, _, te, tr in episodes("cartpole")]
    assert any(te for te, _ in flags) and any(tr for _, tr in flags)


def test_against_gymnasium_directly():
    gymnasium = pytest.importorskip("gymnasium")
    ours, theirs = envs.make("CartPole-v1"), gymnasium.make("CartPole-v1")
    rng = np.random.default_rng(7)
    for seed in (0, 1, 99, 2**32 + 5):
        o1, _ = ours.reset(seed=seed)
        o2, _ = theirs.reset(seed=seed)
        np.testing.assert_array_equal(o1, o2)
        done = False
        while not done:
            a = int(rng.integers(2))
            r1, r2 = ours.step(a), theirs.step(a)
            np.testing.assert_array_equal(r1[0], r2[0])
            assert r1[1:4] == tuple(r2[1:4])
            done = r1[2] or r1[3]


def euler_by_hand(state, force):
    """The cart-pole equations of the module docstring, written out with math (not the kernel)."""
    x, x_dot, theta, theta_dot = state
    g, m_c, m_p, l, tau = 9.8, 1.0, 0.1, 0.5, 0.02
    s, c = math.sin(theta), math.cos(theta)
    temp = (force + m_p * l * theta_dot**2 * s) / (m_c + m_p)
    theta_acc = (g * s - c * temp) / (l * (4 / 3 - m_p * c**2 / (m_c + m_p)))
    x_acc = temp - m_p * l * theta_acc * c / (m_c + m_p)
    return np.array([x + tau * x_dot, x_dot + tau * x_acc, theta + tau * theta_dot, theta_dot + tau * theta_acc])


@pytest.mark.parametrize("action, force", [(0, -10.0), (1, 10.0)])
def test_one_euler_step_by_hand(action, force):
    env = envs.make("CartPole-v1")
    env.reset(seed=3)
    start = env.get_state()["state_0"][0].copy()
    env.step(action)
    after = env.get_state()["state_0"][0]
    np.testing.assert_allclose(after, euler_by_hand(start, force), rtol=1e-13, atol=1e-15)


def test_continuous_plus_minus_one_equals_discrete_bit_for_bit():
    disc, cont = envs.make("CartPole-v1"), envs.make("CartPoleContinuous-v1")
    rng = np.random.default_rng(0)
    o1, _ = disc.reset(seed=11)
    o2, _ = cont.reset(seed=11)
    np.testing.assert_array_equal(o1, o2)
    for _ in range(8):
        a = int(rng.integers(2))
        r1 = disc.step(a)
        r2 = cont.step(np.array([2.0 * a - 1.0], dtype=np.float32))
        np.testing.assert_array_equal(r1[0], r2[0])
        assert r1[1:4] == r2[1:4]


def test_continuous_force_is_force_mag_times_action():
    env = envs.make("CartPoleContinuous-v1")
    env.reset(seed=5)
    start = env.get_state()["state_0"][0].copy()
    env.step(np.array([0.375], dtype=np.float32))
    np.testing.assert_allclose(env.get_state()["state_0"][0], euler_by_hand(start, 3.75), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("bad", [np.array([1.5], np.float32), np.array([-1.01], np.float32),
                                 np.array([np.nan], np.float32), np.array([np.inf], np.float32)])
def test_continuous_rejects_out_of_range_and_non_finite(bad):
    env = envs.make("CartPoleContinuous-v1")
    env.reset(seed=0)
    before = env.get_state()
    with pytest.raises(ValueError, match=r"invalid action .*\[-1\.0\] <= x <= \[1\.0\]"):
        env.step(bad)
    np.testing.assert_array_equal(env.get_state()["state_0"], before["state_0"])  # nothing stepped
    env.step(np.array([1.0], np.float32))  # still usable


@pytest.mark.parametrize("bad", [2, -1, 1.0, "1", None, np.array([1]), True + 1])
def test_discrete_rejects_invalid_actions_naming_them(bad):
    env = envs.make("CartPole-v1")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"invalid action .*integers in \[0, 1\]"):
        env.step(bad)


def test_numpy_integer_actions_are_accepted():
    env = envs.make("CartPole-v1")
    env.reset(seed=0)
    for a in (np.int64(1), np.int32(0), np.uint8(1), np.array(0)):
        env.step(a)


def test_step_before_reset_and_after_the_end_raise():
    env = envs.make("CartPole-v1")
    with pytest.raises(ValueError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(1)
        done = terminated or truncated
    with pytest.raises(ValueError, match="reset"):
        env.step(1)
    env.reset()
    env.step(1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), actions=st.lists(st.integers(0, 1), min_size=1, max_size=60))
def test_invariants_along_random_play(seed, actions):
    env = envs.make("CartPole-v1")
    obs, _ = env.reset(seed=seed)
    assert obs.dtype == np.float32 and obs.shape == (4,) and np.all(np.abs(obs) <= 0.05)
    p = env.sim.params
    for t, a in enumerate(actions, start=1):
        obs, reward, terminated, truncated, _ = env.step(a)
        s = env.get_state()["state_0"][0]
        np.testing.assert_array_equal(obs, s.astype(np.float32))  # obs is the state, rounded
        assert reward == 1.0  # every step, the terminating one included
        outside = abs(s[0]) > p[cartpole.X_THRESHOLD] or abs(s[2]) > p[cartpole.THETA_THRESHOLD]
        assert terminated == outside
        assert truncated == (t >= 500)
        assert obs in env.observation_space
        if terminated:
            break


def test_reset_is_gymnasiums_uniform_draw():
    env = envs.make("CartPole-v1")
    for seed in (0, 17, 2**50):
        obs, _ = env.reset(seed=seed)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
        np.testing.assert_array_equal(env.get_state()["state_0"][0], rng.uniform(-0.05, 0.05, size=4))
        obs2, _ = env.reset()  # continues the same stream
        np.testing.assert_array_equal(env.get_state()["state_0"][0], rng.uniform(-0.05, 0.05, size=4))


def test_reset_options_set_the_bounds_for_that_reset_only():
    env = envs.make("CartPole-v1")
    obs, _ = env.reset(seed=123, options={"low": -0.1, "high": 0.1})
    # Gymnasium's own docstring example for this seed and these options:
    np.testing.assert_allclose(obs, [0.03647037, -0.0892358, -0.05592803, -0.06312564], atol=5e-9)
    obs, _ = env.reset()
    assert np.all(np.abs(obs) <= 0.05)
    with pytest.raises(ValueError, match="low"):
        env.reset(options={"lo": 1})
    with pytest.raises(ValueError, match="low <= high"):
        env.reset(options={"low": 0.2, "high": 0.1})


def test_derived_constants_follow_the_primitives():
    p = cartpole.cartpole_params(masscart=2.0, masspole=0.3, length=0.25)
    assert p[cartpole.TOTAL_MASS] == 2.0 + 0.3
    assert p[cartpole.POLEMASS_LENGTH] == 0.3 * 0.25
    with pytest.raises(ValueError, match="masspole"):
        cartpole.cartpole_params(masspole=-1.0)


def test_spec_spaces_and_render():
    env = envs.make("CartPole-v1")
    assert (env.spec.id, env.spec.max_episode_steps) == ("CartPole-v1", 500)
    assert env.spec.reward_threshold == 475.0  # Gymnasium's registration
    assert envs.make("CartPole-v1", max_episode_steps=100).spec.reward_threshold is None
    assert env.action_space.n == 2
    assert env.observation_space.shape == (4,) and env.observation_space.dtype == np.float32
    np.testing.assert_allclose(env.observation_space.high, [4.8, np.inf, 0.41887903, np.inf], rtol=1e-7)
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and "x=" in text and "theta=" in text
    cont = envs.make("CartPoleContinuous-v1")
    assert cont.action_space.shape == (1,) and cont.spec.max_episode_steps == 500
    short = envs.make("CartPole-v1", max_episode_steps=3)
    short.reset(seed=0)
    flags = [short.step(t % 2)[3] for t in range(3)]
    assert flags == [False, False, True]


def test_empty_reset_options_mean_no_options_as_in_gymnasium():
    a, b = envs.make("CartPole-v1"), envs.make("CartPole-v1")
    np.testing.assert_array_equal(a.reset(seed=4, options={})[0], b.reset(seed=4)[0])
    pong = envs.make("Pong-v0", obs_type="state")  # a game without reset options
    pong.reset(seed=0, options={})
    with pytest.raises(ValueError, match="accepts no reset options"):
        pong.reset(options={"x": 1})


@pytest.mark.parametrize("theta, glyph", [(0.1, "/"), (-0.1, "\\"), (0.0, "|")])
def test_text_render_leans_the_pole_the_way_theta_points(theta, glyph):
    # theta > 0 means the pole's top is toward +x (right), drawn as "/".
    state = (np.array([[0.0, 0.0, theta, 0.0]]),)
    line = cartpole.render_text(state, cartpole.cartpole_params(), 0)
    assert glyph in line and line.count("|") == (1 if glyph == "|" else 0)
