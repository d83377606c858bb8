"""The algorithms the command line knows: CLI name -> module path.

Modules are imported only when used, so `python -m purerl --help` stays fast
and a broken learner cannot break the other commands. To add an algorithm,
add one line here; the module provides what purerl/algos/base.py lists under
"Configuration and the command line".
"""

import importlib

ALGORITHMS = {
    "random": "purerl.algos.uniform",
    "reinforce-pong": "purerl.algos.pong_pg",
    "ppo-pong": "purerl.algos.ppo_pong",
    "dqn": "purerl.algos.dqn",
    "ddpg": "purerl.algos.ddpg",
    "a2c": "purerl.algos.a2c",
    "reinforce": "purerl.algos.reinforce",
    "a3c": "purerl.algos.a3c",
    "ppo": "purerl.algos.ppo",
    "trpo": "purerl.algos.trpo",
    "npg": "purerl.algos.npg",
}


def names():
    """The registered CLI names, sorted."""
    return sorted(ALGORITHMS)


def load(name):
    """Import and return the module of algorithm `name`.

    Raises ValueError listing the registered names when `name` is unknown.
    """
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; available: {', '.join(names())}")
    return importlib.import_module(ALGORITHMS[name])


def default_env(module):
    """The environment `train NAME` uses when --env is not given."""
    return getattr(module, "DEFAULT_ENV", "CartPole-v1")


def default_env_kwargs(module):
    """Keyword arguments for the default environment (module.DEFAULT_ENV_KWARGS; --env-arg overrides them)."""
    return dict(getattr(module, "DEFAULT_ENV_KWARGS", {}))
