"""A2C: synchronous advantage actor-critic with n-step bootstrapped returns.

CMU 10-403, Policy gradients, "Actor-Critic" and "Distributed Synchronous
RL" (A2C): the actor pi_theta follows an approximate policy gradient in which
a critic V_phi replaces the Monte Carlo return by a bootstrapped estimate

    Q_hat(s_t, a_t) = r_t + gamma r_{t+1} + ... + gamma^{n-1} r_{t+n-1} + gamma^n V_phi(s_{t+n})

(the k-step lookahead of the slides). One iteration (`Learner.step`), the
loop of A3C's Algorithm S3 run by all games in lock step:

    1. collect:  num_steps steps of each of num_envs games with pi_theta,
                 storing V_phi(s_t) and the value of the state after each step
                 (V(final_obs) at a time limit, 0 at termination);
    2. estimate: returns R_t = estimators.nstep_returns(...) with lookahead n
                 (n = None: up to the end of the rollout, A3C's R <- r_i + gamma R,
                 estimators.discounted_returns bootstrapped at the cut);
                 advantages A_hat_t = R_t - V_phi(s_t);
    3. update:   theta ascends (1/B) sum_t [A_hat_t log pi_theta(a_t|s_t) + c_H H(pi_theta(.|s_t))],
                 phi descends c_V (1/B) sum_t (V_phi(s_t) - R_t)^2 (fitted_v.value_loss),
                 each gradient clipped to global norm max_grad_norm,
                 one RMSProp (or Adam) step each;
    4. log:      losses, entropy, gradient norm, episode returns.

Defaults start from Stable-Baselines3's A2C (RMSProp decay 0.99 and eps
1e-5, gamma 0.99, vf_coef 0.5, max_grad_norm 0.5, lr 7e-4, n_steps 5) with
rl-baselines3-zoo's CartPole-v1 choice of no entropy bonus, then tuned here
for a fast reliable solve (README, "A2C"): 16 games x 8 steps per batch,
lr 3e-3 decaying linearly to 0 over total_steps = 200k, the two networks'
gradients clipped separately. 10 of 10 seeds reach a greedy mean of 500.

Runs are bit-for-bit repeatable for a seed: every random draw comes from the
learner's rng and the env's own streams.
"""

from dataclasses import dataclass
from typing import Literal

from purerl.algos.base import (check_finite, config_field, load_run_state, load_vector, require, require_choice,
                               require_nonnegative, require_positive, require_unit_interval, run_state_dict)
from purerl.algos.fitted_v import value_loss
from purerl.algos.onpolicy import PolicyLearner, build_networks
from purerl.backend import get_xp, to_device, to_numpy
from purerl.baselines import standardize
from purerl.estimators import discounted_returns, nstep_returns
from purerl.optim import RMSProp, Adam, clip_grad_norm
from purerl.policies import entropy_regularized_policy_gradient
from purerl.schedules import decay

