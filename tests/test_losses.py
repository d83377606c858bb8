"""purerl.losses: values from their definitions, gradients against finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purerl.losses import huber, mse

FD_STEP = 1e-6


def central_difference(f, z):
    g = np.empty_like(z)
    for i in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[i] += FD_STEP
        zm[i] -= FD_STEP
        g[i] = (f(zp) - f(zm)) / (2 * FD_STEP)
    return g


@st.composite
def pairs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return 2 * rng.standard_normal(shape), 2 * rng.standard_normal(shape)


@settings(max_examples=50, deadline=None)
@given(pairs(), st.floats(0.1, 3.0))
def test_values_and_gradients(pair, delta):
    pred, target = pair
    d = pred - target
    loss, g = mse(pred, target)
    assert np.isclose(loss, np.mean(d**2), rtol=1e-14) and g.shape == pred.shape
    np.testing.assert_allclose(g, central_difference(lambda p: mse(p, target)[0], pred), rtol=1e-6, atol=1e-9)

    # keep residuals off the kinks at |d| = delta, where l'' jumps
    pred = np.where(np.abs(np.abs(d) - delta) < 1e-3, pred + 0.01, pred)
    d = pred - target
    expected = np.where(np.abs(d) <= delta, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
    loss, g = huber(pred, target, delta)
    assert np.isclose(loss, np.mean(expected), rtol=1e-14)
    np.testing.assert_allclose(g, central_difference(lambda p: huber(p, target, delta)[0], pred),
                               rtol=1e-6, atol=1e-9)


def test_huber_is_half_mse_inside_and_linear_outside():
    pred, target = np.array([[0.5], [-0.25], [0.125]]), np.zeros((3, 1))
    assert huber(pred, target, delta=1.0)[0] == mse(pred, target)[0] / 2
    np.testing.assert_array_equal(huber(pred, target)[1], mse(pred, target)[1] / 2)
    far = np.array([10.0, -6.0])
    loss, g = huber(far, np.zeros(2), delta=2.0)
    assert loss == (2.0 * (10.0 - 1.0) + 2.0 * (6.0 - 1.0)) / 2
    np.testing.assert_array_equal(g, [1.0, -1.0])  # clip(d, -2, 2) / 2


def test_dtype_follows_pred():
    pred = np.ones(4, dtype=np.float32)
    for loss_fn in (mse, huber):
        _, g = loss_fn(pred, np.zeros(4))  # float64 target
        assert g.dtype == np.float32


@pytest.mark.parametrize("call, match", [
    (lambda: mse(np.zeros((3, 1)), np.zeros(3)), r"pred has shape \(3, 1\) but target has shape \(3,\)"),
    (lambda: huber(np.zeros(3), np.zeros(3), delta=0.0), r"delta must be > 0, got 0.0"),
    (lambda: mse(np.zeros(3, dtype=np.int64), np.zeros(3)), r"pred must be a floating-point array, got dtype int64"),
    (lambda: huber(np.zeros(0), np.zeros(0)), r"pred is empty"),
])
def test_errors_name_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()
