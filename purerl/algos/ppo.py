"""PPO: proximal policy optimization, clipped (PPO-Clip) or KL-penalised (PPO-Penalty).

Yamazaki, "Robot Perception and Control: Reinforcement Learning", "Proximal
Policy Optimization (PPO)" and its Algorithm 1 (PPO-Clip); handwritten notes
"Policy Gradients / Q Learning", "Proximal Policy Optimization PPO" ("use
regularization to stay close to old policy"); Schulman et al. 2017. One
iteration (`Learner.step`), the algorithm box:

    1. collect:  num_steps steps of each of num_envs games with pi_theta_k,
                 storing log pi_theta_k(a_t|s_t) and V_phi(s_t) (and the
                 bootstrap values at time limits);
    2. estimate: GAE advantages A_hat_t and lambda-return targets R_t
                 (Algorithm 1, steps 4-5);
    3. update:   `epochs` passes over random minibatches; on each, one Adam
                 step on the loss
                     - L_pi(theta) - c_H (1/B) sum_t H(pi_theta(.|s_t)) + c_V L_V(phi)
                 with L_pi the clip objective (surrogates.clip_objective) or
                 the KL-penalised one (surrogates.kl_penalty_objective), L_V
                 the squared error to R_t (optionally clipped,
                 surrogates.clipped_value_loss), the gradient of (theta, phi)
                 clipped to global norm max_grad_norm (Algorithm 1 steps 6-7,
                 with one optimizer for both networks as in Stable-Baselines3);
                 optional early stop when the estimated KL(pi_k || pi_theta)
                 exceeds 1.5 target_kl; PPO-Penalty then adapts beta
                 (surrogates.adapt_kl_coef);
    4. log.

The learning rate and epsilon decay linearly to 0 over total_steps.
Defaults are rl-baselines3-zoo's CartPole-v1 settings (8 games x 32 steps,
one minibatch of 256, 20 epochs, gamma 0.98, lambda 0.8, lr 1e-3 and
eps 0.2 both decaying linearly, no entropy bonus) with smaller float32
networks (32, 32), which learn CartPole-v1 as fast in env steps at a third
of the arithmetic (README, "PPO"). Runs are bit-for-bit repeatable for a seed.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from purerl.algos.base import (check_finite, config_field, load_run_state, load_vector, require, require_choice,
                               require_nonnegative, require_positive, require_unit_interval, run_state_dict)
from purerl.algos.onpolicy import PolicyLearner, advantages_and_returns, build_networks
from purerl.backend import get_xp, to_device, to_numpy
from purerl.baselines import standardize
from purerl.losses import mse
from purerl.optim import Adam, clip_grad_norm
from purerl.policies import eta_gradient
from purerl.schedules import decay
from purerl.surrogates import (adapt_kl_coef, approx_kl, clip_objective, clipped_value_loss,
                               kl_penalty_objective, mean_kl)

DEFAULT_ENV = "CartPole-v1"
QUICK_CONFIG = {"total_steps": 1024, "num_envs": 4, "num_steps": 32, "minibatch_size": 64, "epochs": 2,
                "hidden_sizes": (16,)}
# bench learn (purerl/bench/learn.py): CartPole-v1 overrides and step budget.
BENCH = {"config": {}, "steps": 100_000}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(100_000, "env steps of the run, summed over games; schedules end here")
    num_envs: int = config_field(8, "games stepped in lock step (N); a batch is B = N * num_steps steps")
    num_steps: int = config_field(32, "steps per game per iteration (T)")
    gamma: float = config_field(0.98, "discount gamma of the returns and of GAE's delta_t")
    lam: float = config_field(0.8, "GAE lambda: A_hat_t = sum_k (gamma lam)^k delta_{t+k}")
    loss: Literal["clip", "penalty"] = config_field(
        "clip", "PPO-Clip min(ratio A, clip(ratio, 1-eps, 1+eps) A), or PPO-Penalty ratio A - beta KL")
    clip_eps: float = config_field(0.2, "eps of clip(ratio, 1 - eps, 1 + eps) (at step 0 if annealed)")
    clip_schedule: Literal["constant", "linear"] = config_field("linear", "eps constant, or linear to 0")
    kl_coef: float = config_field(1.0, "PPO-Penalty: initial beta of - beta KL(pi_old || pi_theta)")
    kl_target: float = config_field(0.01, "PPO-Penalty: d_targ of the adaptive beta rule")
    epochs: int = config_field(20, "passes over the batch per iteration (K epochs)")
    minibatch_size: int = config_field(256, "samples per Adam step; must divide num_envs * num_steps")
    lr: float = config_field(1e-3, "Adam step size alpha at step 0")
    lr_schedule: Literal["constant", "linear"] = config_field("linear", "alpha constant, or linear to 0")
    ent_coef: float = config_field(0.0, "c_H: weight of the entropy bonus H(pi_theta(.|s_t))")
    vf_coef: float = config_field(0.5, "c_V: weight of the value loss (V_phi(s_t) - R_t)^2")
    vf_clip: float | None = config_field(None, "clip V_phi - V_old to [-c, c] in the value loss; none: off")
    max_grad_norm: float | None = config_field(0.5, "clip ||(g_theta, g_phi)||_2 to this; none: no clipping")
    normalize_advantages: bool = config_field(True, "standardize A_hat over each minibatch")
    target_kl: float | None = config_field(None, "stop the epochs once approx KL > 1.5 target_kl; none: off")
    hidden_sizes: tuple[int, ...] = config_field((32, 32), "widths of the tanh hidden layers of pi_theta and V_phi")
    dtype: Literal["float32", "float64"] = config_field("float32", "floating type of theta, phi and the batches")

    def validate(self):
        for name in ("total_steps", "num_envs", "num_steps", "epochs", "minibatch_size", "lr",
                     "clip_eps", "kl_target"):
            require_positive(name, getattr(self, name))
        require_unit_interval("gamma", self.gamma)
        require_unit_interval("lam", self.lam)
        for name in ("ent_coef", "vf_coef", "kl_coef"):
            require_nonnegative(name, getattr(self, name))
        batch = self.num_envs * self.num_steps
        require(batch % self.minibatch_size == 0, "minibatch_size", self.minibatch_size,
                f"a divisor of num_envs * num_steps = {batch}, e.g. {_nearest_divisor(batch, self.minibatch_size)}")
        for name in ("vf_clip", "max_grad_norm", "target_kl"):
            value = getattr(self, name)
            require(value is None or value > 0, name, value, "a number > 0 or none")
        require_choice("loss", self.loss, ("clip", "penalty"))
        require_choice("clip_schedule", self.clip_schedule, ("constant", "linear"))
        require_choice("lr_schedule", self.lr_schedule, ("constant", "linear"))
        require(all(int(h) >= 1 for h in self.hidden_sizes), "hidden_sizes", self.hidden_sizes,
                "positive integers")
        require_choice("dtype", self.dtype, ("float32", "float64"))


def _nearest_divisor(n, target):
    """The divisor of n closest to target (the smaller one on a tie)."""
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - target), d))


class Learner(PolicyLearner):
    """PPO-Clip or PPO-Penalty on a vector env (module docstring); Discrete or Box actions."""

    def __init__(self, env, cfg, rng):
        cfg.validate()
        self.env, self.cfg, self.rng = env, cfg, rng
        self.policy, self.value_fn, self.params, self.theta, self.phi = build_networks(
            env, cfg.hidden_sizes, cfg.dtype, rng)
        self.opt = Adam(cfg.lr, eps=1e-5)  # SB3's / CleanRL's Adam epsilon for PPO
        self.lr = decay(cfg.lr_schedule, cfg.lr, cfg.total_steps)
        self.clip_eps = decay(cfg.clip_schedule, cfg.clip_eps, cfg.total_steps)
        self.beta = float(cfg.kl_coef)
        self.grad = get_xp(self.params).zeros_like(self.params)
        self._start_collecting()

    def step(self):
        """One iteration: collect, estimate, update, log (module docstring)."""
        cfg = self.cfg
        progress = self.env_steps
        # 1. collect
        rollout = self.collector.collect(self.theta, cfg.num_steps, self.phi)
        self.env_steps += rollout.env_steps
        # 2. estimate
        advantages, returns = advantages_and_returns(rollout, cfg.gamma, cfg.lam)
        batch = {"obs": rollout.flat("obs"), "actions": rollout.flat("actions"),
                 "log_probs": rollout.flat("log_probs"), "advantages": advantages.reshape(-1),
                 "returns": returns.reshape(-1), "values": rollout.flat("values")}
        # 3. update
        self.opt.lr = self.lr(progress)
        clip_eps = self.clip_eps(progress)
        theta_old = self.theta.copy() if cfg.loss == "penalty" else None
        metrics = self.update(batch, clip_eps, theta_old)
        check_finite("PPO parameters", to_numpy(self.params), self.iteration)
        if cfg.loss == "penalty":
            old_dist, _ = self.policy.distribution(theta_old, batch["obs"])
            new_dist, _ = self.policy.distribution(self.theta, batch["obs"])
            metrics["kl"] = mean_kl(old_dist, new_dist)
            self.beta = adapt_kl_coef(self.beta, metrics["kl"], cfg.kl_target)
            metrics["beta"] = self.beta
        # 4. log
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row(), **metrics, "lr": self.opt.lr,
                "clip_eps": clip_eps}

    def update(self, batch, clip_eps, theta_old):
        """Step 3: the minibatch epochs; returns the last minibatch's metrics and the epochs run."""
        cfg = self.cfg
        size = batch["advantages"].shape[0]
        xp = get_xp(self.params)
        epochs_done, metrics = 0, {}
        whole = cfg.minibatch_size >= size  # one minibatch: the same batch every epoch, in order
        shuffled = self.normalized(batch) if whole else None
        for epoch in range(cfg.epochs):
            if not whole:  # one gather per array and epoch; minibatches are then views
                order = to_device(self.rng.permutation(size), xp)
                shuffled = self.normalized({k: v[order] for k, v in batch.items()})
            stop = False
            for start in range(0, size, cfg.minibatch_size):
                mb = {k: v[start:start + cfg.minibatch_size] for k, v in shuffled.items()}
                last = epoch == cfg.epochs - 1 and start + cfg.minibatch_size >= size
                metrics = self.minibatch_loss_gradient(mb, clip_eps, theta_old, metrics=last)
                if cfg.target_kl is not None and metrics["approx_kl"] > 1.5 * cfg.target_kl:
                    stop = True  # Stable-Baselines3's rule: this minibatch's step is not taken
                    break
                grad = self.grad
                if cfg.max_grad_norm is not None:
                    grad, metrics["grad_norm"] = clip_grad_norm(grad, cfg.max_grad_norm)
                self.opt.step(self.params, grad)
            if stop:
                break
            epochs_done += 1
        return {**metrics, "epochs": epochs_done}

    def normalized(self, batch):
        """batch with each minibatch's advantages standardized (one call for all minibatches).

        Consecutive slices of minibatch_size rows are the minibatches; with
        normalize_advantages each slice's A_hat is replaced by
        (A_hat - mean) / (std + 1e-8) over that slice (baselines.standardize).
        """
        if not self.cfg.normalize_advantages:
            return batch
        advantages = batch["advantages"]
        chunks = advantages.reshape(-1, min(self.cfg.minibatch_size, advantages.shape[0]))
        return {**batch, "advantages": standardize(chunks, axis=1).reshape(-1)}

    def minibatch_loss_gradient(self, mb, clip_eps, theta_old, metrics=True):
        """The loss of one minibatch and its gradient, written into self.grad = d loss / d (theta, phi).

        loss = -L_pi - c_H mean H + c_V L_V (module docstring, step 3). Returns
        the metrics (approx_kl always, the rest when `metrics`; they cost time).
        """
        cfg = self.cfg
        n = self.policy.n_params
        advantages = mb["advantages"]  # standardized per minibatch already (normalized)
        dist, cache = self.policy.distribution(self.theta, mb["obs"])
        log_probs = dist.log_prob(mb["actions"])
        old_dist, g_kl, clip_fraction = None, None, float("nan")
        if cfg.loss == "clip":
            objective, g_log_probs, clip_fraction = clip_objective(log_probs, mb["log_probs"], advantages,
                                                                   clip_eps)
        else:
            old_dist, _ = self.policy.distribution(theta_old, mb["obs"])
            objective, g_log_probs, g_kl = kl_penalty_objective(log_probs, mb["log_probs"], advantages,
                                                                old_dist.kl(dist), self.beta)
        g_entropy = None
        if cfg.ent_coef > 0:
            batch = advantages.shape[0]
            g_entropy = get_xp(advantages).full(batch, cfg.ent_coef / batch, dtype=advantages.dtype)
        g_eta = eta_gradient(dist, mb["actions"], g_log_probs, g_entropy, old_dist, g_kl)
        g_theta = self.grad[:n]
        g_theta[...] = self.policy.backward(self.theta, cache, g_eta)
        g_theta *= -1.0  # ascent on the objective is descent on the loss
        values, vcache = self.value_fn.forward(self.phi, mb["obs"])
        if cfg.vf_clip is None:
            value_loss, g_values = mse(values, mb["returns"])
        else:
            value_loss, g_values = clipped_value_loss(values, mb["values"], mb["returns"], cfg.vf_clip)
        g_values *= cfg.vf_coef
        self.grad[n:] = self.value_fn.backward(self.phi, vcache, g_values)
        out = {"approx_kl": approx_kl(log_probs, mb["log_probs"])} if cfg.target_kl is not None or metrics else {}
        if metrics:
            out.update(policy_objective=objective, value_loss=float(value_loss),
                       entropy=float(dist.entropy().mean()), clip_fraction=clip_fraction)
        return out

    def state_dict(self):
        return {
            "params": to_numpy(self.params).copy(), "opt": self.opt.state_dict(),
            "beta": np.array(self.beta, dtype=np.float64),
            **run_state_dict(self, self.collector.obs),
        }

    def load_state_dict(self, state):
        load_vector(self.params, state["params"], "params")
        self.opt.load_state_dict(state["opt"])
        self.beta = float(state["beta"])
        self.collector.obs = load_run_state(self, state)
