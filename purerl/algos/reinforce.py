"""REINFORCE: the "vanilla" policy gradient of CMU 10-403's Algorithm 1.

CMU 10-403, Policy gradients, "REINFORCE" (Algorithm 1), "Temporal
structure", "Baseline choices" and "Estimate V_pi(s_t)"; course notes
"Chapter 4" (4.3-4.4); handwritten notes "Policy Gradients / Q Learning",
"Baselines". One iteration (`Learner.step`):

    1. collect:  num_envs * episodes_per_env whole episodes with pi_theta
                 (RolloutCollector.collect_episodes: each game's first episodes,
                 so short episodes are not over-represented);
    2. estimate: the return weighting each score, by `return_type`:
                   "full"                    R(tau) at every step        (estimators.total_return)
                   "reward_to_go"            R_t = sum_{t'>=t} gamma^{t'-t} r_t'  (Algorithm 1; discounted_returns)
                   "discounted_reward_to_go" gamma^t R_t, unbiased for grad E[sum_t gamma^t r_t]
                                             (course notes eq. 4.3; estimators.reward_to_go)
                 minus the baseline b, by `baseline` (purerl/baselines.py):
                   "none" 0; "constant" the batch mean; "time" b_t, the mean at
                   episode step t; "optimal" b* = E[h . u] / E[|h|^2]
                   (variance-optimal constant); "value" V_phi(s_t) (times gamma^t
                   for the discounted variant), then
                 A_hat_t = return_t - b;
    3. re-fit the baseline (value only): phi by MC regression on R_t
                 (fitted_v.fit_values) or TD fitted-V iteration with the
                 proximal term (fitted_v.fitted_v_iteration), as value_fit says;
    4. update:   theta <- theta + alpha g_hat, g_hat = policy_gradient(...) with
                 weights A_hat_t (optionally standardized), one Adam step;
    5. log:      returns, losses, baseline statistics.

Truncated episodes (a time limit, CartPole-v1's 500 steps): with the value
baseline the return bootstraps from V_phi(final observation); without a value
function there is nothing to bootstrap from and the return counts only the
rewards inside the limit (the finite-horizon objective).

Gradient scale: policy_gradient averages over the B valid steps, which is
the notes' (1/N) sum_i sum_t ... divided by the mean episode length; Adam's
step does not depend on that constant.

Defaults (tuned here for CartPole-v1, README "REINFORCE"): reward-to-go with
the MC-fitted value baseline and standardized advantages; batches of 8 whole
episodes; Adam with lr 3e-3 for theta and 1e-3 for phi, the value fit 5
epochs of minibatches of 256. Spinning Up's VPG is the starting point (Adam,
separate policy and value learning rates, the value function re-fit on each
batch's rewards-to-go); solved in 150k env steps (5 of 5 seeds).
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from purerl.algos.onpolicy import PolicyLearner, build_networks
from purerl.algos.base import (check_finite, config_field, load_run_state, load_vector, require, require_choice,
                               require_nonnegative, require_positive, require_unit_interval, run_state_dict)
from purerl.algos.fitted_v import fit_values, fitted_v_iteration
from purerl.backend import get_xp, to_device, to_numpy
from purerl.baselines import constant_baseline, optimal_baseline_general, standardize, time_baseline
from purerl.estimators import discounted_returns, episode_steps, reward_to_go, total_return
from purerl.optim import Adam
from purerl.policies import eta_gradient, policy_gradient

DEFAULT_ENV = "CartPole-v1"
# bench learn (purerl/bench/learn.py): config overrides, step budget, solved criterion.
BENCH = {"config": {}, "steps": 150_000}
QUICK_CONFIG = {"total_steps": 800, "num_envs": 4, "episodes_per_env": 1, "hidden_sizes": (16,),
                "vf_epochs": 2, "vf_batch_size": 32}

RETURN_TYPES = ("full", "reward_to_go", "discounted_reward_to_go")
BASELINES = ("none", "constant", "time", "optimal", "value")


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(150_000, "env steps of the run (whole episodes, so it may overshoot)")
    num_envs: int = config_field(8, "games played in parallel")
    episodes_per_env: int = config_field(1, "episodes per game per iteration; the batch is M = num_envs * this")
    gamma: float = config_field(0.99, "discount gamma in R_t = sum_{t'>=t} gamma^{t'-t} r_t'")
    return_type: Literal["full", "reward_to_go", "discounted_reward_to_go"] = config_field(
        "reward_to_go", "weight of each score: R(tau), R_t, or gamma^t R_t")
    baseline: Literal["none", "constant", "time", "optimal", "value"] = config_field(
        "value", "b subtracted from the return: none, batch mean, per-step mean b_t, b*, or V_phi(s_t)")
    normalize_advantages: bool = config_field(True, "standardize A_hat over the batch (Karpathy's pg-pong)")
    lr: float = config_field(3e-3, "Adam step size alpha of theta")
    hidden_sizes: tuple[int, ...] = config_field((64, 64), "widths of the tanh hidden layers of pi_theta and V_phi")
    value_fit: Literal["mc", "td"] = config_field(
        "mc", "re-fit V_phi by MC regression on R_t, or TD fitted-V iteration with the proximal term")
    vf_lr: float = config_field(1e-3, "Adam step size of phi")
    vf_epochs: int = config_field(5, "passes over the batch per fit (per fitted-V iteration for td)")
    vf_batch_size: int = config_field(256, "minibatch size of the value regression")
    td_iterations: int = config_field(2, "fitted-V iterations i per policy iteration (value_fit=td)")
    prox_lam: float = config_field(0.0, "lam in (1/B) sum (V_phi(s) - y_i)^2 + lam ||phi - phi_i||^2 (value_fit=td)")
    dtype: Literal["float32", "float64"] = config_field("float64", "floating type of theta, phi and the batches")

    def validate(self):
        for name in ("total_steps", "num_envs", "episodes_per_env", "lr", "vf_lr", "vf_epochs", "vf_batch_size",
                     "td_iterations"):
            require_positive(name, getattr(self, name))
        require_unit_interval("gamma", self.gamma)
        require_nonnegative("prox_lam", self.prox_lam)
        require_choice("return_type", self.return_type, RETURN_TYPES)
        require_choice("baseline", self.baseline, BASELINES)
        require_choice("value_fit", self.value_fit, ("mc", "td"))
        require_choice("dtype", self.dtype, ("float32", "float64"))
        require(all(int(h) >= 1 for h in self.hidden_sizes), "hidden_sizes", self.hidden_sizes,
                "positive integers")
        require(self.baseline != "time" or self.return_type != "full", "baseline", self.baseline,
                "'time' needs return_type 'reward_to_go' or 'discounted_reward_to_go' (R(tau) has no per-step mean)")


# ---- step 2: returns and baselines ------------------------------------------------


def episode_returns(rollout, gamma, return_type, next_values):
    """The return weighting each score, (T, N), and the reward-to-go R_t that V_phi regresses on."""
    args = (rollout.rewards, rollout.terminated, rollout.truncated)
    R = discounted_returns(*args, gamma=gamma, next_values=next_values)
    if return_type == "full":
        return total_return(*args, gamma=gamma, next_values=next_values), R
    if return_type == "reward_to_go":
        return R, R
    return reward_to_go(*args, gamma=gamma, next_values=next_values), R


def discount_factors(rollout, gamma):
    """gamma^k_t, k_t the step's index in its episode (estimators.episode_steps), (T, N)."""
    return float(gamma) ** episode_steps(rollout.terminated, rollout.truncated)


