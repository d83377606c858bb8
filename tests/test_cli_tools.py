"""`watch` (text and --gif), `plot`, and Ctrl-C sent to a real training process."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cli_fakes import cli, driver_command, run_dir_of  # noqa: F401  (cli is a fixture)
from purerl import checkpoint, runs
from purerl.watch import RAMP, rgb_to_text


def _trained(cli, *extra):
    code, out, err = cli("train", "fake", "--steps", 64, *extra)
    assert code == 0, out + err
    return run_dir_of(out)


def test_watch_prints_every_frame_and_the_return(cli):
    run_dir = _trained(cli)
    code, out, _ = cli("watch", run_dir, "--seed", 2, "--fps", 0)
    assert code == 0
    lines = out.splitlines()
    frames = [line for line in lines if line.startswith("t=")]
    steps = int(lines[-1].split("after ")[1].split(" steps")[0])
    assert 3 <= steps <= 8 and len(frames) == steps + 1  # the reset frame and one per step
    assert "\x1b" not in out  # not a terminal: no cursor movement
    assert lines[-1].startswith("episode over after")
    code, out, _ = cli("watch", run_dir, "--seed", 2, "--fps", 0, "--max-steps", 2)
    assert code == 0 and out.splitlines()[-1].startswith("stopped by --max-steps after 2 steps")


def test_rgb_frames_become_text_with_objects_where_they_are():
    frame = np.zeros((40, 80, 3), dtype=np.uint8)
    frame[...] = (144, 72, 17)  # background
    frame[8:16, 60:64] = 236  # a white block: rows 8-15 -> text row 2, columns 60-63 -> 30-31
    lines = rgb_to_text(frame, width=40)
    assert len(lines) == 10 and all(len(line) == 40 for line in lines)
    marked = {(r, c) for r, line in enumerate(lines) for c, ch in enumerate(line) if ch != " "}
    assert marked == {(2, 30), (2, 31), (3, 30), (3, 31)}
    assert lines[2][30] == RAMP[-1]


def test_watch_gif_writes_an_animation(cli, tmp_path):
    pytest.importorskip("matplotlib")
    PIL = pytest.importorskip("PIL.Image")
    run_dir = _trained(cli)
    gif = tmp_path / "episode.gif"
    code, out, err = cli("watch", run_dir, "--gif", gif, "--max-steps", 3)
    assert code == 0, err
    assert f"wrote {gif}: 3 steps" in out
    with PIL.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == 4


def test_plot_overlays_runs_as_a_png(cli, tmp_path):
    pytest.importorskip("matplotlib")
    a, b = _trained(cli, "--seed", 0), _trained(cli, "--seed", 1)
    code, out, _ = cli("plot", a, b, "--out", tmp_path / "curves.png")
    assert code == 0 and "(2 runs)" in out
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, _ = cli("plot", a)
    assert code == 0 and os.path.isfile(os.path.join(a, "learning_curve.png"))


def test_plot_curves_are_the_columns_named_by_x_and_y(cli):
    from purerl.logger import read_metrics
    from purerl.plot import load_curve

    run_dir = _trained(cli)
    metrics = read_metrics(os.path.join(run_dir, runs.METRICS))
    _, _, xs, ys = load_curve(run_dir, x="episodes", y="mean_return")
    assert xs == metrics["episodes"] and xs != metrics["env_steps"]
    np.testing.assert_array_equal(ys, metrics["mean_return"])  # nan == nan here
    with pytest.raises(ValueError, match="no column 'running_reward'; it has: iteration, env_steps"):
        load_curve(run_dir, y="running_reward")


def test_plot_with_x_and_y_writes_the_png_or_names_the_missing_column(cli, tmp_path):
    pytest.importorskip("matplotlib")
    run_dir = _trained(cli)
    code, _, _ = cli("plot", run_dir, "--x", "episodes", "--out", tmp_path / "by_episode.png")
    assert code == 0 and (tmp_path / "by_episode.png").is_file()
    code, _, err = cli("plot", run_dir, "--y", "running_reward", "--out", tmp_path / "no.png")
    assert code == 1 and "no column 'running_reward'" in err and "mean_return" in err
    assert not (tmp_path / "no.png").exists()


@pytest.mark.parametrize("argv", [["plot", "RUN"], ["watch", "RUN", "--gif", "x.gif"]])
def test_without_matplotlib_the_message_says_how_to_install_it(cli, monkeypatch, argv):
    run_dir = _trained(cli)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code, _, err = cli(*[run_dir if a == "RUN" else a for a in argv])
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "needs matplotlib" in lines[0] and 'pip install "purerl[plot]"' in lines[0]


def test_identical_runs_get_distinct_legend_labels():
    from purerl.plot import legend_labels

    labels = ["ppo on CartPole-v1, seed 0", "ppo on CartPole-v1, seed 0", "ppo on CartPole-v1, seed 1"]
    assert legend_labels(labels, ["runs/a", "runs/b", "runs/c"]) == [
        "ppo on CartPole-v1, seed 0 (runs/a)", "ppo on CartPole-v1, seed 0 (runs/b)", "ppo on CartPole-v1, seed 1"]


def test_runs_of_one_group_share_a_colour_and_differ_in_line_style():
    from purerl.plot import line_styles

    assert line_styles(["ppo", "ppo", "dqn", "ppo", "ppo", "ppo"]) == [
        ("C0", "-"), ("C0", "--"), ("C1", "-"), ("C0", ":"), ("C0", "-."), ("C0", "-")]
    # seeds of one group alone: a colour each
    assert line_styles(["ppo", "ppo", "ppo"]) == [("C0", "-"), ("C1", "-"), ("C2", "-")]


@pytest.mark.parametrize("argv, message", [
    (("watch", "RUN", "--gif", "episode.txt"), "--gif episode.txt: the file name must end in .gif"),
    (("watch", "RUN", "--gif", "no_such_folder/episode.gif"), "--gif no_such_folder/episode.gif: no such folder"),
    (("plot", "RUN", "--out", "no_such_folder/curve.png"), "--out no_such_folder/curve.png: no such folder"),
])
def test_an_unwritable_output_file_is_refused_before_any_work(cli, argv, message):
    code, out, err = cli("train", "fake", "--steps", 64)
    run_dir = run_dir_of(out)
    code, _, err = cli(*(run_dir if a == "RUN" else a for a in argv))
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith(f"purerl {argv[0]}: error: ") and message in lines[0]


def test_plot_of_a_directory_that_is_not_a_run(cli, tmp_path):
    pytest.importorskip("matplotlib")
    code, _, err = cli("plot", tmp_path)
    assert code == 1 and "is not a purerl run directory" in err


def test_sigint_to_a_training_process_checkpoints_and_exits_cleanly(tmp_path):
    """A real SIGINT, as Ctrl-C sends it, to `purerl train` in a subprocess."""
    proc = subprocess.Popen(driver_command("train", "fake", "--steps", 10**6, "--set", "sleep=0.02"),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        metrics = None
        while time.monotonic() < deadline:  # wait until training is under way
            found = list((tmp_path / "runs").glob("*/metrics.csv")) if (tmp_path / "runs").exists() else []
            if found and len(found[0].read_text().splitlines()) >= 3:
                metrics = found[0]
                break
            time.sleep(0.05)
        assert metrics is not None, "training did not start"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    run_dir = run_dir_of(out)
    assert f"resume with: python -m purerl train --resume {run_dir}" in out
    saved = checkpoint.load(runs.latest_checkpoint(os.path.join(tmp_path, run_dir)))
    rows = len(metrics.read_text().splitlines()) - 1
    assert saved.meta["metrics_rows"] == rows and saved.meta["env_steps"] == 16 * rows


def _marks(lines, chars):
    return {(r, c) for r, line in enumerate(lines) for c, ch in enumerate(line) if ch in chars}


def test_cartpole_scene_puts_the_cart_at_x_and_leans_the_pole_by_theta():
    from purerl.watch import cartpole_scene

    upright = cartpole_scene([0.0, 0.0, 0.0, 0.0], width=41, height=9)
    cart = _marks(upright, "#")
    assert {r for r, _ in cart} == {7} and sorted(c for _, c in cart) == list(range(17, 24))
    assert _marks(upright, "|") == {(r, 20) for r in range(1, 7)}
    right = cartpole_scene([0.0, 0.0, 0.4, 0.0], width=41, height=9)  # theta > 0 leans towards +x
    tip_row = min(r for r, _ in _marks(right, "/"))
    assert min(c for r, c in _marks(right, "/") if r == tip_row) > 20 and not _marks(right, "\\|")
    left_edge = cartpole_scene([-2.4, 0.0, 0.4, 0.0], width=41, height=9)
    assert min(c for _, c in _marks(left_edge, "#")) == 0 and _marks(left_edge, "/")
    left = cartpole_scene([0.0, 0.0, -0.4, 0.0], width=41, height=9)
    assert max(c for _, c in _marks(left, "\\")) < 20


def test_pendulum_scene_points_the_rod_by_theta():
    from purerl.watch import pendulum_scene

    up = pendulum_scene([1.0, 0.0, 0.0], radius=4)
    assert _marks(up, "o") == {(4, 8)} and _marks(up, "*") == {(r, 8) for r in range(0, 4)}
    down = pendulum_scene([-1.0, 0.0, 0.0], radius=4)
    assert _marks(down, "*") == {(r, 8) for r in range(5, 9)}
    quarter = pendulum_scene([0.0, 1.0, 0.0], radius=4)  # theta = +90 deg: counter-clockwise, to the left
    assert max(c for _, c in _marks(quarter, "*")) < 8


def test_terminal_screen_redraws_frames_in_place():
    import io

    from purerl.watch import TerminalScreen

    out = io.StringIO()
    screen = TerminalScreen(out, width=80, fps=0, env_name="Other-v0", tty=True)
    screen("frame A\nline 2", None, 0, 0.0)
    screen("frame B\nline 2", None, 1, 1.0)
    text = out.getvalue()
    first, second = text.split("\x1b[3A\r")  # back up over the 3 lines (2 + status) of frame A
    assert first.startswith("frame A\x1b[K\n") and second.startswith("frame B\x1b[K\n")
    assert second.endswith("step 1  return 1\x1b[K\n")
