"""Record Gymnasium episodes for purerl's conformance tests (tests/test_cartpole.py,
tests/test_pendulum.py). Needs gymnasium; run from the repository root:

    python tests/envs_fixtures/make_fixtures.py

writes tests/envs_fixtures/gymnasium_episodes.npz. For each environment and
each seed it plays one full episode with gymnasium.make(name) after
reset(seed=seed), with actions drawn from a separate fixed Generator (so the
actions do not depend on the environment's stream), and stores, concatenated
over episodes: actions, the observations (reset obs first, then every step's),
rewards, terminated and truncated flags, with per-episode seeds and lengths.

CartPole episodes use two action rules: uniform random actions (short
episodes that terminate) and a noisy balancing controller (episodes that
reach the 500-step time limit, so truncation is covered), the latter for every sixth seed.
"""

import sys
from pathlib import Path

import gymnasium
import numpy as np

OUT = Path(__file__).with_name("gymnasium_episodes.npz")
ACTION_SEED = 20240229


def cartpole_action(obs, rng, balance):
    """A uniform random action, or (balance=True) a noisy PD push toward upright."""
    if balance and rng.random() > 0.1:
        return int(obs[2] + 0.5 * obs[3] + 0.05 * obs[1] > 0)
    return int(rng.integers(2))


def pendulum_action(obs, rng, balance):
    """A uniform torque on [-2.5, 2.5]: beyond the bounds sometimes, so clipping is covered."""
    return rng.uniform(-2.5, 2.5, size=1).astype(np.float32)


def record(name, seeds, choose):
    env = gymnasium.make(name)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(ACTION_SEED)))
    cols = {"actions": [], "obs": [], "rewards": [], "terminated": [], "truncated": [], "lengths": []}
    for k, seed in enumerate(seeds):
        obs, _ = env.reset(seed=int(seed))
        cols["obs"].append(obs)
        length = 0
        while True:
            action = choose(obs, rng, balance=k % 6 == 5)
            obs, reward, terminated, truncated, _ = env.step(action)
            length += 1
            for key, value in (("actions", action), ("obs", obs), ("rewards", reward),
                               ("terminated", terminated), ("truncated", truncated)):
                cols[key].append(value)
            if terminated or truncated:
                break
        cols["lengths"].append(length)
    prefix = name.split("-")[0].lower()
    return {
        f"{prefix}_seeds": np.asarray(seeds, dtype=np.int64),
        f"{prefix}_lengths": np.asarray(cols["lengths"], dtype=np.int64),
        f"{prefix}_actions": np.asarray(cols["actions"]),
        f"{prefix}_obs": np.asarray(cols["obs"], dtype=np.float32),
        f"{prefix}_rewards": np.asarray(cols["rewards"], dtype=np.float64),
        f"{prefix}_terminated": np.asarray(cols["terminated"], dtype=np.bool_),
        f"{prefix}_truncated": np.asarray(cols["truncated"], dtype=np.bool_),
    }


def main():
    data = {"gymnasium_version": np.array(gymnasium.__version__), "numpy_version": np.array(np.__version__)}
    cartpole_seeds = list(range(30)) + [123456789, 2**31 - 1, 2**40 + 7, 10**18]
    data.update(record("CartPole-v1", cartpole_seeds, cartpole_action))
    data.update(record("Pendulum-v1", list(range(8)) + [2**33 + 1], pendulum_action))
    np.savez_compressed(OUT, **data)
    sizes = {k: v.shape for k, v in data.items()}
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {sizes}", file=sys.stderr)


if __name__ == "__main__":
    main()
