"""The vector environment: batch equals N single games, same-step autoreset,
checkpoint/resume, jit equals pure Python, parallel equals serial, loud errors."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envs

OURS = ["CartPole-v1", "CartPoleContinuous-v1", "Pendulum-v1"]


def random_actions(env, steps, seed):
    """(steps, N, ...) actions from a fixed Generator (continuous ones sometimes out of range for Pendulum)."""
    rng = np.random.default_rng(seed)
    space = env.single_action_space
    if env.spec.id == "Pendulum-v1":
        return rng.uniform(-3, 3, (steps, env.num_envs) + space.shape).astype(np.float32)
    return np.stack([space.sample_batch(env.num_envs, rng) for _ in range(steps)])


def play_singles(name, seed, actions, **kwargs):
    """Game i alone: reset(seed + i), then reset() after every episode end. Returns per-step arrays
    shaped like the vector env's: obs after the step (a new episode's first obs after an end),
    rewards, terminated, truncated, final_obs (where done), episode return and length (where done)."""
    steps, n = actions.shape[:2]
    out = None
    for i in range(n):
        env = envs.make(name, **kwargs)
        env.reset(seed=seed + i)
        ep_return, ep_length = 0.0, 0
        for t in range(steps):
            a = actions[t, i]
            obs, reward, terminated, truncated, _ = env.step(a if np.ndim(a) else int(a))
            if out is None:
                out = {k: np.zeros((steps, n) + shape, dtype) for k, shape, dtype in (
                    ("obs", obs.shape, np.float32), ("final_obs", obs.shape, np.float32),
                    ("rewards", (), np.float64), ("terminated", (), bool), ("truncated", (), bool),
                    ("done", (), bool), ("episode_return", (), np.float64), ("episode_length", (), np.int64))}
            ep_return, ep_length = ep_return + reward, ep_length + 1
            out["rewards"][t, i], out["terminated"][t, i], out["truncated"][t, i] = reward, terminated, truncated
            if terminated or truncated:
                out["done"][t, i], out["final_obs"][t, i] = True, obs
                out["episode_return"][t, i], out["episode_length"][t, i] = ep_return, ep_length
                obs, _ = env.reset()
                ep_return, ep_length = 0.0, 0
            out["obs"][t, i] = obs
    return out


def play_vector(venv, seed, actions):
    venv.reset(seed=seed)
    rows = []
    for a in actions:
        obs, rewards, terminated, truncated, info = venv.step(a)
        rows.append((obs, rewards, terminated, truncated, info))
    return rows


def assert_vector_equals_singles(rows, want):
    for t, (obs, rewards, terminated, truncated, info) in enumerate(rows):
        done = info["_final_obs"]
        np.testing.assert_array_equal(done, want["done"][t])
        np.testing.assert_array_equal(done, terminated | truncated)
        np.testing.assert_array_equal(obs, want["obs"][t])
        np.testing.assert_array_equal(rewards, want["rewards"][t])
        np.testing.assert_array_equal(terminated, want["terminated"][t])
        np.testing.assert_array_equal(truncated, want["truncated"][t])
        np.testing.assert_array_equal(info["final_obs"][done], want["final_obs"][t][done])
        np.testing.assert_allclose(info["episode_return"][done], want["episode_return"][t][done], rtol=1e-12)
        np.testing.assert_array_equal(info["episode_length"][done], want["episode_length"][t][done])


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(OURS), seed=st.integers(0, 2**40), n=st.integers(1, 5),
       limit=st.integers(1, 30), action_seed=st.integers(0, 1000))
def test_game_i_of_a_batch_equals_a_single_game_seeded_s_plus_i(name, seed, n, limit, action_seed):
    venv = envs.make_vec(name, n, max_episode_steps=limit)
    actions = random_actions(venv, 45, action_seed)
    assert_vector_equals_singles(play_vector(venv, seed, actions),
                                 play_singles(name, seed, actions, max_episode_steps=limit))


@pytest.mark.parametrize("name", OURS)
def test_game_streams_do_not_depend_on_the_batch_size(name):
    small, big = envs.make_vec(name, 2), envs.make_vec(name, 7)
    actions = random_actions(big, 60, 0)
    rows_small = play_vector(small, 10, actions[:, :2])
    rows_big = play_vector(big, 10, actions)
    for (o1, r1, *_), (o2, r2, *_) in zip(rows_small, rows_big):
        np.testing.assert_array_equal(o1, o2[:2])
        np.testing.assert_array_equal(r1, r2[:2])


def test_every_registered_game_follows_the_shell_protocol():
    """Batch-versus-single equality and the info contract for every name, including ones other
    modules register (short runs)."""
    for name in envs.names():
        venv = envs.make_vec(name, 3, max_episode_steps=12)
        actions = random_actions(venv, 30, 1)
        rows = play_vector(venv, 5, actions)
        assert_vector_equals_singles(rows, play_singles(name, 5, actions, max_episode_steps=12))
        obs, rewards, terminated, truncated, info = rows[-1]
        assert obs.dtype == np.float32 and obs.shape == (3,) + venv.single_observation_space.shape
        assert rewards.dtype == np.float64 and terminated.dtype == truncated.dtype == bool
        assert info["episode_length"].dtype == np.int64 and info["episode_return"].dtype == np.float64
        assert info["final_obs"].shape == obs.shape and info["_final_obs"].shape == (3,)


@pytest.mark.parametrize("name", OURS)
def test_checkpoint_and_resume_are_bit_identical(name):
    venv = envs.make_vec(name, 4, seed=3)
    venv.reset()
    actions = random_actions(venv, 80, 2)
    for a in actions[:37]:
        venv.step(a)
    saved = venv.get_state()
    assert all(isinstance(v, np.ndarray) for v in saved.values())
    first = [venv.step(a) for a in actions[37:]]
    fresh = envs.make_vec(name, 4)
    obs = fresh.set_state(saved)
    np.testing.assert_array_equal(obs, saved["obs"][0])
    second = [fresh.step(a) for a in actions[37:]]
    for (o1, r1, te1, tr1, i1), (o2, r2, te2, tr2, i2) in zip(first, second):
        for x, y in ((o1, o2), (r1, r2), (te1, te2), (tr1, tr2), (i1["final_obs"], i2["final_obs"]),
                     (i1["episode_return"], i2["episode_return"]), (i1["episode_length"], i2["episode_length"])):
            np.testing.assert_array_equal(x, y)


def test_set_state_names_what_is_wrong():
    venv = envs.make_vec("CartPole-v1", 2, seed=0)
    venv.reset()
    state = venv.get_state()
    with pytest.raises(ValueError, match="'rng'"):
        venv.set_state({k: v for k, v in state.items() if k != "rng"})
    with pytest.raises(ValueError, match="'state_0'.*shape"):
        envs.make_vec("CartPole-v1", 3).set_state(state)


def test_same_seed_same_actions_same_everything_and_make_vec_seed():
    a, b = envs.make_vec("Pendulum-v1", 3, seed=9), envs.make_vec("Pendulum-v1", 3)
    oa, _ = a.reset()
    ob, _ = b.reset(seed=9)
    np.testing.assert_array_equal(oa, ob)
    for act in random_actions(a, 20, 0):
        np.testing.assert_array_equal(a.step(act)[0], b.step(act)[0])
    c, d = envs.make_vec("CartPole-v1", 2), envs.make_vec("CartPole-v1", 2)
    assert not np.array_equal(c.reset()[0], d.reset()[0])  # fresh OS entropy each (chance ~1e-30 of equal)
    e = envs.make_vec("CartPole-v1", 2)
    np.testing.assert_array_equal(e.reset(seed=[10, 11])[0], envs.make_vec("CartPole-v1", 2).reset(seed=10)[0])


@pytest.mark.parametrize("name", ["CartPole-v1", pytest.param("Pendulum-v1", marks=pytest.mark.slow)])
def test_parallel_kernel_equals_serial(name):
    """(Compiling a parallel kernel takes seconds: one game in the default run.)"""
    serial = envs.make_vec(name, 257, seed=1, parallel=False)
    threaded = envs.make_vec(name, 257, seed=1, parallel=True)
    serial.reset()
    threaded.reset()
    for a in random_actions(serial, 40, 3):
        for x, y in zip(serial.step(a)[:4], threaded.step(a)[:4]):
            np.testing.assert_array_equal(x, y)
    for key, value in serial.get_state().items():
        np.testing.assert_array_equal(value, threaded.get_state()[key])


RUN_TRAJECTORY = """
import sys, numpy as np, envs
name = sys.argv[1]
venv = envs.make_vec(name, 3, seed=4, max_episode_steps=25)
venv.reset()
rng = np.random.default_rng(0)
out = []
for t in range(60):
    a = venv.single_action_space.sample_batch(3, rng)
    obs, r, te, tr, info = venv.step(a)
    out += [obs.ravel().astype(np.float64), r, te, tr, info["episode_return"]]
