"""purerl.optim: hand-computed updates, convergence, state round trips, clipping, schedules.

Every optimizer has two implementations of its update (a fused numba kernel
for numpy arrays and whole-array operations for CuPy or NUMBA_DISABLE_JIT=1);
the `path` fixture runs each test through both.
"""

import io
import math

import numba
import numpy as np
import pytest

from purerl.optim import SGD, Adam, RMSProp, clip_grad_norm
from purerl import schedules
from purerl.schedules import constant, linear_schedule


@pytest.fixture(params=["kernel", "arrays"])
def path(request, monkeypatch):
    if request.param == "arrays":
        monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    return request.param


def run(opt, theta, grads):
    for g in grads:
        opt.step(theta, np.asarray(g, dtype=theta.dtype))
    return theta


def test_sgd_momentum_by_hand(path):
    """Dyadic numbers, so every step is exact.

    u1 = g1 = (0.5, 0.25),                     theta1 = (1, -2) - 0.5 u1 = (0.75, -2.125)
    u2 = 0.5 u1 + g2 = (1.25, -0.375),         theta2 = (0.125, -1.9375)
    u3 = 0.5 u2 + g3 = (0.875, 1.8125),        theta3 = (-0.3125, -2.84375)
    """
    grads = [(0.5, 0.25), (1.0, -0.5), (0.25, 2.0)]
    theta = run(SGD(lr=0.5, momentum=0.5), np.array([1.0, -2.0]), grads)
    np.testing.assert_array_equal(theta, [-0.3125, -2.84375])
    theta = run(SGD(lr=0.5, momentum=0.5, maximize=True), np.array([1.0, -2.0]), grads)
    np.testing.assert_array_equal(theta, [2.3125, -1.15625])  # (1, -2) + (1.3125, 0.84375)
    theta = run(SGD(lr=0.25), np.array([1.0, -2.0]), grads)
    np.testing.assert_array_equal(theta, [1.0 - 0.25 * 1.75, -2.0 - 0.25 * 1.75])


def reference_rmsprop(theta, grads, lr, decay, eps, sign):
    theta, r = list(theta), [0.0] * len(theta)
    for g in grads:
        for i, gi in enumerate(g):
            r[i] = decay * r[i] + (1 - decay) * gi * gi
            theta[i] += sign * lr * gi / (math.sqrt(r[i]) + eps)
    return theta


def reference_adam(theta, grads, lr, b1, b2, eps, sign):
    """Kingma and Ba's Algorithm 1 as written, with explicit bias corrections."""
    theta, m, v = list(theta), [0.0] * len(theta), [0.0] * len(theta)
    for t, g in enumerate(grads, start=1):
        for i, gi in enumerate(g):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            theta[i] += sign * lr * m_hat / (math.sqrt(v_hat) + eps)
    return theta


@pytest.mark.parametrize("maximize", [False, True])
def test_rmsprop_and_adam_match_the_written_equations(path, maximize):
    rng = np.random.default_rng(0)
    theta0, grads = rng.standard_normal(5), rng.standard_normal((4, 5))
    sign = 1.0 if maximize else -1.0
    got = run(RMSProp(lr=0.01, decay=0.9, eps=1e-3, maximize=maximize), theta0.copy(), grads)
    np.testing.assert_allclose(got, reference_rmsprop(theta0, grads, 0.01, 0.9, 1e-3, sign), rtol=1e-13)
    got = run(Adam(lr=0.01, beta1=0.8, beta2=0.9, eps=1e-3, maximize=maximize), theta0.copy(), grads)
    np.testing.assert_allclose(got, reference_adam(theta0, grads, 0.01, 0.8, 0.9, 1e-3, sign), rtol=1e-13)


