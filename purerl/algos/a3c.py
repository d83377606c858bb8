"""A3C: asynchronous advantage actor-critic, worker threads updating shared vectors.

CMU 10-403, Policy gradients, "Asynchronous Deep RL" (Mnih et al. 2016,
Algorithm S3) and "Distributed Asynchronous RL" ("No locking"; "each worker
may have slightly modified version of the policy/critic"). The global
parameters theta and phi are two flat vectors shared by num_workers threads.
Each worker owns its environment (num_envs games), rng and collector, and
repeats:

    1. synchronize:  theta' = theta, phi' = phi           (private copies)
    2. collect:      num_steps steps of its games with pi_theta'
    3. estimate:     R = estimators.nstep_returns(...) (n_step none: R <- r_i + gamma R
                     from R = V(s_t) at the segment's end, 0 after termination),
                     A_i = R - V(s_i; phi')
    4. accumulate:   d theta = sum_i grad log pi(a_i|s_i; theta') A_i + c_H grad H,
                     d phi = sum_i grad (R - V(s_i; phi'))^2  (a2c.actor_critic_gradients,
                     which averages instead of summing: the same direction, lr rescaled)
    5. update:       theta, phi <- one step of the SHARED optimizer (RMSProp with
                     shared statistics, the paper's best variant) on the shared
                     vectors, in place, without any lock.

Departure from Algorithm S3: a segment does not stop at a terminal state;
the vector env resets the game and the estimators restart the return there,
which gives the same targets.

Not bit-reproducible: which version of theta a worker copies in step 1, and
the order in which the workers' updates land in step 5 (and, with two
updates interleaving, whether one overwrites part of the other), depend on
how the operating system schedules the threads. Runs with the same seed
therefore differ (DETERMINISTIC = False excludes A3C from the bit-identical
resume test). With num_workers = 1 there is no asynchrony and A3C takes
exactly A2C's steps (a test checks this).

Threads and the GIL: the env kernels and optimizer kernels hold Python's
global interpreter lock, numpy's matrix products release it, so workers
overlap only partly; A3C here demonstrates the algorithm rather than a
speed-up (A2C batches the same work and is faster).

Defaults: Mnih et al.'s entropy weight 0.01 and shared RMSProp (decay 0.99),
with SB3's vf_coef 0.5 and max_grad_norm 0.5 and A2C's tuned learning rate
(3e-3, decaying linearly to 0 over total_steps = 200k); tuned for CartPole-v1
(README, "A3C"): 2 workers x 8 games x 16 steps per update (instead of the
paper's 1 game x 5 steps, which costs too much Python per env step) and
advantages standardized per segment (without it, the greedy policy after
200k steps fell below 475 in about 1 run of 6; with it, 0 of 10).
"""

import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np

from purerl.algos.a2c import actor_critic_gradients, make_optimizer
from purerl.algos.onpolicy import PolicyLearner, build_networks
from envs.vector import VecEnv
from purerl.algos.base import (RETURN_WINDOW, EpisodeStats, check_finite, config_field, load_rng_state, load_vector,
                               require, require_choice, require_nonnegative, require_positive, require_unit_interval,
                               rng_state_dict)
from purerl.backend import to_numpy
from purerl.schedules import decay
from purerl.rollout import RolloutCollector

