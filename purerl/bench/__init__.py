"""Benchmarks: `python -m purerl bench {nn,envs,learn,...}`.

Speed is measured here, never asserted in a test. Every benchmark reports the
median and the min-max of several repeats, and ratios against baselines
measured in the same run (so the machine's mood cancels out).

Each benchmark is a module `purerl/bench/NAME.py` with a one-line module
docstring (its help text), `add_arguments(parser)` and `main(args)`, which
prints its table; `purerl.cli` finds it by name.
"""

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Seconds per call over `repeat` repeats of `number` calls each."""

    median: float
    min: float
    max: float
    repeat: int
    number: int


# --clock wall: elapsed time; --clock cpu: this process's CPU time, which other
# jobs on a shared machine inflate much less (but which adds up all threads).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def time_call(fn, repeat=7, number=None, min_seconds=0.2, warmup=1, clock=time.perf_counter):
    """Time `fn()`; return a Timing of seconds per call, by `clock` (a CLOCKS value).

    With number=None, the number of calls per repeat is chosen so one repeat
    takes at least `min_seconds` (as timeit's autorange does), so short calls
    are not dominated by the clock's resolution.
    """
    for _ in range(warmup):
        fn()
    if number is None:
        number = 1
        while True:
            t0 = clock()
            for _ in range(number):
                fn()
            if clock() - t0 >= min_seconds:
                break
            number *= 2
    per_call = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        per_call.append((clock() - t0) / number)
    per_call = np.array(per_call)
    return Timing(float(np.median(per_call)), float(per_call.min()), float(per_call.max()), repeat, number)


def add_timing_arguments(parser, repeat=7):
    """The flags every timing benchmark shares: --repeat and --min-seconds."""
    parser.add_argument("--repeat", type=int, default=repeat, help=f"timed repeats per measurement (default {repeat})")
    parser.add_argument("--min-seconds", type=float, default=0.2,
                        help="minimum duration of one repeat; calls per repeat grow to reach it (default 0.2)")


def timing_checks(args):
    """require_settings checks for the flags of add_timing_arguments."""
    return (("--repeat", args.repeat, args.repeat >= 1, ">= 1"),
            ("--min-seconds", args.min_seconds, args.min_seconds > 0, "> 0"))


def require_settings(bench, checks, env_settings=(), make_params=None):
    """Exit with one message naming every failed check, for the command line to print.

    checks: (flag, value, ok, accepted) tuples, e.g. ("--games", 0, False, ">= 1").
    env_settings: (flag, keyword, value) tuples, judged by the environment's
    own validation, each alone (make_params(**{keyword: value}) raises a
    ValueError naming the accepted range), so its ranges are written once, in
    the environment.
    make_params: the environment's parameter constructor; needed when
    env_settings is not empty.
    """
    bad = [f"{flag} must be {accepted}, got {value}" for flag, value, ok, accepted in checks if not ok]
    for flag, keyword, value in env_settings:
        try:
            make_params(**{keyword: value})
        except ValueError as err:
            bad.append(f"{flag}: {err}")
    if bad:
        raise SystemExit(f"bench {bench}: " + "; ".join(bad))


def format_seconds(seconds):
    """A duration in the unit that reads best: ns, us, ms or s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_timing(t):
    """`median (min-max)` of a Timing, each in its own best unit."""
    return f"{format_seconds(t.median)} ({format_seconds(t.min)}-{format_seconds(t.max)})"


def markdown_table(columns, rows):
    """Render rows (sequences of cells) under `columns` as a Markdown table."""
    cells = [[str(c) for c in columns]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
