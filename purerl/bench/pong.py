"""Pong from pixels: sparse vs dense first layer on real difference frames, and training frames/s.

Two tables. (1) Karpathy's 6400-200-1 network, forward + backward on
difference frames recorded from PongDiff-v0 under random play, at batch
sizes 1 (choosing one action), 10 (one step of the replica's 10 games) and
a replica-sized update batch: purerl/sparse.py's gather/scatter against the
dense nn.MLP it reads (the same numbers; tests/test_sparse.py). (2) The
replica (`train reinforce-pong`) end to end: env frames simulated per second
of training (collect + update) and the time per update, over a few updates
from a fresh policy; the raw env's frames/s at the same batch for scale.
Runs under load measure the load: use --clock cpu with OPENBLAS_NUM_THREADS=1
on a shared machine.

With --runs RUN_DIR ..., it instead summarises finished (or running) Pong
runs from their metrics.csv: where the curve first exceeds each --thresholds
value (episodes, env steps, env frames = steps x frameskip, updates,
wall-clock), frames per second, and the
learning curve at --curve-episodes. The curve is the replica's running
reward (Karpathy's EMA) where the run logs one, else the mean return of the
last 100 episodes (PPO).
"""


import numpy as np

from purerl.bench import CLOCKS, format_timing, markdown_table, require_settings, time_call


ALE_MEAN_FRAMESKIP = 3.0  # ALE's Pong-v0 holds each action 2, 3 or 4 frames, uniformly at random


def add_arguments(parser):
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per measurement (default 5)")
    parser.add_argument("--update-batch", type=int, default=10_000,
                        help="frames in the update batch of table 1 (default 10,000)")
    parser.add_argument("--updates", type=int, default=3, help="replica updates timed in table 2 (default 3)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time")
    parser.add_argument("--runs", nargs="+", metavar="RUN_DIR", help="summarise these runs instead of timing")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[-10.0, 0.0],
                        help="curve values whose first crossing is reported (default -10 0)")
    parser.add_argument("--curve-episodes", type=int, nargs="+", default=[0, 500, 1000, 2000, 4000, 8000],
                        help="episode counts at which the curve is tabulated")


def recorded_frames(n, seed=0):
    """n difference frames (float64 (n, 6400)) from 10 PongDiff-v0 games under random UP/DOWN play."""
    import envs

    env = envs.make_vec("PongDiff-v0", 10, seed=seed)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset()
    frames = []
    while sum(len(f) for f in frames) < n:
        obs, *_ = env.step(rng.integers(1, 3, size=10))
        frames.append(obs.astype(np.float64))
    return np.concatenate(frames)[:n]


def layer_rows(args, clock):
    """Acting needs only the forward pass (batches 1 and 10); an update needs both (the update batch)."""
    from purerl.nn import MLP
    from purerl.sparse import SparseInputMLP, sparse_rows

    net = MLP((6400, 200, 1), hidden="relu", output="identity", bias=False)
    sparse = SparseInputMLP(net)
    theta = net.init(np.random.default_rng(0), scheme="normal", gain=1.0)
    frames = recorded_frames(args.update_batch)
    rows = []
    for batch, what in ((1, "forward"), (10, "forward"), (args.update_batch, "forward + backward")):
        x = frames[-batch:]
        gy = np.ones((batch, 1))

        def dense_call():
            y, cache = net.forward(theta, x)
            if what != "forward":
                net.backward(theta, cache, gy, input_grad=False)

        stored = sparse_rows(x)

        def sparse_call():
            if what == "forward":  # acting: compress the new frames, then the gather
                sparse.forward(theta, sparse_rows(x))
            else:  # an update: the batch's frames were stored compressed as they were played
                y, cache = sparse.forward(theta, stored)
                sparse.backward(theta, cache, gy)

        t_dense = time_call(dense_call, repeat=args.repeat, clock=clock)
        t_sparse = time_call(sparse_call, repeat=args.repeat, clock=clock)
        rows.append((batch, what, f"{stored.nnz / batch:.1f}", format_timing(t_dense),
                     format_timing(t_sparse), f"{t_dense.median / t_sparse.median:.0f}x"))
    return rows


def training_rows(args, clock):
    import envs
    from purerl.algos import pong_pg

    cfg = pong_pg.Config()
    learner = pong_pg.Learner(envs.make_vec("PongDiff-v0", cfg.num_envs, seed=0), cfg, np.random.default_rng(0))
    learner.step()  # compiles and warms up
    steps0, t0 = learner.env_steps, clock()
    used = 0
    for _ in range(args.updates):
        used += learner.step()["batch_steps"]
    seconds = clock() - t0
    env = envs.make_vec("PongDiff-v0", cfg.num_envs, seed=1)
    env.reset()
    actions = np.random.default_rng(0).integers(1, 3, size=(2000, cfg.num_envs))
    t1 = clock()
    for a in actions:
        env.step(a)
    env_rate = actions.size / (clock() - t1)
    frames = learner.env_steps - steps0
    return [(cfg.num_envs, args.updates, f"{frames:,}", f"{frames / seconds:,.0f}", f"{used / seconds:,.0f}",
             f"{seconds / args.updates:.2f} s", f"{env_rate:,.0f}")]


