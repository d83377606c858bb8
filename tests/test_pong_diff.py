"""Difference frames (envs/pong_diff.py): PongDiff-v0 against Pong-v0's raw frames differenced by hand."""

import numpy as np
import pytest

import envs

KW = {"points_to_win": 1}  # a game per point: many autoresets in a short test


def play(env, actions):
    out = [env.reset()[0]]
    for a in actions:
        obs, _, terminated, truncated, info = env.step(a)
        out.append((obs, terminated | truncated, info["final_obs"], info["_final_obs"]))
    return out


def test_vector_env_differences_frames_and_forgets_the_previous_frame_at_autoreset():
    n, steps = 4, 600
    actions = np.random.default_rng(0).integers(0, 3, size=(steps, n))
    raw = play(envs.make_vec("Pong-v0", n, seed=7, **KW), actions)
    diff = play(envs.make_vec("PongDiff-v0", n, seed=7, **KW), actions)
    np.testing.assert_array_equal(diff[0], 0.0)  # x_0 = 0: Karpathy's prev_x = None
    prev, resets = raw[0], 0
    for (f, done, f_final, has_final), (x, d_done, x_final, d_has_final) in zip(raw[1:], diff[1:]):
        np.testing.assert_array_equal(d_done, done)
        np.testing.assert_array_equal(d_has_final, has_final)
        # the episode that ended: its last difference is f_T - f_{T-1}
        np.testing.assert_array_equal(x_final[done], f_final[done] - prev[done])
        # the new episode starts from x_0 = 0, with no trace of the old game's frame
        np.testing.assert_array_equal(x[done], 0.0)
        np.testing.assert_array_equal(x[~done], f[~done] - prev[~done])
        prev, resets = f, resets + int(done.sum())
    assert resets >= 8  # the autoreset path really ran
    values = np.unique(np.concatenate([d[0].ravel() for d in diff[1:]]))
    assert set(values.tolist()) == {-1.0, 0.0, 1.0}


def test_single_env_equals_the_vector_env_and_restarts_from_zero():
    actions = np.random.default_rng(1).integers(0, 3, size=(400, 1))
    vec = play(envs.make_vec("PongDiff-v0", 1, seed=3, **KW), actions)
    env = envs.make("PongDiff-v0", **KW)
    obs, _ = env.reset(seed=3)
    np.testing.assert_array_equal(obs, vec[0][0])
    for a, (x, done, x_final, _) in zip(actions, vec[1:]):
        obs, _, terminated, truncated, _ = env.step(int(a[0]))
        if done[0]:
            assert terminated or truncated
            np.testing.assert_array_equal(obs, x_final[0])
            obs, _ = env.reset()
            np.testing.assert_array_equal(obs, 0.0)
        np.testing.assert_array_equal(obs, x[0])


def test_resume_restores_the_previous_frame():
    env = envs.make_vec("PongDiff-v0", 3, seed=2, **KW)
    env.reset()
    actions = np.random.default_rng(2).integers(0, 3, size=(120, 3))
    for a in actions[:50]:
        env.step(a)
    saved = env.get_state()
    first = [env.step(a)[0] for a in actions[50:]]
    fresh = envs.make_vec("PongDiff-v0", 3, **KW)
    fresh.set_state(saved)
    for a, obs in zip(actions[50:], first):
        np.testing.assert_array_equal(fresh.step(a)[0], obs)


def test_spaces_info_render_and_errors():
    env = envs.make("PongDiff-v0")
    assert env.spec.id == "PongDiff-v0" and env.spec.max_episode_steps == 27_000
    assert env.observation_space.shape == (6400,) and env.observation_space.low.min() == -1.0
    assert env.action_space.n == 3
    _, info = env.reset(seed=0)
    assert info["agent_score"] == 0 and env.render().shape == (210, 160, 3)
    with pytest.raises(ValueError, match="obs_type='state'.*accepted: 'pixels'"):
        envs.make("PongDiff-v0", obs_type="state")
    vec = envs.make_vec("PongDiff-v0", 2, seed=0)
    vec.reset()
    with pytest.raises(ValueError, match="invalid action 3"):
        vec.step(np.array([0, 3]))


def test_updown_is_karpathys_action_set():
    actions = np.random.default_rng(3).integers(0, 2, size=(200, 3))
    two = play(envs.make_vec("PongDiff-v0", 3, seed=1, actions="updown", **KW), actions)
    three = play(envs.make_vec("PongDiff-v0", 3, seed=1, **KW), actions + 1)  # 0 -> UP (1), 1 -> DOWN (2)
    for a, b in zip(two[1:], three[1:]):
        np.testing.assert_array_equal(a[0], b[0])
    env = envs.make_vec("PongDiff-v0", 2, seed=0, actions="updown")
    assert env.single_action_space.n == 2 and env.spec.kwargs["actions"] == "updown"
    env.reset()
    for bad in ([0, 2], [-1, 0]):
        with pytest.raises(ValueError, match=r"invalid action .* accepted: 0 \(UP\) or 1 \(DOWN\)"):
            env.step(np.array(bad))
    with pytest.raises(ValueError, match="actions='left'"):
        envs.make("PongDiff-v0", actions="left")