def aligned_episodes(rollout):
    """Where each valid step sits when the M episodes are aligned at t = 0.

    Returns (k, e): the step's index in its episode and the episode's number
    in 0..M-1, each (B,) int64 over the valid steps in Rollout.flat order.
    """
    done = rollout.terminated | rollout.truncated
    k = episode_steps(rollout.terminated, rollout.truncated)
    within = np.cumsum(done, axis=0) - done  # episodes this game finished before the row
    per_game = np.max(np.where(rollout.valid, within + 1, 0), axis=0)  # valid episodes of each game
    offset = np.concatenate([[0], np.cumsum(per_game)[:-1]])
    e = within + offset[None, :]
    valid = rollout.valid.reshape(-1)
    return k.reshape(-1)[valid], e.reshape(-1)[valid]


def time_dependent_baseline(returns, k, e):
    """b at each valid step from baselines.time_baseline on the episodes aligned at t = 0.

    returns, k, e: (B,) over the valid steps. The aligned table is (K, M),
    K the longest episode; the mask marks the steps that exist.
    """
    xp = get_xp(returns)
    K, M = int(k.max()) + 1, int(e.max()) + 1
    table = xp.zeros((K, M), dtype=returns.dtype)
    mask = np.zeros((K, M), dtype=bool)
    table[to_device(k, xp), to_device(e, xp)] = returns
    mask[k, e] = True
    b_t = time_baseline(table, to_device(mask, xp))[:, 0]  # (K,): the mean over episodes alive at step t
    return b_t[to_device(k, xp)]


