"""metrics.csv (exact floats, growing columns, cut back on resume) and the progress line."""

import io
import math
import re

import pytest

from purerl.logger import MetricsWriter, Progress, format_duration, read_metrics, read_rows


def test_floats_read_back_bit_for_bit(tmp_path):
    path = tmp_path / "metrics.csv"
    writer = MetricsWriter(path)
    values = [0.1, 1 / 3, -2.5e-300, math.pi * 1e17, math.nan, math.inf]
    for i, v in enumerate(values):
        writer.write({"iteration": i + 1, "env_steps": 10 * (i + 1), "wall_time": 0.5, "loss": v})
    got = read_metrics(path)["loss"]
    for a, b in zip(got, values):
        assert (math.isnan(a) and math.isnan(b)) or a == b
    assert read_metrics(path)["env_steps"] == [10.0 * (i + 1) for i in range(6)]
    assert writer.rows == 6


def test_a_new_column_rewrites_the_header_and_keeps_rows(tmp_path):
    path = tmp_path / "metrics.csv"
    writer = MetricsWriter(path)
    writer.write({"env_steps": 1, "loss": 1.0, "iteration": 1})
    writer.write({"env_steps": 2, "loss": 2.0, "kl": 0.5, "iteration": 2})
    writer.write({"env_steps": 3, "iteration": 3})
    columns, rows = read_rows(path)
    assert columns == ["iteration", "env_steps", "loss", "kl"]
    assert [r["kl"] for r in rows] == ["", "0.5", ""]
    assert [r["loss"] for r in rows] == ["1.0", "2.0", ""]


def test_resume_cuts_the_file_back_to_the_checkpoint(tmp_path):
    path = tmp_path / "metrics.csv"
    writer = MetricsWriter(path)
    for i in range(5):
        writer.write({"iteration": i + 1, "x": float(i)})
    again = MetricsWriter(path, keep_rows=3)
    assert again.rows == 3
    again.write({"iteration": 4, "x": 40.0})
    assert read_metrics(path)["x"] == [0.0, 1.0, 2.0, 40.0]
    with pytest.raises(ValueError, match="has 4 rows; the checkpoint expects 9"):
        MetricsWriter(path, keep_rows=9)


def test_format_duration():
    assert [format_duration(s) for s in (0, 7.4, 65, 3600 + 62, math.nan, -1)] == \
        ["0:00", "0:07", "1:05", "1:01:02", "?", "?"]


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_progress_line_shows_rate_episodes_return_elapsed_and_eta():
    clock, out = Clock(), io.StringIO()
    progress = Progress(1000, stream=out, tty=False, clock=clock)
    clock.t += 2.0
    progress.update(200, 7, 12.345)
    assert out.getvalue() == ("steps 200/1,000 (20%) | 100 steps/s | episodes 7 | return 12.3"
                              " | elapsed 0:02 | eta 0:08\n")


def test_non_tty_prints_first_each_tenth_and_every_so_often():
    clock, out = Clock(), io.StringIO()
    progress = Progress(1000, stream=out, tty=False, clock=clock, every_seconds=30)
    shown = []
    for steps in range(10, 1001, 10):
        clock.t += 1.0
        before = out.getvalue().count("\n")
        progress.update(steps, 0, math.nan)
        if out.getvalue().count("\n") > before:
            shown.append(steps)
    assert shown == [10, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    assert "return n/a" in out.getvalue()
    progress = Progress(10**6, stream=io.StringIO(), tty=False, clock=clock, every_seconds=30)
    progress.update(1, 0, 0.0)
    clock.t += 29
    progress.update(2, 0, 0.0)
    clock.t += 1
    progress.update(3, 0, 0.0)
    assert progress.stream.getvalue().count("\n") == 2  # first, then 30 s later


def test_tty_rewrites_one_line_in_place():
    clock, out = Clock(), io.StringIO()
    progress = Progress(100, stream=out, tty=True, clock=clock)
    for steps in (10, 20, 30):
        clock.t += 1.0
        progress.update(steps, 1, 1.0)
    progress.message("saved")
    text = out.getvalue()
    assert text.count("\r") == 3 and text.count("\x1b[K") == 3
    assert re.search(r"\rsteps 30/100 \(30%\)[^\r\n]*\x1b\[K\nsaved\n$", text)
