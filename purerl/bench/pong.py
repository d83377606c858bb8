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
"""

import time

import numpy as np

from purerl.bench import Timing, format_timing, markdown_table


def add_arguments(parser):
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per measurement (default 5)")
    parser.add_argument("--update-batch", type=int, default=10_000,
                        help="frames in the update batch of table 1 (default 10,000)")
    parser.add_argument("--updates", type=int, default=3, help="replica updates timed in table 2 (default 3)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time")


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


def timed(fn, clock, repeat, min_seconds=0.2):
    """Seconds per call of fn(): median, min, max over `repeat` repeats (bench.time_call, with a choice of clock)."""
    fn()
    number, spent = 1, 0.0
    while spent < min_seconds:
        t0 = clock()
        for _ in range(number):
            fn()
        spent = clock() - t0
        number *= 2 if spent < min_seconds else 1
    per_call = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        per_call.append((clock() - t0) / number)
    return Timing(float(np.median(per_call)), float(min(per_call)), float(max(per_call)), repeat, number)


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

        t_dense = timed(dense_call, clock, args.repeat)
        t_sparse = timed(sparse_call, clock, args.repeat)
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


def main(args):
    if args.repeat < 1 or args.updates < 1 or args.update_batch < 10:
        raise ValueError("need --repeat >= 1, --updates >= 1 and --update-batch >= 10")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(markdown_table(("batch", "timed", "nonzeros/frame", "dense nn.MLP", "sparse (purerl/sparse.py)",
                          "dense/sparse"), layer_rows(args, clock)))
    print()
    print(markdown_table(("games", "updates", "env frames", "frames/s (training)", "used frames/s",
                          "time/update", "env alone frames/s"), training_rows(args, clock)))
    print(f"\n(clock: {args.clock}; python -m purerl bench pong --repeat {args.repeat} "
          f"--update-batch {args.update_batch} --updates {args.updates} --clock {args.clock})")
