"""Learning speed: seeds solved, env steps and seconds to solve, env steps/s, vs Stable-Baselines3.

For each registered algorithm that declares a benchmark (below) and each
seed, one training run is timed from the first `step()` to the end of its
step budget (construction and numba compilation excluded: one short warm-up
run per algorithm comes first). When a run counts as *solved* depends on the
algorithm's declaration:

- "train_mean" (default): the mean return of the last 100 finished training
  episodes first reaches the threshold. This is how the on-policy learners
  are compared with SB3's PPO (issue 5's criterion).
- "greedy": every `eval_every` env steps the greedy policy plays 20 fresh
  episodes (purerl.evaluate, seeds 1000 + seed ...); solved when their mean
  reaches the threshold. The clock is paused during these evaluations, the
  measuring instrument. Off-policy learners train with exploration noise, so
  their training episodes understate the policy they have learned.

The table reports the fraction of seeds solved; the median env steps,
wall-clock seconds and process CPU seconds (time.process_time, which a busy
machine inflates much less than wall-clock) at that moment over the solved
seeds; and env steps per wall-clock second of training.

The benchmark convention: an algorithm module `purerl/algos/NAME.py` takes
part when it defines

    BENCH = {"config": {...Config overrides...}, "steps": N,
             "env": "CartPole-v1", "threshold": None, "solved_by": "train_mean", "eval_every": 1024}

where only "config" and "steps" are required; N is the step budget (it also
sets total_steps, so schedules end there); threshold None means the env
spec's reward_threshold (475 for CartPole-v1). `--algos NAME,...` may name
registered algorithms without BENCH; they run with their default Config on
CartPole-v1.

When stable_baselines3 is importable, SB3's PPO and DQN with the
rl-baselines3-zoo CartPole-v1 hyperparameters (`SB3_ZOO`; Gymnasium's
CartPole-v1, torch on one thread) run in the same invocation on the same
seeds, judged by the same criterion as purerl's learner of the same name, and
that learner's row gets the ratio SB3 / purerl of the median seconds to solve.
"""

import os
import time

import numpy as np

from purerl.bench import markdown_table, require_settings
from purerl.configs import parse_assignments

WINDOW = 100
EVAL_EPISODES = 20
CRITERIA = ("train_mean", "greedy")

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

COLUMNS = ("algorithm", "env", "solved when", "seeds solved", "median steps to solve", "median wall s",
           "median CPU s", "env steps/s", "budget", "SB3 / purerl (wall, CPU)")


def add_arguments(parser):
    parser.add_argument("--algos", default=None, metavar="A,B",
                        help="comma-separated algorithms (default: every registered one with a BENCH)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per algorithm (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="override every step budget")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set a config field of every benchmarked algorithm, over its BENCH settings "
                             "(repeatable; e.g. --algos dqn --set prioritized=true); the row names it")
    parser.add_argument("--no-sb3", action="store_true", help="skip Stable-Baselines3 even if importable")
    parser.add_argument("--sb3", default=None, metavar="A,B",
                        help="which SB3 zoo baselines to run when importable (default: those of ppo,dqn "
                             "among the algorithms benchmarked)")
    parser.add_argument("--stop-at-solve", action="store_true",
                        help="end each run when it is solved (env steps/s then covers the run up to there)")


def bench_spec(name):
    """The BENCH declaration of a registered algorithm, defaults filled in:
    (module, {"config", "steps", "env", "threshold", "solved_by", "eval_every"})."""
    import envs
    from purerl.algos import registry

    module = registry.load(name)
    declared = getattr(module, "BENCH", None) or {"config": {}, "steps": module.Config().total_steps}
    spec = {"env": "CartPole-v1", "threshold": None, "solved_by": "train_mean", "eval_every": 1024, **declared}
    spec["config"], spec["steps"] = dict(spec.get("config", {})), int(spec["steps"])
    if spec["threshold"] is None:
        spec["threshold"] = envs.make(spec["env"]).spec.reward_threshold
    if spec["threshold"] is None or spec["solved_by"] not in CRITERIA:
        raise ValueError(f"{name}: BENCH needs a threshold (its env has none) and solved_by in {CRITERIA}; "
                         f"got {declared!r}")
    return module, spec


def default_algorithms():
    from purerl.algos import registry

    return [n for n in registry.names() if getattr(registry.load(n), "BENCH", None) is not None]


