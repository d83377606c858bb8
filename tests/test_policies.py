"""Policy heads: the likelihood-ratio gradient and the exact Fisher-vector product.

References here are built independently of the code under test: scores by
central finite differences of log pi in theta, expectations over actions by
exact sums (discrete) or the Gaussian's closed-form Fisher.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purerl.policies import (
    BernoulliPolicy,
    CategoricalPolicy,
    GaussianPolicy,
    ValueFunction,
    fisher_vector_product,
    policy_gradient,
)

OBS_DIM = 3


def make(kind, hidden):
    if kind == "categorical":
        return CategoricalPolicy(OBS_DIM, 3, hidden=hidden)
    if kind == "bernoulli":
        return BernoulliPolicy(OBS_DIM, hidden=hidden, activation="tanh")
    return GaussianPolicy(OBS_DIM, 2, hidden=hidden, init_log_std=-0.3)


def log_pi(policy, theta, obs, actions):
    dist, _ = policy.distribution(theta, obs)
    return dist.log_prob(actions)


def fd_grad(f, theta, h=1e-6):
    """Central differences of a function R^n -> R^m; returns (m, n)."""
    cols = []
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        cols.append((f(theta + e) - f(theta - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def setup(kind, seed, batch=4, hidden=(5,)):
    rng = np.random.default_rng(seed)
    policy = make(kind, hidden)
    # A larger output scale than init gives so the policy is far from uniform.
    theta = policy.init(rng) + 0.3 * rng.standard_normal(policy.n_params)
    obs = rng.standard_normal((batch, OBS_DIM))
    return rng, policy, theta, obs


@pytest.mark.parametrize("kind", ["categorical", "bernoulli", "gaussian"])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_policy_gradient_matches_finite_differences_of_the_surrogate(kind, seed):
    rng, policy, theta, obs = setup(kind, seed)
    actions = policy.act(theta, obs, rng)
    weights = rng.standard_normal(obs.shape[0])
    grad, _ = policy_gradient(policy, theta, obs, actions, weights)

    def surrogate(t):
        return np.mean(weights * log_pi(policy, t, obs, actions))

    expected = fd_grad(surrogate, theta)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


def explicit_fisher(policy, theta, obs, kind):
    """mean_s E_{a~pi(.|s)} [g g^T] with g = d log pi(a|s) / d theta by finite differences."""
    n = policy.n_params
    fisher = np.zeros((n, n))
    for s in obs:
        s = s[None]
        if kind == "gaussian":
            # eta = (mean, log_std); closed-form M = diag(1/sigma^2, 2) per dimension.
            def eta(t):
                dist, _ = policy.distribution(t, s)
                return np.concatenate([dist.mean[0], np.broadcast_to(dist.log_std, dist.mean.shape)[0]])

            jac = fd_grad(eta, theta)
            sigma2 = np.exp(2 * eta(theta)[policy.act_dim :])
            m = np.diag(np.concatenate([1 / sigma2, np.full(policy.act_dim, 2.0)]))
            fisher += jac.T @ m @ jac
            continue
        n_actions = 2 if kind == "bernoulli" else 3
        dist, _ = policy.distribution(theta, s)
        for a in range(n_actions):
            a_arr = np.array([a])
            p = np.exp(dist.log_prob(a_arr)[0])
            g = fd_grad(lambda t: log_pi(policy, t, s, a_arr), theta)[0]
            fisher += p * np.outer(g, g)
    return fisher / obs.shape[0]


@pytest.mark.parametrize("kind", ["categorical", "bernoulli", "gaussian"])
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_fisher_vector_product_equals_explicit_fisher(kind, seed):
    rng, policy, theta, obs = setup(kind, seed, batch=3, hidden=(4,))
    dist, cache = policy.distribution(theta, obs)
    fisher = explicit_fisher(policy, theta, obs, kind)
    for _ in range(3):
        v = rng.standard_normal(policy.n_params)
        fvp = fisher_vector_product(policy, theta, cache, dist, v)
        np.testing.assert_allclose(fvp, fisher @ v, rtol=1e-6, atol=1e-8)


def test_gaussian_theta_ends_with_log_std():
    policy = GaussianPolicy(OBS_DIM, 2, hidden=(4,), init_log_std=-0.5)
    theta = policy.init(np.random.default_rng(0))
    assert theta.shape == (policy.net.n_params + 2,)
    np.testing.assert_array_equal(policy.split(theta)[1], [-0.5, -0.5])


def test_greedy_actions_are_modes_and_sampling_is_seeded():
    rng, policy, theta, obs = setup("categorical", 1, batch=50)
    dist, _ = policy.distribution(theta, obs)
    np.testing.assert_array_equal(policy.act(theta, obs, greedy=True), np.argmax(dist.logits, axis=1))
    a1 = policy.act(theta, obs, np.random.default_rng(7))
    a2 = policy.act(theta, obs, np.random.default_rng(7))
    np.testing.assert_array_equal(a1, a2)


def test_value_function_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    vf = ValueFunction(OBS_DIM, hidden=(5,))
    phi = vf.init(rng)
    obs = rng.standard_normal((6, OBS_DIM))
    g_values = rng.standard_normal(6)
    values, cache = vf.forward(phi, obs)
    np.testing.assert_array_equal(values, vf(phi, obs))
    grad = vf.backward(phi, cache, g_values)
    expected = fd_grad(lambda p: g_values @ vf(p, obs), phi)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)
