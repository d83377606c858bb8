"""purerl's simulators: numba kernels over arrays, wrapped in Gymnasium-style shells.

    import envs
    env = envs.make("CartPole-v1")                          # single game
    venv = envs.make_vec("CartPole-v1", num_envs=64, seed=0)  # batch, autoreset
    envs.names()  # ['CartPole-v1', 'CartPoleContinuous-v1', 'Pendulum-v1', ...]

Importing this package compiles nothing; kernels compile (or load from numba's
cache) on first use.
"""

from envs import spaces
from envs.registry import make, make_vec, names

__all__ = ["make", "make_vec", "names", "spaces"]
