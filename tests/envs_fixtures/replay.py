"""Reading the Gymnasium fixture and replaying its episodes in a purerl environment."""

from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("gymnasium_episodes.npz")


def episodes(prefix):
    """Per recorded episode: (seed, actions, obs (T+1), rewards, terminated, truncated)."""
    with np.load(PATH) as d:
        data = {k: d[k] for k in d.files if k.startswith(prefix + "_")}
    step = obs = 0
    for seed, length in zip(data[f"{prefix}_seeds"], data[f"{prefix}_lengths"]):
        steps, frames = slice(step, step + length), slice(obs, obs + length + 1)
        yield (int(seed), data[f"{prefix}_actions"][steps], data[f"{prefix}_obs"][frames],
               data[f"{prefix}_rewards"][steps], data[f"{prefix}_terminated"][steps],
               data[f"{prefix}_truncated"][steps])
        step, obs = step + length, obs + length + 1


def replay(env, seed, actions):
    """Reset `env` with `seed`, play `actions`; return (obs, rewards, terminated, truncated) arrays."""
    first, _ = env.reset(seed=seed)
    obs, rewards, terminated, truncated = [first], [], [], []
    for action in actions:
        o, r, te, tr, _ = env.step(action if np.ndim(action) else int(action))
        obs.append(o)
        rewards.append(r)
        terminated.append(te)
        truncated.append(tr)
    return np.array(obs), np.array(rewards), np.array(terminated), np.array(truncated)


def assert_same_episode(got, want):
    """Observations equal as float32, rewards equal as float64, flags equal."""
    for name, g, w in zip(("obs", "rewards", "terminated", "truncated"), got, want):
        assert g.dtype == w.dtype or name == "rewards", (name, g.dtype, w.dtype)
        np.testing.assert_array_equal(g, w, err_msg=name)
