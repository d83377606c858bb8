"""Natural gradient and TRPO: the direction against a dense solve, the trust region, the line search.

Tiny networks in float64 so the explicit Fisher matrix (built from per-sample
Jacobians) can be formed and solved densely.
"""

import dataclasses

import numpy as np
import pytest

import envs
from envs.spaces import Box, Discrete
from purerl.algos import npg, trpo
from purerl.algos.base import train
from purerl.evaluate import evaluate
from purerl.policies import fisher_vector_product, make_policy, policy_gradient
from purerl.surrogates import mean_kl, surrogate
from purerl.trust_region import backtracking_line_search, natural_step


def tiny_batch(action_space, batch=64, seed=0):
    rng = np.random.default_rng(seed)
    policy = make_policy(Box(-1.0, 1.0, shape=(3,)), action_space, hidden=(5,))
    theta = policy.net.init(rng, gain=1.0, out_gain=1.0)
    if hasattr(policy, "split"):
        theta = np.concatenate([theta, rng.normal(-0.3, 0.2, size=policy.act_dim)])
    obs = rng.standard_normal((batch, 3))
    dist, _ = policy.distribution(theta, obs)
    actions = dist.sample(rng)
    advantages = rng.standard_normal(batch)
    return policy, theta, obs, actions, advantages


def explicit_fisher(policy, theta, obs):
    """F = (1/B) sum_s J_s^T M_s J_s from Jacobians built column by column with jvp."""
    dist, cache = policy.distribution(theta, obs)
    columns = []
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = 1.0
        tangent = policy.eta_tangent(theta, cache, e)
        if isinstance(tangent, tuple):  # Gaussian: [mean, log_std] per sample, fisher()'s order
            tangent = np.concatenate([np.broadcast_to(t, tangent[0].shape) for t in tangent], axis=1)
        columns.append(tangent)
    J = np.stack(columns, axis=-1)  # (B, dim eta, n_params)
    M = dist.fisher()  # (B, dim eta, dim eta)
    return np.einsum("bki,bkl,blj->ij", J, M, J) / obs.shape[0]


SPACES = {"categorical": Discrete(3), "gaussian": Box(-1.0, 1.0, shape=(2,))}


@pytest.mark.parametrize("head", sorted(SPACES))
@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_natural_direction_equals_dense_solve(head, damping):
    policy, theta, obs, actions, adv = tiny_batch(SPACES[head])
    g, dist = policy_gradient(policy, theta, obs, actions, adv)
    _, cache = policy.distribution(theta, obs)
    A = explicit_fisher(policy, theta, obs) + damping * np.eye(theta.size)
    max_kl = 0.01
    nat = natural_step(lambda v: fisher_vector_product(policy, theta, cache, dist, v), g, max_kl,
                       cg_iters=4 * theta.size, damping=damping, cg_tol=1e-14)
    # A categorical head's F is singular (adding a constant to every logit changes nothing);
    # CG from 0 stays in range(F), so its answer is the minimum-norm solution pinv(A) g.
    s = np.linalg.lstsq(A, g, rcond=1e-10)[0]
    assert nat.ok
    np.testing.assert_allclose(nat.step / nat.step_size, s, rtol=1e-6, atol=1e-9 * np.abs(s).max())
    np.testing.assert_allclose(nat.step_size, np.sqrt(2 * max_kl / (s @ A @ s)), rtol=1e-8)
    # the step fills the quadratic trust region exactly: 1/2 step^T A step = max_kl
    np.testing.assert_allclose(0.5 * nat.step @ A @ nat.step, max_kl, rtol=1e-8)
    np.testing.assert_allclose(nat.expected_improvement, g @ nat.step, rtol=1e-12)


def test_curvature_guard_refuses_the_step():
    g = np.array([1.0, -2.0, 0.5])
    nat = natural_step(lambda v: -v, g, max_kl=0.01)
    assert not nat.ok and nat.step_size == 0.0 and nat.expected_improvement == 0.0
    np.testing.assert_array_equal(nat.step, np.zeros(3))
    nat = natural_step(lambda v: np.full_like(v, np.nan), g, max_kl=0.01)
    assert not nat.ok


