"""TRPO and the natural policy gradient (NPG), with a fitted value function.

Handwritten notes "Policy Gradients / Q Learning" ("Policy Iteration" with a KL constraint,
"Fisher info matrix = 'Natural Gradient'", "Trust Region Policy Opt TRPO");
Stuttgart RL Lecture 10, "Natural Gradient Descent"; Schulman et al. 2015,
"Trust Region Policy Optimization". One iteration (`Learner.step`):

    1. collect:  num_steps steps of each of num_envs games with pi_theta_old,
                 with V_phi(s_t) and the bootstrap values (V(final_obs) at a
                 time limit, 0 at termination);
    2. estimate: GAE advantages A_hat_t and lambda-return targets R_t;
    3. update the policy:
         g = grad_theta L(theta_old), L(theta) = (1/B) sum_t ratio_t A_hat_t   (surrogates.surrogate)
         step = sqrt(2 delta / s^T F s) s,  s = (F + damping I)^{-1} g         (trust_region.natural_step,
                                                                                F v exact: fisher_vector_product)
         NPG:  theta <- theta_old + step
         TRPO: backtrack theta_old + 0.8^j step until L improves and
               mean KL(pi_old || pi_theta) <= delta; else keep theta_old      (trust_region.backtracking_line_search)
    4. fit V_phi: minibatch regression on R_t (fitted_v.fit_values, MC estimation);
    5. log.

The natural gradient needs no learning rate: delta (max_kl) sets the step.
Runs are bit-for-bit repeatable for a seed.
"""

from dataclasses import dataclass
from typing import Literal


from purerl.algos.base import (check_finite, config_field, load_run_state, load_vector, require, require_choice,
                               require_positive, require_unit_interval, run_state_dict)
from purerl.algos.fitted_v import fit_values
from purerl.algos.onpolicy import PolicyLearner, advantages_and_returns, build_networks
from purerl.baselines import standardize
from purerl.backend import to_numpy
from purerl.optim import Adam
from purerl.policies import eta_gradient, fisher_vector_product
from purerl.surrogates import mean_kl, surrogate
from purerl.trust_region import backtracking_line_search, natural_step

DEFAULT_ENV = "CartPole-v1"
QUICK_CONFIG = {"total_steps": 1024, "num_envs": 4, "num_steps": 32, "hidden_sizes": (16,), "vf_epochs": 2}
# bench learn (purerl/bench/learn.py): CartPole-v1 overrides and step budget.
BENCH = {"config": {}, "steps": 200_000}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(300_000, "env steps of the run, summed over games")
    num_envs: int = config_field(8, "games stepped in lock step (N); a batch is B = N * num_steps steps")
    num_steps: int = config_field(256, "steps per game per iteration (T)")
    gamma: float = config_field(0.99, "discount gamma of the returns and of GAE's delta_t")
    lam: float = config_field(0.97, "GAE lambda: A_hat_t = sum_k (gamma lam)^k delta_{t+k}")
    max_kl: float = config_field(0.01, "delta: trust region mean KL(pi_old || pi_theta) <= delta")
    line_search: bool = config_field(True, "TRPO's backtracking line search (false: the NPG step)")
    backtrack_ratio: float = config_field(0.8, "shrink factor of the step per rejected candidate")
    max_backtracks: int = config_field(10, "candidates tried before keeping theta_old")
    cg_iters: int = config_field(10, "conjugate-gradient iterations for s = (F + damping I)^{-1} g")
    cg_damping: float = config_field(0.1, "damping added to F (F v + damping v)")
    normalize_advantages: bool = config_field(True, "standardize A_hat over the batch before the step")
    vf_lr: float = config_field(1e-3, "Adam step size of the value regression")
    vf_epochs: int = config_field(5, "passes over the batch fitting V_phi per iteration")
    vf_batch_size: int = config_field(256, "minibatch size of the value regression")
    hidden_sizes: tuple[int, ...] = config_field((64, 64), "widths of the tanh hidden layers of pi_theta and V_phi")
    dtype: Literal["float32", "float64"] = config_field("float64", "floating type of theta, phi and the batches")

    def validate(self):
        for name in ("total_steps", "num_envs", "num_steps", "max_kl", "vf_lr", "vf_epochs",
                     "vf_batch_size", "cg_iters", "max_backtracks"):
            require_positive(name, getattr(self, name))
        require_unit_interval("gamma", self.gamma)
        require_unit_interval("lam", self.lam)
        require(0 < self.backtrack_ratio < 1, "backtrack_ratio", self.backtrack_ratio, "a number in (0, 1)")
        require(self.cg_damping >= 0, "cg_damping", self.cg_damping, "a number >= 0")
        require(all(int(h) >= 1 for h in self.hidden_sizes), "hidden_sizes", self.hidden_sizes,
                "positive integers")
        require_choice("dtype", self.dtype, ("float32", "float64"))