class SolveClock:
    """Times a run and notes (env steps, wall s, CPU s) when it is first solved.

    `pause()` / `resume()` bracket evaluations, which are not the learner's time.
    """

    def __init__(self):
        self.wall = self.cpu = 0.0
        self.solved = (None, None, None)
        self.resume()

    def resume(self):
        self._t0, self._c0 = time.perf_counter(), time.process_time()

    def pause(self):
        self.wall += time.perf_counter() - self._t0
        self.cpu += time.process_time() - self._c0

    def elapsed(self):
        return self.wall + time.perf_counter() - self._t0, self.cpu + time.process_time() - self._c0

    def mark(self, env_steps):
        if self.solved[0] is None:
            self.solved = (env_steps, *self.elapsed())


def greedy_mean(act, env_name, seed):
    """Mean return of EVAL_EPISODES greedy episodes on fresh games seeded 1000 + seed, ..."""
    from purerl.evaluate import evaluate

    return float(evaluate(act, env_name, episodes=EVAL_EPISODES, seed=1000 + seed).mean())


def is_solved(spec, clock, act, mean_return, env_steps, next_eval, seed):
    """Check the run's criterion after an iteration; returns (solved now, next evaluation step)."""
    if spec["solved_by"] == "train_mean":
        return mean_return >= spec["threshold"], next_eval
    if env_steps < next_eval:
        return False, next_eval
    clock.pause()
    solved = greedy_mean(act, spec["env"], seed) >= spec["threshold"]
    clock.resume()
    return solved, env_steps + spec["eval_every"]


def run_purerl(module, spec, seed, steps=None, stop_at_solve=False):
    """One timed run: (env steps, wall s, CPU s at solve, or None each; env steps, wall s of the run)."""
    import envs

    steps = steps or spec["steps"]
    cfg = module.Config(**{**spec["config"], "total_steps": steps})
    env = envs.make_vec(spec["env"], getattr(cfg, "num_envs", 1), seed=seed)
    learner = module.Learner(env, cfg, np.random.default_rng(seed))
    clock, next_eval = SolveClock(), spec["eval_every"]
    while learner.env_steps < steps:
        row = learner.step()
        if clock.solved[0] is None:
            solved, next_eval = is_solved(spec, clock, learner.act, row["mean_return"], learner.env_steps,
                                          next_eval, seed)
            if solved:
                clock.mark(learner.env_steps)
                if stop_at_solve:
                    break
    return (*clock.solved, learner.env_steps, clock.elapsed()[0])


def _zoo_value(value):
    if isinstance(value, tuple) and value[0] == "lin":
        start = value[1]
        return lambda progress_remaining: progress_remaining * start
    return value


