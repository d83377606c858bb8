"""REINFORCE: returns and baselines on whole-episode batches, config checks,
bit-for-bit repeatability, resume, continuous actions, and learning CartPole-v1."""

import dataclasses
import itertools

import numpy as np
import pytest

import envs
from purerl.algos import reinforce
from purerl.algos.base import EpisodeStats, train
from purerl.evaluate import evaluate
from purerl.policies import CategoricalPolicy, ValueFunction, policy_gradient
from purerl.rollout import Rollout, RolloutCollector
from test_a2c import assert_same_state

QUICK = reinforce.Config(**reinforce.QUICK_CONFIG)


def learner(cfg=QUICK, seed=0, env="CartPole-v1", **env_kwargs):
    venv = envs.make_vec(env, cfg.num_envs, seed=seed, **env_kwargs)
    return reinforce.Learner(venv, cfg, np.random.default_rng(seed))


def episodes(seed=0, num_envs=3, per_env=2, max_episode_steps=500, value=True):
    env = envs.make_vec("CartPole-v1", num_envs, seed=seed, max_episode_steps=max_episode_steps)
    rng = np.random.default_rng(seed)
    policy, vf = CategoricalPolicy(4, 2, hidden=(8,)), ValueFunction(4, hidden=(8,))
    theta, phi = policy.init(rng), vf.init(rng)
    c = RolloutCollector(env, policy, rng, EpisodeStats(), vf if value else None)
    c.reset()
    return policy, theta, c.collect_episodes(theta, per_env, phi if value else None)


def test_aligned_episodes_number_steps_and_episodes():
    done = np.array([[0, 0], [1, 0], [0, 1], [1, 0], [0, 0]], dtype=bool)
    valid = np.array([[1, 1], [1, 1], [1, 1], [1, 0], [0, 0]], dtype=bool)
    r = Rollout(obs=None, actions=None, log_probs=None, rewards=np.ones((5, 2)), terminated=done,
                truncated=np.zeros_like(done), valid=valid)
    k, e = reinforce.aligned_episodes(r)
    # flat order is row-major over (t, game): (0,0) (0,1) (1,0) (1,1) (2,0) (2,1) (3,0)
    np.testing.assert_array_equal(k, [0, 0, 1, 1, 0, 2, 1])
    np.testing.assert_array_equal(e, [0, 2, 0, 2, 1, 2, 1])


def test_time_baseline_is_the_mean_over_episodes_alive_at_each_step():
    _, _, r = episodes()
    G = reinforce.episode_returns(r, 0.9, "reward_to_go", r.next_values)[0].reshape(-1)[r.valid.reshape(-1)]
    k, e = reinforce.aligned_episodes(r)
    b = reinforce.time_dependent_baseline(G, k, e)
    for step in np.unique(k):
        np.testing.assert_allclose(b[k == step], G[k == step].mean(), rtol=1e-12)
    assert len(np.unique(e)) == 6


def test_optimal_baseline_matches_per_episode_gradients():
    policy, theta, r = episodes(seed=1)
    obs, actions = r.flat("obs"), r.flat("actions")
    R = reinforce.episode_returns(r, 1.0, "full", np.zeros(r.rewards.shape))[0].reshape(-1)[r.valid.reshape(-1)]
    _, e = reinforce.aligned_episodes(r)
    h, u = [], []
    for i in range(e.max() + 1):  # policy_gradient averages over the episode's n steps: times n sums
        rows = e == i
        n = rows.sum()
        h.append(n * policy_gradient(policy, theta, obs[rows], actions[rows], np.ones(n))[0])
        u.append(n * policy_gradient(policy, theta, obs[rows], actions[rows], R[rows])[0])
    h, u = np.array(h), np.array(u)
    expected = np.sum(h * u) / np.sum(h * h)
    b = reinforce.optimal_constant_baseline(policy, theta, obs, actions, R, e)
    assert float(b) == pytest.approx(expected, rel=1e-10)
    # for the full return, u_i = R_i h_i, so b* = sum |h_i|^2 R_i / sum |h_i|^2 (handwritten notes)
    R_ep = np.array([R[e == i][0] for i in range(e.max() + 1)])
    assert float(b) == pytest.approx(np.sum(np.sum(h * h, axis=1) * R_ep) / np.sum(h * h), rel=1e-10)


