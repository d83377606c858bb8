"""`python -m purerl train / eval`: run directories, resume, and every fault path.

The machinery is exercised with the fake learner and env of cli_fakes.py
(fast, and able to misbehave on demand); the resume test is also run over
every registered algorithm (tests/test_cli_algorithms.py).
"""

import json
import os
import re
import sys

import numpy as np
import pytest

from cli_fakes import cli, run_dir_of  # noqa: F401  (cli is a fixture)
from purerl import checkpoint, runs
from purerl.logger import read_rows

PROGRESS = re.compile(
    r"^steps [\d,]+/[\d,]+ \(\d+%\) \| ([\d,]+|\?) steps/s \| episodes [\d,]+ \| return (n/a|-?[\d.]+)"
    r" \| elapsed \d+:\d\d(:\d\d)? \| eta (\d+:\d\d(:\d\d)?|\?)$"
)


def train(cli, *argv):
    code, out, err = cli("train", *argv)
    assert code == 0, out + err
    return run_dir_of(out), out


def assert_same_run(a, b):
    """Final parameters, optimizer, RNG, env state bit-identical; metrics equal except wall time."""
    sa = checkpoint.load(os.path.join(a, runs.POLICY)).flat_state
    sb = checkpoint.load(os.path.join(b, runs.POLICY)).flat_state
    assert sorted(sa) == sorted(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype and sa[key].shape == sb[key].shape, key
        assert sa[key].tobytes() == sb[key].tobytes(), key
    cols_a, rows_a = read_rows(os.path.join(a, runs.METRICS))
    cols_b, rows_b = read_rows(os.path.join(b, runs.METRICS))
    assert cols_a == cols_b and "wall_time" in cols_a
    strip = [[{k: v for k, v in r.items() if k != "wall_time"} for r in rows] for rows in (rows_a, rows_b)]
    assert strip[0] == strip[1]
    assert len(rows_a) >= 4


def test_train_writes_a_complete_run_directory(cli):
    run_dir, out = train(cli, "fake", "--steps", 96, "--set", "lr=0.05", "--seed", 3)
    assert os.path.basename(run_dir).startswith("fake-Fake-v0-seed3-")
    info = json.load(open(os.path.join(run_dir, "config.json")))
    assert (info["algo"], info["env"], info["seed"], info["total_steps"]) == ("fake", "Fake-v0", 3, 96)
    assert info["config"]["lr"] == 0.05 and info["config"]["hidden_sizes"] == [4, 4]
    assert set(info["versions"]) >= {"purerl", "numpy", "numba"}
    cols, rows = read_rows(os.path.join(run_dir, "metrics.csv"))
    assert cols[:5] == ["iteration", "env_steps", "wall_time", "episodes", "mean_return"]
    assert [int(r["iteration"]) for r in rows] == list(range(1, 7))  # 96 steps / (2 games * 8 steps)
    assert [int(r["env_steps"]) for r in rows] == list(range(16, 97, 16))
    final = checkpoint.load(os.path.join(run_dir, "policy.npz"))
    assert final.meta["env_steps"] == 96 and final.meta["metrics_rows"] == 6
    assert json.loads(final.config_json)["lr"] == 0.05
    assert runs.list_checkpoints(run_dir)[-1].endswith("step-000000000096.npz")
    assert not os.path.exists(runs.best_checkpoint_path(run_dir))  # only with --keep-best
    assert "done: 96 env steps" in out and "evaluation, 10 episodes" in out


def test_non_tty_progress_lines_have_the_documented_format(cli):
    _, out = train(cli, "fake", "--steps", 160)
    lines = [line for line in out.splitlines() if line.startswith("steps ")]
    assert len(lines) >= 2
    for line in lines:
        assert PROGRESS.match(line), line
    assert "\r" not in out and "\x1b" not in out


def test_train_help_lists_every_field_with_default_and_doc(cli):
    from cli_fakes import Config
    from purerl.configs import field_docs

    code, out, _ = cli("train", "fake", "--help")
    assert code == 0
    for name, kind, default, doc in field_docs(Config):
        assert f"{name}={default}  ({kind})" in out
        assert doc.split()[0] in out
    assert "hidden_sizes=4,4" in out and "clip=none" in out and "activation=tanh" in out


@pytest.mark.parametrize("argv, message", [
    (["nope"], "unknown algorithm 'nope'; available: {names}"),
    (["fake", "--env", "Nope-v0"], "unknown environment 'Nope-v0'; available: "),
    (["fake", "--set", "lrr=1"], "unknown fake config field 'lrr'; accepted: total_steps, num_envs"),
    (["fake", "--set", "lr=fast"], "invalid value 'fast' for lr; accepted: float"),
    (["fake", "--set", "num_steps=2.5"], "invalid value '2.5' for num_steps; accepted: int"),
    (["fake", "--set", "activation=gelu"], "invalid value 'gelu' for activation; accepted: one of tanh, relu"),
    (["fake", "--set", "normalize=maybe"], "accepted: bool (true/false)"),
    (["fake", "--set", "lr"], "--set expects KEY=VALUE"),
    (["fake", "--set", "lr=-1"], "invalid lr=-1.0; accepted: a number > 0"),
    (["fake", "--steps", "10", "--set", "total_steps=5"], "--steps and --set total_steps"),
])
def test_bad_names_and_settings_give_one_clear_error(cli, argv, message):
    from purerl.algos import registry

    code, out, err = cli("train", *argv)
    assert code == 2
    assert message.format(names=", ".join(registry.names())) in err
    assert "Traceback" not in err and not os.path.exists("runs")


def test_unknown_environment_lists_the_valid_ones(cli):
    _, _, err = cli("train", "fake", "--env", "Nope-v0")
    assert "Fake-v0" in err and "gym:ID" in err


def test_pause_and_resume_equal_a_straight_run(cli):
    straight, _ = train(cli, "fake", "--steps", 192, "--out", "a")
    paused, out = train(cli, "fake", "--steps", 192, "--out", "b", "--pause-at", 96)
    assert "paused at 96 env steps" in out and f"train --resume {paused}" in out
    assert not os.path.exists(os.path.join(paused, "policy.npz"))
    _, out = train(cli, "--resume", paused)
    assert "resuming at 96" in out
    assert_same_run(straight, paused)


def test_a_pause_in_the_last_iteration_finishes_the_run(cli):
    """--pause-at 178 of 180 steps, in 16-step iterations: the iteration that reaches 178 also ends the run."""
    run_dir, out = train(cli, "fake", "--steps", 180, "--pause-at", 178)
    assert "paused" not in out and "done: 192 env steps" in out
    assert os.path.exists(os.path.join(run_dir, "policy.npz"))


def test_resume_after_crash_drops_metrics_rows_past_the_checkpoint(cli):
    straight, _ = train(cli, "fake", "--steps", 192, "--out", "a")
    crashed, _ = train(cli, "fake", "--steps", 192, "--out", "b", "--pause-at", 96)
    with open(os.path.join(crashed, "metrics.csv"), "a") as f:
        f.write("7,112,9.0,1,1.0,0.5,0.5\n")  # a row written after the last checkpoint
    train(cli, "--resume", crashed)
    assert_same_run(straight, crashed)


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(cli):
    straight, _ = train(cli, "fake", "--steps", 192, "--out", "a")
    code, out, err = cli("train", "fake", "--steps", 192, "--out", "b", "--set", "interrupt_at=4")
    interrupted = run_dir_of(out)
    assert code == 130
    assert "Ctrl-C: saving a checkpoint after this iteration" in err
    assert "interrupted at 80 env steps; checkpoint saved:" in out
    assert f"resume with: python -m purerl train --resume {interrupted}" in out
    assert checkpoint.load(runs.latest_checkpoint(interrupted)).meta["env_steps"] == 80
    train(cli, "--resume", interrupted)
    assert_same_run(straight, interrupted)


def test_second_ctrl_c_aborts_at_once():
    import signal

    from purerl.trainer import InterruptFlag

    before = signal.getsignal(signal.SIGINT)
    with InterruptFlag() as flag:
        assert signal.getsignal(signal.SIGINT) == flag.handler
        flag.handler()
        assert flag.requested
        with pytest.raises(KeyboardInterrupt):
            flag.handler()
    assert signal.getsignal(signal.SIGINT) == before


def test_non_finite_stops_training_and_keeps_the_last_good_checkpoint(cli):
    code, out, err = cli("train", "fake", "--steps", 160, "--save-every", 32, "--set", "nan_at=5")
    run_dir = run_dir_of(out)
    assert code == 1
    assert "error: non-finite theta at iteration 5; training stopped" in out
    kept = re.search(r"the last good checkpoint is kept: (\S+)", out).group(1)
    good = checkpoint.load(kept)
    assert good.meta["env_steps"] == 64  # saved after iterations 2 and 4; iteration index 5 broke
    assert np.all(np.isfinite(good.state["params"]["theta"]))
    assert not os.path.exists(os.path.join(run_dir, "policy.npz"))
    assert "Traceback" not in out + err


def test_eval_prints_mean_and_std_of_the_return(cli):
    run_dir, _ = train(cli, "fake", "--steps", 64)
    code, out, _ = cli("eval", run_dir, "--episodes", 4, "--seed", 1)
    assert code == 0
    assert re.search(r"return over 4 episodes \(greedy actions, seeds 1..4\): -?[\d.]+ ± [\d.]+", out)
    first = runs.list_checkpoints(run_dir)[0]
    steps = checkpoint.load(first).meta["env_steps"]
    code, out2, _ = cli("eval", run_dir, "--episodes", 4, "--checkpoint", first)
    assert code == 0 and steps < 64 and f"{first} ({steps} env steps)" in out2
    relative = os.path.relpath(first, run_dir)  # as --help suggests: checkpoints/step-*.npz
    code, out3, _ = cli("eval", run_dir, "--episodes", 4, "--checkpoint", relative)
    assert code == 0 and f"({steps} env steps)" in out3 and out3.splitlines()[1:] == out2.splitlines()[1:]


def test_keep_best_keeps_the_state_of_the_highest_full_window_mean_return(cli):
    # --save-every 160: the best is written at most every 16 env steps, i.e. after any iteration
    run_dir, out = train(cli, "fake", "--steps", 1600, "--save-every", 160, "--keep-best")
    _, rows = read_rows(os.path.join(run_dir, "metrics.csv"))
    rows = [(int(r["episodes"]), int(r["env_steps"]), float(r["mean_return"])) for r in rows]  # repr: exact
    full = [(steps, score) for episodes, steps, score in rows if episodes >= 100]
    assert 0 < len(full) < len(rows)  # the first rows average fewer than 100 episodes and do not count
    steps, score = max(full, key=lambda r: r[1])  # max() returns the first of equals, as the keeper does
    meta = checkpoint.load(runs.best_checkpoint_path(run_dir)).meta
    assert (meta["env_steps"], meta["best_mean_return"]) == (steps, score)
    assert f"at {steps:,} env steps, kept in checkpoints/best.npz" in out
    assert runs.best_checkpoint_path(run_dir) not in runs.list_checkpoints(run_dir)  # never pruned or resumed
    code, out, _ = cli("eval", run_dir, "--episodes", 4, "--checkpoint", "checkpoints/best.npz")
    assert code == 0 and f"best.npz ({steps:,} env steps)" in out


def test_keep_best_across_a_resume_equals_a_straight_run(cli):
    straight, _ = train(cli, "fake", "--steps", 1600, "--save-every", 160, "--keep-best", "--out", "a")
    paused, _ = train(cli, "fake", "--steps", 1600, "--save-every", 160, "--keep-best", "--out", "b",
                      "--pause-at", 800)
    train(cli, "--resume", paused, "--save-every", 160, "--keep-best")
    a, b = (checkpoint.load(runs.best_checkpoint_path(d)) for d in (straight, paused))
    assert a.meta["env_steps"] == b.meta["env_steps"]
    assert all(a.flat_state[k].tobytes() == b.flat_state[k].tobytes() for k in a.flat_state)


def test_best_keeper_waits_for_a_full_window_a_higher_score_and_its_interval(tmp_path):
    from purerl.trainer import BestKeeper

    os.makedirs(tmp_path / runs.CHECKPOINTS)
    keeper = BestKeeper(str(tmp_path), every=100)
    assert keeper.value == -np.inf

    def row(episodes, score):
        return {"episodes": episodes, "mean_return": score}

    assert not keeper.due(10, row(99, 5.0))          # window not full yet
    assert not keeper.due(10, row(100, np.nan))
    assert keeper.due(10, row(100, -3.0))
    keeper.saved(10, row(100, -3.0))
    assert not keeper.due(200, row(150, -3.0))       # not higher
    assert not keeper.due(109, row(150, -2.0))       # higher, but within 100 env steps of the last write
    assert keeper.due(110, row(150, -2.0))


def test_a_resumed_best_keeper_starts_from_the_recorded_best(tmp_path):
    from purerl.trainer import BestKeeper

    path = runs.best_checkpoint_path(str(tmp_path))
    os.makedirs(os.path.dirname(path))
    checkpoint.save(path, {"theta": np.zeros(2)}, algo="fake", env="Fake-v0", config_json="{}",
                    meta={"env_steps": 64, "best_mean_return": 2.5})
    keeper = BestKeeper(str(tmp_path), every=1)
    assert keeper.value == 2.5
    assert not keeper.due(1000, {"episodes": 500, "mean_return": 2.5})
    assert keeper.due(1000, {"episodes": 500, "mean_return": 2.6})


def test_an_unusable_out_directory_is_one_error_line(cli, tmp_path):
    (tmp_path / "a_file").write_text("")
    code, _, err = cli("train", "fake", "--steps", 64, "--out", tmp_path / "a_file")
    line = _one_error_line(err, "train")
    assert code == 1 and "cannot create a run directory under" in line and "Not a directory" in line


@pytest.mark.parametrize("command", ["eval", "watch"])
def test_a_checkpoint_from_another_run_is_refused(cli, command):
    run_a, _ = train(cli, "fake", "--steps", 64, "--seed", 1)
    run_b, _ = train(cli, "fake", "--steps", 64, "--seed", 2)
    other = runs.list_checkpoints(run_b)[0]
    code, _, err = cli(command, run_a, "--checkpoint", other)
    line = _one_error_line(err, command)
    assert code == 1 and f"--checkpoint {other} is not inside RUN_DIR {run_a}" in line


def _one_error_line(err, command):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"purerl {command}: error: "), err
    return lines[0]