def run_sb3(algo, spec, seed, steps=None, stop_at_solve=False):
    """SB3 with the zoo settings, judged by `spec`'s criterion: the same five numbers as run_purerl."""
    import torch
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    zoo = SB3_ZOO[algo]
    steps = steps or zoo["n_timesteps"]
    env = make_vec_env(spec["env"], n_envs=zoo["n_envs"], seed=seed)
    kwargs = {k: _zoo_value(v) for k, v in zoo["kwargs"].items()}
    model = (PPO if algo == "ppo" else DQN)("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **kwargs)

    def act(obs, greedy=True):
        return model.predict(obs, deterministic=greedy)[0]

    class Solved(BaseCallback):
        def _on_training_start(self):
            self.clock, self.next_eval = SolveClock(), spec["eval_every"]

        def _on_step(self):
            if self.clock.solved[0] is not None or not any(self.locals.get("dones", [])):
                return True
            buffer = self.model.ep_info_buffer
            mean_return = np.mean([info["r"] for info in buffer]) if buffer else -np.inf
            solved, self.next_eval = is_solved(spec, self.clock, act, mean_return, self.model.num_timesteps,
                                               self.next_eval, seed)
            if solved:
                self.clock.mark(self.model.num_timesteps)
                return not stop_at_solve
            return True

    callback = Solved()
    model.learn(total_timesteps=steps, callback=callback)
    return (*callback.clock.solved, model.num_timesteps, callback.clock.elapsed()[0])


def summarize(name, spec, runs, budget):
    """A table row from a list of run_* results; also returns (median wall s, median CPU s) to solve."""
    solved = [r for r in runs if r[0] is not None]
    steps, wall, cpu = (np.median([r[i] for r in solved]) if solved else np.nan for i in range(3))
    rate = np.median([r[3] / r[4] for r in runs])
    when = (f"last-{WINDOW} mean >= {spec['threshold']:g}" if spec["solved_by"] == "train_mean"
            else f"greedy {EVAL_EPISODES}-ep mean >= {spec['threshold']:g}")
    row = [name, spec["env"], when, f"{len(solved)}/{len(runs)}", "-" if not solved else f"{steps:,.0f}",
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


def bench_algorithm(name, args):
    """Warm up, run every seed, print progress; returns (table row, spec, (wall, CPU) medians)."""
    module, spec = bench_spec(name)
    spec["config"].update(parse_assignments(module.Config, args.set, name))
    label = " ".join([name, *args.set])
    budget = args.steps or spec["steps"]
    quick = getattr(module, "QUICK_CONFIG", {})
    warmup = {**spec, "config": {**spec["config"], **quick}, "solved_by": "train_mean"}
    run_purerl(module, warmup, seed=0, steps=quick.get("total_steps", 1000))  # numba compilation
    runs = []
    for seed in range(args.seeds):
        runs.append(run_purerl(module, spec, seed, budget, args.stop_at_solve))
        _progress(label, seed, runs[-1])
    row, seconds = summarize(label, spec, runs, budget)
    return row, spec, seconds


def bench_sb3(algo, spec, args):
    import stable_baselines3

    if algo not in SB3_ZOO:
        raise ValueError(f"unknown SB3 baseline {algo!r}; accepted: {', '.join(SB3_ZOO)}")
    budget = args.steps or SB3_ZOO[algo]["n_timesteps"]
    runs = []
    for seed in range(args.seeds):
        runs.append(run_sb3(algo, spec, seed, budget, args.stop_at_solve))
        _progress(f"sb3-{algo}", seed, runs[-1])
    return summarize(f"SB3 {stable_baselines3.__version__} {algo} (zoo)", spec, runs, budget)


def sb3_algorithms(requested, names):
    """The SB3 baselines to run: those asked for, else the zoo's among the benchmarked algorithms."""
    if requested is None:
        return [a for a in SB3_ZOO if a in names]
    chosen = [a for a in requested.split(",") if a]
    unknown = [a for a in chosen if a not in SB3_ZOO]
    if unknown:
        raise SystemExit(f"--sb3: no SB3 zoo baseline for {', '.join(unknown)}; choose from {', '.join(SB3_ZOO)}")
    return chosen


def check(args, names):
    """Clear errors for settings that cannot run, before any run starts (SystemExit: the command line prints them)."""
    from purerl.algos import registry

    unknown = [n for n in names if n not in registry.names()]
    require_settings("learn", (
        ("--algos", unknown, not unknown, f"among {', '.join(registry.names())}"),
        ("--seeds", args.seeds, args.seeds >= 1, ">= 1"),
        ("--steps", args.steps, args.steps is None or args.steps >= 1, ">= 1")))
    sb3_algorithms(args.sb3, names)  # an unknown --sb3 name stops here, not after hours of runs
    for name in names:
        try:
            parse_assignments(registry.load(name).Config, args.set, name)
        except ValueError as err:
            raise SystemExit(f"bench learn: --set: {err}") from None


def main(args):
    names = args.algos.split(",") if args.algos else default_algorithms()
    check(args, names)
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("note: OPENBLAS_NUM_THREADS is not 1; numpy's BLAS threads may slow small networks on a busy machine")
    rows, specs, seconds = {}, {}, {}
    for name in names:
        rows[name], specs[name], seconds[name] = bench_algorithm(name, args)
    sb3_rows = []
    if not args.no_sb3 and sb3_available():
        for algo in sb3_algorithms(args.sb3, names):
            spec = specs.get(algo) or bench_spec(algo)[1]
            row, sb3_seconds = bench_sb3(algo, spec, args)
            sb3_rows.append(row)
            if algo in seconds and not np.isnan(seconds[algo][0] + sb3_seconds[0]):
                wall, cpu = (s / o for s, o in zip(sb3_seconds, seconds[algo]))
                rows[algo][-1] = f"{wall:.1f}, {cpu:.1f}"
    print(markdown_table(COLUMNS, list(rows.values()) + sb3_rows))
