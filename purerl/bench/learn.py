"""Learning speed on CartPole-v1: seeds solved, env steps and seconds to a 100-episode mean of 475, env steps/s.

For each registered algorithm that declares a benchmark (below) and each
seed, one training run on CartPole-v1 is timed from the first `step()` to the
end of its step budget (construction and numba compilation excluded: one
short warm-up run per algorithm comes first). A run is *solved* when the mean
return of its last 100 finished training episodes (fewer at the start:
EpisodeStats' window) first reaches 475, the solved threshold of CartPole-v1;
the table reports the fraction of seeds solved, the median env steps,
wall-clock seconds and CPU seconds of the process (time.process_time, which
a busy machine inflates much less than wall-clock) at that moment over the
solved seeds, and env steps per wall-clock second over the whole run.

The benchmark convention: an algorithm module `purerl/algos/NAME.py` takes
part when it defines

    BENCH = {"config": {...Config field overrides for CartPole-v1...}, "steps": N}

N being the run's step budget (it also sets total_steps, so schedules end
there). `--algos NAME,...` may name registered algorithms without BENCH;
they run with their default Config for their default total_steps.

When stable_baselines3 is importable, SB3's PPO and DQN with the
rl-baselines3-zoo CartPole-v1 hyperparameters (`SB3_ZOO` below; Gymnasium's
CartPole-v1, torch limited to one thread) run in the same invocation on the
same seeds, and the table adds the wall-clock ratio SB3 / purerl of the
median seconds to solve for ppo and dqn. Set OPENBLAS_NUM_THREADS=1 on a
shared or 2-core machine (README, "bench nn").
"""

import os
import time

import numpy as np

from purerl.bench import markdown_table

ENV = "CartPole-v1"
THRESHOLD = 475.0
WINDOW = 100

