"""DQN: Q-learning with a neural network, experience replay and a target network.

("Robot Perception and Control: Reinforcement Learning", 'DQN', 'Experience
Replay', 'Double DQN', 'Prioritized Experience Replay'; Stuttgart RL Lecture
10, 'Deep Q-networks (DQN)' and 'Fitted Q-iteration and Q-learning'.) One
iteration (`Learner.step`) of the algorithm box:

    1. collect: train_freq env steps with the epsilon-greedy policy of Q_w
       (uniformly random actions before learning_starts); store each
       transition (s, a, r, s', terminated, truncated) in the replay buffer,
       s' = info["final_obs"] where the game just ended;
    2. for each of gradient_steps minibatches of batch_size transitions:
       estimate  y = r + gamma (1 - terminated) max_a' Q_w'(s', a')
                 (Double DQN: Q_w'(s', argmax_a Q_w(s', a)));
       update    w <- Adam step on the (importance-weighted) Huber / squared
                 error of Q_w(s, a) - y, gradient norm clipped;
       every target_update_interval gradient steps: w' <- tau w + (1 - tau) w';
    3. log: losses, epsilon, episode returns.

Defaults start from the rl-baselines3-zoo settings for CartPole-v1 DQN
(lr 2.3e-3, buffer 100k, learning_starts 1000, gamma 0.99, exploration_fraction
0.16 of 50k steps, final epsilon 0.04, Stable-Baselines3's max_grad_norm 10)
and keep its replay ratio of 32 sampled transitions per env
step, but spend it in fewer, larger minibatches on a smaller network, which
solves CartPole faster in wall-clock at the same sample cost (README, "DQN
defaults"): a 64-64 network (zoo: 256-256), 4 games, 128 env steps then 32
minibatches of 128 per iteration (zoo: 256 steps, 128 of 64), and a hard
target copy every 32 gradient steps, i.e. once per iteration (the zoo's
target_update_interval of 10 env steps, shorter than its train_freq, also
amounts to one copy per iteration). The loss is the notes' squared TD error
(SB3 uses Huber): with these frequent target copies Huber let Q climb far
above 1 / (1 - gamma) at smaller learning rates (a PyTorch twin of the loop
did the same), while the squared error stayed stable.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from purerl.algos.base import (EpisodeStats, check_finite, config_field, load_run_state, load_vector, require,
                               require_choice, require_positive, require_replay_sizes, require_unit_interval,
                               run_state_dict)
from purerl.algos.exploration import epsilon_greedy
from purerl.algos.qlearning import double_q_target, polyak_update, q_learning_target, td_regression_grad
from purerl.buffers import PrioritizedReplayBuffer, ReplayBuffer, successor_observations
from purerl.nn import MLP
from purerl.optim import Adam, clip_grad_norm
from purerl.schedules import linear_schedule

DEFAULT_ENV = "CartPole-v1"
# bench learn (purerl/bench/learn.py): config overrides, step budget, solved criterion.
# Judged by greedy evaluation: training episodes carry epsilon-greedy exploration.
BENCH = {"config": {}, "steps": 50_000, "solved_by": "greedy"}
QUICK_CONFIG = {"total_steps": 600, "learning_starts": 200, "train_freq": 64, "gradient_steps": 4,
                "batch_size": 16, "hidden_sizes": (16, 16), "buffer_size": 500, "target_update_interval": 4}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(50_000, "env steps of the run; sets the length of the epsilon and beta schedules")
    num_envs: int = config_field(4, "games played in parallel; each env step adds num_envs transitions")
    hidden_sizes: tuple[int, ...] = config_field((64, 64), "widths of the ReLU hidden layers of Q_w")
    dtype: Literal["float32", "float64"] = config_field("float32", "floating type of w and the network's arithmetic")
    lr: float = config_field(2.3e-3, "Adam step size alpha")
    buffer_size: int = config_field(100_000, "replay capacity in transitions (oldest dropped first)")
    learning_starts: int = config_field(1000, "env steps of uniformly random actions before the first update")
    batch_size: int = config_field(128, "transitions per minibatch (B)")
    gamma: float = config_field(0.99, "discount gamma in y = r + gamma max_a' Q_w'(s', a')")
    train_freq: int = config_field(128, "env steps collected per iteration (between update phases)")
    gradient_steps: int = config_field(32, "minibatch gradient steps per iteration")
    target_update_interval: int = config_field(32, "gradient steps between target updates w' <- tau w + (1 - tau) w'")
    tau: float = config_field(1.0, "target update rate tau (1 = hard copy, < 1 = Polyak averaging)")
    exploration_fraction: float = config_field(0.16, "fraction of total_steps over which epsilon falls linearly")
    exploration_initial_eps: float = config_field(1.0, "epsilon at step 0")
    exploration_final_eps: float = config_field(0.04, "epsilon after the fall")
    loss: Literal["huber", "mse"] = config_field("mse", "regression loss l of Q_w(s, a) - y (squared error, as in the notes, or Huber)")
    max_grad_norm: float | None = config_field(10.0, "clip ||g||_2 of each gradient step to this (none: no clipping)")
    double_q: bool = config_field(False, "Double DQN target y = r + gamma Q_w'(s', argmax_a Q_w(s', a))")
    prioritized: bool = config_field(False, "prioritized replay, P_i = p_i^alpha / sum_j p_j^alpha")
    alpha: float = config_field(0.6, "prioritization exponent alpha")
    beta0: float = config_field(0.4, "importance-weight exponent beta at step 0, annealed linearly to 1")
    priority_eps: float = config_field(1e-6, "p_i = |delta_i| + priority_eps")
    reward_clip: float | None = config_field(None, "clip rewards to [-c, c] before storing (DQN's c = 1); none: no clipping")

    def validate(self):
        for name in ("total_steps", "num_envs", "lr", "buffer_size", "batch_size", "train_freq",
                     "gradient_steps", "target_update_interval", "priority_eps"):
            require_positive(name, getattr(self, name))
        require(all(int(h) >= 1 for h in self.hidden_sizes),
                "hidden_sizes", self.hidden_sizes, "positive integers")
        require_replay_sizes(self)
        for name in ("gamma", "exploration_initial_eps", "exploration_final_eps", "beta0"):
            require_unit_interval(name, getattr(self, name))
        require_unit_interval("tau", self.tau, open_low=True)
        require_unit_interval("exploration_fraction", self.exploration_fraction, open_low=True)
        require(self.alpha >= 0, "alpha", self.alpha, "a number >= 0")
        require_choice("loss", self.loss, ("huber", "mse"))
        require_choice("dtype", self.dtype, ("float32", "float64"))
        for name in ("max_grad_norm", "reward_clip"):
            value = getattr(self, name)
            require(value is None or value > 0, name, value, "a number > 0 or none")


class Learner:
    """DQN on a vector env with a Discrete action space (module docstring)."""

    def __init__(self, env, cfg, rng):
        cfg.validate()
        if not hasattr(env.single_action_space, "n"):
            raise ValueError(f"DQN needs a Discrete action space (e.g. --env CartPole-v1); {env.spec.id} has "
                             f"{env.single_action_space}")
        self.env, self.cfg, self.rng = env, cfg, rng
        obs_shape = env.single_observation_space.shape
        self.n_actions = int(env.single_action_space.n)
        self.dtype = np.dtype(cfg.dtype)
        self.net = MLP((int(np.prod(obs_shape)), *cfg.hidden_sizes, self.n_actions), hidden="relu",
                       output="identity", dtype=self.dtype)
        self.w = self.net.init(rng)
        self.w_target = self.w.copy()
        self.opt = Adam(cfg.lr)
        if cfg.prioritized:
            self.buffer = PrioritizedReplayBuffer(cfg.buffer_size, (self.net.in_dim,), obs_dtype=self.dtype,
                                                  alpha=cfg.alpha, eps=cfg.priority_eps)
        else:
            self.buffer = ReplayBuffer(cfg.buffer_size, (self.net.in_dim,), obs_dtype=self.dtype)
        self.epsilon = linear_schedule(cfg.exploration_initial_eps, cfg.exploration_final_eps,
                                       cfg.exploration_fraction * cfg.total_steps)
        self.beta = linear_schedule(cfg.beta0, 1.0, cfg.total_steps)
        self.stats = EpisodeStats()
        self.env_steps = self.iteration = self.updates = 0
        obs, _ = env.reset()
        self.obs = self._flat(obs)

    def _flat(self, obs):
        return np.asarray(obs, dtype=self.dtype).reshape(len(obs), -1)

    # ---- acting ---------------------------------------------------------------

    def act(self, obs, greedy=True):
        """argmax_a Q_w(s, a) (greedy) or the current epsilon-greedy action, (N,) int64."""
        q = self.net(self.w, self._flat(obs))
        if greedy:
            return q.argmax(axis=1)
        return epsilon_greedy(q, self.epsilon(self.env_steps), self.rng)

    def _collect(self):
        """Step 1: one env step for every game, stored in the replay buffer."""
        n = self.env.num_envs
        if self.env_steps < self.cfg.learning_starts:
            actions = self.rng.integers(0, self.n_actions, size=n)
        else:
            actions = self.act(self.obs, greedy=False)
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        obs = self._flat(obs)
        next_obs = successor_observations(obs, info, self._flat)
        if self.cfg.reward_clip is not None:
            rewards = np.clip(rewards, -self.cfg.reward_clip, self.cfg.reward_clip)
        self.buffer.add(self.obs, actions, rewards, next_obs, terminated, truncated)
        self.stats.update(info, terminated, truncated)
        self.obs = obs
        self.env_steps += n

    # ---- learning -------------------------------------------------------------

    def _targets(self, batch):
        """Step 2, estimate: y (B,) from the target network (and the online one for Double DQN)."""
        next_q_target = self.net(self.w_target, batch.next_obs)
        if self.cfg.double_q:
            next_q_online = self.net(self.w, batch.next_obs)
            return double_q_target(batch.rewards, next_q_online, next_q_target, batch.terminated, self.cfg.gamma)
        return q_learning_target(batch.rewards, next_q_target, batch.terminated, self.cfg.gamma)

    def _gradient_step(self):
        """Step 2, update: one Adam step on one minibatch; returns the logged loss."""
        cfg = self.cfg
        if cfg.prioritized:
            batch = self.buffer.sample(cfg.batch_size, self.rng, beta=self.beta(self.env_steps))
        else:
            batch = self.buffer.sample(cfg.batch_size, self.rng)
        y = self._targets(batch)
        weights = batch.weights if cfg.prioritized else None
        loss, grad, td_errors = td_regression_grad(self.net, self.w, batch.obs, batch.actions, y, weights, cfg.loss)
        check_finite("DQN loss", loss, self.iteration)
        if cfg.max_grad_norm is not None:
            grad, _ = clip_grad_norm(grad, cfg.max_grad_norm)
        self.opt.step(self.w, grad)
        if cfg.prioritized:
            self.buffer.update_priorities(batch.indices, td_errors)
        self.updates += 1
        if self.updates % cfg.target_update_interval == 0:
            polyak_update(self.w_target, self.w, cfg.tau)
        return loss

    def step(self):
        """One iteration: collect train_freq env steps, then gradient_steps updates."""
        cfg = self.cfg
        for _ in range(-(-cfg.train_freq // self.env.num_envs)):
            self._collect()
        losses = []
        if self.env_steps >= cfg.learning_starts and len(self.buffer) >= cfg.batch_size:
            losses = [self._gradient_step() for _ in range(cfg.gradient_steps)]
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row(),
                "loss": float(np.mean(losses)) if losses else float("nan"),
                "epsilon": self.epsilon(self.env_steps), "updates": self.updates}

    # ---- checkpoints ------------------------------------------------------------

    def state_dict(self):
        return {
            "w": self.w.copy(), "w_target": self.w_target.copy(), "optimizer": self.opt.state_dict(),
            "replay": self.buffer.state_dict(), "updates": np.array(self.updates, dtype=np.int64),
            **run_state_dict(self, self.obs),
        }

    def load_state_dict(self, state):
        for name in ("w", "w_target"):
            load_vector(getattr(self, name), state[name], name)
        self.opt.load_state_dict(state["optimizer"])
        self.buffer.load_state_dict(state["replay"])
        self.updates = int(state["updates"])
        self.obs = load_run_state(self, state).astype(self.dtype)