DEFAULT_ENV = "CartPole-v1"
# bench learn (purerl/bench/learn.py): config overrides, step budget, solved criterion.
BENCH = {"config": {}, "steps": 200_000}
DETERMINISTIC = False
QUICK_CONFIG = {"total_steps": 1024, "num_workers": 2, "num_envs": 2, "num_steps": 8,
                "steps_per_iteration": 256, "hidden_sizes": (16,)}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(200_000, "env steps of the run, summed over all workers (the shared counter T)")
    num_workers: int = config_field(2, "actor-learner threads, each with its own env and rng")
    num_envs: int = config_field(8, "games in each worker's env")
    num_steps: int = config_field(16, "t_max: steps per game between a worker's updates")
    steps_per_iteration: int = config_field(4096, "env steps (all workers) between two logged rows")
    n_step: int | None = config_field(None, "lookahead n of the n-step return; none: to the segment's end")
    gamma: float = config_field(0.99, "discount gamma in R <- r_i + gamma R")
    lr: float = config_field(3e-3, "step size alpha of the shared optimizers at T = 0")
    lr_schedule: Literal["constant", "linear"] = config_field("linear", "alpha constant, or linear to 0 at total_steps")
    optimizer: Literal["rmsprop", "adam"] = config_field("rmsprop", "shared RMSProp (decay 0.99, eps 1e-5) or Adam")
    ent_coef: float = config_field(0.01, "c_H: weight of the entropy bonus H(pi(.|s_i; theta'))")
    vf_coef: float = config_field(0.5, "c_V: weight of the critic loss (R - V(s_i; phi'))^2")
    max_grad_norm: float | None = config_field(0.5, "clip ||d theta||_2 and ||d phi||_2 to this; none: no clipping")
    normalize_advantages: bool = config_field(True, "standardize A_i over each worker's segment")
    hidden_sizes: tuple[int, ...] = config_field((64, 64), "widths of the tanh hidden layers of pi_theta and V_phi")
    dtype: Literal["float32", "float64"] = config_field("float64", "floating type of theta, phi and the batches")

    def validate(self):
        for name in ("total_steps", "num_workers", "num_envs", "num_steps", "steps_per_iteration", "lr"):
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


class SharedStats(EpisodeStats):
    """EpisodeStats that several worker threads update (one lock around each update)."""

    def __init__(self, window=RETURN_WINDOW):
        super().__init__(window)
        self._lock = threading.Lock()

    def update(self, info, terminated, truncated):
        with self._lock:
            super().update(info, terminated, truncated)


class Worker:
    """One actor-learner thread's own things: env, rng, collector, env-step count."""

    def __init__(self, env, policy, value_fn, rng, stats):
        self.env, self.rng = env, rng
        self.collector = RolloutCollector(env, policy, rng, stats, value_fn)
        self.collector.reset()
        self.steps = 0
        self.metrics = []
        self.error = None