def policy_step(policy, theta, obs, actions, old_log_probs, advantages, cfg):
    """Step 3: one natural-gradient (NPG) or trust-region (TRPO) update of theta in place.

    obs (B, obs_dim), actions (B, ...), old_log_probs (B,) from collection,
    advantages (B,). Returns the metrics of the step.
    """
    theta_old = theta.copy()  # pi_old stays fixed while theta moves
    old_dist, cache = policy.distribution(theta_old, obs)
    surrogate_old, g_log_probs = surrogate(old_log_probs, old_log_probs, advantages)
    g = policy.backward(theta_old, cache, eta_gradient(old_dist, actions, g_log_probs))

    def fvp(v):
        return fisher_vector_product(policy, theta_old, cache, old_dist, v)

    nat = natural_step(fvp, g, cfg.max_kl, cfg.cg_iters, cfg.cg_damping)

    def evaluate(candidate):
        dist, _ = policy.distribution(candidate, obs)
        value, _ = surrogate(dist.log_prob(actions), old_log_probs, advantages)
        return value, mean_kl(old_dist, dist)

    metrics = {"step_size": nat.step_size, "expected_improvement": nat.expected_improvement,
               "cg_iterations": nat.cg.iterations, "cg_residual": nat.cg.residual_norm,
               "curvature_ok": float(nat.ok)}
    if not nat.ok:
        surrogate_new, kl, accepted, fraction = surrogate_old, 0.0, False, 0.0
    elif cfg.line_search:
        result = backtracking_line_search(evaluate, theta, nat.step, surrogate_old, cfg.max_kl,
                                          cfg.backtrack_ratio, cfg.max_backtracks)
        surrogate_new, kl, accepted, fraction = result.surrogate, result.kl, result.accepted, result.fraction
    else:
        theta += nat.step
        (surrogate_new, kl), accepted, fraction = evaluate(theta), True, 1.0
    metrics.update(surrogate_gain=surrogate_new - surrogate_old, kl=kl, accepted=float(accepted),
                   step_fraction=fraction, entropy=float(old_dist.entropy().mean()))
    return metrics


class Learner(PolicyLearner):
    """TRPO (line_search=True) or NPG (False) on a vector env; Discrete or Box actions."""

    name = "TRPO"

    def __init__(self, env, cfg, rng):
        cfg.validate()
        self.env, self.cfg, self.rng = env, cfg, rng
        self.policy, self.value_fn, self.params, self.theta, self.phi = build_networks(
            env, cfg.hidden_sizes, cfg.dtype, rng)
        self.vf_opt = Adam(cfg.vf_lr)
        self._start_collecting()

    def step(self):
        """One iteration: collect, estimate, update the policy, fit V_phi, log."""
        cfg = self.cfg
        # 1. collect
        rollout = self.collector.collect(self.theta, cfg.num_steps, self.phi)
        self.env_steps += rollout.env_steps
        # 2. estimate
        advantages, returns = advantages_and_returns(rollout, cfg.gamma, cfg.lam)
        obs, actions, log_probs = rollout.flat("obs"), rollout.flat("actions"), rollout.flat("log_probs")
        flat_advantages = advantages.reshape(-1)
        if cfg.normalize_advantages:
            flat_advantages = standardize(flat_advantages)
        # 3. policy: natural step, with TRPO's line search
        metrics = policy_step(self.policy, self.theta, obs, actions, log_probs, flat_advantages, cfg)
        check_finite(f"{self.name} parameters", to_numpy(self.theta), self.iteration)
        # 4. fit V_phi on the lambda-returns
        value_loss = fit_values(self.value_fn, self.phi, obs, returns.reshape(-1), self.vf_opt, self.rng,
                                epochs=cfg.vf_epochs, batch_size=cfg.vf_batch_size)
        check_finite(f"{self.name} value loss", value_loss, self.iteration)
        # 5. log
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row(), **metrics, "value_loss": value_loss}

    def state_dict(self):
        return {
            "params": to_numpy(self.params).copy(), "vf_opt": self.vf_opt.state_dict(),
            **run_state_dict(self, self.collector.obs),
        }

    def load_state_dict(self, state):
        load_vector(self.params, state["params"], "params")
        self.vf_opt.load_state_dict(state["vf_opt"])
        self.collector.obs = load_run_state(self, state)
