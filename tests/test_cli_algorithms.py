"""Every registered algorithm works with the command line, and resumes bit-identically.

Parametrised over purerl/algos/registry.py, so each learner is covered as soon
as it is registered. See purerl/algos/base.py ("Configuration and the command
line") for what a learner module provides.
"""

import dataclasses
import os

import pytest

import envs
from cli_fakes import cli_runner, run_dir_of
from purerl.algos import registry
from purerl.algos.base import config_from_dict
from purerl.configs import field_docs, field_types, format_value, parse_value
from purerl.logger import read_rows
from test_cli import assert_same_run

ALGOS = registry.names()


@pytest.fixture
def cli(monkeypatch, tmp_path, capfd):
    """run(*argv) -> (exit code, stdout, stderr), in tmp_path, real learners and envs only."""
    return cli_runner(monkeypatch, tmp_path, capfd)


@pytest.mark.parametrize("algo", ALGOS)
def test_module_provides_what_the_cli_needs(algo):
    module = registry.load(algo)
    cfg_cls = module.Config
    assert dataclasses.is_dataclass(cfg_cls) and cfg_cls.__dataclass_params__.frozen
    default = cfg_cls()
    default.validate()
    types_ = field_types(cfg_cls)
    for name, _, _, doc in field_docs(cfg_cls):
        assert doc.strip(), f"{algo}: Config.{name} has no metadata['help']"
        value = getattr(default, name)
        assert parse_value(format_value(value), types_[name]) == value, f"{algo}: --set {name} does not round-trip"
    assert set(module.QUICK_CONFIG) <= set(types_)
    assert "total_steps" in module.QUICK_CONFIG
    config_from_dict(cfg_cls, module.QUICK_CONFIG)
    assert registry.default_env(module) in envs.names()
    for method in ("step", "act", "state_dict", "load_state_dict"):
        assert callable(getattr(module.Learner, method, None)), f"{algo}: Learner.{method} missing"


@pytest.mark.parametrize("algo", ALGOS)
def test_train_help_lists_the_settings(algo, cli):
    code, out, _ = cli("train", algo, "--help")
    assert code == 0
    for name, _, default, _ in field_docs(registry.load(algo).Config):
        assert f"  {name}={default}  (" in out


@pytest.mark.parametrize("algo", ALGOS)
def test_pause_and_resume_equal_a_straight_run(algo, cli):
    module = registry.load(algo)
    if not getattr(module, "DETERMINISTIC", True):
        pytest.skip(f"{algo} declares DETERMINISTIC = False")
    settings = [f"--set={k}={format_value(v)}" for k, v in module.QUICK_CONFIG.items()]
    common = ["--eval-episodes", "0", *settings]

    code, out, err = cli("train", algo, "--out", "a", *common)
    assert code == 0, out + err
    straight = run_dir_of(out)
    steps = [int(r["env_steps"]) for r in read_rows(os.path.join(straight, "metrics.csv"))[1]]
    assert len(steps) >= 4, f"{algo}: QUICK_CONFIG should give at least 4 iterations, got {len(steps)}"
    pause = steps[len(steps) // 2 - 1]

    code, out, err = cli("train", algo, "--out", "b", "--pause-at", pause, *common)
    assert code == 0 and f"paused at {pause:,} env steps" in out, out + err
    paused = run_dir_of(out)
    code, out, err = cli("train", "--resume", paused, "--eval-episodes", "0")
    assert code == 0, out + err
    assert_same_run(straight, paused)


def test_default_env_kwargs_apply_to_the_default_env_and_yield_to_env_args(cli):
    from purerl import runs

    module = registry.load("ppo-pong")
    assert registry.default_env_kwargs(module) == {"frameskip": 4}
    settings = [f"--set={k}={format_value(v)}" for k, v in module.QUICK_CONFIG.items()]
    cases = [([], {"frameskip": 4}),
             (["--env", "PongDiff-v0", "--env-arg", "actions=updown"], {"frameskip": 4, "actions": "updown"}),
             (["--env-arg", "frameskip=1"], {"frameskip": 1}),
             (["--env", "Pong-v0", "--env-arg", "obs_type=state", "--set", "sparse_input=false"],
              {"obs_type": "state"})]
    for i, (extra, expected) in enumerate(cases):
        code, out, err = cli("train", "ppo-pong", "--out", f"r{i}", "--eval-episodes", "0", *settings, *extra)
        assert code == 0, out + err
        assert runs.read_config(run_dir_of(out))["env_kwargs"] == expected
    code, out, _ = cli("train", "ppo-pong", "--help")
    assert "default environment: PongDiff-v0 --env-arg frameskip=4" in out


def test_eval_names_uniform_actions_for_the_random_policy_and_greedy_ones_otherwise(cli):
    for algo, mode in (("random", "uniformly random actions"), ("reinforce", "greedy actions")):
        settings = [f"--set={k}={format_value(v)}" for k, v in registry.load(algo).QUICK_CONFIG.items()]
        code, out, err = cli("train", algo, "--out", algo, "--eval-episodes", "2", *settings)
        assert code == 0 and f"evaluation, 2 episodes with {mode}:" in out, out + err
        code, out, err = cli("eval", run_dir_of(out), "--episodes", "2")
        assert code == 0 and f"return over 2 episodes ({mode}, seeds 0..1)" in out, out + err