@pytest.mark.parametrize("head", sorted(SPACES))
def test_trpo_step_lands_inside_and_near_the_trust_region(head):
    policy, theta, obs, actions, adv = tiny_batch(SPACES[head], batch=256)
    dist, _ = policy.distribution(theta, obs)
    log_probs_old = dist.log_prob(actions)
    max_kl, damping = 1e-5, 0.01
    cfg = trpo.Config(max_kl=max_kl, cg_damping=damping, cg_iters=100)
    theta_new = theta.copy()
    m = trpo.policy_step(policy, theta_new, obs, actions, log_probs_old, adv, cfg)
    new_dist, _ = policy.distribution(theta_new, obs)
    kl = mean_kl(dist, new_dist)
    assert m["accepted"] == 1.0 and m["step_fraction"] == 1.0 and m["kl"] == kl
    # The full step fills the damped quadratic region, 1/2 step^T (F + damping I) step = max_kl,
    # so the second-order KL is max_kl - damping/2 ||step||^2; the exact KL agrees to O(step^3).
    step = theta_new - theta
    predicted = max_kl - 0.5 * damping * step @ step
    assert kl <= max_kl and predicted > 0.6 * max_kl
    assert kl == pytest.approx(predicted, rel=0.03)
    gain = surrogate(new_dist.log_prob(actions), log_probs_old, adv)[0] - surrogate(
        log_probs_old, log_probs_old, adv)[0]
    assert gain > 0 and m["surrogate_gain"] == pytest.approx(gain, rel=1e-12)


def test_trpo_backtracks_when_the_full_step_breaks_the_kl_bound():
    policy, theta, obs, actions, adv = tiny_batch(SPACES["categorical"], batch=256)
    dist, _ = policy.distribution(theta, obs)
    log_probs_old = dist.log_prob(actions)
    # big max_kl: the quadratic model underestimates the KL; a tiny damping-free step is then
    # accepted only after shrinking it
    cfg = trpo.Config(max_kl=2.0, cg_damping=0.0, cg_iters=50, backtrack_ratio=0.5, max_backtracks=30)
    theta_new = theta.copy()
    m = trpo.policy_step(policy, theta_new, obs, actions, log_probs_old, adv, cfg)
    kl = mean_kl(dist, policy.distribution(theta_new, obs)[0])
    assert m["accepted"] == 1.0 and m["step_fraction"] < 1.0 and kl <= 2.0


def test_line_search_restores_theta_when_nothing_is_accepted():
    theta = np.array([0.1, -0.7, 2.5])
    before = theta.copy()
    view = theta[1:]  # views into theta must stay valid
    seen = []

    def never_improves(candidate):
        seen.append(candidate.copy())
        return -1.0, 0.0

    result = backtracking_line_search(never_improves, theta, np.array([1.0, 1.0, 1.0]), surrogate_old=0.0,
                                      max_kl=0.01, backtrack_ratio=0.5, max_backtracks=4)
    assert not result.accepted and result.fraction == 0.0 and result.backtracks == 4
    np.testing.assert_array_equal(theta, before)
    assert view.base is theta and view[0] == before[1]
    fractions = [(c - before)[0] for c in seen]
    np.testing.assert_allclose(fractions, [1.0, 0.5, 0.25, 0.125])

    def too_far(candidate):
        return 1.0, 1.0  # improves, but KL > max_kl

    backtracking_line_search(too_far, theta, np.ones(3), 0.0, 0.01)
    np.testing.assert_array_equal(theta, before)


def test_line_search_takes_the_first_acceptable_fraction():
    theta = np.zeros(2)
    step = np.array([1.0, 2.0])

    def evaluate(candidate):
        f = candidate[0]
        return f, f * f  # surrogate improves with f, kl = f^2

    result = backtracking_line_search(evaluate, theta, step, surrogate_old=0.0, max_kl=0.3,
                                      backtrack_ratio=0.5, max_backtracks=10)
    # f = 1 (kl 1), 0.5 (kl 0.25 <= 0.3): the second candidate
    assert result.accepted and result.fraction == 0.5 and result.backtracks == 1
    np.testing.assert_array_equal(theta, 0.5 * step)
    assert (result.surrogate, result.kl) == (0.5, 0.25)


