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