def per_episode_gradients(policy, theta, obs, actions, weights, e):
    """Rows sum_{t in episode i} weights_t grad log pi(a_t|s_t), (M, n_params).

    One forward pass for the batch; the per-sample chain rule in eta is
    policies.eta_gradient, and each episode's rows go through one backward pass.
    """
    xp = get_xp(theta)
    dist, cache = policy.distribution(theta, obs)
    g_eta = eta_gradient(dist, actions, weights)  # (B, ...) or a tuple of them (Gaussian)
    rows = []
    for i in range(int(e.max()) + 1):
        idx = to_device(np.flatnonzero(e == i), xp)
        g_i = tuple(g[idx] for g in g_eta) if isinstance(g_eta, tuple) else g_eta[idx]
        rows.append(policy.backward(theta, [c[idx] for c in cache], g_i))
    return xp.stack(rows)


def optimal_constant_baseline(policy, theta, obs, actions, returns, e):
    """b* = E[h . u] / E[|h|^2] for g_hat = sum_i (u_i - b h_i) (baselines.optimal_baseline_general).

    h_i = sum_t grad log pi(a_t|s_t) and u_i = sum_t grad log pi(a_t|s_t) return_t
    over episode i; for return_type "full" this is b* = E[|g|^2 R] / E[|g|^2]
    of the handwritten notes, "Baselines".
    """
    ones = get_xp(returns).ones_like(returns)
    h = per_episode_gradients(policy, theta, obs, actions, ones, e)
    u = per_episode_gradients(policy, theta, obs, actions, returns, e)
    return optimal_baseline_general(h, u)


# ---- the learner ----------------------------------------------------------------------


