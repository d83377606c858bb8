"""Imports point one way (STYLE.md point 8): the simulators never import purerl,
and the estimators, distributions and the exact oracle never import the
algorithms, so each can be read and tested on its own.

Checked statically on every module's import statements (including imports
inside functions), so a lazy import cannot slip through.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORE = ["backend", "nn", "nn_ops", "losses", "optim", "schedules", "probability", "distributions", "tabular_policies",
        "policies", "estimators", "trajectories", "importance", "baselines", "exact", "enumeration", "gradient_free",
        "cg", "surrogates", "trust_region", "sumtree", "buffers"]


def imported_modules(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "envs").glob("*.py")), ids=lambda p: p.name)
def test_simulators_never_import_purerl(path):
    bad = sorted(m for m in imported_modules(path) if m == "purerl" or m.startswith("purerl."))
    assert not bad, f"envs/{path.name} imports {bad}; envs must stand alone"


@pytest.mark.parametrize("name", CORE)
def test_core_modules_never_import_the_algorithms_cli_or_runs(name):
    path = ROOT / "purerl" / f"{name}.py"
    assert path.exists(), f"purerl/{name}.py is listed here but missing"
    forbidden = ("purerl.algos", "purerl.cli", "purerl.train_command", "purerl.runs", "purerl.bench")
    bad = sorted(m for m in imported_modules(path) if m.startswith(forbidden))
    assert not bad, f"purerl/{name}.py imports {bad}"


def test_registry_names_only_simulator_modules():
    from envs import registry

    outside = {name: module for name, (module, _, _) in registry.ENTRIES.items() if not module.startswith("envs.")}
    assert not outside, f"the env registry imports modules outside envs/: {outside}"