def test_adam_first_step_is_lr_times_sign(path):
    """At t = 1, m_hat = g and v_hat = g^2, so the step is lr g / (|g| + eps)."""
    theta = run(Adam(lr=0.125, eps=1e-12), np.zeros(3), [(2.0, -0.5, 1e-3)])
    np.testing.assert_allclose(theta, [-0.125, 0.125, -0.125], rtol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_and_array_paths_agree(monkeypatch, dtype):
    rng = np.random.default_rng(1)
    theta0 = rng.standard_normal(1000).astype(dtype)
    grads = rng.standard_normal((5, 1000)).astype(dtype)
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    for make in (lambda: SGD(0.1, momentum=0.9), lambda: RMSProp(0.01), lambda: Adam(0.01, maximize=True)):
        fused = run(make(), theta0.copy(), grads)
        with monkeypatch.context() as m:
            m.setattr(numba.config, "DISABLE_JIT", True)
            arrays = run(make(), theta0.copy(), grads)
        assert fused.dtype == arrays.dtype == dtype
        np.testing.assert_allclose(fused, arrays, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_flushes_subnormal_moments_to_zero(path, dtype):
    # Weight 0's gradient is 0 after one nonzero step (a dead ReLU): its m and
    # v decay by 1/2 per step through the subnormal range (below finfo.tiny)
    # for about 50 (float32) or 1000 (float64) steps unless flushed to 0.
    tiny = np.finfo(dtype).tiny
    opt = Adam(0.01, beta1=0.5, beta2=0.5)
    theta = np.zeros(2, dtype=dtype)
    for g in [1.0] + [0.0] * 1100:
        opt.step(theta, np.array([g, 1.0], dtype=dtype))
        for x in (opt.m[0], opt.v[0]):
            assert x == 0.0 or abs(x) >= tiny
    assert opt.m[0] == 0.0 and opt.v[0] == 0.0
    assert opt.m[1] == opt.v[1] == 1.0  # normal moments are untouched (g = 1 throughout)


QUADRATIC_STEPS = 1500


@pytest.mark.parametrize("make", [
    lambda: SGD(lr=0.1),
    lambda: SGD(lr=0.05, momentum=0.9),
    lambda: RMSProp(lr=0.02),
    lambda: Adam(lr=0.05),
], ids=["sgd", "sgd-momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("maximize", [False, True])
def test_converges_on_a_convex_quadratic(path, make, maximize):
    """f(theta) = 0.5 (theta - c)^T A (theta - c) with A SPD, eigenvalues 1 to 5;
    lr decays linearly to 0 so the adaptive methods settle. Ascent maximizes -f."""
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    A = q @ np.diag(np.linspace(1.0, 5.0, 6)) @ q.T
    c = rng.standard_normal(6)
    theta = np.zeros(6)
    opt = make()
    sign = -1.0 if maximize else 1.0
    schedule = linear_schedule(opt.lr, 0.0, QUADRATIC_STEPS)
    opt.maximize = maximize
    for t in range(QUADRATIC_STEPS):
        opt.lr = schedule(t)
        opt.step(theta, sign * (A @ (theta - c)))
    assert np.linalg.norm(theta - c) < 1e-6 * np.linalg.norm(c)


def test_state_dict_round_trip_resumes_exactly(path):
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((6, 4))
    for make in (lambda: SGD(0.1, momentum=0.9), lambda: RMSProp(0.01), lambda: Adam(0.01)):
        a, theta_a = make(), rng.standard_normal(4)
        run(a, theta_a, grads[:3])
        buf = io.BytesIO()
        np.savez(buf, **a.state_dict())
        buf.seek(0)
        with np.load(buf, allow_pickle=False) as saved:
            b = make()
            b.lr = 123.0  # restored from the state dict
            b.load_state_dict(dict(saved))
        theta_b = theta_a.copy()
        run(a, theta_a, grads[3:])
        run(b, theta_b, grads[3:])
        np.testing.assert_array_equal(theta_a, theta_b)
        assert a.t == b.t == 6 and b.lr == a.lr


def test_state_dict_before_first_step_and_bad_dicts():
    d = Adam(0.01).state_dict()
    assert set(d) == {"t", "lr"} and all(isinstance(a, np.ndarray) for a in d.values())
    with pytest.raises(ValueError, match=r"Adam state dict lacks \['t'\]"):
        Adam().load_state_dict({"lr": np.array(0.1)})
    opt = Adam()
    opt.step(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"optimizer state 'm' has shape \(3,\) but theta has shape \(4,\)"):
        fresh = Adam()
        fresh.load_state_dict(opt.state_dict())
        fresh.step(np.zeros(4), np.ones(4))


def _read_only(n):
    theta = np.zeros(n)
    theta.flags.writeable = False
    return theta


@pytest.mark.parametrize("call, match", [
    (lambda: SGD(lr=-1.0), r"lr must be in \[0.0, inf\), got -1.0"),
    (lambda: SGD(lr=0.1, momentum=1.0), r"momentum must be in \[0.0, 1.0\), got 1.0"),
    (lambda: RMSProp(lr=0.1, decay=1.5), r"decay must be in"),
    (lambda: RMSProp(lr=0.1, eps=0.0), r"eps must be in \(0.0, inf\)"),
    (lambda: Adam(beta1=1.0), r"beta1 must be in \[0.0, 1.0\)"),
    (lambda: Adam(beta2=-0.1), r"beta2 must be in"),
    (lambda: Adam(lr=float("nan")), r"lr must be in"),
    (lambda: Adam().step(np.zeros(3), np.zeros(4)), r"theta and grad must be flat arrays of the same shape; got theta \(3,\), grad \(4,\)"),
    (lambda: Adam().step(np.zeros((2, 2)), np.zeros((2, 2))), r"must be flat arrays"),
    (lambda: clip_grad_norm(np.ones(3), 0.0), r"max_norm must be > 0, got 0.0"),
    (lambda: clip_grad_norm(np.array([1.0, np.nan]), 1.0), r"gradient norm is nan"),
    (lambda: linear_schedule(1.0, 0.0, 0), r"duration must be > 0 steps, got 0"),
    (lambda: Adam(lr="3e-4"), r"lr must be a number, got '3e-4'"),
    (lambda: setattr(Adam(), "lr", -1.0), r"lr must be in \[0.0, inf\), got -1.0"),  # as a schedule sets it
    (lambda: Adam().load_state_dict({"t": 1, "lr": np.nan}), r"lr must be in"),
    (lambda: SGD(0.1).step(np.zeros(3, dtype=int), np.ones(3)), r"theta must be a float32 or float64 array .* int64"),
    (lambda: RMSProp(0.1).step(np.zeros(3, dtype=np.float16), np.ones(3)), r"got float16"),
    (lambda: Adam().step(_read_only(3), np.ones(3)), r"theta is read-only"),
])
def test_errors_name_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_clip_grad_norm():
    g = np.array([3.0, -4.0])  # norm 5
    clipped, norm = clip_grad_norm(g, 2.5)
    assert norm == 5.0
    np.testing.assert_array_equal(clipped, [1.5, -2.0])
    np.testing.assert_array_equal(g, [3.0, -4.0])  # input untouched
    same, norm = clip_grad_norm(g, 5.0)
    assert same is g and norm == 5.0
    rng = np.random.default_rng(4)
    g = rng.standard_normal(100)
    clipped, norm = clip_grad_norm(g, 0.5)
    np.testing.assert_allclose(norm, np.linalg.norm(g), rtol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(clipped), 0.5, rtol=1e-14)
    np.testing.assert_allclose(clipped / np.linalg.norm(clipped), g / norm, rtol=1e-14)


def test_schedules():
    s = linear_schedule(1.0, 0.25, 8)
    assert [s(t) for t in (-3, 0, 2, 4, 8, 100)] == [1.0, 1.0, 0.8125, 0.625, 0.25, 0.25]
    assert constant(0.5)(0) == constant(0.5)(10**9) == 0.5
    linear, flat = schedules.decay("linear", 2.0, 4), schedules.decay("constant", 2.0, 4)
    assert [linear(t) for t in (0, 1, 4, 9)] == [2.0, 1.5, 0.0, 0.0] and flat(3) == flat(10) == 2.0
    with pytest.raises(ValueError, match="schedule kind must be 'constant' or 'linear', got 'cosine'"):
        schedules.decay("cosine", 1.0, 4)