def test_returns_by_type_and_bootstrap_at_truncation():
    _, _, r = episodes(max_episode_steps=6)
    gamma = 0.9
    full, G = reinforce.episode_returns(r, gamma, "full", r.next_values)
    disc, _ = reinforce.episode_returns(r, gamma, "discounted_reward_to_go", r.next_values)
    k = reinforce.discount_factors(r, gamma)
    np.testing.assert_allclose(disc, k * G)
    starts = np.vstack([np.ones((1, 3), bool), (r.terminated | r.truncated)[:-1]])
    np.testing.assert_array_equal(full[starts], G[starts])  # R(tau) is G at the episode's first step
    assert r.truncated[r.valid].any()
    ends = r.truncated & r.valid
    np.testing.assert_allclose(G[ends], 1.0 + gamma * r.next_values[ends])  # bootstraps from V(final_obs)
    term = r.terminated & r.valid
    np.testing.assert_array_equal(G[term], 1.0)


@pytest.mark.parametrize("field, value, match", [
    ("lr", -1.0, "lr"),
    ("gamma", 1.01, "gamma"),
    ("episodes_per_env", 0, "episodes_per_env"),
    ("vf_batch_size", 0, "vf_batch_size"),
    ("prox_lam", -0.1, "prox_lam"),
    ("baseline", "median", "baseline"),
    ("return_type", "lambda", "return_type"),
    ("value_fit", "gae", "value_fit"),
])
def test_invalid_config_names_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(reinforce.Config(), **{field: value}).validate()


def test_time_baseline_needs_a_per_step_return():
    with pytest.raises(ValueError, match="'time' needs return_type"):
        reinforce.Config(return_type="full", baseline="time").validate()


COMBOS = [(rt, b) for rt, b in itertools.product(reinforce.RETURN_TYPES, reinforce.BASELINES)
          if not (rt == "full" and b == "time")]


@pytest.mark.parametrize("return_type, baseline", COMBOS)
def test_every_return_and_baseline_trains(return_type, baseline):
    cfg = dataclasses.replace(QUICK, return_type=return_type, baseline=baseline, total_steps=300)
    L = learner(cfg)
    theta0 = L.theta.copy()
    rows = train(L, cfg.total_steps)
    assert not np.array_equal(theta0, L.theta)
    assert np.isfinite(rows[-1]["grad_norm"]) and rows[-1]["batch_episodes"] == cfg.num_envs
    assert np.isfinite(rows[-1]["value_loss"]) == (baseline == "value")


def test_td_fitted_value_baseline_trains():
    cfg = dataclasses.replace(QUICK, value_fit="td", prox_lam=0.1, td_iterations=2, total_steps=300)
    rows = train(learner(cfg), cfg.total_steps)
    assert np.isfinite(rows[-1]["value_loss"])


def test_same_seed_same_run_bit_for_bit():
    a, b = learner(seed=3), learner(seed=3)
    assert train(a, 600) == train(b, 600)
    assert_same_state(a.state_dict(), b.state_dict())


@pytest.mark.parametrize("baseline", ["value", "none"])
def test_resume_from_state_dict_is_bit_identical(baseline):
    cfg = dataclasses.replace(QUICK, baseline=baseline)
    straight = learner(cfg, seed=5)
    train(straight, 800)
    paused = learner(cfg, seed=5)
    train(paused, 400)
    resumed = learner(cfg, seed=99)
    resumed.load_state_dict(paused.state_dict())
    train(resumed, 800)
    assert straight.env_steps == resumed.env_steps
    assert_same_state(straight.state_dict(), resumed.state_dict())


def test_gaussian_policy_on_continuous_cartpole():
    L = learner(env="CartPoleContinuous-v1")
    rows = train(L, 400)
    assert np.isfinite(rows[-1]["grad_norm"])
    assert L.act(np.zeros((2, 4))).shape == (2, 1)


def test_cupy_smoke(cupy_backend):
    for baseline in ("value", "time", "optimal"):
        L = learner(dataclasses.replace(QUICK, baseline=baseline))
        assert type(L.theta).__module__.startswith("cupy")
        assert np.isfinite(train(L, 300)[-1]["grad_norm"])


# Budget: the default Config at total_steps below (whole episodes, so the
# run may overshoot by one batch); see README, "REINFORCE".
REINFORCE_BUDGET = 150_000


def test_reinforce_with_value_baseline_solves_cartpole_within_budget():
    L = learner(reinforce.Config(total_steps=REINFORCE_BUDGET), seed=0)
    train(L, REINFORCE_BUDGET)
    assert evaluate(L.act, "CartPole-v1", episodes=20, seed=1000).mean() >= 475
