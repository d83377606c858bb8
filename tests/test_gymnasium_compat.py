"""Gymnasium interop: purerl envs registered with Gymnasium, Gymnasium envs behind purerl's vector API."""

import warnings

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

import envs  # noqa: E402
from envs import gymnasium_compat as compat  # noqa: E402
from envs import spaces  # noqa: E402


@pytest.mark.parametrize("name", envs.names())
def test_registered_envs_pass_gymnasiums_checker(name):
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make(f"purerl/{name}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any complaint from the checker fails the test, except:
        # advice that Gymnasium's own CartPole (unbounded velocities) and Pendulum
        # (torque in [-2, 2]) receive too
        warnings.filterwarnings("ignore", message=".*Box observation space (minimum|maximum) value")
        warnings.filterwarnings("ignore", message=".*we recommend using a symmetric and normalized space")
        check_env(env.unwrapped)
    assert env.spec.max_episode_steps == envs.make(name).spec.max_episode_steps


def test_gymnasium_make_steps_exactly_like_envs_make():
    ours, theirs = envs.make("CartPole-v1"), gymnasium.make("purerl/CartPole-v1")
    a, _ = ours.reset(seed=5)
    b, _ = theirs.reset(seed=5)
    assert a.tobytes() == b.tobytes()
    rng = np.random.default_rng(0)
    for _ in range(600):
        action = int(rng.integers(2))
        ra, rb = ours.step(action), theirs.step(action)
        assert ra[0].tobytes() == rb[0].tobytes() and ra[1:4] == rb[1:4]
        if ra[2] or ra[3]:
            break
    assert ra[2] or ra[3]


def test_module_prefix_registers_on_make():
    env = gymnasium.make("envs.gymnasium_compat:purerl/CartPole-v1", render_mode="ansi")
    env.reset(seed=0)
    assert isinstance(env.render(), str)


def _reference(gym_id, n, seed, actions):
    """Independent Gymnasium games stepped by hand, reset after each episode: what GymVecEnv must equal."""
    games = [gymnasium.make(gym_id) for _ in range(n)]
    obs = [g.reset(seed=seed + i)[0] for i, g in enumerate(games)]
    totals, lengths, out = np.zeros(n), np.zeros(n, dtype=int), []
    for a in actions:
        step = []
        for i, g in enumerate(games):
            o, r, term, trunc, _ = g.step(a[i])
            totals[i] += r
            lengths[i] += 1
            done = term or trunc
            record = (o, r, term, trunc, totals[i], lengths[i])
            if done:
                o, _ = g.reset()
                totals[i], lengths[i] = 0.0, 0
            obs[i] = o
            step.append((np.asarray(obs[i], dtype=np.float32),) + record)
        out.append(step)
    return out


def test_vector_adapter_autoresets_in_the_same_step_like_hand_stepped_games():
    n, seed = 3, 11
    rng = np.random.default_rng(1)
    actions = rng.integers(0, 2, size=(120, n))
    venv = compat.make_vec("CartPole-v1", n, seed=seed)
    assert isinstance(venv.single_action_space, spaces.Discrete) and venv.single_action_space.n == 2
    obs, _ = venv.reset()
    assert obs.shape == (n, 4) and obs.dtype == np.float32
    dones = 0
    for a, expected in zip(actions, _reference("CartPole-v1", n, seed, actions)):
        obs, rewards, terminated, truncated, info = venv.step(a)
        assert rewards.dtype == np.float64 and terminated.dtype == bool
        for i, (next_obs, final, r, term, trunc, ret, length) in enumerate(expected):
            assert obs[i].tobytes() == next_obs.tobytes()
            assert (rewards[i], terminated[i], truncated[i]) == (r, term, trunc)
            assert info["_final_obs"][i] == (term or trunc)
            if term or trunc:
                dones += 1
                assert info["final_obs"][i].tobytes() == np.asarray(final, dtype=np.float32).tobytes()
                assert (info["episode_return"][i], info["episode_length"][i]) == (ret, length)
    assert dones >= 3


def test_box_actions_and_one_hot_discrete_observations():
    venv = compat.make_vec("Pendulum-v1", 2, seed=0)
    assert repr(venv) == "GymVecEnv(gym:Pendulum-v1, num_envs=2)"  # error messages name the env this way
    assert isinstance(venv.single_action_space, spaces.Box) and venv.single_action_space.shape == (1,)
    venv.reset()
    obs, rewards, *_ = venv.step(np.array([[1.5], [-2.0]]))
    assert obs.shape == (2, 3) and np.all(rewards <= 0)
    with pytest.raises(ValueError, match="non-finite action"):
        venv.step(np.array([[np.nan], [0.0]]))
    lake = compat.make_vec("FrozenLake-v1", 2, seed=0)
    obs, _ = lake.reset()
    assert obs.shape == (2, 16) and np.array_equal(obs.sum(axis=1), [1, 1]) and obs[0, 0] == 1
    with pytest.raises(ValueError, match="unsupported Gymnasium action space"):
        compat.from_gym_action_space(gymnasium.spaces.MultiDiscrete([2, 3]))


def test_get_state_and_set_state_continue_bit_identically():
    rng = np.random.default_rng(2)
    actions = rng.integers(0, 3, size=(700, 2))  # crosses Acrobot's 500-step time limit
    venv = compat.make_vec("Acrobot-v1", 2, seed=3)
    venv.reset()
    for a in actions[:450]:
        venv.step(a)
    saved = venv.get_state()
    assert saved["games"].dtype.kind == "U"  # plain arrays: checkpoint-safe without pickle
    after = [venv.step(a) for a in actions[450:]]
    other = compat.make_vec("Acrobot-v1", 2, seed=99)
    other.set_state(saved)
    again = [other.step(a) for a in actions[450:]]
    for x, y in zip(after, again):
        for u, v in zip(x[:4], y[:4]):
            assert np.asarray(u).tobytes() == np.asarray(v).tobytes()
    assert any(x[3].any() for x in after)  # the time limit was restored too


def test_train_and_resume_on_a_gymnasium_env(monkeypatch, tmp_path, capfd):
    from cli_fakes import run_dir_of
    from purerl.cli import main
    from test_cli import assert_same_run

    monkeypatch.chdir(tmp_path)
    common = ["random", "--env", "gym:CartPole-v1", "--steps", "256", "--set", "num_steps=16",
              "--num-envs", "2", "--eval-episodes", "2"]
    assert main(["train", *common, "--out", "a"]) == 0
    straight = run_dir_of(capfd.readouterr().out)
    assert main(["train", *common, "--out", "b", "--pause-at", "128"]) == 0
    paused = run_dir_of(capfd.readouterr().out)
    assert main(["train", "--resume", paused]) == 0
    assert_same_run(straight, paused)


def test_get_state_before_reset_starts_the_games_with_their_seeds():
    """A learner that resets at each iteration (reinforce-pong) is checkpointed before its first: the
    state is then that of games started with the pending seeds, as a reset would start them."""
    early = compat.make_vec("CartPole-v1", 2, seed=5).get_state()
    obs, _ = compat.make_vec("CartPole-v1", 2, seed=5).reset()
    assert np.array_equal(early["obs"], obs) and not early["ep_length"].any()


def test_purerl_namespace_ids_are_accepted_by_env_name_checks():
    """`--env gym:purerl/NAME` is checked after purerl's namespace is registered (it said "Namespace
    purerl not found" when the check ran before anything imported envs.gymnasium_compat)."""
    import subprocess
    import sys

    check = "from purerl import runs; runs.check_env_name({!r})"  # a fresh process: nothing registered yet
    ok = subprocess.run([sys.executable, "-c", check.format("gym:purerl/CartPole-v1")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-c", check.format("gym:purerl/Nope-v0")], capture_output=True, text=True)
    assert "unknown Gymnasium environment 'purerl/Nope-v0'" in bad.stderr