# rl-baselines3-zoo, hyperparams/ppo.yml and dqn.yml, "CartPole-v1" (lin_X: linear decay from X to 0).
SB3_ZOO = {
    "ppo": {"n_envs": 8, "n_timesteps": 100_000,
            "kwargs": {"n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98, "n_epochs": 20,
                       "ent_coef": 0.0, "learning_rate": ("lin", 1e-3), "clip_range": ("lin", 0.2)}},
    "dqn": {"n_envs": 1, "n_timesteps": 50_000,
            "kwargs": {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000,
                       "learning_starts": 1000, "gamma": 0.99, "target_update_interval": 10,
                       "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
                       "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]}}},
}

COLUMNS = ("algorithm", "seeds solved", "median steps to 475", "median wall s to 475",
           "median CPU s to 475", "env steps/s", "budget", "SB3 / purerl (wall, CPU)")


def add_arguments(parser):
    parser.add_argument("--algos", default=None, metavar="A,B",
                        help="comma-separated algorithms (default: every registered one with a BENCH)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per algorithm (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="override every step budget")
    parser.add_argument("--no-sb3", action="store_true", help="skip Stable-Baselines3 even if importable")
    parser.add_argument("--sb3", default="ppo,dqn", metavar="A,B",
                        help="which SB3 zoo baselines to run when importable (default ppo,dqn)")
    parser.add_argument("--stop-at-solve", action="store_true",
                        help="end each run when it is solved (env steps/s then covers the run up to there)")


def bench_spec(name):
    """(module, config overrides, step budget) of a registered algorithm."""
    from purerl.algos import registry

    module = registry.load(name)
    spec = getattr(module, "BENCH", None)
    if spec is None:
        return module, {}, module.Config().total_steps
    return module, dict(spec.get("config", {})), int(spec["steps"])


def default_algorithms():
    from purerl.algos import registry

    return [n for n in registry.names() if getattr(registry.load(n), "BENCH", None) is not None]


def run_purerl(module, overrides, steps, seed, stop_at_solve=False):
    """One timed run: (env steps, wall s, CPU s at solve, or None each; env steps, wall s of the run)."""
    import envs

    cfg = module.Config(**{**overrides, "total_steps": steps})
    learner = module.Learner(envs.make_vec(ENV, getattr(cfg, "num_envs", 1), seed=seed), cfg,
                             np.random.default_rng(seed))
    solved = (None, None, None)
    t0, c0 = time.perf_counter(), time.process_time()
    while learner.env_steps < steps:
        row = learner.step()
        if solved[0] is None and row["mean_return"] >= THRESHOLD:
            solved = (learner.env_steps, time.perf_counter() - t0, time.process_time() - c0)
            if stop_at_solve:
                break
    return (*solved, learner.env_steps, time.perf_counter() - t0)


def _zoo_value(value):
    if isinstance(value, tuple) and value[0] == "lin":
        start = value[1]
        return lambda progress_remaining: progress_remaining * start
    return value


def run_sb3(algo, seed, steps=None, stop_at_solve=False):
    """SB3 with the zoo settings: the same four numbers as run_purerl."""
    import torch
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    zoo = SB3_ZOO[algo]
    steps = steps or zoo["n_timesteps"]
    env = make_vec_env(ENV, n_envs=zoo["n_envs"], seed=seed)
    kwargs = {k: _zoo_value(v) for k, v in zoo["kwargs"].items()}
    model = (PPO if algo == "ppo" else DQN)("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **kwargs)

    class Solved(BaseCallback):
        def __init__(self):
            super().__init__()
            self.solved = (None, None, None)
            self.t0 = self.c0 = 0

        def _on_training_start(self):
            self.t0, self.c0 = time.perf_counter(), time.process_time()

        def _on_step(self):
            buffer = self.model.ep_info_buffer
            if self.solved[0] is None and buffer and any(self.locals.get("dones", [])):
                if np.mean([info["r"] for info in buffer]) >= THRESHOLD:
                    self.solved = (self.model.num_timesteps, time.perf_counter() - self.t0,
                                   time.process_time() - self.c0)
                    return not stop_at_solve
            return True

    callback = Solved()
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps, callback=callback)
    return (*callback.solved, model.num_timesteps, time.perf_counter() - t0)


def summarize(name, runs, budget):
    """A table row from a list of run_* results; also returns (median wall s, median CPU s) to solve."""
    solved = [r for r in runs if r[0] is not None]
    steps, wall, cpu = (np.median([r[i] for r in solved]) if solved else np.nan for i in range(3))
    rate = np.median([r[3] / r[4] for r in runs])
    row = [name, f"{len(solved)}/{len(runs)}", "-" if not solved else f"{steps:,.0f}",
           "-" if not solved else f"{wall:.2f}", "-" if not solved else f"{cpu:.2f}",
           f"{rate:,.0f}", f"{budget:,}", ""]
    return row, (wall, cpu)


def _progress(name, seed, run):
    at = "not solved" if run[0] is None else f"solved at {run[0]:,} steps, {run[1]:.2f} s wall, {run[2]:.2f} s CPU"
    print(f"  {name} seed {seed}: {at}; {run[3]:,} steps in {run[4]:.2f} s", flush=True)


def sb3_available():
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


def main(args):
    names = args.algos.split(",") if args.algos else default_algorithms()
    seeds = range(args.seeds)
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("note: OPENBLAS_NUM_THREADS is not 1; numpy's BLAS threads may slow small networks on a busy machine")
    rows, seconds = [], {}
    for name in names:
        module, overrides, budget = bench_spec(name)
        budget = args.steps or budget
        run_purerl(module, {**overrides, **getattr(module, "QUICK_CONFIG", {})},
                   getattr(module, "QUICK_CONFIG", {}).get("total_steps", 1000), seed=0)  # warm-up: numba
        runs = []
        for seed in seeds:
            runs.append(run_purerl(module, overrides, budget, seed, args.stop_at_solve))
            _progress(name, seed, runs[-1])
        row, seconds[name] = summarize(name, runs, budget)
        rows.append(row)
    if not args.no_sb3 and sb3_available():
        import stable_baselines3

        for algo in [a for a in args.sb3.split(",") if a]:
            if algo not in SB3_ZOO:
                raise ValueError(f"unknown SB3 baseline {algo!r}; accepted: {', '.join(SB3_ZOO)}")
            budget = args.steps or SB3_ZOO[algo]["n_timesteps"]
            runs = []
            for seed in seeds:
                runs.append(run_sb3(algo, seed, budget, args.stop_at_solve))
                _progress(f"sb3-{algo}", seed, runs[-1])
            row, sb3_seconds = summarize(f"SB3 {stable_baselines3.__version__} {algo} (zoo)", runs, budget)
            rows.append(row)
            for ours in rows:
                if ours[0] == algo and algo in seconds and not np.isnan(seconds[algo][0] + sb3_seconds[0]):
                    wall, cpu = (s / o for s, o in zip(sb3_seconds, seconds[algo]))
                    ours[-1] = f"{wall:.1f}, {cpu:.1f}"
    print(markdown_table(COLUMNS, rows))
