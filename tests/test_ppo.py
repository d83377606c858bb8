"""PPO: the clip and penalty objectives and their gradients, the adaptive KL rule, the learner."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import envs
from envs.spaces import Box, Discrete
from purerl.algos import ppo
from purerl.algos.base import train
from purerl.evaluate import evaluate
from purerl.policies import make_policy, ValueFunction
from purerl.surrogates import (adapt_kl_coef, approx_kl, clip_objective, clipped_value_loss,
                               kl_penalty_objective, surrogate)

H = 1e-6  # central-difference step (float64)


def central_differences(f, x, h=H):
    """d f / d x_i by (f(x + h e_i) - f(x - h e_i)) / 2h for each i."""
    g = np.empty_like(x)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


floats = st.floats(-2.0, 2.0, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(log_probs=arrays(np.float64, 12, elements=floats), old=arrays(np.float64, 12, elements=floats),
       adv=arrays(np.float64, 12, elements=st.floats(-3.0, 3.0, allow_nan=False)),
       clip_eps=st.floats(0.05, 0.5))
def test_clip_gradient_is_zero_where_clipped_and_finite_differences_elsewhere(log_probs, old, adv, clip_eps):
    _, grad, fraction = clip_objective(log_probs, old, adv, clip_eps)
    ratio = np.exp(log_probs - old)
    clipped = ((adv > 0) & (ratio > 1 + clip_eps)) | ((adv < 0) & (ratio < 1 - clip_eps))
    assert fraction == pytest.approx(clipped.mean())
    # exactly zero, not merely small, where the clipped term is the minimum
    assert np.all(grad[clipped] == 0.0)
    fd = central_differences(lambda lp: clip_objective(lp, old, adv, clip_eps)[0], log_probs)
    # away from the kinks ratio = 1 +- eps (within the difference step) the objective is smooth
    margin = np.minimum(np.abs(ratio - (1 + clip_eps)), np.abs(ratio - (1 - clip_eps)))
    smooth = margin > 10 * H * ratio
    np.testing.assert_allclose(grad[smooth], fd[smooth], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grad[~clipped], ratio[~clipped] * adv[~clipped] / 12, rtol=1e-12)


def test_clip_objective_matches_both_textbook_forms():
    rng = np.random.default_rng(0)
    lp, old, adv = rng.normal(size=50), rng.normal(size=50), rng.normal(size=50)
    eps = 0.2
    r = np.exp(lp - old)
    first = np.minimum(r * adv, np.clip(r, 1 - eps, 1 + eps) * adv).mean()
    g = np.where(adv >= 0, (1 + eps) * adv, (1 - eps) * adv)
    second = np.minimum(r * adv, g).mean()
    value = clip_objective(lp, old, adv, eps)[0]
    assert value == pytest.approx(first, rel=1e-14) and value == pytest.approx(second, rel=1e-14)
    # at theta = theta_old nothing is clipped and the objective is the surrogate
    assert clip_objective(old, old, adv, eps)[:1] == surrogate(old, old, adv)[:1]


def test_penalty_objective_and_gradients():
    rng = np.random.default_rng(1)
    lp, old, adv, kl = rng.normal(size=9), rng.normal(size=9), rng.normal(size=9), rng.random(9)
    beta = 0.7
    value, g_lp, g_kl = kl_penalty_objective(lp, old, adv, kl, beta)
    assert value == pytest.approx((np.exp(lp - old) * adv).mean() - beta * kl.mean(), rel=1e-14)
    np.testing.assert_allclose(g_lp, central_differences(lambda x: kl_penalty_objective(x, old, adv, kl, beta)[0],
                                                         lp), rtol=1e-6)
    np.testing.assert_allclose(g_kl, central_differences(lambda x: kl_penalty_objective(lp, old, adv, x, beta)[0],
                                                         kl), rtol=1e-6)


@pytest.mark.parametrize("beta, kl, expected", [
    (1.0, 0.001, 0.5), (1.0, 0.0066, 0.5), (1.0, 0.0067, 1.0), (1.0, 0.01, 1.0), (1.0, 0.015, 1.0),
    (1.0, 0.0151, 2.0), (0.25, 1.0, 0.5), (3.0, 0.0, 1.5),
])
def test_adaptive_kl_coefficient_follows_the_rule(beta, kl, expected):
    # d_targ = 0.01: halve below 0.01 / 1.5 = 0.00667, double above 0.015, else keep
    assert adapt_kl_coef(beta, kl, 0.01) == expected


def test_approx_kl_is_nonnegative_and_zero_at_the_old_policy():
    rng = np.random.default_rng(2)
    lp, old = rng.normal(size=100), rng.normal(size=100)
    assert approx_kl(old, old) == 0.0 and approx_kl(lp, old) > 0


@settings(max_examples=50, deadline=None)
@given(values=arrays(np.float64, 10, elements=floats), old=arrays(np.float64, 10, elements=floats),
       returns=arrays(np.float64, 10, elements=floats), clip=st.floats(0.05, 1.0))
def test_clipped_value_loss_gradient(values, old, returns, clip):
    loss, grad = clipped_value_loss(values, old, returns, clip)
    v_clip = old + np.clip(values - old, -clip, clip)
    assert loss == pytest.approx(np.maximum((values - returns) ** 2, (v_clip - returns) ** 2).mean(), rel=1e-12)
    fd = central_differences(lambda v: clipped_value_loss(v, old, returns, clip)[0], values)
    # smooth away from |V - V_old| = c and from ties of the two squared errors
    e, ec = np.abs(values - returns), np.abs(v_clip - returns)
    smooth = (np.abs(np.abs(values - old) - clip) > 1e-4) & (np.abs(e - ec) > 1e-4)
    np.testing.assert_allclose(grad[smooth], fd[smooth], rtol=1e-5, atol=1e-8)


def tiny_learner(action_space, loss="clip", ent_coef=0.01, vf_clip=None, seed=0):
    """A learner-shaped object for minibatch_loss_gradient on a tiny network and batch."""
    rng = np.random.default_rng(seed)
    learner = ppo.Learner.__new__(ppo.Learner)
    learner.cfg = ppo.Config(loss=loss, ent_coef=ent_coef, vf_clip=vf_clip, normalize_advantages=True)
    learner.policy = make_policy(Box(-1.0, 1.0, shape=(3,)), action_space, hidden=(5,))
    learner.value_fn = ValueFunction(3, hidden=(4,))
    learner.params = np.concatenate([learner.policy.init(rng), learner.value_fn.init(rng)])
    n = learner.policy.n_params
    learner.params[:n] += 0.3 * rng.standard_normal(n)  # not the near-uniform initial policy
    learner.theta, learner.phi = learner.params[:n], learner.params[n:]
    learner.grad = np.zeros_like(learner.params)
    learner.beta = 0.8
    obs = rng.standard_normal((16, 3))
    theta_old = learner.theta + 0.2 * rng.standard_normal(n)
    dist, _ = learner.policy.distribution(theta_old, obs)
    actions = dist.sample(rng)
    mb = {"obs": obs, "actions": actions, "log_probs": dist.log_prob(actions),
          "advantages": rng.standard_normal(16), "returns": rng.standard_normal(16),
          "values": learner.value_fn(learner.phi, obs) + 0.1 * rng.standard_normal(16)}
    return learner, mb, theta_old


def total_loss(learner, mb, theta_old, clip_eps, params):
    """The minibatch loss computed from forward passes only (no hand-written gradients)."""
    cfg, n = learner.cfg, learner.policy.n_params
    theta, phi = params[:n], params[n:]
    adv = (mb["advantages"] - mb["advantages"].mean()) / (mb["advantages"].std() + 1e-8)
    dist, _ = learner.policy.distribution(theta, mb["obs"])
    ratio = np.exp(dist.log_prob(mb["actions"]) - mb["log_probs"])
    if cfg.loss == "clip":
        objective = np.minimum(ratio * adv, np.clip(ratio, 1 - clip_eps, 1 + clip_eps) * adv).mean()
    else:
        old_dist, _ = learner.policy.distribution(theta_old, mb["obs"])
        objective = (ratio * adv).mean() - learner.beta * old_dist.kl(dist).mean()
    objective += cfg.ent_coef * dist.entropy().mean()
    values = learner.value_fn(phi, mb["obs"])
    if cfg.vf_clip is None:
        v_loss = ((values - mb["returns"]) ** 2).mean()
    else:
        v_clip = mb["values"] + np.clip(values - mb["values"], -cfg.vf_clip, cfg.vf_clip)
        v_loss = np.maximum((values - mb["returns"]) ** 2, (v_clip - mb["returns"]) ** 2).mean()
    return -objective + cfg.vf_coef * v_loss


@pytest.mark.parametrize("head", ["categorical", "gaussian"])
@pytest.mark.parametrize("loss, vf_clip", [("clip", None), ("penalty", None), ("clip", 0.05)])
def test_minibatch_gradient_matches_finite_differences(head, loss, vf_clip):
    space = Discrete(3) if head == "categorical" else Box(-1.0, 1.0, shape=(2,))
    learner, mb, theta_old = tiny_learner(space, loss=loss, vf_clip=vf_clip)
    clip_eps = 0.15
    metrics = learner.minibatch_loss_gradient(learner.normalized(mb), clip_eps, theta_old)
    if loss == "clip":
        assert 0 < metrics["clip_fraction"] < 1  # both branches of the min are exercised
    fd = central_differences(lambda p: total_loss(learner, mb, theta_old, clip_eps, p), learner.params.copy())
    np.testing.assert_allclose(learner.grad, fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("field, value", [
    ("clip_eps", 0.0), ("gamma", 1.1), ("lam", 2.0), ("lr", -1e-3), ("epochs", 0), ("minibatch_size", 100),
    ("ent_coef", -0.1), ("vf_clip", 0.0), ("max_grad_norm", -1.0), ("target_kl", 0.0), ("kl_target", 0.0),
    ("loss", "adaptive"), ("lr_schedule", "cosine"), ("dtype", "int8"), ("num_envs", 0),
])
def test_config_validation_names_the_field(field, value):
    cfg = dataclasses.replace(ppo.Config(), **{field: value})
    with pytest.raises(ValueError, match=field):
        cfg.validate()


def run_quick(seed, **overrides):
    cfg = ppo.Config(**{**ppo.QUICK_CONFIG, **overrides})
    env = envs.make_vec(overrides.pop("env", "CartPole-v1") if "env" in overrides else "CartPole-v1",
                        cfg.num_envs, seed=seed)
    learner = ppo.Learner(env, cfg, np.random.default_rng(seed))
    return train(learner, cfg.total_steps), learner


def test_runs_repeat_bit_for_bit():
    h1, l1 = run_quick(5)
    h2, l2 = run_quick(5)
    np.testing.assert_array_equal(l1.params, l2.params)
    assert len(h1) == len(h2) >= 4
    for r1, r2 in zip(h1, h2):
        np.testing.assert_array_equal(np.array(list(r1.values()), dtype=float), np.array(list(r2.values()), dtype=float))
    _, l3 = run_quick(6)
    assert not np.array_equal(l1.params, l3.params)


def test_penalty_learner_adapts_beta_by_the_rule():
    history, _ = run_quick(0, loss="penalty", kl_coef=1.0, kl_target=0.003)
    beta = 1.0
    for row in history:
        beta = adapt_kl_coef(beta, row["kl"], 0.003)
        assert row["beta"] == beta
    assert len({row["beta"] for row in history}) > 1


def test_early_stop_on_kl_cuts_the_epochs():
    history, _ = run_quick(0, epochs=8, target_kl=1e-6)
    assert all(row["epochs"] < 8 for row in history)
    history, _ = run_quick(0, epochs=8)
    assert all(row["epochs"] == 8 for row in history)


def test_schedules_decay_to_zero():
    history, _ = run_quick(0)
    lrs = [row["lr"] for row in history]
    assert lrs[0] == ppo.Config().lr and all(b < a for a, b in zip(lrs, lrs[1:]))
    assert lrs[-1] == pytest.approx(ppo.Config().lr * (1 - (len(lrs) - 1) / len(lrs)))


def test_cupy_smoke(cupy_backend):
    cfg = ppo.Config(**ppo.QUICK_CONFIG)
    learner = ppo.Learner(envs.make_vec("CartPole-v1", cfg.num_envs, seed=0), cfg, np.random.default_rng(0))
    row = learner.step()
    assert type(learner.params).__module__.startswith("cupy") and np.isfinite(row["value_loss"])
    assert learner.act(np.zeros((3, 4), dtype=np.float32)).shape == (3,)


def solve_and_evaluate(env_name, cfg, seed=0):
    learner = ppo.Learner(envs.make_vec(env_name, cfg.num_envs, seed=seed), cfg, np.random.default_rng(seed))
    train(learner, cfg.total_steps)
    return evaluate(learner.act, env_name, episodes=20, seed=12345)


def test_ppo_solves_cartpole_within_100k_steps():
    returns = solve_and_evaluate("CartPole-v1", ppo.Config(total_steps=100_000))
    assert returns.mean() >= 475, returns


# Gaussian policy on the continuous-force cart-pole; budget documented in README ("PPO").
CONTINUOUS_BUDGET = 100_000


def test_gaussian_ppo_solves_continuous_cartpole():
    returns = solve_and_evaluate("CartPoleContinuous-v1", ppo.Config(total_steps=CONTINUOUS_BUDGET))
    assert returns.mean() >= 475, returns


def test_box_actions_are_clipped_to_the_bounds():
    cfg = ppo.Config(**ppo.QUICK_CONFIG)
    learner = ppo.Learner(envs.make_vec("CartPoleContinuous-v1", cfg.num_envs, seed=0), cfg,
                          np.random.default_rng(0))
    learner.theta[-1] = 3.0  # log_std: sigma = 20, so nearly every sample lies outside [-1, 1]
    obs = np.random.default_rng(1).standard_normal((50, 4)).astype(np.float32)
    for greedy in (False, True):
        actions = learner.act(obs, greedy=greedy)
        assert actions.shape == (50, 1) and np.all(np.abs(actions) <= 1.0)
    learner.step()  # the collector clips too: the env accepts every action


def test_minibatch_error_suggests_the_nearest_divisor():
    cfg = dataclasses.replace(ppo.Config(), num_envs=3, num_steps=32, minibatch_size=256)  # batch 96
    with pytest.raises(ValueError, match=r"= 96, e\.g\. 96"):
        cfg.validate()
    cfg = dataclasses.replace(ppo.Config(), num_envs=8, num_steps=32, minibatch_size=100)  # batch 256
    with pytest.raises(ValueError, match=r"= 256, e\.g\. 128"):
        cfg.validate()
