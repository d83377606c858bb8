"""The package installs, imports and answers --version / --help."""

import subprocess
import sys

import purerl
from purerl import cli


def test_version_flag_prints_version(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert capsys.readouterr().out.strip() == f"purerl {purerl.__version__}"


def test_module_help_runs_as_a_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "purerl", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "usage: purerl" in out


def test_output_into_a_closed_pipe_ends_quietly():
    # `python -m purerl train ppo --help | head -1`: the reader leaves early.
    proc = subprocess.Popen([sys.executable, "-m", "purerl", "train", "ppo", "--help"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before purerl writes (head -1 after its line)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