sys.stdout.write(np.concatenate([np.asarray(x, np.float64).ravel() for x in out]).tobytes().hex())
"""


@pytest.mark.parametrize("name", ["CartPoleContinuous-v1", "Pendulum-v1"])
def test_jitted_kernels_equal_their_pure_python_versions(name):
    """The same trajectory with numba and under NUMBA_DISABLE_JIT=1 (each kernel's py_func)."""
    def run(disable):
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable)
        out = subprocess.run([sys.executable, "-c", RUN_TRAJECTORY, name], env=env, capture_output=True,
                             text=True, check=True).stdout
        return np.frombuffer(bytes.fromhex(out), dtype=np.float64)
    jitted, python = run("0"), run("1")
    assert jitted.size == python.size > 0
    np.testing.assert_allclose(jitted, python, rtol=1e-12, atol=1e-12)


def test_bad_actions_raise_naming_value_and_range_and_change_nothing():
    venv = envs.make_vec("CartPole-v1", 3, seed=0)
    with pytest.raises(ValueError, match="reset"):
        venv.step(np.zeros(3, np.int64))
    venv.reset()
    before = venv.get_state()
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        venv.step(np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="integers"):
        venv.step(np.zeros(3))
    with pytest.raises(ValueError, match=r"invalid action 2 for game 1 .*integers in \[0, 1\]"):
        venv.step(np.array([0, 2, 1]))
    for key, value in venv.get_state().items():
        np.testing.assert_array_equal(value, before[key])
    venv.step([0, 1, 1])  # lists and int32 are converted
    venv.step(np.array([1, 0, 1], np.int32))
    cont = envs.make_vec("CartPoleContinuous-v1", 2, seed=0)
    cont.reset()
    with pytest.raises(ValueError, match=r"invalid action \[nan\] for game 0"):
        cont.step(np.array([[np.nan], [0.0]], np.float32))
    with pytest.raises(ValueError, match=r"shape \(2, 1\)"):
        cont.step(np.zeros(2, np.float32))


