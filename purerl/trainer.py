"""One training session of a run: step the learner, log, checkpoint, stop safely.

The loop is `purerl.algos.base.train` with a callback that, after every
iteration, appends the metrics row, updates the progress line, and saves a
checkpoint when one is due. It never loses the last good checkpoint:

- a checkpoint is written before the first iteration and then every
  `save_every` env steps or `save_minutes` minutes, and at the end;
- Ctrl-C (SIGINT) only sets a flag; the loop saves a checkpoint after the
  current iteration and stops, saying how to resume. A second Ctrl-C raises
  KeyboardInterrupt at once (the previous checkpoint stays intact, because
  checkpoints are written atomically);
- a NonFiniteError from the learner stops training without saving the
  broken state.

With `keep_best`, checkpoints/best.npz also holds the state with the highest
mean return of the last 100 episodes seen so far (see `BestKeeper`), so a run
whose policy later collapses still has its peak to evaluate.
"""

import math
import os
import shlex
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from purerl import checkpoint, configs, runs
from purerl.algos.base import RETURN_WINDOW, NonFiniteError, train
from purerl.logger import MetricsWriter, Progress

EXIT_INTERRUPTED = 130


class InterruptFlag:
    """SIGINT handler for the duration of a `with` block: first press sets
    `requested`, the second raises KeyboardInterrupt."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def handler(self, signum=signal.SIGINT, frame=None):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        # os.write, not print: a handler may run in the middle of a print().
        os.write(2, b"\nCtrl-C: saving a checkpoint after this iteration (press again to abort now)\n")

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self.handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


@dataclass
class Session:
    """A learner inside its run directory, and what its checkpoints record."""

    run_dir: str
    algo: str
    env: str
    seed: int
    cfg: object
    learner: object
    total_steps: int
    env_kwargs: dict = field(default_factory=dict)
    metrics_rows: int = 0
    wall_time: float = 0.0  # seconds spent in earlier sessions of this run


@dataclass
class Options:
    save_every: int = 0        # env steps between checkpoints; 0: a tenth of the run
    save_minutes: float = 10.0
    keep: int = 3              # periodic checkpoints kept
    pause_at: int = 0          # stop (resumably) once this many env steps are done; 0: never
    keep_best: bool = False    # also keep checkpoints/best.npz (BestKeeper)
    stream: object = None
    tty: object = None
    every_seconds: float = 30.0


def nan_entries(state):
    """Keys of the (flattened) state entries holding a NaN."""
    return {key for key, value in checkpoint.flatten(state).items()
            if value.dtype.kind in "fc" and np.isnan(value).any()}


def check_no_new_nan(state, allowed, iteration):
    """NonFiniteError naming a state entry that holds a NaN and is not in `allowed`.

    A guard behind the learners' own checks, so that a NaN never enters a
    checkpoint and pruning can never leave only broken ones. `allowed` holds
    the entries that already had NaNs when the session started: some games
    use NaN as a marker (Pendulum's "no torque yet" for its text render).
    """
    new = sorted(nan_entries(state) - allowed)
    if new:
        raise NonFiniteError(f"state entry {new[0]} (NaN, found when checkpointing)", iteration)


class BestKeeper:
    """When to write checkpoints/best.npz: the highest mean return so far.

    The score is the learner's `mean_return`, the mean of its last `window`
    episodes (the "return" of the progress line). It counts only once the
    window is full, so that a lucky first few episodes are not the best. A
    state is looked at after every iteration, but written at most once per
    `every` env steps: while a policy improves, nearly every iteration is a
    new best, and Pong's checkpoint is 20 MB. The best is remembered across
    resumes through the file's own meta["best_mean_return"].
    """

    def __init__(self, run_dir, every, window=RETURN_WINDOW):
        self.path = runs.best_checkpoint_path(run_dir)
        self.every, self.window = every, window
        self.value = recorded_best(self.path)
        self.saved_steps = -math.inf

    def due(self, env_steps, row):
        score = float(row.get("mean_return", math.nan))
        return (row.get("episodes", 0) >= self.window and score > self.value
                and env_steps - self.saved_steps >= self.every)

    def saved(self, env_steps, row):
        self.value, self.saved_steps = float(row["mean_return"]), env_steps


def recorded_best(path):
    """The mean return recorded in an existing best checkpoint; -inf if there is none."""
    if not os.path.exists(path):
        return -math.inf
    meta = checkpoint.load(path).meta
    if "best_mean_return" not in meta:
        raise checkpoint.CheckpointError(f"{path} records no best_mean_return: it was not written by --keep-best "
                                         f"(move it away to start a new best)")
    return float(meta["best_mean_return"])


def save(session, path, wall_time, nan_allowed=frozenset(), **extra_meta):
    learner = session.learner
    state = learner.state_dict()
    check_no_new_nan(state, nan_allowed, learner.iteration)
    meta = {
        "seed": session.seed, "env_kwargs": session.env_kwargs,
        "env_steps": int(learner.env_steps), "iteration": int(learner.iteration),
        "total_steps": session.total_steps, "metrics_rows": session.metrics_rows,
        "wall_time": wall_time, **extra_meta,
    }
    checkpoint.save(path, state, algo=session.algo, env=session.env,
                    config_json=configs.config_to_json(session.cfg), meta=meta)
    return path


def run(session, options):
    """Train until total_steps, an interrupt or pause_at. Returns (exit code, Progress)."""
    learner = session.learner
    metrics = MetricsWriter(os.path.join(session.run_dir, runs.METRICS), keep_rows=session.metrics_rows)
    progress = Progress(session.total_steps, start_steps=learner.env_steps, stream=options.stream,
                        tty=options.tty, every_seconds=options.every_seconds)
    save_every = options.save_every or max(session.total_steps // 10, 1)
    state = {"next_save": learner.env_steps + save_every, "saved_at": time.monotonic(),
             "last": None, "saved_steps": learner.env_steps, "stop": None}

    def wall():
        return session.wall_time + progress.elapsed()

    nan_allowed = nan_entries(learner.state_dict())
    best = BestKeeper(session.run_dir, max(save_every // 10, 1)) if options.keep_best else None

    def checkpoint_now():
        path = runs.checkpoint_path(session.run_dir, learner.env_steps)
        state["last"] = save(session, path, wall(), nan_allowed)
        runs.prune_checkpoints(session.run_dir, options.keep)
        state["saved_at"] = time.monotonic()
        state["saved_steps"] = learner.env_steps
        state["next_save"] = learner.env_steps + save_every

    def after_iteration(learner, row):
        metrics.write({"iteration": learner.iteration, "env_steps": learner.env_steps,
                       "wall_time": wall(), **row})
        session.metrics_rows = metrics.rows
        progress.update(learner.env_steps, int(row.get("episodes", 0)),
                        float(row.get("mean_return", math.nan)))
        if best is not None and best.due(learner.env_steps, row):
            save(session, best.path, wall(), nan_allowed, best_mean_return=float(row["mean_return"]))
            best.saved(learner.env_steps, row)
        if flag.requested:
            state["stop"] = "interrupt"
        elif options.pause_at and options.pause_at <= learner.env_steps < session.total_steps:
            # (an iteration that crosses both pause_at and the total has finished the run: no pause)
            state["stop"] = "pause"
        time_due = time.monotonic() - state["saved_at"] >= 60 * options.save_minutes
        if state["stop"] or learner.env_steps >= state["next_save"] or time_due:
            checkpoint_now()
        return state["stop"] is not None

    with InterruptFlag() as flag:
        try:
            if not runs.list_checkpoints(session.run_dir):
                checkpoint_now()  # a good checkpoint exists before the first update
            state["last"] = runs.latest_checkpoint(session.run_dir)
            train(learner, session.total_steps, callback=after_iteration)
        except NonFiniteError as err:
            progress.message(f"error: {err}")
            progress.message(f"the last good checkpoint is kept: {state['last']}")
            return 1, progress
        except KeyboardInterrupt:
            progress.message(f"aborted; the last checkpoint is {state['last']}")
            return EXIT_INTERRUPTED, progress
        except Exception:
            progress.message(f"training failed (traceback below); the last checkpoint is {state['last']}")
            raise
    if state["stop"] is not None:
        what = "interrupted" if state["stop"] == "interrupt" else "paused"
        progress.message(f"{what} at {learner.env_steps:,} env steps; checkpoint saved: {state['last']}")
        progress.message(f"resume with: python -m purerl train --resume {shlex.quote(session.run_dir)}")
        return (EXIT_INTERRUPTED if state["stop"] == "interrupt" else 0), progress
    if learner.env_steps > state["saved_steps"]:
        checkpoint_now()
    save(session, os.path.join(session.run_dir, runs.POLICY), wall(), nan_allowed)
    progress.finish()
    return 0, progress