def test_truncated_checkpoint_gives_one_error_line(cli):
    run_dir, _ = train(cli, "fake", "--steps", 64)
    policy = os.path.join(run_dir, "policy.npz")
    data = open(policy, "rb").read()
    open(policy, "wb").write(data[: len(data) // 2])
    code, _, err = cli("eval", run_dir)
    assert code == 1
    assert "truncated or corrupted" in _one_error_line(err, "eval")


def test_corrupted_latest_checkpoint_on_resume_names_the_previous_one(cli):
    run_dir, _ = train(cli, "fake", "--steps", 192, "--pause-at", 96, "--save-every", 32)
    latest = runs.latest_checkpoint(run_dir)
    data = bytearray(open(latest, "rb").read())
    data[len(data) // 3: len(data) // 3 + 64] = b"\0" * 64
    open(latest, "wb").write(bytes(data))
    code, _, err = cli("train", "--resume", run_dir)
    line = _one_error_line(err, "train")
    assert code == 1 and "truncated or corrupted" in line
    assert runs.list_checkpoints(run_dir)[-2] in line


def test_eval_of_something_that_is_not_a_run(cli, tmp_path):
    code, _, err = cli("eval", tmp_path)
    assert code == 1 and "is not a purerl run directory" in _one_error_line(err, "eval")


def test_eval_of_the_runs_folder_or_a_stray_file_says_what_it_is(cli, tmp_path):
    run_dir, _ = train(cli, "fake", "--steps", 64)
    parent = os.path.dirname(run_dir)
    code, _, err = cli("eval", parent)
    assert code == 1 and f"it holds 1 run, e.g. {run_dir}" in _one_error_line(err, "eval")
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    code, _, err = cli("eval", tmp_path / "notes.txt")
    assert code == 1 and "notes.txt is neither a run directory nor a .npz checkpoint" in _one_error_line(err, "eval")


@pytest.mark.parametrize("episodes", ["0", "-3", "ten"])
def test_eval_episodes_below_one_is_a_command_line_error(cli, episodes):
    run_dir, _ = train(cli, "fake", "--steps", 64)
    code, _, err = cli("eval", run_dir, "--episodes", episodes)
    assert code == 2 and "argument --episodes:" in err and "(see purerl eval --help)" in err


def test_resume_refuses_changed_settings_and_finished_runs(cli):
    run_dir, _ = train(cli, "fake", "--steps", 64)
    code, _, err = cli("train", "--resume", run_dir, "--env", "Fake-v0", "--set", "lr=1")
    assert code == 2 and "--env, --set cannot be given with it" in err
    code, _, err = cli("train", "--resume", run_dir)
    assert code == 1 and "is complete (64 of 64 env steps); give --steps N" in err
    _, out = train(cli, "--resume", run_dir, "--steps", 96)
    assert "resuming at 64" in out
    info = json.load(open(os.path.join(run_dir, "config.json")))
    assert info["total_steps"] == 96 and info["config"]["total_steps"] == 96
    assert [r["env_steps"] for r in info["resumes"]] == [64]
    assert len(read_rows(os.path.join(run_dir, "metrics.csv"))[1]) == 6


def test_gym_env_without_gymnasium_says_how_to_install_it(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # import gymnasium -> ImportError
    code, _, err = cli("train", "fake", "--env", "gym:Acrobot-v1")
    assert code == 2
    assert 'needs Gymnasium, which is not installed; install it with: python -m pip install "purerl[gym]"' in err


def test_a_nan_the_learner_missed_never_reaches_a_checkpoint(cli):
    code, out, _ = cli("train", "fake", "--steps", 160, "--save-every", 32, "--keep", 1,
                       "--set", "silent_nan_at=4")
    run_dir = run_dir_of(out)
    assert code == 1
    assert "non-finite state entry params/theta (NaN, found when checkpointing) at iteration 6" in out
    [kept] = runs.list_checkpoints(run_dir)
    assert checkpoint.load(kept).meta["env_steps"] == 64
    assert np.all(np.isfinite(checkpoint.load(kept).state["params"]["theta"]))


def test_negative_counts_are_refused(cli):
    code, _, err = cli("train", "fake", "--keep", -1)
    assert code == 2 and "--keep must be >= 0, got -1" in err


def test_nan_markers_present_from_the_start_are_allowed_new_ones_are_not():
    from purerl.algos.base import NonFiniteError
    from purerl.trainer import check_no_new_nan, nan_entries

    start = {"env": {"last_u": np.array([np.nan, np.nan])}, "params": {"theta": np.zeros(2)}}
    allowed = nan_entries(start)
    assert allowed == {"env/last_u"}
    later = {"env": {"last_u": np.array([0.5, np.nan])}, "params": {"theta": np.array([0.0, np.nan])}}
    with pytest.raises(NonFiniteError, match="non-finite state entry params/theta .* at iteration 7"):
        check_no_new_nan(later, allowed, 7)
    later["params"]["theta"][1] = 1.0
    check_no_new_nan(later, allowed, 8)


def test_a_learner_refusing_a_checkpoint_is_one_error_line(cli, monkeypatch):
    import cli_fakes

    run_dir, _ = train(cli, "fake", "--steps", 64)

    def refuse(self, state):
        raise ValueError("theta has 9 entries, expected 12")

    monkeypatch.setattr(cli_fakes.Learner, "load_state_dict", refuse)
    code, _, err = cli("eval", run_dir)
    line = _one_error_line(err, "eval")
    assert code == 1 and "does not fit this fake learner (ValueError: theta has 9 entries, expected 12)" in line


@pytest.mark.parametrize("argv, says", [
    (["train", "ppx"], "unknown algorithm 'ppx'; available: "),
    (["train", "fake", "--set", "lr=abc"], "invalid value 'abc' for lr"),
    (["train", "fake", "--steps", "-5"], "invalid total_steps=-5; accepted: a number > 0"),
    (["eval"], "the following arguments are required: RUN_DIR"),
    (["train", "fake", "--seed", "-1"], "--seed must be >= 0, got -1"),
])
def test_command_line_mistakes_are_one_line_without_a_usage_block(cli, argv, says):
    code, out, err = cli(*argv)
    line = _one_error_line(err, argv[0])
    assert code == 2 and says in line and line.endswith(f"(see purerl {argv[0]} --help)") and out == ""


def test_eval_of_a_missing_directory_says_it_does_not_exist(cli, tmp_path):
    code, _, err = cli("eval", tmp_path / "nope")
    assert code == 1 and "nope does not exist (expected a run directory" in _one_error_line(err, "eval")


@pytest.mark.parametrize("command", ["eval", "watch"])
def test_a_missing_checkpoint_says_so(cli, command):
    run_dir, _ = train(cli, "fake", "--steps", 64)
    code, _, err = cli(command, run_dir, "--checkpoint", "checkpoints/best.npz")
    line = _one_error_line(err, command)
    assert code == 1 and "--checkpoint checkpoints/best.npz: no such file" in line and "--keep-best" in line


@pytest.mark.parametrize("backend, message", [("cupy", "CuPy cannot be imported"),
                                              ("foo", "unknown array backend 'foo'")])
def test_an_unusable_backend_is_one_error_line(cli, monkeypatch, backend, message):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError, GPU or not
    monkeypatch.setenv("PURERL_BACKEND", backend)
    code, _, err = cli("train", "reinforce", "--steps", 64)
    line = _one_error_line(err, "train")
    assert code == 1 and message in line
    assert ("PURERL_BACKEND=numpy" if backend == "cupy" else "accepted: numpy, cupy") in line  # what to do instead


@pytest.mark.parametrize("content, message", [("[]", "holds a JSON list, not an object"),
                                              ('{"algo": "fake"}', "lacks env, seed")])
def test_a_hand_edited_config_json_is_one_error_line(cli, content, message):
    run_dir, _ = train(cli, "fake", "--steps", 192, "--pause-at", 96)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        f.write(content)
    code, _, err = cli("train", "--resume", run_dir)
    assert code == 1 and message in _one_error_line(err, "train")


def test_resume_rewrites_config_json_from_the_checkpoint(cli):
    run_dir, _ = train(cli, "fake", "--steps", 192, "--pause-at", 96)
    info = runs.read_config(run_dir)
    edited = dict(info, seed=7, config=dict(info["config"], lr=123.0))
    runs.write_config(run_dir, edited)
    train(cli, "--resume", run_dir)
    after = runs.read_config(run_dir)
    assert after["seed"] == info["seed"] and after["config"] == info["config"] and len(after["resumes"]) == 1


def test_a_truncated_metrics_csv_stops_the_resume_before_it_writes_anything(cli):
    run_dir, _ = train(cli, "fake", "--steps", 192, "--pause-at", 96)
    path = os.path.join(run_dir, "metrics.csv")
    with open(path) as f:
        lines = f.readlines()
    with open(path, "w") as f:
        f.writelines(lines[:3])
    before = open(os.path.join(run_dir, "config.json")).read()
    code, _, err = cli("train", "--resume", run_dir)
    assert code == 1 and "has 2 rows but the checkpoint was written after 6" in _one_error_line(err, "train")
    assert open(os.path.join(run_dir, "config.json")).read() == before
    os.unlink(path)
    _, out = train(cli, "--resume", run_dir)
    assert "metrics.csv is missing: its first 6 rows are lost, it restarts here" in out


def test_a_damaged_best_checkpoint_does_not_fail_a_finished_run(cli):
    run_dir, _ = train(cli, "fake", "--steps", 1600, "--save-every", 160, "--keep-best", "--pause-at", 800)
    best = runs.best_checkpoint_path(run_dir)
    with open(best, "wb") as f:
        f.write(b"junk")
    _, out = train(cli, "--resume", run_dir)  # without --keep-best: the summary only reads best.npz
    assert "warning: checkpoints/best.npz is not a readable best checkpoint" in out and "next: " in out
    step = runs.list_checkpoints(run_dir)[0]
    with open(step, "rb") as src, open(best, "wb") as dst:
        dst.write(src.read())
    code, _, err = cli("train", "--resume", run_dir, "--steps", 3200, "--keep-best")
    assert code == 1 and "records no best_mean_return" in _one_error_line(err, "train")


def test_printed_commands_quote_a_run_directory_with_spaces(cli, monkeypatch):
    run_dir, out = train(cli, "fake", "--steps", 192, "--pause-at", 96, "--out", "my runs")
    assert f"resume with: python -m purerl train --resume '{run_dir}'" in out
    _, out = train(cli, "--resume", run_dir)
    assert f"next: python -m purerl eval '{run_dir}'" in out
    monkeypatch.setattr(sys, "argv", ["purerl", "train", "fake", "--out", "my runs"])
    assert runs.command_line() == "python -m purerl train fake --out 'my runs'"  # config.json's "command"


def test_a_run_being_trained_cannot_be_resumed_by_a_second_session(cli):
    fcntl = pytest.importorskip("fcntl")  # Linux and macOS; elsewhere nothing is locked

    run_dir, _ = train(cli, "fake", "--steps", 192, "--pause-at", 96)
    with open(os.path.join(run_dir, runs.LOCK), "w") as held:  # as a running session holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = cli("train", "--resume", run_dir)
        assert code == 1 and "is being trained by another purerl session" in _one_error_line(err, "train")
    _, out = train(cli, "--resume", run_dir)  # released: the resume goes ahead
    assert "resuming at 96" in out
