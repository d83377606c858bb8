"""Tabular softmax policies: scores against central finite differences,
exact sums over actions, sampling frequencies within stated bounds."""

import numpy as np
import pytest

from purerl.tabular_policies import LinearSoftmax, TabularSoftmax
from test_distributions import numerical_grad



def tabular_policies(rng, n_states=3, n_actions=4, d=5):
    """A TabularSoftmax and a LinearSoftmax with random float64 parameters."""
    tab = TabularSoftmax(n_states, n_actions)
    lin = LinearSoftmax(rng.standard_normal((n_states, n_actions, d)))
    return [(tab, rng.standard_normal(tab.n_params)), (lin, rng.standard_normal(lin.n_params))]


@pytest.mark.parametrize("which", [0, 1])
def test_tabular_score_matches_finite_differences(which):
    rng = np.random.default_rng(0)
    policy, theta = tabular_policies(rng)[which]
    for s in range(policy.n_states):
        for a in range(policy.n_actions):
            fd = numerical_grad(lambda th: policy.log_prob(th, s, a), theta)
            np.testing.assert_allclose(policy.score(theta, s, a), fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("which", [0, 1])
def test_tabular_probs_sum_to_one_and_score_has_mean_zero(which):
    rng = np.random.default_rng(1)
    policy, theta = tabular_policies(rng)[which]
    pi = policy.probs(theta)
    assert pi.shape == (policy.n_states, policy.n_actions)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert np.all(pi > 0)
    table = policy.score_table(theta)  # (S, A, n_params)
    # E_{a ~ pi(.|s)} grad log pi(a|s) = 0 in every state, by summing over actions
    np.testing.assert_allclose((pi[:, :, None] * table).sum(axis=1), 0.0, atol=1e-14)


@pytest.mark.parametrize("which", [0, 1])
def test_tabular_vectorised_score_equals_scalar_score(which):
    rng = np.random.default_rng(2)
    policy, theta = tabular_policies(rng)[which]
    s = rng.integers(0, policy.n_states, size=7)
    a = rng.integers(0, policy.n_actions, size=7)
    rows = policy.score(theta, s, a)
    assert rows.shape == (7, policy.n_params)
    for t in range(7):
        np.testing.assert_array_equal(rows[t], policy.score(theta, s[t], a[t]))
    np.testing.assert_array_equal(
        policy.log_prob(theta, s, a), [policy.log_prob(theta, s[t], a[t]) for t in range(7)]
    )


def test_linear_softmax_with_one_hot_features_is_tabular_softmax():
    rng = np.random.default_rng(3)
    n_states, n_actions = 3, 2
    tab = TabularSoftmax(n_states, n_actions)
    lin = LinearSoftmax(np.eye(n_states * n_actions).reshape(n_states, n_actions, -1))
    theta = rng.standard_normal(tab.n_params)
    np.testing.assert_allclose(lin.probs(theta), tab.probs(theta), rtol=1e-15)
    np.testing.assert_allclose(lin.score_table(theta), tab.score_table(theta), atol=1e-15)


def test_tabular_softmax_survives_large_preferences():
    tab = TabularSoftmax(2, 3)
    theta = np.array([1000.0, 0.0, -1000.0, 1000.0, 1000.0, 0.0])
    pi = tab.probs(theta)
    assert np.all(np.isfinite(pi)) and np.all(np.isfinite(tab.log_probs(theta)))
    np.testing.assert_allclose(pi, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-300)


def test_tabular_sample_frequencies_match_probs():
    # 5-sigma bound per cell: false-alarm rate below 6e-7 per cell (normal
    # approximation to the binomial), at a fixed seed.
    rng = np.random.default_rng(4)
    policy, theta = tabular_policies(rng, n_states=2, n_actions=3)[0]
    n = 20000
    for s in range(policy.n_states):
        draws = policy.sample(theta, np.full(n, s), rng)
        assert draws.dtype == np.int64 and draws.shape == (n,)
        freq = np.bincount(draws, minlength=policy.n_actions) / n
        p = policy.probs(theta)[s]
        assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n))
    assert isinstance(policy.sample(theta, 1, rng), int)


def test_tabular_bad_inputs_raise_clear_errors():
    tab = TabularSoftmax(3, 2)
    theta = np.zeros(6)
    with pytest.raises(ValueError, match=r"theta must have shape \(6,\), got \(5,\)"):
        tab.probs(np.zeros(5))
    with pytest.raises(ValueError, match="theta must be finite"):
        tab.score(np.array([0, 0, np.nan, 0, 0, 0.0]), 0, 0)
    with pytest.raises(ValueError, match=r"s must be integers in \[0, 2\], got values from 0 to 3"):
        tab.log_prob(theta, np.array([0, 3]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"a must be integers in \[0, 1\]"):
        tab.score(theta, 0, -1)
    with pytest.raises(ValueError, match="s must be whole numbers"):
        tab.score(theta, 0.5, 0)
    with pytest.raises(ValueError, match="same shape"):
        tab.score(theta, np.array([0, 1]), 0)
    with pytest.raises(ValueError, match="n_actions must be a positive integer, got 0"):
        TabularSoftmax(3, 0)
    with pytest.raises(ValueError, match=r"features must have shape \(S, A, d\)"):
        LinearSoftmax(np.zeros((3, 2)))


def test_cupy_tabular_policies_give_the_numpy_results(cupy):
    cp = cupy
    rng = np.random.default_rng(32)
    s, a = np.array([0, 2, 1]), np.array([3, 0, 1])
    for policy, theta in tabular_policies(rng):
        if isinstance(policy, LinearSoftmax):
            device_policy = LinearSoftmax(cp.asarray(policy.features))
        else:
            device_policy = policy
        theta_d = cp.asarray(theta)
        probs_d = cp.asnumpy(device_policy.probs(theta_d))
        np.testing.assert_allclose(probs_d, policy.probs(theta), rtol=1e-13)
        np.testing.assert_allclose(
            cp.asnumpy(device_policy.score(theta_d, cp.asarray(s), cp.asarray(a))),
            policy.score(theta, s, a),
            rtol=1e-12,
            atol=1e-14,
        )
        draws = device_policy.sample(theta_d, cp.asarray(s), np.random.default_rng(3))
        want = policy.sample(theta, s, np.random.default_rng(3))
        np.testing.assert_array_equal(cp.asnumpy(draws), want)
