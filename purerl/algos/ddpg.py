"""DDPG: Q-learning with continuous actions through a learned maximizer mu_theta.

("Stuttgart RL Lecture 10", 'Q-learning with continuous actions', option 3:
"learn an approximate maximizer", DDPG; Lillicrap et al. 2016, Algorithm 1;
Silver et al. 2014 for the deterministic policy gradient.) With continuous
actions max_a' Q_w(s', a') has no closed form, so a second network, the actor
mu_theta(s) ~ argmax_a Q_w(s, a), is trained to climb the critic. One
iteration (`Learner.step`) of the algorithm box:

    1. collect: train_freq env steps with a = clip(mu_theta(s) + N, low, high),
       N Gaussian or Ornstein-Uhlenbeck noise (purerl/noise.py); uniformly
       random actions before learning_starts. Store (s, a, r, s', terminated,
       truncated) in the replay buffer, s' = info["final_obs"] where a game
       just ended, so a time limit bootstraps and only termination stops;
    2. for each of gradient_steps minibatches of batch_size transitions:
       critic  y = r + gamma (1 - terminated) Q_w'(s', mu_theta'(s'))
               w <- Adam step on (1/B) sum_i (Q_w(s_i, a_i) - y_i)^2
       actor   theta <- Adam ascent step on J(theta) = (1/B) sum_i Q_w(s_i, mu_theta(s_i)),
               grad J = (1/B) sum_i (d mu_theta(s_i) / d theta)^T dQ_w(s_i, a)/da |a=mu_theta(s_i)
       targets w' <- tau w + (1 - tau) w',  theta' <- tau theta + (1 - tau) theta';
    3. log: both losses, J, episode returns.

The lecture's box writes the target with S_i and the critic step with
(q - y); the code follows Lillicrap et al.: s' in the target, descent on the
squared error. dQ/da is the action part of the critic's input gradient
(purerl.nn.MLP.backward's g_x), pushed back through the actor by the actor's
own backward pass: the chain rule dQ/dtheta = dQ/da da/dtheta of the lecture.

Networks: the actor is MLP(obs_dim, hidden..., act_dim) with ReLU hidden
layers and a tanh output u in (-1, 1)^D, scaled to the action box by
a = low + (u + 1) (high - low) / 2; the critic is MLP(obs_dim + act_dim,
hidden..., 1) on concat(s, a) with the action in env units.
Defaults start from rl-baselines3-zoo's tuned DDPG for Pendulum (gamma 0.98,
lr 1e-3, Gaussian noise 0.1 of the half-range) and Stable-Baselines3's
DDPG defaults (train_freq 1, gradient_steps 1, MSE critic loss, no
clipping), tuned for speed on Pendulum-v1: 64-64 networks instead of
400-300, batch 128 instead of 256, tau 0.05 instead of 0.005 and 1000
random warm-up steps instead of 10000 (README, "DDPG", has the measurements).
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from purerl import estimators
from purerl.algos.base import (EpisodeStats, check_finite, config_field, load_run_state, load_vector, require,
                               require_choice, require_positive, require_replay_sizes, require_unit_interval,
                               run_state_dict)
from purerl.algos.qlearning import polyak_update, td_regression_grad
from purerl.buffers import ReplayBuffer, successor_observations
from purerl.nn import MLP
from purerl.noise import NOISES, GaussianNoise, make_noise
from purerl.optim import Adam, clip_grad_norm

DEFAULT_ENV = "Pendulum-v1"
# bench learn (purerl/bench/learn.py): config overrides, step budget, solved criterion.
# The target: a greedy mean of -250 on Pendulum-v1 within 30k env steps.
BENCH = {"config": {}, "steps": 30_000, "env": "Pendulum-v1", "threshold": -250.0, "solved_by": "greedy",
         "eval_every": 500}
QUICK_CONFIG = {"total_steps": 400, "learning_starts": 100, "train_freq": 50, "gradient_steps": 8,
                "batch_size": 16, "hidden_sizes": (16, 16), "buffer_size": 300, "noise": "ou"}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(30_000, "env steps of the run")
    num_envs: int = config_field(1, "games played in parallel; each env step adds num_envs transitions")
    hidden_sizes: tuple[int, ...] = config_field((64, 64), "widths of the ReLU hidden layers of mu_theta and Q_w")
    dtype: Literal["float32", "float64"] = config_field("float32", "floating type of theta, w and the arithmetic")
    actor_lr: float = config_field(1e-3, "Adam step size of the actor's ascent on J(theta)")
    critic_lr: float = config_field(1e-3, "Adam step size of the critic's descent on the TD loss")
    buffer_size: int = config_field(200_000, "replay capacity in transitions (oldest dropped first)")
    learning_starts: int = config_field(1000, "env steps of uniformly random actions before the first update")
    batch_size: int = config_field(128, "transitions per minibatch (B)")
    gamma: float = config_field(0.98, "discount gamma in y = r + gamma (1 - terminated) Q_w'(s', mu_theta'(s'))")
    tau: float = config_field(0.05, "Polyak rate tau in w' <- tau w + (1 - tau) w' (and theta')")
    train_freq: int = config_field(1, "env steps collected per iteration (between update phases)")
    gradient_steps: int = config_field(1, "minibatch updates (critic, actor, targets) per iteration")
    noise: Literal["gaussian", "ou"] = config_field("gaussian", "exploration noise N: i.i.d. Gaussian or OU")
    noise_sigma: float = config_field(0.1, "sigma of N, in units of the action half-range (high - low) / 2")
    ou_theta: float = config_field(0.15, "OU mean-reversion rate in x += ou_theta (0 - x) dt + sigma sqrt(dt) z")
    ou_dt: float = config_field(1e-2, "OU time step dt")
    loss: Literal["mse", "huber"] = config_field("mse", "critic regression loss of Q_w(s, a) - y")
    max_grad_norm: float | None = config_field(None, "clip ||g||_2 of each actor and critic step (none: no clipping)")

    def validate(self):
        for name in ("total_steps", "num_envs", "actor_lr", "critic_lr", "buffer_size", "batch_size",
                     "train_freq", "gradient_steps", "ou_theta", "ou_dt"):
            require_positive(name, getattr(self, name))
        require(len(self.hidden_sizes) >= 1 and all(int(h) >= 1 for h in self.hidden_sizes),
                "hidden_sizes", self.hidden_sizes, "one or more positive integers")
        require_replay_sizes(self)
        require_unit_interval("gamma", self.gamma)
        require_unit_interval("tau", self.tau, open_low=True)
        require(np.isfinite(self.noise_sigma) and self.noise_sigma >= 0, "noise_sigma", self.noise_sigma,
                "a finite number >= 0")
        require(self.ou_theta * self.ou_dt < 2, "ou_theta", self.ou_theta,
                f"a number with ou_theta * ou_dt < 2 (ou_dt={self.ou_dt}), so the OU process is stationary")
        require_choice("noise", self.noise, NOISES)
        require_choice("loss", self.loss, ("mse", "huber"))
        require_choice("dtype", self.dtype, ("float32", "float64"))
        require(self.max_grad_norm is None or self.max_grad_norm > 0, "max_grad_norm", self.max_grad_norm,
                "a number > 0 or none")


# ---- the equations: pure functions of arrays and flat parameter vectors ------------


def scale_action(u, low, high):
    """a = low + (u + 1) (high - low) / 2: the tanh output u in (-1, 1)^D mapped onto [low, high]."""
    return low + (u + 1.0) * (0.5 * (high - low))


def critic_input(obs, actions):
    """x = concat(s, a), (B, obs_dim + act_dim): the critic Q_w(s, a) sees state and action."""
    return np.concatenate([obs, actions], axis=1)


def ddpg_targets(actor, critic, theta_target, w_target, rewards, next_obs, terminated, gamma, low, high):
    """y = r + gamma (1 - terminated) Q_w'(s', mu_theta'(s')), (B,).

    ("Stuttgart RL Lecture 10", 'Q-learning with continuous actions': "the new
    target is y_i = R_i + gamma q(S_i, mu_theta(S_i))", evaluated at the next
    state with the target networks, Lillicrap et al. 2016, Algorithm 1.)
    mu_theta' stands in for the argmax of Q-learning's target; next_obs is
    info["final_obs"] after a truncation, so the time limit bootstraps.
    """
    next_actions = scale_action(actor(theta_target, next_obs), low, high)
    next_q = critic(w_target, critic_input(next_obs, next_actions))[:, 0]
    return estimators.td_targets(rewards, next_q, terminated, gamma=gamma)


def critic_grad(critic, w, obs, actions, targets, loss="mse"):
    """(loss, g_w) of L(w) = (1/B) sum_i l(Q_w(s_i, a_i) - y_i), y fixed.

    The TD regression step shared with DQN (purerl.algos.qlearning.
    td_regression_grad); the critic has a single output, so the column of
    the "taken action" is 0 for every row.
    """
    zeros = np.zeros(obs.shape[0], dtype=np.int64)
    value, g_w, _ = td_regression_grad(critic, w, critic_input(obs, actions), zeros, targets, None, loss)
    return value, g_w


def deterministic_policy_gradient(actor, critic, theta, w, obs, low, high):
    """J(theta) = (1/B) sum_i Q_w(s_i, mu_theta(s_i)) and its gradient (n_theta,).

        grad_theta J = (1/B) sum_i (d mu_theta(s_i) / d theta)^T  dQ_w(s_i, a)/da |a = mu_theta(s_i)

    ("Stuttgart RL Lecture 10", 'Q-learning with continuous actions':
    dq/dtheta = dq/da da/dtheta; Silver et al. 2014, Theorem 1.) Three
    backward passes: the critic's with upstream 1/B gives g_x = dJ/dx for
    x = concat(s, a), whose last act_dim columns are dJ/da; the scaling
    a = low + (u + 1) (high - low) / 2 multiplies by (high - low) / 2; the
    actor's backward with that upstream gives grad_theta J. (The critic's own
    parameter gradient from the first pass is discarded: w is held fixed.)
    """
    u, actor_cache = actor.forward(theta, obs)  # (B, D) in (-1, 1)
    q, critic_cache = critic.forward(w, critic_input(obs, scale_action(u, low, high)))  # (B, 1)
    batch = obs.shape[0]
    _, g_x = critic.backward(w, critic_cache, np.full((batch, 1), 1.0 / batch, dtype=q.dtype))
    g_u = g_x[:, obs.shape[1]:] * (0.5 * (high - low))  # dJ/du, (B, D)
    g_theta, _ = actor.backward(theta, actor_cache, g_u, input_grad=False)
    return float(q.mean()), g_theta


# ---- the learner -----------------------------------------------------------------


class Learner:
    """DDPG on a vector env with a Box action space (module docstring)."""

    def __init__(self, env, cfg, rng):
        cfg.validate()
        space = env.single_action_space
        if hasattr(space, "n") or len(getattr(space, "shape", ())) != 1:
            raise ValueError(f"DDPG needs a 1-D Box action space (e.g. --env Pendulum-v1 or CartPoleContinuous-v1); "
                             f"{env.spec.id} has {space}")
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            raise ValueError(f"DDPG needs finite action bounds for its tanh actor; got {space}")
        self.env, self.cfg, self.rng = env, cfg, rng
        self.dtype = np.dtype(cfg.dtype)
        self.low = np.asarray(space.low, dtype=self.dtype)
        self.high = np.asarray(space.high, dtype=self.dtype)
        self.obs_dim = int(np.prod(env.single_observation_space.shape))
        act_dim = int(space.shape[0])
        self.actor = MLP((self.obs_dim, *cfg.hidden_sizes, act_dim), hidden="relu", output="tanh", dtype=self.dtype)
        self.critic = MLP((self.obs_dim + act_dim, *cfg.hidden_sizes, 1), hidden="relu", dtype=self.dtype)
        self.theta = self.actor.init(rng, out_gain=0.01)  # small out_gain: mu starts near the box's centre
        self.w = self.critic.init(rng)
        self.theta_target, self.w_target = self.theta.copy(), self.w.copy()
        self.actor_opt = Adam(cfg.actor_lr, maximize=True)  # ascent on J(theta)
        self.critic_opt = Adam(cfg.critic_lr)
        self.buffer = ReplayBuffer(cfg.buffer_size, (self.obs_dim,), (act_dim,),
                                   obs_dtype=self.dtype, action_dtype=self.dtype)
        self.noise = make_noise(cfg.noise, cfg.noise_sigma, (env.num_envs, act_dim), cfg.ou_theta, cfg.ou_dt)
        self.stats = EpisodeStats()
        self.env_steps = self.iteration = self.updates = 0
        obs, _ = env.reset()
        self.obs = self._flat(obs)

    def _flat(self, obs):
        return np.asarray(obs, dtype=self.dtype).reshape(len(obs), -1)

    def _to_env(self, actions):
        """Clip into the box (noise may leave it) and cast to the space's dtype."""
        return np.clip(actions, self.low, self.high).astype(self.env.single_action_space.dtype)

    # ---- acting ---------------------------------------------------------------

    def act(self, obs, greedy=True):
        """mu_theta(s) (greedy) or mu_theta(s) + Gaussian noise of noise_sigma, clipped; (N, D)."""
        mu = scale_action(self.actor(self.theta, self._flat(obs)), self.low, self.high)
        if greedy:
            return self._to_env(mu)
        noise = GaussianNoise(self.cfg.noise_sigma, mu.shape).sample(self.rng)
        return self._to_env(mu + noise * (0.5 * (self.high - self.low)))

    def _explore(self):
        """a = clip(mu_theta(s) + N_t, low, high), or uniform actions before learning_starts."""
        if self.env_steps < self.cfg.learning_starts:
            shape = (self.env.num_envs, self.low.shape[0])
            return self._to_env(self.rng.uniform(self.low, self.high, size=shape))
        mu = scale_action(self.actor(self.theta, self.obs), self.low, self.high)
        return self._to_env(mu + self.noise.sample(self.rng) * (0.5 * (self.high - self.low)))

    def _collect(self):
        """Step 1: one env step for every game, stored in the replay buffer."""
        actions = self._explore()
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        obs = self._flat(obs)
        next_obs = successor_observations(obs, info, self._flat)
        if info["_final_obs"].any():
            self.noise.reset(np.logical_or(terminated, truncated))
        self.buffer.add(self.obs, actions, rewards, next_obs, terminated, truncated)
        self.stats.update(info, terminated, truncated)
        self.obs = obs
        self.env_steps += self.env.num_envs

    # ---- learning -------------------------------------------------------------

    def _clip(self, grad):
        return grad if self.cfg.max_grad_norm is None else clip_grad_norm(grad, self.cfg.max_grad_norm)[0]

    def _gradient_step(self):
        """Step 2: critic descent, actor ascent, target averaging on one minibatch."""
        cfg = self.cfg
        batch = self.buffer.sample(cfg.batch_size, self.rng)
        y = ddpg_targets(self.actor, self.critic, self.theta_target, self.w_target, batch.rewards,
                         batch.next_obs, batch.terminated, cfg.gamma, self.low, self.high)
        critic_loss, g_w = critic_grad(self.critic, self.w, batch.obs, batch.actions, y, cfg.loss)
        check_finite("DDPG critic loss", critic_loss, self.iteration)
        self.critic_opt.step(self.w, self._clip(g_w))
        objective, g_theta = deterministic_policy_gradient(self.actor, self.critic, self.theta, self.w,
                                                           batch.obs, self.low, self.high)
        check_finite("DDPG actor objective", objective, self.iteration)
        self.actor_opt.step(self.theta, self._clip(g_theta))
        polyak_update(self.w_target, self.w, cfg.tau)
        polyak_update(self.theta_target, self.theta, cfg.tau)
        self.updates += 1
        return critic_loss, objective

    def step(self):
        """One iteration: collect train_freq env steps, then gradient_steps updates."""
        cfg = self.cfg
        for _ in range(-(-cfg.train_freq // self.env.num_envs)):
            self._collect()
        results = []
        if self.env_steps >= cfg.learning_starts and len(self.buffer) >= cfg.batch_size:
            results = [self._gradient_step() for _ in range(cfg.gradient_steps)]
        self.iteration += 1
        critic_loss, objective = np.mean(results, axis=0) if results else (np.nan, np.nan)
        return {"env_steps": self.env_steps, **self.stats.row(), "critic_loss": float(critic_loss),
                "actor_objective": float(objective), "updates": self.updates}

    # ---- checkpoints ------------------------------------------------------------

    _VECTORS = ("theta", "theta_target", "w", "w_target")

    def state_dict(self):
        state = {name: getattr(self, name).copy() for name in self._VECTORS}
        state.update({
            "actor_optimizer": self.actor_opt.state_dict(), "critic_optimizer": self.critic_opt.state_dict(),
            "replay": self.buffer.state_dict(), "updates": np.array(self.updates, dtype=np.int64),
            **run_state_dict(self, self.obs),
        })
        noise = self.noise.state_dict()
        if noise:  # Gaussian noise has no state, and an empty dict would not survive a checkpoint
            state["noise"] = noise
        return state

    def load_state_dict(self, state):
        for name in self._VECTORS:
            load_vector(getattr(self, name), state[name], name)
        self.actor_opt.load_state_dict(state["actor_optimizer"])
        self.critic_opt.load_state_dict(state["critic_optimizer"])
        self.buffer.load_state_dict(state["replay"])
        self.noise.load_state_dict(state.get("noise", {}))
        self.updates = int(state["updates"])
        self.obs = load_run_state(self, state).astype(self.dtype)
