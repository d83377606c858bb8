"""A3C: one worker is exactly A2C; several workers update the shared vectors
asynchronously (not bit-reproducible, so learning is asserted with a margin)."""

import dataclasses

import numpy as np
import pytest

import envs
from purerl.algos import a2c, a3c
from purerl.algos.base import NonFiniteError, train
from purerl.evaluate import evaluate
from test_a2c import assert_same_state

QUICK = a3c.Config(**a3c.QUICK_CONFIG)


def learner(cfg=QUICK, seed=0, env="CartPole-v1"):
    return a3c.Learner(envs.make_vec(env, cfg.num_envs, seed=seed), cfg, np.random.default_rng(seed))


def test_one_worker_takes_exactly_a2c_steps():
    shared = {"num_envs": 3, "num_steps": 6, "hidden_sizes": (8,), "lr": 1e-3, "ent_coef": 0.01,
              "total_steps": 360, "n_step": 4, "normalize_advantages": True}
    cfg3 = a3c.Config(**shared, num_workers=1, steps_per_iteration=18)  # one segment per iteration
    cfg2 = a2c.Config(**shared)
    one = a3c.Learner(envs.make_vec("CartPole-v1", 3, seed=2), cfg3, np.random.default_rng(2))
    ref = a2c.Learner(envs.make_vec("CartPole-v1", 3, seed=2), cfg2, np.random.default_rng(2))
    rows3, rows2 = train(one, 360), train(ref, 360)
    assert len(rows3) == len(rows2) == 20
    np.testing.assert_array_equal(one.theta, ref.theta)
    np.testing.assert_array_equal(one.phi, ref.phi)
    for key in ("policy_loss", "value_loss", "entropy", "mean_return"):
        np.testing.assert_array_equal([r[key] for r in rows3], [r[key] for r in rows2])


def test_workers_share_the_parameters_and_count_every_step():
    L = learner()
    theta0 = L.theta.copy()
    row = L.step()
    assert L.env_steps == row["env_steps"] == sum(w.steps for w in L.workers) >= QUICK.steps_per_iteration
    segment = QUICK.num_envs * QUICK.num_steps
    assert row["updates"] * segment == L.env_steps  # every segment became one shared update
    assert not np.array_equal(theta0, L.theta)
    assert len({id(w.env) for w in L.workers}) == QUICK.num_workers
    first_obs = [w.collector.obs for w in L.workers]
    assert not np.array_equal(first_obs[0], first_obs[1])  # independent games


def test_a_worker_error_reaches_the_caller(monkeypatch):
    def broken(*args):
        raise NonFiniteError("A3C losses", 0)

    monkeypatch.setattr(a3c, "actor_critic_gradients", broken)
    with pytest.raises(NonFiniteError):
        learner().step()


@pytest.mark.parametrize("field, value", [("num_workers", 0), ("lr", -1.0), ("gamma", 2.0),
                                          ("steps_per_iteration", 0), ("optimizer", "sgd")])
def test_invalid_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(a3c.Config(), **{field: value}).validate()


def test_state_dict_round_trip():
    a = learner(seed=1)
    a.step()
    b = learner(seed=7)
    b.load_state_dict(a.state_dict())
    assert_same_state(a.state_dict(), b.state_dict())
    b.step()  # and it continues


def test_gaussian_policy_runs_on_box_actions():
    L = learner(env="CartPoleContinuous-v1")
    row = L.step()
    assert np.isfinite(row["policy_loss"]) and L.act(np.zeros((2, 4))).shape == (2, 1)


def test_cupy_smoke(cupy_backend):
    L = learner()
    assert type(L.theta).__module__.startswith("cupy")
    assert np.isfinite(L.step()["value_loss"])


# Budget: the default Config at total_steps below. A3C is not bit-exact (the
# threads interleave as the OS schedules them), so a seed does not fix the
# outcome, and the test is designed around a failure rate: three seeds, at
# least two must reach a greedy mean of 475 at the end. Measured: 49 of 50
# seed-runs ended at 500 (20 tuning runs, 18 repeats of seeds 0 and 1, 12 in a
# new user's test runs, one of which ended at 451.9), so a per-seed failure
# rate p of a few percent at most; the test then fails with probability about
# 3 p^2, under 1%. See README, "Results on CartPole-v1".
A3C_BUDGET = 200_000


def test_a3c_solves_cartpole_within_budget_on_two_of_three_seeds():
    means = []
    for seed in (0, 1, 2):
        L = learner(a3c.Config(total_steps=A3C_BUDGET), seed=seed)
        train(L, A3C_BUDGET)
        means.append(evaluate(L.act, "CartPole-v1", episodes=20, seed=1000).mean())
    assert sum(m >= 475 for m in means) >= 2, f"greedy means per seed: {means}"
