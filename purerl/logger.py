"""What training writes and prints: metrics.csv rows and the progress line.

metrics.csv has one row per iteration: `iteration`, `env_steps`, `wall_time`
(seconds since the run started, summed over resumed sessions), then the
learner's own metrics in the order it first reported them. Floats are written
with repr(), the shortest text that reads back to the same float64, so a
resumed run's file can be compared with a straight run's bit for bit.

The progress line is rewritten in place on a terminal and printed as plain
periodic lines otherwise (CI logs): at the first iteration, at every 10% of
the steps, and at least every `every_seconds`.
"""

import csv
import io
import math
import os
import sys
import time

from purerl.checkpoint import atomic_write_text

LEADING = ("iteration", "env_steps", "wall_time")


def _cell(value):
    if isinstance(value, (bool,)):
        return str(int(value))
    if isinstance(value, (int,)) or (hasattr(value, "dtype") and value.dtype.kind in "iub"):
        return str(int(value))
    return repr(float(value))


class MetricsWriter:
    """Append rows to metrics.csv; a new column rewrites the header (rare, not lossy).

    An existing file (a resumed run) is first cut back to its first
    `keep_rows` data rows, the ones written before the checkpoint resumed from.
    """

    def __init__(self, path, keep_rows=0):
        self.path = os.fspath(path)
        self.columns = []
        self.rows = 0
        if os.path.exists(self.path):
            self.columns, rows = read_rows(self.path)
            if len(rows) < keep_rows:
                raise ValueError(f"{self.path} has {len(rows)} rows; the checkpoint expects {keep_rows}")
            self._rewrite(rows[:keep_rows])

    def write(self, row):
        """Append one row (a dict of numbers); keys missing from it are left empty."""
        cells = {k: _cell(v) for k, v in row.items()}
        new = [k for k in cells if k not in self.columns]
        if new:
            columns = list(self.columns) + new
            ordered = [c for c in LEADING if c in columns]
            self.columns = ordered + [c for c in columns if c not in LEADING]
            _, rows = read_rows(self.path) if os.path.exists(self.path) else ([], [])
            self._rewrite(rows)
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([cells.get(c, "") for c in self.columns])
        self.rows += 1

    def _rewrite(self, rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in self.columns])
        atomic_write_text(self.path, buffer.getvalue())
        self.rows = len(rows)


def read_rows(path):
    """(columns, rows as dicts of strings) of a metrics.csv."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        columns = next(reader, [])
        rows = [dict(zip(columns, line)) for line in reader if line]
    return columns, rows


def read_metrics(path):
    """{column: list of floats (nan where empty)} of a metrics.csv."""
    columns, rows = read_rows(path)
    return {c: [float(r[c]) if r.get(c, "") != "" else math.nan for r in rows] for c in columns}


def format_duration(seconds):
    """0:07, 12:34, 1:02:03 (hours only when needed); '?' when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """The progress line: env steps, steps/s, episodes, mean return, elapsed, ETA.

    Rates and the ETA count only this session's steps (a resumed run does not
    claim the earlier session's speed).
    """

    def __init__(self, total_steps, start_steps=0, stream=None, tty=None, every_seconds=30.0,
                 clock=time.monotonic):
        self.stream = sys.stdout if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.total_steps = total_steps
        self.start_steps = start_steps
        self.every_seconds = every_seconds
        self.clock = clock
        self.t0 = clock()
        self.last_print = -math.inf
        self.last_decile = start_steps * 10 // max(total_steps, 1)
        self.printed_any = False
        self.in_place = False
        self.episodes, self.mean_return = 0, math.nan

    def line(self, env_steps, episodes, mean_return):
        elapsed = self.clock() - self.t0
        done = env_steps - self.start_steps
        rate = done / elapsed if elapsed > 0 else math.nan
        remaining = max(self.total_steps - env_steps, 0)
        eta = 0.0 if remaining == 0 else remaining / rate if rate > 0 else math.nan
        pct = min(100.0 * env_steps / max(self.total_steps, 1), 100.0)
        ret = "n/a" if math.isnan(mean_return) else f"{mean_return:.1f}"
        rate_text = "?" if math.isnan(rate) else f"{rate:,.0f}"
        return (f"steps {env_steps:,}/{self.total_steps:,} ({pct:.0f}%) | {rate_text} steps/s"
                f" | episodes {episodes:,} | return {ret}"
                f" | elapsed {format_duration(elapsed)} | eta {format_duration(eta)}")

    def update(self, env_steps, episodes, mean_return):
        """Show the state after an iteration (throttled)."""
        self.episodes, self.mean_return = episodes, mean_return
        now = self.clock()
        decile = env_steps * 10 // max(self.total_steps, 1)
        if self.tty:
            due = now - self.last_print >= 0.1 or env_steps >= self.total_steps
        else:
            due = (not self.printed_any or decile > self.last_decile
                   or now - self.last_print >= self.every_seconds)
        if not due:
            return
        text = self.line(env_steps, episodes, mean_return)
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
            self.in_place = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.last_print, self.last_decile, self.printed_any = now, decile, True

    def message(self, text):
        """Print a whole line without garbling the in-place progress line."""
        if self.in_place:
            self.stream.write("\n")
            self.in_place = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self):
        """End the in-place line (before the summary)."""
        if self.in_place:
            self.stream.write("\n")
            self.stream.flush()
            self.in_place = False

    def elapsed(self):
        return self.clock() - self.t0