class Learner(PolicyLearner):
    """A3C with num_workers threads (module docstring). Discrete or Box actions."""

    def __init__(self, env, cfg, rng):
        cfg.validate()
        if cfg.num_workers > 1 and not hasattr(env, "sim"):
            raise ValueError(f"A3C builds one env per worker from a purerl vector env; got {env!r}")
        self.env, self.cfg, self.rng = env, cfg, rng
        self.policy, self.value_fn, _, self.theta, self.phi = build_networks(env, cfg.hidden_sizes, cfg.dtype, rng)
        # The shared optimizers: one set of statistics for all workers (Mnih et al.'s shared RMSProp).
        self.actor_opt = make_optimizer(cfg.optimizer, cfg.lr, maximize=True)
        self.critic_opt = make_optimizer(cfg.optimizer, cfg.lr, maximize=False)
        self.lr = decay(cfg.lr_schedule, cfg.lr, cfg.total_steps)
        self.stats = SharedStats()
        # Worker 0 plays the given env with the learner's rng (so one worker is exactly A2C);
        # the others get fresh envs of the same simulator and generators spawned from rng.
        self.workers = [Worker(env, self.policy, self.value_fn, rng, self.stats)]
        for child in rng.spawn(cfg.num_workers - 1):
            worker_env = VecEnv(env.sim, cfg.num_envs)
            worker_env.seed(int(child.integers(2**31)))
            self.workers.append(Worker(worker_env, self.policy, self.value_fn, child, self.stats))
        self.env_steps = self.iteration = 0

    def _shared_steps(self):
        """T, the global step counter: the sum of the workers' own counts (no lock needed)."""
        return sum(w.steps for w in self.workers)

    def _run_worker(self, worker, target):
        """Algorithm S3 for one thread, until T reaches target."""
        cfg = self.cfg
        try:
            while self._shared_steps() < target:
                # 1. synchronize the thread-specific parameters
                theta_w, phi_w = self.theta.copy(), self.phi.copy()
                lr = self.lr(self._shared_steps())
                # 2. collect t_max steps of this worker's games
                rollout = worker.collector.collect(theta_w, cfg.num_steps, phi_w)
                worker.steps += rollout.env_steps
                # 3-4. estimate returns and advantages; accumulate d theta, d phi
                g_theta, g_phi, metrics = actor_critic_gradients(self.policy, self.value_fn, theta_w, phi_w,
                                                                 rollout, cfg)
                check_finite("A3C losses", [metrics["policy_loss"], metrics["value_loss"]], self.iteration)
                # 5. asynchronous update of the shared vectors, no lock
                self.actor_opt.lr = self.critic_opt.lr = lr
                self.actor_opt.step(self.theta, g_theta)
                self.critic_opt.step(self.phi, g_phi)
                worker.metrics.append(metrics)
        except BaseException as err:  # re-raised by step() in the main thread
            worker.error = err

    def step(self):
        """Run the workers until T has grown by steps_per_iteration; log one row."""
        target = min(self._shared_steps() + self.cfg.steps_per_iteration, self.cfg.total_steps)
        target = max(target, self._shared_steps() + 1)
        if len(self.workers) == 1:
            self._run_worker(self.workers[0], target)
        else:
            threads = [threading.Thread(target=self._run_worker, args=(w, target), daemon=True)
                       for w in self.workers]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        for w in self.workers:
            if w.error is not None:
                err, w.error = w.error, None
                raise err
        check_finite("A3C parameters", to_numpy(self.theta), self.iteration)
        check_finite("A3C value parameters", to_numpy(self.phi), self.iteration)
        metrics = [m for w in self.workers for m in w.metrics]
        for w in self.workers:
            w.metrics = []
        self.env_steps = self._shared_steps()
        self.iteration += 1
        row = {"env_steps": self.env_steps, **self.stats.row(), "updates": len(metrics),
               "lr": self.lr(self.env_steps)}
        for key in ("policy_loss", "value_loss", "entropy", "grad_norm", "vf_grad_norm"):
            row[key] = float(np.mean([m[key] for m in metrics])) if metrics else float("nan")
        return row

    def state_dict(self):
        """Everything needed to continue (not bit-identically: see the module docstring)."""
        return {
            "theta": to_numpy(self.theta).copy(), "phi": to_numpy(self.phi).copy(),
            "actor_opt": self.actor_opt.state_dict(), "critic_opt": self.critic_opt.state_dict(),
            "stats": self.stats.state_dict(),
            "counters": np.array([self.env_steps, self.iteration], dtype=np.int64),
            "workers": {str(i): {"rng": rng_state_dict(w.rng), "env": w.env.get_state(),
                                 "obs": np.array(w.collector.obs), "steps": np.array(w.steps, dtype=np.int64)}
                        for i, w in enumerate(self.workers)},
        }

    def load_state_dict(self, state):
        load_vector(self.theta, state["theta"], "theta")
        load_vector(self.phi, state["phi"], "phi")
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.stats.load_state_dict(state["stats"])
        self.env_steps, self.iteration = (int(v) for v in state["counters"])
        saved = state["workers"]
        if len(saved) != len(self.workers):
            raise ValueError(f"checkpoint has {len(saved)} workers; this learner has {len(self.workers)}")
        for i, w in enumerate(self.workers):
            load_rng_state(w.rng, saved[str(i)]["rng"])
            w.env.set_state(saved[str(i)]["env"])
            w.collector.obs = np.array(saved[str(i)]["obs"])
            w.steps = int(saved[str(i)]["steps"])