def test_npg_takes_the_full_step_without_line_search():
    policy, theta, obs, actions, adv = tiny_batch(SPACES["gaussian"], batch=128)
    log_probs_old = policy.distribution(theta, obs)[0].log_prob(actions)
    assert npg.Config().line_search is False
    steps = {}
    for max_kl in (1e-5, 10.0):
        for module in (npg, trpo):
            cfg = module.Config(max_kl=max_kl, cg_damping=0.01, cg_iters=50)
            steps[module, max_kl] = theta.copy()
            m = trpo.policy_step(policy, steps[module, max_kl], obs, actions, log_probs_old, adv, cfg)
            if module is npg:
                assert m["step_fraction"] == 1.0
            else:
                assert m["kl"] <= max_kl
    # a small region: TRPO accepts the full step, which is NPG's step
    np.testing.assert_array_equal(steps[npg, 1e-5], steps[trpo, 1e-5])
    # a huge one: the quadratic model fails, NPG overshoots and TRPO backtracks
    npg_kl = mean_kl(policy.distribution(theta, obs)[0], policy.distribution(steps[npg, 10.0], obs)[0])
    assert npg_kl > 10.0 and not np.array_equal(steps[npg, 10.0], steps[trpo, 10.0])


@pytest.mark.parametrize("field, value", [
    ("max_kl", 0.0), ("max_kl", -0.01), ("gamma", 1.5), ("lam", -0.1), ("backtrack_ratio", 1.0),
    ("cg_iters", 0), ("cg_damping", -1.0), ("vf_lr", 0.0), ("num_envs", 0), ("dtype", "float16"),
])
def test_config_validation_names_the_field(field, value):
    cfg = dataclasses.replace(trpo.Config(), **{field: value})
    with pytest.raises(ValueError, match=field):
        cfg.validate()


def run_quick(module, seed, env_name="CartPole-v1"):
    cfg = trpo.Config(**{**module.QUICK_CONFIG, "line_search": module is trpo})
    env = envs.make_vec(env_name, cfg.num_envs, seed=seed)
    learner = module.Learner(env, cfg, np.random.default_rng(seed))
    history = train(learner, cfg.total_steps)
    return history, learner.params.copy()


@pytest.mark.parametrize("module", [trpo, npg])
def test_runs_repeat_bit_for_bit(module):
    h1, p1 = run_quick(module, 3)
    h2, p2 = run_quick(module, 3)
    np.testing.assert_array_equal(p1, p2)
    assert h1 == h2 or all(
        (a == b) or (np.isnan(a) and np.isnan(b)) for r1, r2 in zip(h1, h2) for a, b in zip(r1.values(), r2.values()))
    _, p3 = run_quick(module, 4)
    assert not np.array_equal(p1, p3)


def test_gaussian_policy_runs_on_pendulum():
    history, params = run_quick(trpo, 0, "Pendulum-v1")
    assert len(history) >= 4 and np.all(np.isfinite(params))


def test_cupy_smoke(cupy_backend):
    cfg = trpo.Config(**trpo.QUICK_CONFIG)
    learner = trpo.Learner(envs.make_vec("CartPole-v1", cfg.num_envs, seed=0), cfg, np.random.default_rng(0))
    row = learner.step()
    assert type(learner.params).__module__.startswith("cupy") and np.isfinite(row["value_loss"])


# Budget: 150k env steps (the default config: 8 games x 256 steps, max_kl 0.01); about 9 s on an idle
# 2-core machine, 30 s on a busy one. Seed 0 is already at 500 after 100k; the rest is margin.
TRPO_BUDGET = 150_000


def test_trpo_solves_cartpole():
    cfg = trpo.Config(total_steps=TRPO_BUDGET)
    learner = trpo.Learner(envs.make_vec("CartPole-v1", cfg.num_envs, seed=0), cfg, np.random.default_rng(0))
    train(learner, cfg.total_steps)
    returns = evaluate(learner.act, "CartPole-v1", episodes=20, seed=12345)
    assert returns.mean() >= 475, returns