DEFAULT_ENV = "CartPole-v1"
# bench learn (purerl/bench/learn.py): config overrides, step budget, solved criterion.
BENCH = {"config": {}, "steps": 200_000}
QUICK_CONFIG = {"total_steps": 640, "num_envs": 4, "num_steps": 16, "hidden_sizes": (16,)}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(200_000, "env steps of the run, summed over games; the lr decays over it")
    num_envs: int = config_field(16, "games stepped in lock step (N); a batch is B = N * num_steps steps")
    num_steps: int = config_field(8, "steps per game per iteration (t_max of Algorithm S3)")
    n_step: int | None = config_field(None, "lookahead n of the n-step return; none: to the rollout's end")
    gamma: float = config_field(0.99, "discount gamma in R_t = r_t + gamma r_{t+1} + ... + gamma^n V(s_{t+n})")
    lr: float = config_field(3e-3, "step size alpha of both optimizers at step 0")
    lr_schedule: Literal["constant", "linear"] = config_field("linear", "alpha constant, or linear to 0 at total_steps")
    optimizer: Literal["rmsprop", "adam"] = config_field("rmsprop", "RMSProp (decay 0.99, eps 1e-5) or Adam")
    ent_coef: float = config_field(0.0, "c_H: weight of the entropy bonus H(pi_theta(.|s_t)) in the actor objective")
    vf_coef: float = config_field(0.5, "c_V: weight of the critic loss (V_phi(s_t) - R_t)^2")
    max_grad_norm: float | None = config_field(0.5, "clip ||g_theta||_2 and ||g_phi||_2 to this; none: no clipping")
    normalize_advantages: bool = config_field(False, "standardize A_hat over the batch before the actor step")
    hidden_sizes: tuple[int, ...] = config_field((64, 64), "widths of the tanh hidden layers of pi_theta and V_phi")
    dtype: Literal["float32", "float64"] = config_field("float64", "floating type of theta, phi and the batches")

    def validate(self):
        for name in ("total_steps", "num_envs", "num_steps", "lr"):
            require_positive(name, getattr(self, name))
        require(self.n_step is None or self.n_step >= 1, "n_step", self.n_step, "an integer >= 1 or none")
        require_unit_interval("gamma", self.gamma)
        for name in ("ent_coef", "vf_coef"):
            require_nonnegative(name, getattr(self, name))
        require(self.max_grad_norm is None or self.max_grad_norm > 0, "max_grad_norm", self.max_grad_norm,
                "a number > 0 or none")
        require(all(int(h) >= 1 for h in self.hidden_sizes), "hidden_sizes", self.hidden_sizes,
                "positive integers")
        require_choice("lr_schedule", self.lr_schedule, ("constant", "linear"))
        require_choice("optimizer", self.optimizer, ("rmsprop", "adam"))
        require_choice("dtype", self.dtype, ("float32", "float64"))


def make_optimizer(name, lr, maximize):
    """RMSProp with A3C's / SB3's settings (decay 0.99, eps 1e-5), or Adam."""
    if name == "rmsprop":
        return RMSProp(lr, decay=0.99, eps=1e-5, maximize=maximize)
    return Adam(lr, maximize=maximize)


def returns_and_advantages(rollout, gamma, n_step):
    """Step 2: the n-step returns R_t and advantages A_hat_t = R_t - V_phi(s_t), each (T, N).

    R_t = estimators.nstep_returns(..., n=n_step). n_step None means n = T:
    every step bootstraps from the value after the rollout's last step,
    A3C's R <- r_i + gamma R (CMU 10-403, Policy gradients, "Asynchronous
    Deep RL", Algorithm S3), which is estimators.discounted_returns with
    next_values (the same numbers as nstep_returns with n >= T, in one scan).
    """
    xp = get_xp(rollout.values)
    masks = (to_device(rollout.terminated, xp), to_device(rollout.truncated, xp))
    if n_step is None:
        returns = discounted_returns(rollout.rewards, *masks, gamma=gamma, next_values=rollout.next_values)
    else:
        returns = nstep_returns(rollout.rewards, rollout.next_values, *masks, gamma=gamma, n=n_step)
    returns = returns.astype(rollout.values.dtype, copy=False)
    return returns, returns - rollout.values