def run_curve(run_dir):
    """(info, metrics, curve name, curve values) of a run directory."""
    import os

    from purerl import runs
    from purerl.logger import read_metrics

    info = runs.read_config(run_dir)
    metrics = read_metrics(os.path.join(run_dir, runs.METRICS))
    name = "running_reward" if "running_reward" in metrics else "mean_return"
    return info, metrics, name, np.array(metrics[name])


def changed_settings(info):
    """The run's config fields that differ from its algorithm's defaults, as {name: value}.

    total_steps is left out: it is a budget, not a setting, and grows with
    every `train --resume --steps N`.
    """
    import json

    from purerl import configs
    from purerl.algos import registry

    defaults = json.loads(configs.config_to_json(registry.load(info["algo"]).Config()))
    return {k: v for k, v in (info.get("config") or {}).items() if k != "total_steps" and defaults.get(k) != v}


def run_label(info):
    """'ALGO on ENV (k=v, ...) [k=v, ...], seed S' from a run's config.json: env arguments, then changed settings."""
    kwargs = ", ".join(f"{k}={v}" for k, v in (info.get("env_kwargs") or {}).items())
    settings = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in changed_settings(info).items())
    return (f"{info['algo']} on {info['env']}{f' ({kwargs})' if kwargs else ''}"
            f"{f' [{settings}]' if settings else ''}, seed {info['seed']}")


def frameskip_of(info):
    """Frames per env step of a run's Pong (its `frameskip` env argument; 1 without one). On ALE's
    Pong-v0 (gym:purerl/ALEPongDiff-v0) without one, the expected number, 3, so its frame counts
    are expectations."""
    from purerl.algos.pong_pg import ALE_ENV

    kwargs = info.get("env_kwargs") or {}
    if "frameskip" not in kwargs and info.get("env") == ALE_ENV:
        return ALE_MEAN_FRAMESKIP
    return int(kwargs.get("frameskip", 1))


def crossing_rows(run_dirs, thresholds):
    """One row per run and threshold: the first iteration whose curve value exceeds it.

    Env steps are the agent's decisions (metrics.csv's env_steps); env frames
    are steps times the run's frameskip, the unit of Karpathy's and ALE's counts.
    """
    from purerl.logger import format_duration

    rows = []
    for d in run_dirs:
        info, m, name, curve = run_curve(d)
        label, skip = run_label(info), frameskip_of(info)
        rate = skip * m["env_steps"][-1] / m["wall_time"][-1]
        for thr in thresholds:
            hit = np.flatnonzero(curve > thr)
            i = hit[0] if hit.size else -1
            cells = (f"{m['episodes'][i]:,.0f}", f"{m['env_steps'][i]:,.0f}", f"{skip * m['env_steps'][i]:,.0f}",
                     f"{m['iteration'][i]:,.0f}", format_duration(m["wall_time"][i]))
            if not hit.size:  # where the run stopped, in brackets
                cells = tuple(f"({c})" for c in cells)
            value = f"{curve[i]:+.2f}" if hit.size else "not reached"
            rows.append((label, name, f"> {thr:g}", value, *cells, f"{rate:,.0f}"))
    return rows


def curve_rows(run_dirs, episode_counts):
    """(episodes, value) of each run's curve at the first iteration with at least that many episodes."""
    rows = []
    for d in run_dirs:
        info, m, name, curve = run_curve(d)
        episodes = np.array(m["episodes"])
        cells = []
        for k in episode_counts:
            at = np.flatnonzero(episodes >= max(k, 1))
            cells.append("-" if at.size == 0 else f"{curve[at[0]]:+.1f}")
        rows.append((run_label(info), name, *cells))
    return rows


def summarise_runs(args):
    print(markdown_table(("run", "curve", "threshold", "value", "episodes", "env steps", "env frames", "updates",
                          "wall-clock", "frames/s (whole run)"), crossing_rows(args.runs, args.thresholds)))
    print()
    print(markdown_table(("run", "curve", *(f"ep {k:,}" for k in args.curve_episodes)),
                         curve_rows(args.runs, args.curve_episodes)))


def check(args):
    """Clear errors for settings that cannot run (SystemExit: the command line prints them)."""
    import os

    missing = [d for d in args.runs or () if not os.path.isdir(d)]
    require_settings("pong", (
        ("--repeat", args.repeat, args.repeat >= 1, ">= 1"),
        ("--updates", args.updates, args.updates >= 1, ">= 1"),
        ("--update-batch", args.update_batch, args.update_batch >= 10, ">= 10 (table 1 also times batches of 1 and 10 from its frames)"),
        ("--runs", missing, not missing, "existing run directories"),
        ("--curve-episodes", args.curve_episodes, min(args.curve_episodes) >= 0, "counts >= 0")))


def main(args):
    check(args)
    if args.runs:
        return summarise_runs(args)
    clock = CLOCKS[args.clock]
    print(markdown_table(("batch", "timed", "nonzeros/frame", "dense nn.MLP", "sparse (purerl/sparse.py)",
                          "dense/sparse"), layer_rows(args, clock)))
    print()
    print(markdown_table(("games", "updates", "env frames", "frames/s (training)", "used frames/s",
                          "time/update", "env alone frames/s"), training_rows(args, clock)))
    print(f"\n(clock: {args.clock}; python -m purerl bench pong --repeat {args.repeat} "
          f"--update-batch {args.update_batch} --updates {args.updates} --clock {args.clock})")
