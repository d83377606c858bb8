"""PPO on Pong: purerl/algos/ppo.py with Pong defaults and a sparse first layer for pixels.

The algorithm is ppo.py's, unchanged (collect, GAE, clipped surrogate with
minibatch Adam epochs; Yamazaki, "PPO-Clip", Algorithm 1). Two things differ:

- defaults for Pong (21-point games of ~1,000-5,000 frames, rewards only at
  points): each action held for 4 frames (`frameskip` 4 on the default
  env), 16 games x 128 steps per iteration, gamma 0.99, GAE lambda 0.95,
  4 epochs of minibatches of 512, Adam lr 2.5e-4 held constant, clip 0.2
  held constant, entropy bonus 0.01 (the Atari settings of Schulman et al.
  2017 and CleanRL, with a fixed schedule so a run can be extended);
- with sparse_input (the default), pi_theta's and V_phi's first layers read
  only the nonzero pixels (purerl/sparse.py), which makes PPO on difference
  frames (PongDiff-v0: 6,400 inputs, a few dozen nonzero) affordable on a
  CPU; the numbers are the dense network's. Turn it off for the 7-value state
  vector (`--env Pong-v0 --env-arg obs_type=state --set sparse_input=false`).

Networks are ppo.py's tanh MLPs (hidden_sizes, default one layer of 200
units, the width of Karpathy's network).
"""

from dataclasses import dataclass
from typing import Literal

from purerl.algos import ppo
from purerl.algos.base import config_field, new_default, require
from purerl.sparse import sparse_rows, with_sparse_input

DEFAULT_ENV = "PongDiff-v0"
# ALE's Atari setting (Schulman et al. 2017, CleanRL): each action held for 4 frames
DEFAULT_ENV_KWARGS = {"frameskip": 4}
QUICK_CONFIG = {"total_steps": 2048, "num_envs": 4, "num_steps": 64, "minibatch_size": 128, "epochs": 2,
                "hidden_sizes": (16,)}


@dataclass(frozen=True)
class Config(ppo.Config):
    total_steps: int = new_default(ppo.Config, "total_steps", 10_000_000)
    num_envs: int = new_default(ppo.Config, "num_envs", 16)
    num_steps: int = new_default(ppo.Config, "num_steps", 128)
    gamma: float = new_default(ppo.Config, "gamma", 0.99)
    lam: float = new_default(ppo.Config, "lam", 0.95)
    clip_schedule: Literal["constant", "linear"] = new_default(ppo.Config, "clip_schedule", "constant")
    epochs: int = new_default(ppo.Config, "epochs", 4)
    minibatch_size: int = new_default(ppo.Config, "minibatch_size", 512)
    lr: float = new_default(ppo.Config, "lr", 2.5e-4)
    lr_schedule: Literal["constant", "linear"] = new_default(ppo.Config, "lr_schedule", "constant")
    ent_coef: float = new_default(ppo.Config, "ent_coef", 0.01)
    hidden_sizes: tuple[int, ...] = new_default(ppo.Config, "hidden_sizes", (200,))
    sparse_input: bool = config_field(True, "first layers read only nonzero inputs (difference frames)")

    def validate(self):
        super().validate()
        require(isinstance(self.sparse_input, bool), "sparse_input", self.sparse_input, "true or false")


class Learner(ppo.Learner):
    """ppo.Learner, its networks' first layers swapped for the sparse ones when cfg.sparse_input."""

    def __init__(self, env, cfg, rng):
        super().__init__(env, cfg, rng)
        if cfg.sparse_input:
            # The collector and the update reach the networks through these two
            # objects, so swapping their `net` swaps it everywhere; theta and phi stay.
            with_sparse_input(self.policy)
            with_sparse_input(self.value_fn)

    def update(self, batch, clip_eps, theta_old):
        """ppo.Learner.update on the batch's frames compressed once (sparse_input), not once per minibatch.

        The epochs shuffle and slice SparseRows as they would the dense array,
        so every minibatch holds the same rows and the numbers are unchanged.
        """
        if self.cfg.sparse_input:
            batch = {**batch, "obs": sparse_rows(batch["obs"], self.policy.net.dtype)}
        return super().update(batch, clip_eps, theta_old)
