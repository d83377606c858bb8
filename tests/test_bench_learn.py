"""bench learn: every BENCH declaration is usable, and the summary counts what it claims."""

import math

import pytest

from purerl.algos import registry
from purerl.algos.base import config_from_dict
from purerl.bench import learn


@pytest.mark.parametrize("name", learn.default_algorithms())
def test_bench_declarations_are_valid_configs(name):
    module, spec = learn.bench_spec(name)
    assert isinstance(spec["steps"], int) and spec["steps"] > 0
    assert spec["solved_by"] in learn.CRITERIA and math.isfinite(spec["threshold"])
    config_from_dict(module.Config, {**spec["config"], "total_steps": spec["steps"]})


def test_every_learner_that_solves_a_task_takes_part():
    assert {"ppo", "trpo", "npg", "a2c", "a3c", "reinforce", "dqn", "ddpg"} <= set(learn.default_algorithms())


def test_declarations_fill_in_env_threshold_and_criterion():
    _, ppo = learn.bench_spec("ppo")
    assert (ppo["env"], ppo["threshold"], ppo["solved_by"]) == ("CartPole-v1", 475.0, "train_mean")
    _, ddpg = learn.bench_spec("ddpg")
    assert (ddpg["env"], ddpg["threshold"], ddpg["solved_by"]) == ("Pendulum-v1", -250.0, "greedy")


def test_algorithm_without_bench_runs_with_its_defaults():
    module, spec = learn.bench_spec("random")
    assert not hasattr(module, "BENCH") and spec["config"] == {}
    assert spec["steps"] == module.Config().total_steps and spec["env"] == "CartPole-v1"


def test_summary_counts_solved_seeds_and_takes_medians():
    _, spec = learn.bench_spec("ppo")
    runs = [(1000, 2.0, 1.0, 5000, 10.0), (None, None, None, 5000, 5.0), (3000, 4.0, 2.0, 5000, 10.0)]
    row, seconds = learn.summarize("x", spec, runs, 5000)
    assert row[3] == "2/3" and row[4] == "2,000" and row[5] == "3.00" and row[6] == "1.50"
    assert seconds == (3.0, 1.5)
    assert row[7] == "500"  # median of 500, 1000, 500 env steps/s
    row, seconds = learn.summarize("y", spec, [(None, None, None, 10, 1.0)], 10)
    assert row[3] == "0/1" and row[4] == "-" and all(math.isnan(s) for s in seconds)


def test_a_short_run_reports_its_numbers():
    module, spec = learn.bench_spec("ppo")
    spec = {**spec, "config": {**spec["config"], **module.QUICK_CONFIG}}
    solved_steps, solved_s, solved_cpu, steps, seconds = learn.run_purerl(module, spec, seed=0, steps=1024)
    assert solved_steps is None and solved_s is None and solved_cpu is None  # far too short to balance a pole
    assert steps == 1024 and seconds > 0


def test_greedy_criterion_evaluates_on_schedule_and_pauses_the_clock(monkeypatch):
    calls = []

    def fake_greedy_mean(act, env_name, seed):
        calls.append(env_name)
        return 500.0 if len(calls) == 2 else 0.0

    monkeypatch.setattr(learn, "greedy_mean", fake_greedy_mean)
    spec = {"solved_by": "greedy", "threshold": 475.0, "env": "CartPole-v1", "eval_every": 100}
    clock = learn.SolveClock()
    assert learn.is_solved(spec, clock, None, 0.0, 50, 100, seed=0) == (False, 100)  # not due yet
    assert learn.is_solved(spec, clock, None, 0.0, 120, 100, seed=0) == (False, 220)
    assert learn.is_solved(spec, clock, None, 0.0, 230, 220, seed=0) == (True, 330)
    assert calls == ["CartPole-v1", "CartPole-v1"]


def test_registry_names_resolve():
    for name in learn.default_algorithms():
        assert name in registry.names()


def test_sb3_baselines_default_to_those_of_the_benchmarked_algorithms():
    assert learn.sb3_algorithms(None, ["dqn", "ddpg"]) == ["dqn"]
    assert learn.sb3_algorithms(None, ["a2c"]) == []
    assert set(learn.sb3_algorithms(None, learn.default_algorithms())) == {"ppo", "dqn"}
    assert learn.sb3_algorithms("ppo", ["dqn"]) == ["ppo"]
    with pytest.raises(SystemExit, match="no SB3 zoo baseline for a2c; choose from ppo, dqn"):
        learn.sb3_algorithms("ppo,a2c", ["ppo"])


def test_set_overrides_every_benchmarked_config_and_names_the_row(monkeypatch):
    import types

    seen = []

    def fake_run(module, spec, seed, steps=None, stop_at_solve=False):
        seen.append(spec["config"])
        return (None, None, None, 10, 1.0)

    monkeypatch.setattr(learn, "run_purerl", fake_run)
    args = types.SimpleNamespace(set=["double_q=true", "lr=5e-4"], steps=10, seeds=2, stop_at_solve=False)
    row, spec, _ = learn.bench_algorithm("dqn", args)
    assert row[0] == "dqn double_q=true lr=5e-4"
    assert len(seen) == 3 and all(c["double_q"] is True and c["lr"] == 5e-4 for c in seen)  # warm-up + 2 seeds
    assert learn.bench_spec("dqn")[1]["config"].get("double_q") is not True  # the declaration is not changed
    with pytest.raises(SystemExit, match="--set: unknown ppo config field 'double_q'"):
        learn.check(types.SimpleNamespace(set=["double_q=true"], seeds=1, steps=None, sb3=None), ["dqn", "ppo"])
