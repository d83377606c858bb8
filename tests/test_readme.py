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


ROOT = README.parent


def names_defined_in(path):
    """Top-level and nested functions, classes, assigned names and imported names of a module."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def code_references():
    """(file as written, resolved path or None, name) for every `file.py: name, name` in README."""
    refs = []
    for path, names in re.findall(r"`((?:purerl/|envs/)?[\w/]+\.py): ([^`]+)`", README.read_text()):
        candidates = [path] if path.startswith(("purerl/", "envs/")) else ["purerl/" + path, "envs/" + path]
        found = next((ROOT / c for c in candidates if (ROOT / c).is_file()), None)
        for name in re.split(r",\s*", names):
            refs.append((path, found, re.match(r"[\w.]*", name.strip()).group(0)))
    return refs


def test_readme_code_references_name_real_files_and_definitions():
    """`purerl/x.py: name` in README (the notes-to-code map, the glossary) points at code that exists."""
    refs = code_references()
    assert len(refs) >= 100
    stale = [f"{path}: {name}" for path, found, name in refs
             if found is None or any(part not in names_defined_in(found) for part in name.split(".") if part)]
    assert not stale, f"README names code that does not exist: {stale}"


def test_readme_file_paths_exist():
    """Every purerl/..., envs/... or tests/... .py path README mentions (commands included) exists."""
    paths = set(re.findall(r"(?<![\w/.])((?:purerl|envs|tests)/[\w/]+\.py)", README.read_text()))
    assert len(paths) >= 30
    assert sorted(p for p in paths if not (ROOT / p).is_file()) == []


def readme_commands():
    """The argument lists of every `python -m purerl ...` in README, placeholders filled in."""
    import shlex

    commands = set()
    for match in re.finditer(r"python -m purerl ([^`\n#|]*)", README.read_text()):
        text = match.group(1).strip().rstrip("\\").strip()
        if text.split()[0] in ("COMMAND", "bench") and text.split()[-1] in ("COMMAND", "..."):
            continue  # the generic forms `python -m purerl COMMAND`, `bench ...`
        commands.add(text.replace("--seed S", "--seed 0"))
    return [shlex.split(c) for c in sorted(commands)]


def test_readme_commands_parse_and_set_real_config_fields(capsys):
    """Every command README shows is accepted by the CLI's parser; every --set names a field of its algorithm."""
    from dataclasses import fields

    from purerl.algos import registry
    from purerl.cli import build_parser

    commands = readme_commands()
    assert len(commands) >= 30
    for argv in commands:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as stop:
            assert stop.code in (0, None), f"`python -m purerl {' '.join(argv)}`: {capsys.readouterr().err}"
            continue
        if argv[0] == "train" and getattr(args, "algo", None) not in (None, "ALGO", "NAME"):
            known = {f.name for f in fields(registry.load(args.algo).Config)}
            for item in args.set or []:
                assert item.split("=")[0] in known, f"`{' '.join(argv)}`: {args.algo} has no field {item!r}"
