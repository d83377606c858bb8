"""Conjugate gradient (purerl/cg.py) against dense solves on random SPD systems."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purerl.cg import conjugate_gradient


def random_spd(rng, n, low=0.1, high=10.0):
    """Q diag(lambda) Q^T with Haar-random Q and eigenvalues in [low, high] (condition <= 100)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q *= np.sign(np.diag(r))
    eig = rng.uniform(low, high, size=n)
    return (q * eig) @ q.T


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 16), seed=st.integers(0, 2**32 - 1))
def test_solves_random_spd_systems(n, seed):
    rng = np.random.default_rng(seed)
    A = random_spd(rng, n)
    b = rng.standard_normal(n)
    b_before = b.copy()
    calls = []

    def matvec(v):
        calls.append(1)
        return A @ v

    x, info = conjugate_gradient(matvec, b, iters=4 * n, tol=1e-12)
    expected = np.linalg.solve(A, b)
    # condition number <= 100: a relative residual of 1e-12 bounds the relative error by 1e-10
    np.testing.assert_allclose(x, expected, rtol=0, atol=1e-8 * max(1.0, np.abs(expected).max()))
    assert info.converged and not info.curvature_failure
    assert info.iterations <= 4 * n and len(calls) == info.iterations
    assert info.residual_norm <= 1e-12 * np.linalg.norm(b) + 1e-300
    np.testing.assert_array_equal(b, b_before)


def test_reported_residual_is_the_true_residual():
    rng = np.random.default_rng(3)
    A, b = random_spd(rng, 30, 0.01, 10.0), rng.standard_normal(30)
    x, info = conjugate_gradient(lambda v: A @ v, b, iters=5, tol=0.0)
    assert info.iterations == 5 and not info.converged
    np.testing.assert_allclose(info.residual_norm, np.linalg.norm(b - A @ x), rtol=1e-8)


def test_one_iteration_is_steepest_descent_with_exact_line_search():
    rng = np.random.default_rng(0)
    A, b = random_spd(rng, 5), rng.standard_normal(5)
    x, info = conjugate_gradient(lambda v: A @ v, b, iters=1)
    np.testing.assert_allclose(x, (b @ b) / (b @ A @ b) * b, rtol=1e-14)
    assert info.iterations == 1


def test_error_decreases_in_the_A_norm():
    rng = np.random.default_rng(1)
    A, b = random_spd(rng, 20, 0.01, 1.0), rng.standard_normal(20)
    exact = np.linalg.solve(A, b)
    errors = []
    for k in range(1, 12):
        x, _ = conjugate_gradient(lambda v: A @ v, b, iters=k, tol=0.0)
        e = x - exact
        errors.append(e @ A @ e)
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))


def test_non_positive_curvature_stops_and_keeps_the_last_good_iterate():
    x, info = conjugate_gradient(lambda v: -v, np.ones(3), iters=10)
    assert info.curvature_failure and info.iterations == 0
    np.testing.assert_array_equal(x, np.zeros(3))
    # indefinite: positive along b, negative along the next direction
    A = np.diag([1.0, -1.0])
    x, info = conjugate_gradient(lambda v: A @ v, np.array([2.0, 1.0]), iters=10)
    assert info.curvature_failure and info.iterations == 1 and np.all(np.isfinite(x))


def test_zero_right_hand_side_and_exact_start():
    A = random_spd(np.random.default_rng(2), 4)
    x, info = conjugate_gradient(lambda v: A @ v, np.zeros(4))
    assert info.iterations == 0 and info.converged
    np.testing.assert_array_equal(x, np.zeros(4))
    b = np.arange(1.0, 5.0)
    x0 = np.linalg.solve(A, b)
    x, info = conjugate_gradient(lambda v: A @ v, b, x0=x0, tol=1e-8)
    assert info.iterations == 0 and info.converged


@pytest.mark.parametrize("kwargs, match", [
    ({"iters": 0}, "iters"), ({"iters": 2.5}, "iters"), ({"iters": True}, "iters"),
    ({"tol": -1.0}, "tol"), ({"tol": float("nan")}, "tol"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conjugate_gradient(lambda v: v, np.ones(3), **kwargs)


def test_rejects_non_flat_b_and_mismatched_x0():
    with pytest.raises(ValueError, match="flat"):
        conjugate_gradient(lambda v: v, np.ones((2, 2)))
    with pytest.raises(ValueError, match="x0"):
        conjugate_gradient(lambda v: v, np.ones(3), x0=np.ones(2))
