"""Karpathy's "Pong from Pixels" policy gradient, faithfully, from purerl's pieces.

CMU 10-403, Policy gradients, "Pong from pixels" (80x80 difference frame, 200
hidden units, a Bernoulli UP/DOWN policy); Karpathy's pg-pong.py and blog
(the design note PONG.md, section 1). The settings of that script, all defaults here:

    input     x_t = f_t - f_{t-1}, 6400 pixels in {-1, 0, 1}, x_0 = 0   (envs/pong_diff.py, PongDiff-v0)
    network   p = P(UP | x) = sigmoid(w_2 . relu(W_1 x)), no biases, 200 hidden units,
              W ~ randn / sqrt(fan_in)       (policies.BernoulliPolicy; its first layer read
                                              sparsely, sparse.with_sparse_input)
    actions   a ~ Bernoulli(p): a = 1 -> UP (Pong-v0 action 1), a = 0 -> DOWN (action 2); never NOOP
    returns   G_t = r_t + gamma G_{t+1}, gamma = 0.99, restarted at every point (r_t != 0)
              (estimators.discounted_returns(..., reset_at_nonzero_reward=True))
    weights   A_hat_t = G_t standardised within its episode (baselines.standardize_episodes)
    gradient  g = sum over the batch's episodes and steps of A_hat_t grad log pi(a_t | x_t),
              a sum, not a mean, as in the script (RMSProp's eps = 1e-5 then stays negligible)
    update    every 10 episodes: RMSProp, r <- 0.99 r + 0.01 g^2, theta <- theta + 1e-4 g / (sqrt(r) + 1e-5)
    report    running reward R <- 0.99 R + 0.01 (episode return), R initialised to the first return

One departure, for speed only: the 10 episodes of a batch are played as 10
games in parallel (a vector env) rather than one after another. Each is one
independent episode of the same policy pi_theta, so the estimator is the
same; a game that finishes first keeps playing until the slowest is done,
and those extra steps are simulated (counted in env_steps) but not used
(`batch_steps` counts the used ones). num_envs=1, episodes_per_env=10 plays
the batch one episode after another, exactly as the script does.

Storage is sparse: the batch can hold 10^5 frames, 2.6 GB as dense float32;
each frame is kept as its nonzero pixels (SparseRows) instead, and the
update runs one batched forward and backward over them. One iteration
(`step`): 1. collect the batch, 2. estimate A_hat, 3. update theta, 4. log.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from purerl.algos.base import (EpisodeStats, check_finite, config_field, load_run_state, load_vector, require,
                               require_choice, require_positive, require_unit_interval, run_state_dict)
from purerl.baselines import standardize, standardize_episodes
from purerl.estimators import discounted_returns
from purerl.optim import RMSProp
from purerl.policies import BernoulliPolicy
from purerl.sparse import concat_rows, select_rows, sparse_rows, with_sparse_input

DEFAULT_ENV = "PongDiff-v0"
ALE_ENV = "gym:purerl/ALEPongDiff-v0"  # ALE's Pong-v0 as pg-pong saw it (envs/ale_pong.py), for calibration
QUICK_CONFIG = {"total_steps": 5000, "num_envs": 1, "hidden": 8}
UP, DOWN = 1, 2  # Pong-v0's actions for the Bernoulli outcomes a = 1 and a = 0


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(20_000_000, "env steps of the run (whole batches, so it may overshoot)")
    num_envs: int = config_field(10, "games played in parallel")
    episodes_per_env: int = config_field(1, "episodes per game per update; batch = num_envs * this (Karpathy: 10)")
    hidden: int = config_field(200, "H, hidden ReLU units of p = sigmoid(w_2 . relu(W_1 x))")
    lr: float = config_field(1e-4, "RMSProp step size alpha in theta <- theta + alpha g / (sqrt(r) + eps)")
    decay: float = config_field(0.99, "RMSProp decay rho in r <- rho r + (1 - rho) g^2")
    rms_eps: float = config_field(1e-5, "RMSProp eps in g / (sqrt(r) + eps)")
    gamma: float = config_field(0.99, "discount gamma in G_t = r_t + gamma G_{t+1}")
    reset_at_point: bool = config_field(True, "restart G_t at every nonzero reward (each point of Pong)")
    standardize: Literal["episode", "batch", "none"] = config_field(
        "episode", "standardise G_t within each episode (Karpathy), over the whole batch, or not at all")
    running_decay: float = config_field(0.99, "running reward R <- decay R + (1 - decay) episode return")

    def validate(self):
        for name in ("total_steps", "num_envs", "episodes_per_env", "hidden", "lr", "rms_eps"):
            require_positive(name, getattr(self, name))
        require_unit_interval("gamma", self.gamma)
        require_unit_interval("decay", self.decay, open_high=True)
        require_unit_interval("running_decay", self.running_decay, open_high=True)
        require_choice("standardize", self.standardize, ("episode", "batch", "none"))
        require(isinstance(self.reset_at_point, bool), "reset_at_point", self.reset_at_point, "true or false")


def pong_policy(obs_dim, hidden, dtype=np.float64):
    """pi_theta(a = 1 | x) = sigmoid(w_2 . relu(W_1 x)): policies.BernoulliPolicy with no biases,
    randn / sqrt(fan_in) initialisation (Karpathy's), reading x sparsely (sparse.with_sparse_input)."""
    return with_sparse_input(BernoulliPolicy(obs_dim, (hidden,), activation="relu", bias=False, dtype=dtype))


def summed_policy_gradient(policy, theta, x, actions, weights):
    """g = sum_t weights_t grad log pi_theta(a_t | x_t), and the distribution.

    CMU 10-403, Policy gradients, "Pong from pixels": with d log P(a)/d logit
    = a - p (Karpathy's "fake label" y - p), the chain rule through the network
    is one backward pass with upstream weights_t (a_t - p_t). A sum over the
    batch, not policies.policy_gradient's mean: the script sums, and with
    RMSProp's eps a mean would shrink the step. x: SparseRows (B rows),
    actions int (B,), weights (B,).
    """
    dist, cache = policy.distribution(theta, x)
    return policy.backward(theta, cache, weights * dist.score(actions)), dist


def point_returns(rewards, terminated, truncated, cfg):
    """A_hat (T, N): G_t restarting at each point, standardised as cfg.standardize says."""
    returns = discounted_returns(rewards, terminated, truncated, gamma=cfg.gamma,
                                 reset_at_nonzero_reward=cfg.reset_at_point)
    if cfg.standardize == "episode":
        return standardize_episodes(returns, terminated, truncated)
    return returns


class Batch:
    """What one iteration plays: time-major (T, N) arrays and the valid steps' frames."""

    def __init__(self):
        self.frames, self.actions, self.rewards, self.terminated, self.truncated, self.valid = ([] for _ in range(6))
        self.env_steps = 0
        self.episode_returns = []  # in the order the episodes finished

    def arrays(self):
        return tuple(np.stack(v) for v in (self.rewards, self.terminated, self.truncated, self.valid))


class Learner:
    """Karpathy's pg-pong on a vector env of PongDiff-v0 games (module docstring)."""

    def __init__(self, env, cfg, rng):
        cfg.validate()
        if env.spec.id not in (DEFAULT_ENV, ALE_ENV):
            raise ValueError(f"reinforce-pong plays Pong difference frames; got environment {env.spec.id!r}, "
                             f"accepted: {DEFAULT_ENV!r} (with any of Pong-v0's --env-arg settings) "
                             f"or {ALE_ENV!r} (ALE's Pong, with the atari extra)")
        # Pong-v0's UP and DOWN for the Bernoulli outcomes a = 1 and a = 0 (0 and 1 with actions="updown")
        self.up, self.down = (UP, DOWN) if env.single_action_space.n == 3 else (UP - 1, DOWN - 1)
        shape = env.single_observation_space.shape
        self.env, self.cfg, self.rng = env, cfg, rng
        self.policy = pong_policy(shape[0], cfg.hidden)
        self.dtype = self.policy.net.dtype
        self.theta = self.policy.init(rng)
        self.opt = RMSProp(cfg.lr, decay=cfg.decay, eps=cfg.rms_eps, maximize=True)
        self.stats = EpisodeStats()
        self.running_reward = np.nan  # nan until the first episode
        self.env_steps = self.iteration = 0

    def act(self, obs, greedy=True):
        """Pong actions for difference frames obs (B, D): UP with probability p (greedy: UP iff p > 1/2)."""
        dist, _ = self.policy.distribution(self.theta, sparse_rows(obs, self.dtype))
        a = dist.mode() if greedy else dist.sample(self.rng)
        return np.where(a == 1, self.up, self.down)

    # ---- 1. collect ---------------------------------------------------------------

    def collect(self):
        """Reset every game and play until each has finished episodes_per_env episodes."""
        n, quota = self.env.num_envs, self.cfg.episodes_per_env
        batch = Batch()
        obs, _ = self.env.reset()
        finished = np.zeros(n, dtype=np.int64)
        while (finished < quota).any():
            counting = finished < quota
            x = sparse_rows(obs, self.dtype)
            dist, _ = self.policy.distribution(self.theta, x)
            a = dist.sample(self.rng)
            obs, rewards, terminated, truncated, info = self.env.step(np.where(a == 1, self.up, self.down))
            ended = (terminated | truncated) & counting
            self.stats.update(info, ended, ended)
            batch.episode_returns += info["episode_return"][ended].tolist()
            finished += ended
            batch.frames.append(x if counting.all() else select_rows(x, counting))
            for name, value in (("actions", a), ("rewards", rewards), ("terminated", terminated),
                                ("truncated", truncated), ("valid", counting)):
                getattr(batch, name).append(value)
        batch.env_steps = len(batch.rewards) * n
        return batch

    # ---- 2-4. estimate, update, log --------------------------------------------------

    def step(self):
        cfg = self.cfg
        batch = self.collect()  # 1. collect
        self.env_steps += batch.env_steps
        rewards, terminated, truncated, valid = batch.arrays()
        advantages = point_returns(rewards, terminated, truncated, cfg)[valid]  # 2. estimate (B,), (T, N) order
        if cfg.standardize == "batch":
            advantages = standardize(advantages)
        actions = np.stack(batch.actions)[valid]
        grad, dist = summed_policy_gradient(self.policy, self.theta, concat_rows(batch.frames), actions,
                                            advantages)
        check_finite("reinforce-pong policy gradient", grad, self.iteration)
        self.opt.step(self.theta, grad)  # 3. update
        check_finite("reinforce-pong parameters", self.theta, self.iteration)
        for ret in batch.episode_returns:  # 4. log
            d = cfg.running_decay
            self.running_reward = ret if np.isnan(self.running_reward) else d * self.running_reward + (1 - d) * ret
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row(), "running_reward": float(self.running_reward),
                "batch_return": float(np.mean(batch.episode_returns)), "batch_steps": int(valid.sum()),
                "points": int(np.count_nonzero(rewards[valid])), "entropy": float(dist.entropy().mean()),
                "grad_norm": float(np.sqrt(grad @ grad))}

    def state_dict(self):
        return {"theta": self.theta.copy(), "optimizer": self.opt.state_dict(),
                "running_reward": np.array(self.running_reward, dtype=np.float64), **run_state_dict(self)}

    def load_state_dict(self, state):
        load_vector(self.theta, state["theta"], "theta")
        self.opt.load_state_dict(state["optimizer"])
        load_run_state(self, state)
        self.running_reward = float(state["running_reward"])

