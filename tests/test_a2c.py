"""A2C: its gradients, its targets (through the estimators), config checks,
bit-for-bit repeatability, resume, continuous actions, and learning CartPole-v1."""

import dataclasses

import numpy as np
import pytest

import envs
from purerl.algos import a2c
from purerl.algos.base import EpisodeStats, train
from purerl.estimators import nstep_returns
from purerl.evaluate import evaluate
from purerl.policies import CategoricalPolicy, GaussianPolicy, ValueFunction, entropy_regularized_policy_gradient
from purerl.rollout import RolloutCollector

QUICK = a2c.Config(**{**a2c.QUICK_CONFIG, "total_steps": 2000})


def learner(cfg=QUICK, seed=0, env="CartPole-v1"):
    return a2c.Learner(envs.make_vec(env, cfg.num_envs, seed=seed), cfg, np.random.default_rng(seed))


def flat_state(state, prefix=""):
    out = {}
    for k, v in state.items():
        if isinstance(v, dict):
            out.update(flat_state(v, prefix + k + "/"))
        else:
            out[prefix + k] = np.asarray(v)
    return out


def assert_same_state(a, b):
    fa, fb = flat_state(a), flat_state(b)
    assert fa.keys() == fb.keys()
    for k in fa:
        np.testing.assert_array_equal(fa[k], fb[k], err_msg=k)


@pytest.mark.parametrize("kind", ["categorical", "gaussian"])
def test_entropy_regularized_gradient_matches_finite_differences(kind):
    rng = np.random.default_rng(1)
    policy = CategoricalPolicy(3, 4, hidden=(5,)) if kind == "categorical" else GaussianPolicy(3, 2, hidden=(5,))
    theta = policy.init(rng) + 0.3 * rng.standard_normal(policy.n_params)
    obs = rng.standard_normal((6, 3))
    actions = policy.act(theta, obs, rng)
    weights, c = rng.standard_normal(6), 0.37
    grad, _ = entropy_regularized_policy_gradient(policy, theta, obs, actions, weights, c)

    def objective(t):
        dist, _ = policy.distribution(t, obs)
        return np.mean(weights * dist.log_prob(actions) + c * dist.entropy())

    h = 1e-6
    fd = np.array([(objective(theta + h * e) - objective(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_targets_are_the_estimators_n_step_returns(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return nstep_returns(*args, **kwargs)

    monkeypatch.setattr(a2c, "nstep_returns", spy)
    cfg = dataclasses.replace(QUICK, n_step=3)
    env = envs.make_vec("CartPole-v1", cfg.num_envs, seed=0, max_episode_steps=10)
    rng = np.random.default_rng(0)
    policy, value_fn = CategoricalPolicy(4, 2, hidden=(8,)), ValueFunction(4, hidden=(8,))
    theta, phi = policy.init(rng), value_fn.init(rng)
    collector = RolloutCollector(env, policy, rng, EpisodeStats(), value_fn)
    collector.reset()
    rollout = collector.collect(theta, 12, phi)
    assert rollout.truncated.any()
    returns, advantages = a2c.returns_and_advantages(rollout, cfg.gamma, cfg.n_step)
    assert calls == [{"gamma": cfg.gamma, "n": 3}]
    expected = nstep_returns(rollout.rewards, rollout.next_values, rollout.terminated, rollout.truncated,
                             gamma=cfg.gamma, n=3)
    np.testing.assert_array_equal(returns, expected)
    np.testing.assert_array_equal(advantages, expected - rollout.values)
    # n_step None: the lookahead runs to the rollout's end, A3C's target, which
    # is discounted_returns with the bootstrap and equals nstep_returns with n = T.
    returns, _ = a2c.returns_and_advantages(rollout, cfg.gamma, None)
    assert len(calls) == 1
    expected = nstep_returns(rollout.rewards, rollout.next_values, rollout.terminated, rollout.truncated,
                             gamma=cfg.gamma, n=12)
    np.testing.assert_allclose(returns, expected, rtol=1e-12)


def test_learner_step_calls_nstep_returns_once_per_iteration(monkeypatch):
    calls = []
    monkeypatch.setattr(a2c, "nstep_returns", lambda *a, **k: calls.append(k) or nstep_returns(*a, **k))
    L = learner(dataclasses.replace(QUICK, n_step=2))
    L.step()
    L.step()
    assert [c["n"] for c in calls] == [2, 2]


@pytest.mark.parametrize("field, value, match", [
    ("lr", -1e-3, "lr"),
    ("gamma", 1.5, "gamma"),
    ("num_steps", 0, "num_steps"),
    ("n_step", 0, "n_step"),
    ("ent_coef", -0.1, "ent_coef"),
    ("max_grad_norm", 0.0, "max_grad_norm"),
    ("optimizer", "sgd", "optimizer"),
    ("lr_schedule", "cosine", "lr_schedule"),
    ("hidden_sizes", (0,), "hidden_sizes"),
])
def test_invalid_config_names_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(a2c.Config(), **{field: value}).validate()


def test_same_seed_same_run_bit_for_bit():
    a, b = learner(seed=3), learner(seed=3)
    rows_a, rows_b = train(a, 1000), train(b, 1000)
    assert rows_a == rows_b
    assert_same_state(a.state_dict(), b.state_dict())
    c = learner(seed=4)
    train(c, 1000)
    assert not np.array_equal(a.theta, c.theta)


def test_resume_from_state_dict_is_bit_identical():
    straight = learner(seed=5)
    train(straight, 1200)
    paused = learner(seed=5)
    train(paused, 600)
    resumed = learner(seed=99)  # different seed: everything must come from the state
    resumed.load_state_dict(paused.state_dict())
    train(resumed, 1200)
    assert_same_state(straight.state_dict(), resumed.state_dict())


@pytest.mark.parametrize("env", ["CartPoleContinuous-v1", "Pendulum-v1"])
def test_gaussian_policy_runs_on_box_actions(env):
    L = learner(env=env)
    rows = train(L, 1000)
    assert np.isfinite(rows[-1]["policy_loss"]) and np.isfinite(rows[-1]["value_loss"])
    obs = np.random.default_rng(0).standard_normal((50, L.env.single_observation_space.shape[0]))
    L.theta *= 100.0  # means far outside the bounds
    space = L.env.single_action_space
    for greedy in (True, False):
        actions = L.act(obs, greedy)
        assert actions.shape == (50, 1) and np.all((actions >= space.low) & (actions <= space.high))
        assert np.any(np.abs(actions) == space.high)  # some were clipped


def test_cupy_smoke(cupy_backend):
    L = learner()
    assert type(L.theta).__module__.startswith("cupy")
    rows = train(L, 500)
    assert np.isfinite(rows[-1]["value_loss"])
    assert isinstance(L.act(np.zeros((2, 4), dtype=np.float32)), np.ndarray)


# Budget: the default Config (16 games x 8 steps, RMSProp 3e-3 decaying
# linearly to 0 over total_steps) at total_steps below; see README, "A2C".
A2C_BUDGET = 200_000


def test_a2c_solves_cartpole_within_budget():
    L = learner(a2c.Config(total_steps=A2C_BUDGET), seed=0)
    train(L, A2C_BUDGET)
    assert L.env_steps <= A2C_BUDGET + L.cfg.num_envs * L.cfg.num_steps
    assert evaluate(L.act, "CartPole-v1", episodes=20, seed=1000).mean() >= 475