def test_autoreset_obs_is_the_new_episodes_first_and_totals_are_right():
    venv = envs.make_vec("CartPole-v1", 2, seed=0)
    venv.reset()
    ends = 0
    steps = np.zeros(2, np.int64)
    for _ in range(200):
        obs, rewards, terminated, truncated, info = venv.step(np.ones(2, np.int64))
        steps += 1
        done = info["_final_obs"]
        assert np.all(np.abs(obs[done]) <= 0.05)  # a fresh start state
        assert np.all(np.abs(info["final_obs"][done][:, 2]) > 0.2 - 1e-3) or np.all(
            np.abs(info["final_obs"][done][:, 0]) > 2.4 - 1e-3)
        np.testing.assert_array_equal(info["episode_length"][done], steps[done])
        np.testing.assert_array_equal(info["episode_return"][done], steps[done].astype(float))
        steps[done] = 0
        ends += done.sum()
    assert ends > 10


def test_vector_spaces_and_attributes():
    venv = envs.make_vec("Pendulum-v1", 5)
    assert venv.num_envs == 5 and venv.spec.id == "Pendulum-v1"
    assert venv.single_observation_space.shape == (3,) and venv.observation_space.shape == (5, 3)
    assert venv.single_action_space.shape == (1,)
    assert venv.sample_actions(np.random.default_rng(0)).shape == (5, 1)
    with pytest.raises(ValueError, match="num_envs"):
        envs.make_vec("Pendulum-v1", 0)
    venv.reset(seed=0)
    assert isinstance(venv.render(), str)
