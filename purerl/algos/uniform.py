"""The uniform random policy: the baseline every learning curve should beat.

It learns nothing: each action is drawn uniformly from the action space
(Discrete: each of the n actions with probability 1/n; Box: uniform on
[low, high]). `python -m purerl train random` gives the return a learner
starts from, in the same run-directory format, so `plot` can overlay it.
"""

from dataclasses import dataclass

import numpy as np

from purerl.algos.base import (EpisodeStats, config_field, load_run_state, require_positive,
                               run_state_dict)

DEFAULT_ENV = "CartPole-v1"
QUICK_CONFIG = {"total_steps": 256, "num_envs": 2, "num_steps": 16}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(20_000, "env steps to run, summed over all games")
    num_envs: int = config_field(4, "games played in parallel (the vector env's num_envs)")
    num_steps: int = config_field(128, "steps per game per iteration; an iteration is num_envs * num_steps env steps")

    def validate(self):
        for name in ("total_steps", "num_envs", "num_steps"):
            require_positive(name, getattr(self, name))


def sample_uniform(space, n, rng):
    """n actions drawn uniformly from a Discrete(n) or a bounded Box space."""
    if hasattr(space, "n"):
        start = int(getattr(space, "start", 0))
        return rng.integers(start, start + space.n, size=n)
    low = np.broadcast_to(np.asarray(space.low, dtype=np.float64), space.shape)
    high = np.broadcast_to(np.asarray(space.high, dtype=np.float64), space.shape)
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("the random policy needs a bounded Box action space; got infinite bounds")
    return rng.uniform(low, high, size=(n, *space.shape))


class Learner:
    """Plays uniformly random actions; reports episode statistics."""

    GREEDY_ACTIONS = False  # eval and train say "uniformly random actions" (purerl/evaluate.py: action_mode)

    def __init__(self, env, cfg, rng):
        self.env, self.cfg, self.rng = env, cfg, rng
        self.stats = EpisodeStats()
        self.env_steps = 0
        self.iteration = 0
        self.obs, _ = env.reset()

    def act(self, obs, greedy=True):
        # greedy has no meaning for a uniform policy; both modes sample (GREEDY_ACTIONS).
        return sample_uniform(self.env.single_action_space, len(obs), self.rng)

    def step(self):
        for _ in range(self.cfg.num_steps):
            actions = self.act(self.obs)
            self.obs, _, terminated, truncated, info = self.env.step(actions)
            self.stats.update(info, terminated, truncated)
        self.env_steps += self.cfg.num_steps * self.env.num_envs
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row()}

    def state_dict(self):
        return run_state_dict(self, self.obs)

    def load_state_dict(self, state):
        self.obs = load_run_state(self, state)