class Learner(PolicyLearner):
    """REINFORCE on a vector env (module docstring). Discrete or Box actions."""

    def __init__(self, env, cfg, rng):
        cfg.validate()
        self.env, self.cfg, self.rng = env, cfg, rng
        self.policy, self.value_fn, _, self.theta, self.phi = build_networks(env, cfg.hidden_sizes, cfg.dtype, rng)
        self.use_value = cfg.baseline == "value"
        if not self.use_value:
            self.value_fn = self.phi = None
        self.opt = Adam(cfg.lr, maximize=True)
        self.vf_opt = Adam(cfg.vf_lr)
        self._start_collecting(store_next_obs=self.use_value and cfg.value_fit == "td")

    def _flat_valid(self, x, rollout):
        """A (T, N) array as (B,) over the valid steps, on theta's device and in its dtype."""
        xp = get_xp(self.theta)
        x = to_device(x, xp).reshape(-1)[to_device(rollout.valid.reshape(-1), xp)]
        return x.astype(self.theta.dtype, copy=False)

    def _baseline(self, rollout, returns, obs, actions):
        """Step 2: b at each valid step (B,) (or a scalar), from the rule cfg.baseline names."""
        cfg = self.cfg
        if cfg.baseline == "none":
            return 0.0
        if cfg.baseline == "constant":
            return constant_baseline(returns)[0]
        if cfg.baseline == "value":
            values = rollout.flat("values")
            if cfg.return_type == "discounted_reward_to_go":
                values = values * self._flat_valid(discount_factors(rollout, cfg.gamma), rollout)
            return values
        k, e = aligned_episodes(rollout)
        if cfg.baseline == "time":
            return time_dependent_baseline(returns, k, e)
        return optimal_constant_baseline(self.policy, self.theta, obs, actions, returns, e)

    def _refit_value(self, rollout, reward_to_go):
        """Step 3: re-fit V_phi (Algorithm 1, "Re-fit the baseline"); returns the last loss."""
        cfg = self.cfg
        obs = rollout.flat("obs")
        fit = {"epochs": cfg.vf_epochs, "batch_size": cfg.vf_batch_size}
        if cfg.value_fit == "mc":
            return fit_values(self.value_fn, self.phi, obs, reward_to_go, self.vf_opt, self.rng, **fit)
        xp = get_xp(self.phi)
        term = to_device(rollout.flat("terminated"), xp)
        rewards = self._flat_valid(rollout.rewards, rollout)
        losses = fitted_v_iteration(self.value_fn, self.phi, obs, rewards, rollout.flat("next_obs"), term,
                                    self.vf_opt, self.rng, gamma=cfg.gamma, lam=cfg.prox_lam,
                                    iterations=cfg.td_iterations, **fit)
        return losses[-1]

    def step(self):
        """One iteration of Algorithm 1: collect, estimate, re-fit the baseline, update, log."""
        cfg = self.cfg
        # 1. collect whole episodes
        rollout = self.collector.collect_episodes(self.theta, cfg.episodes_per_env, self.phi)
        self.env_steps += rollout.env_steps
        xp = get_xp(self.theta)
        obs, actions = rollout.flat("obs"), rollout.flat("actions")
        valid = rollout.valid.reshape(-1)
        # 2. estimate returns, baseline and advantages
        next_values = rollout.next_values if self.use_value else np.zeros(rollout.rewards.shape)
        returns, reward_to_go = (self._flat_valid(x, rollout) for x in
                                 episode_returns(rollout, cfg.gamma, cfg.return_type, next_values))
        b = self._baseline(rollout, returns, obs, actions)
        advantages = returns - b
        # 3. re-fit the value baseline on this batch's returns
        value_loss = self._refit_value(rollout, reward_to_go) if self.use_value else float("nan")
        # 4. update the policy with g_hat
        if cfg.normalize_advantages:
            advantages = standardize(advantages)
        grad, dist = policy_gradient(self.policy, self.theta, obs, actions, advantages)
        check_finite("REINFORCE policy gradient", to_numpy(grad), self.iteration)
        self.opt.step(self.theta, grad)
        check_finite("REINFORCE parameters", to_numpy(self.theta), self.iteration)
        # 5. log
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row(),
                "batch_episodes": int(cfg.num_envs * cfg.episodes_per_env), "batch_steps": int(valid.sum()),
                "value_loss": value_loss, "entropy": float(dist.entropy().mean()),
                "grad_norm": float(xp.sqrt(grad @ grad)), "baseline_mean": float(xp.mean(xp.asarray(b)))}

    def state_dict(self):
        state = {
            "theta": to_numpy(self.theta).copy(), "optimizer": self.opt.state_dict(),
            **run_state_dict(self, self.collector.obs),
        }
        if self.use_value:
            state.update(phi=to_numpy(self.phi).copy(), vf_optimizer=self.vf_opt.state_dict())
        return state

    def load_state_dict(self, state):
        load_vector(self.theta, state["theta"], "theta")
        self.opt.load_state_dict(state["optimizer"])
        if self.use_value:
            load_vector(self.phi, state["phi"], "phi")
            self.vf_opt.load_state_dict(state["vf_optimizer"])
        self.collector.obs = load_run_state(self, state)
