"""Names -> simulators: `make`, `make_vec`, `names`.

Each entry names the module and factory function that builds the game's
`Simulator` record (envs/core.py; protocol in envs/vector.py) and the keyword
arguments it gets by default. Modules are imported on first use, so
`import envs` stays cheap and compiles nothing. To add a game, add one line to
ENTRIES.
"""

import importlib
import inspect

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

# Factories that pass their **kwargs on: "module.function" -> (the function receiving them,
# the keywords the caller sets itself), so an unknown keyword's error can list what the game accepts.
FORWARDS = {
    "envs.cartpole.simulator": ("envs.cartpole.cartpole_params", ()),
    "envs.cartpole.continuous_simulator": ("envs.cartpole.simulator", ("continuous",)),
    "envs.pendulum.simulator": ("envs.pendulum.pendulum_params", ()),
    "envs.pong_diff.pong_difference_simulator": ("envs.pong.simulator", ()),
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
    build = _function(f"{module}.{factory}")
    accepted = keywords(name)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"{name} has no option {', '.join(map(repr, unknown))}; it accepts: {', '.join(accepted)}")
    return build(**{**defaults, **kwargs})


def keywords(name):
    """The keyword arguments `make(name, ...)` accepts, in their factory's order."""
    module, factory, _ = ENTRIES[name]
    accepted, fixed, path = [], set(), f"{module}.{factory}"
    while path is not None:
        for p in inspect.signature(_function(path)).parameters.values():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in accepted + list(fixed):
                accepted.append(p.name)
        path, set_by_caller = FORWARDS.get(path, (None, ()))
        fixed.update(set_by_caller)
    return accepted


def _function(path):
    module, _, function = path.rpartition(".")
    return getattr(importlib.import_module(module), function)


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
