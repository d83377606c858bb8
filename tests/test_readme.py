"""README's Python examples run as written (each in a fresh interpreter).

A block preceded by the line `<!-- not run by the tests: REASON -->` is
skipped (long measurements); every other ```python block must run without
error, so the examples cannot drift from the code.
"""

import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SKIP = "<!-- not run by the tests"


def python_blocks():
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"```python\n(.*?)```", text, re.S):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip().splitlines()[-1]
        blocks.append(pytest.param(match.group(1), id=f"line{line}",
                                   marks=[pytest.mark.skip(reason=before)] if before.startswith(SKIP) else []))
    return blocks


def test_readme_has_python_examples():
    assert len(python_blocks()) >= 5


@pytest.mark.parametrize("code", python_blocks())
def test_readme_example_runs(code, tmp_path):
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
