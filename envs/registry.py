"""Names -> simulators: `make`, `make_vec`, `names`.

Each entry names the module and factory function that builds the game's
`Simulator` record (envs/core.py; protocol in envs/vector.py) and the keyword
arguments it gets by default. Modules are imported on first use, so
`import envs` stays cheap and compiles nothing. To add a game, add one line to
ENTRIES.
"""

import importlib

from envs.env import Env
from envs.vector import VecEnv

# name: (module, factory, default kwargs)
ENTRIES = {
    "CartPole-v1": ("envs.cartpole", "simulator", {}),
    "CartPoleContinuous-v1": ("envs.cartpole", "continuous_simulator", {}),
    "Pendulum-v1": ("envs.pendulum", "simulator", {}),
    "Pong-v0": ("envs.pong", "simulator", {}),
    "PongDiff-v0": ("envs.pong_diff", "pong_difference_simulator", {}),  # Pong-v0's pixels, differenced
}

# Keyword variants worth timing and testing separately (e.g. observation modes):
# name -> tuple of kwargs dicts. Names not listed have one variant, {}.
VARIANTS = {
    "Pong-v0": ({"obs_type": "pixels"}, {"obs_type": "state"}),
}


def names():
    """The names `make` and `make_vec` accept, sorted."""
    return sorted(ENTRIES)


def simulator(name, **kwargs):
    """The Simulator record for `name`; kwargs override the entry's defaults
    (e.g. max_episode_steps, or a physical constant the module exposes)."""
    if name not in ENTRIES:
        raise ValueError(f"unknown environment {name!r}; valid names: {', '.join(names())}")
    module, factory, defaults = ENTRIES[name]
    build = getattr(importlib.import_module(module), factory)
    try:
        return build(**{**defaults, **kwargs})
    except TypeError as err:  # an unknown keyword: say which and where
        raise ValueError(f"{name}: {err}") from None


def make(name, **kwargs):
    """A single-game environment with Gymnasium's API (envs/env.py)."""
    return Env(simulator(name, **kwargs))


def make_vec(name, num_envs, seed=None, parallel=None, **kwargs):
    """A batch of `num_envs` games with same-step autoreset (envs/vector.py).

    seed: if given, game i's stream is seeded with seed + i and the first
    reset() starts from it (as reset(seed=seed) would). parallel: None picks
    the threaded kernel for large batches; True/False force it.
    "gym:ID" names a Gymnasium environment, wrapped by envs/gymnasium_compat.py.
    """
    if name.startswith("gym:"):
        from envs.gymnasium_compat import make_vec as make_gym_vec  # needs the gym extra

        return make_gym_vec(name[len("gym:"):], num_envs, seed=seed, **kwargs)
    env = VecEnv(simulator(name, **kwargs), num_envs, parallel=parallel)
    if seed is not None:
        env.seed(seed)
    return env
