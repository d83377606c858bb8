"""bench learn: every BENCH declaration is usable, and the summary counts what it claims."""

import math

import pytest

from purerl.algos import registry
from purerl.algos.base import config_from_dict
from purerl.bench import learn


@pytest.mark.parametrize("name", learn.default_algorithms())
def test_bench_declarations_are_valid_configs(name):
    module, overrides, budget = learn.bench_spec(name)
    assert isinstance(budget, int) and budget > 0
    config_from_dict(module.Config, {**overrides, "total_steps": budget})


def test_the_on_policy_learners_take_part():
    assert {"ppo", "trpo"} <= set(learn.default_algorithms())


def test_algorithm_without_bench_runs_with_its_defaults():
    module, overrides, budget = learn.bench_spec("random")
    assert not hasattr(module, "BENCH") and overrides == {} and budget == module.Config().total_steps


def test_summary_counts_solved_seeds_and_takes_medians():
    runs = [(1000, 2.0, 1.0, 5000, 10.0), (None, None, None, 5000, 5.0), (3000, 4.0, 2.0, 5000, 10.0)]
    row, seconds = learn.summarize("x", runs, 5000)
    assert row[1] == "2/3" and row[2] == "2,000" and row[3] == "3.00" and row[4] == "1.50"
    assert seconds == (3.0, 1.5)
    assert row[5] == "500"  # median of 500, 1000, 500 env steps/s
    row, seconds = learn.summarize("y", [(None, None, None, 10, 1.0)], 10)
    assert row[1] == "0/1" and row[2] == "-" and all(math.isnan(s) for s in seconds)


def test_a_short_run_reports_its_numbers():
    module, overrides, _ = learn.bench_spec("ppo")
    solved_steps, solved_s, solved_cpu, steps, seconds = learn.run_purerl(
        module, {**overrides, **module.QUICK_CONFIG}, 1024, seed=0)
    assert solved_steps is None and solved_s is None and solved_cpu is None  # far too short to balance a pole
    assert steps == 1024 and seconds > 0


def test_registry_names_resolve():
    for name in learn.default_algorithms():
        assert name in registry.names()