def actor_critic_gradients(policy, value_fn, theta, phi, rollout, cfg):
    """Steps 2-3 up to the optimizer: (g_theta ascent direction, g_phi descent direction, metrics).

        g_theta = (1/B) sum_t [A_hat_t grad log pi_theta(a_t|s_t) + c_H grad H(pi_theta(.|s_t))]
        g_phi   = c_V grad_phi (1/B) sum_t (V_phi(s_t) - R_t)^2

    each then clipped to global norm max_grad_norm. (SB3 clips the two
    together; with returns of order 1/(1 - gamma) the critic's gradient then
    dominates the norm and shrinks the actor's step whenever V_phi is off.) cfg needs gamma,
    n_step, ent_coef, vf_coef, max_grad_norm, normalize_advantages (A2C's and
    A3C's Config). Shared by A2C (one batch of N games) and A3C (each worker's
    own segment).
    """
    returns, advantages = returns_and_advantages(rollout, cfg.gamma, cfg.n_step)
    obs, actions = rollout.flat("obs"), rollout.flat("actions")
    flat_advantages = advantages.reshape(-1)
    if cfg.normalize_advantages:
        flat_advantages = standardize(flat_advantages)
    g_theta, dist = entropy_regularized_policy_gradient(policy, theta, obs, actions, flat_advantages,
                                                        cfg.ent_coef)
    v_loss, g_phi = value_loss(value_fn, phi, obs, returns.reshape(-1))
    g_phi *= cfg.vf_coef
    if cfg.max_grad_norm is None:
        xp = get_xp(theta)
        grad_norm, vf_grad_norm = float(xp.sqrt(g_theta @ g_theta)), float(xp.sqrt(g_phi @ g_phi))
    else:
        g_theta, grad_norm = clip_grad_norm(g_theta, cfg.max_grad_norm)
        g_phi, vf_grad_norm = clip_grad_norm(g_phi, cfg.max_grad_norm)
    metrics = {
        "policy_loss": -float((rollout.flat("log_probs") * flat_advantages).mean()),
        "value_loss": float(v_loss),
        "entropy": float(dist.entropy().mean()),
        "grad_norm": grad_norm,
        "vf_grad_norm": vf_grad_norm,
    }
    return g_theta, g_phi, metrics


class Learner(PolicyLearner):
    """A2C on a vector env (module docstring). Discrete or Box actions."""

    def __init__(self, env, cfg, rng):
        cfg.validate()
        self.env, self.cfg, self.rng = env, cfg, rng
        self.policy, self.value_fn, _, self.theta, self.phi = build_networks(env, cfg.hidden_sizes, cfg.dtype, rng)
        self.actor_opt = make_optimizer(cfg.optimizer, cfg.lr, maximize=True)
        self.critic_opt = make_optimizer(cfg.optimizer, cfg.lr, maximize=False)
        self.lr = decay(cfg.lr_schedule, cfg.lr, cfg.total_steps)
        self._start_collecting()

    def step(self):
        """One iteration: collect, estimate, update, log (module docstring)."""
        cfg = self.cfg
        # 1. collect
        rollout = self.collector.collect(self.theta, cfg.num_steps, self.phi)
        self.env_steps += rollout.env_steps
        # 2-3. estimate n-step returns and advantages; gradients of actor and critic
        g_theta, g_phi, metrics = actor_critic_gradients(self.policy, self.value_fn, self.theta, self.phi,
                                                         rollout, cfg)
        check_finite("A2C losses", [metrics["policy_loss"], metrics["value_loss"]], self.iteration)
        # 3. update: one optimizer step each, at the scheduled learning rate
        lr = self.lr(self.env_steps - rollout.env_steps)
        self.actor_opt.lr = self.critic_opt.lr = lr
        self.actor_opt.step(self.theta, g_theta)
        self.critic_opt.step(self.phi, g_phi)
        check_finite("A2C parameters", to_numpy(self.theta), self.iteration)
        check_finite("A2C value parameters", to_numpy(self.phi), self.iteration)
        # 4. log
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row(), **metrics, "lr": lr}

    def state_dict(self):
        return {
            "theta": to_numpy(self.theta).copy(), "phi": to_numpy(self.phi).copy(),
            "actor_opt": self.actor_opt.state_dict(), "critic_opt": self.critic_opt.state_dict(),
            **run_state_dict(self, self.collector.obs),
        }

    def load_state_dict(self, state):
        load_vector(self.theta, state["theta"], "theta")
        load_vector(self.phi, state["phi"], "phi")
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.collector.obs = load_run_state(self, state)
