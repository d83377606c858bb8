"""Baselines and standardisation by hand and against reference loops. (Their
unbiasedness and the variance optimality of b* are exact tests in
tests/test_unbiased.py.)"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purerl import baselines as B


def test_batch_baselines_by_hand():
    assert B.constant_baseline(np.array([1.0, 2.0, 3.0, 6.0])).tolist() == [3.0]
    # per batch along the last axis: two batches of two episodes
    assert B.constant_baseline(np.array([[1.0, 3.0], [2.0, 8.0]])).tolist() == [[2.0], [5.0]]
    G = np.array([[1.0, 3.0], [2.0, 4.0]])  # (T, N): episodes aligned at t = 0
    assert B.time_baseline(G).tolist() == [[2.0], [3.0]]
    ragged = np.array([[True, True], [True, False]])  # the second episode has one step
    assert B.time_baseline(G, ragged).tolist() == [[2.0], [2.0]]
    assert B.leave_one_out_baseline(np.array([1.0, 2.0, 3.0])).tolist() == [2.5, 2.0, 1.5]
    assert B.leave_one_out_baseline(G).tolist() == [[3.0, 1.0], [4.0, 2.0]]


def test_leave_one_out_needs_two_episodes():
    with pytest.raises(ValueError, match="at least 2 valid returns"):
        B.leave_one_out_baseline(np.array([5.0]))


def test_optimal_baseline_by_hand():
    g = np.array([[1.0, 0.0], [2.0, 1.0]])
    R = np.array([3.0, 0.0])
    # scalar: E|g|^2 R / E|g|^2 = (1 * 3 + 5 * 0) / (1 + 5) = 0.5
    assert float(B.optimal_baseline(g, R)) == 0.5
    # per coordinate: (1 * 3 + 4 * 0) / (1 + 4) = 0.6 and (0 * 3 + 1 * 0) / 1 = 0
    assert B.optimal_baseline(g, R, per_coordinate=True).tolist() == [0.6, 0.0]
    # probability weights (1/4, 3/4): (3/4) / (1/4 + 15/4) = 3/16
    assert float(B.optimal_baseline(g, R, weights=np.array([0.25, 0.75]))) == 3 / 16
    # a coordinate that is always 0 gets b* = 0 rather than 0/0
    assert B.optimal_baseline(np.zeros((2, 1)), R, per_coordinate=True).tolist() == [0.0]


@pytest.mark.parametrize("g, weights, match", [
    (np.array([[1.0, np.nan], [2.0, 1.0]]), None, "h and u must be finite"),
    (np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([np.nan, 0.5]), "weights must be finite and nonnegative"),
    (np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([-0.5, 1.5]), "weights must be finite and nonnegative"),
])
def test_optimal_baseline_refuses_what_would_silently_give_zero(g, weights, match):
    with pytest.raises(ValueError, match=match):
        B.optimal_baseline(g, np.array([3.0, 0.0]), weights=weights)


def test_state_baseline_names_a_value_function_that_returns_a_cache_too():
    from purerl.nn import MLP

    net = MLP((2, 1))
    phi = net.init(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"returned a tuple.*call net\(phi, obs\) instead"):
        B.state_baseline(lambda o: net.forward(phi, o), np.zeros((3, 2)))
    assert B.state_baseline(lambda o: net(phi, o)[:, 0], np.zeros((3, 2))).shape == (3,)


def test_state_baseline_calls_the_value_function():
    V = np.array([0.5, -1.0, 2.0])
    states = np.array([[0, 2], [1, 1]])
    assert B.state_baseline(lambda s: V[s], states).tolist() == [[0.5, 2.0], [-1.0, -1.0]]
    with pytest.raises(ValueError, match="expected a prefix"):
        B.state_baseline(lambda s: V[s].T[:1], states)


def test_standardize_matches_karpathy():
    x = np.array([1.0, 2.0, 4.0, 9.0])
    expected = (x - x.mean()) / x.std()  # pg-pong: subtract the mean, divide by the std
    np.testing.assert_allclose(B.standardize(x, eps=0.0), expected, rtol=1e-15)
    assert np.all(np.isfinite(B.standardize(np.ones(3))))  # eps keeps a constant episode finite


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.sampled_from([(), (3,), (2, 2)]), st.integers(0, 2**32 - 1))
def test_standardize_episodes_matches_per_segment_reference(T, batch, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T,) + batch)
    term = rng.random(x.shape) < 0.3
    trunc = rng.random(x.shape) < 0.1
    got = B.standardize_episodes(x, term, trunc).reshape(T, -1)
    done, flat = (term | trunc).reshape(T, -1), x.reshape(T, -1)
    for j in range(flat.shape[1]):
        start = 0
        for t in range(T):
            if done[t, j] or t == T - 1:
                seg = flat[start:t + 1, j]
                np.testing.assert_allclose(got[start:t + 1, j], B.standardize(seg), rtol=1e-10, atol=1e-10)
                start = t + 1
