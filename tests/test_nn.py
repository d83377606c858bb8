"""purerl.nn.MLP: layout, init, and every derivative against finite differences.

Gradients are checked by central differences in float64 on tiny networks
drawn by hypothesis. Draws whose ReLU pre-activations lie within 1e-3 of the
kink at 0 are rejected (with step 1e-6 a difference quotient could cross it).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from purerl.nn import ACTIVATIONS, MLP
from purerl.nn_ops import add_rows, sum_rows

FD_STEP = 1e-6
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def reference_forward(net, theta, x):
    """The network written out from the documented layout: (y, pre-activations)."""
    sigma = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "identity": lambda z: z,
             "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}
    h, pre, at = x, [], 0
    for l, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        z = h @ theta[at:at + fan_in * fan_out].reshape(fan_in, fan_out)
        at += fan_in * fan_out
        if net.bias:
            z = z + theta[at:at + fan_out]
            at += fan_out
        pre.append(z)
        h = sigma[net.activations[l]](z)
    assert at == net.n_params
    return h, pre


@st.composite
def problems(draw):
    """A float64 network, parameters, a batch of inputs and an upstream gradient."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    net = MLP(sizes, hidden=draw(st.sampled_from(ACTIVATIONS)), output=draw(st.sampled_from(ACTIVATIONS)),
              bias=draw(st.booleans()))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch = draw(st.integers(1, 4))
    theta = 0.8 * rng.standard_normal(net.n_params)
    x = rng.standard_normal((batch, net.in_dim))
    gy = rng.standard_normal((batch, net.out_dim))
    _, pre = reference_forward(net, theta, x)
    for z, act in zip(pre, net.activations):
        assume(act != "relu" or np.min(np.abs(z)) > 1e-3)
    return net, theta, x, gy, rng


def rel_err(a, b):
    """||a - b|| / (||a|| + ||b||), an absolute error where both are below 1e-2."""
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-2)


def central_difference(f, z):
    """d f / d z for scalar f, by central differences in every coordinate of z."""
    g = np.empty_like(z)
    for i in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[i] += FD_STEP
        zm[i] -= FD_STEP
        g[i] = (f(zp) - f(zm)) / (2 * FD_STEP)
    return g


@SETTINGS
@given(problems())
def test_forward_matches_reference_and_call(problem):
    net, theta, x, _, _ = problem
    y, cache = net.forward(theta, x)
    np.testing.assert_allclose(y, reference_forward(net, theta, x)[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(net(theta, x), y)
    assert y.shape == (x.shape[0], net.out_dim) and len(cache) == len(net.sizes)
    assert cache[0] is x


@SETTINGS
@given(problems())
def test_backward_matches_finite_differences(problem):
    net, theta, x, gy, _ = problem
    _, cache = net.forward(theta, x)
    g_theta, g_x = net.backward(theta, cache, gy)
    fd_theta = central_difference(lambda t: np.vdot(gy, net(t, x)), theta)
    fd_x = central_difference(lambda z: np.vdot(gy, net(theta, z)), x)
    assert g_theta.shape == theta.shape and g_x.shape == x.shape
    assert rel_err(g_theta, fd_theta) < 1e-6
    assert rel_err(g_x, fd_x) < 1e-6


@SETTINGS
@given(problems())
def test_jvp_matches_finite_differences(problem):
    net, theta, x, _, rng = problem
    v = rng.standard_normal(net.n_params)
    _, cache = net.forward(theta, x)
    ydot = net.jvp(theta, cache, v)
    fd = (net(theta + FD_STEP * v, x) - net(theta - FD_STEP * v, x)) / (2 * FD_STEP)
    assert ydot.shape == (x.shape[0], net.out_dim)
    assert rel_err(ydot, fd) < 1e-6


@SETTINGS
@given(problems())
def test_adjoint_identity(problem):
    """<u, J v> = <J^T u, v>: jvp and backward apply the same Jacobian."""
    net, theta, x, u, rng = problem
    v = rng.standard_normal(net.n_params)
    _, cache = net.forward(theta, x)
    lhs = np.vdot(u, net.jvp(theta, cache, v))
    rhs = np.vdot(net.backward(theta, cache, u, input_grad=False)[0], v)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def test_backward_is_pure_and_input_grad_optional():
    net = MLP((3, 4, 2), hidden="relu", output="sigmoid")
    rng = np.random.default_rng(1)
    theta = net.init(rng, scheme="normal")
    x, gy = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    _, cache = net.forward(theta, x)
    before = [a.copy() for a in cache], gy.copy()
    g1, gx1 = net.backward(theta, cache, gy)
    g2, gx2 = net.backward(theta, cache, gy)
    g3, gx3 = net.backward(theta, cache, gy, input_grad=False)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(g1, g3)
    np.testing.assert_array_equal(gx1, gx2)
    assert gx3 is None and g1 is not g2
    for a, b in zip(cache, before[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(gy, before[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_kernels_give_numpys_bits(dtype):
    """The numba row kernels (bias add, bias gradient) equal numpy's z + b and
    sum over axis 0 bit for bit, so they cannot move a seeded run. Entries
    spanning 1e-4..1e4 make any other order of addition differ."""
    rng = np.random.default_rng(6)
    for batch, width, order in ((256, 32, "C"), (7, 3, "C"), (1, 5, "C"), (0, 4, "C"), (9, 1, "C"), (9, 4, "F")):
        scale = 10.0 ** rng.integers(-4, 5, (batch, width))
        a = np.asarray(rng.standard_normal((batch, width)) * scale, dtype=dtype, order=order)
        out = np.full(width, np.nan, dtype=dtype)
        sum_rows(np, a, out)
        np.testing.assert_array_equal(out, a.sum(axis=0))
        if (batch, width) == (256, 32):  # the check has power: pairwise addition differs
            assert not np.array_equal(out, np.ascontiguousarray(a.T).sum(axis=1))
        b = (rng.standard_normal(width) * 10.0 ** rng.integers(-4, 5, width)).astype(dtype)
        expected = a + b
        add_rows(np, a, b)
        np.testing.assert_array_equal(a, expected)


def test_relu_derivative_at_zero_is_zero():
    """With zero input and zero biases every hidden pre-activation is exactly 0."""
    net = MLP((2, 3, 1), hidden="relu")
    theta = net.init(np.random.default_rng(2))
    x = np.zeros((1, 2))
    _, cache = net.forward(theta, x)
    g_theta, g_x = net.backward(theta, cache, np.ones((1, 1)))
    (gW1, gb1), _ = net.unflatten(g_theta)
    np.testing.assert_array_equal(gW1, 0.0)
    np.testing.assert_array_equal(gb1, 0.0)
    np.testing.assert_array_equal(g_x, 0.0)


def test_layout_and_views():
    net = MLP((3, 4, 2))
    assert net.n_params == 3 * 4 + 4 + 4 * 2 + 2 and (net.in_dim, net.out_dim) == (3, 2)
    theta = np.arange(net.n_params, dtype=np.float64)
    (W1, b1), (W2, b2) = net.unflatten(theta)
    assert W1.shape == (3, 4) and b1.shape == (4,) and W2.shape == (4, 2) and b2.shape == (2,)
    np.testing.assert_array_equal(W1.ravel(), theta[:12])
    np.testing.assert_array_equal(b2, theta[-2:])
    W2[0, 1] = -7.0  # a view: writing it writes theta
    assert theta[12 + 4 + 1] == -7.0
    (_, b), (_, b_out) = MLP((3, 4, 2), bias=False).unflatten(np.zeros(20))
    assert b is None and b_out is None


def test_pong_network_size_matches_the_notes():
    """CMU 10-403, 'Pong from Pixels': [(80*80)*200 + 200] + [200*1 + 1] parameters."""
    assert MLP((80 * 80, 200, 1), "relu", "sigmoid").n_params == (80 * 80) * 200 + 200 + 200 * 1 + 1
    assert MLP((80 * 80, 200, 1), "relu", "sigmoid", bias=False).n_params == 80 * 80 * 200 + 200


def test_in_place_updates_and_many_parameter_vectors_stay_correct():
    """Cached views never go stale: in-place edits and many distinct thetas."""
    net = MLP((3, 5, 2))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    thetas = [rng.standard_normal(net.n_params) for _ in range(7)]
    for _ in range(2):
        for theta in thetas:
            np.testing.assert_allclose(net(theta, x), reference_forward(net, theta, x)[0], rtol=1e-12)
    theta = thetas[0]
    theta *= 0.5
    np.testing.assert_allclose(net(theta, x), reference_forward(net, theta, x)[0], rtol=1e-12)


def test_float32_path():
    net64, net32 = MLP((4, 8, 8, 3)), MLP((4, 8, 8, 3), dtype=np.float32)
    rng = np.random.default_rng(4)
    theta = net64.init(rng)
    theta32 = net32.init(np.random.default_rng(4))
    np.testing.assert_array_equal(theta32, theta.astype(np.float32))  # same draws, cast
    x, gy, v = rng.standard_normal((6, 4)), rng.standard_normal((6, 3)), rng.standard_normal(net64.n_params)
    y, cache = net64.forward(theta, x)
    y32, cache32 = net32.forward(theta32, x.astype(np.float32))
    g, gx = net64.backward(theta, cache, gy)
    g32, gx32 = net32.backward(theta32, cache32, gy.astype(np.float32))
    ydot32 = net32.jvp(theta32, cache32, v.astype(np.float32))
    for a32, a in ((y32, y), (g32, g), (gx32, gx), (ydot32, net64.jvp(theta, cache, v))):
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a, rtol=1e-4, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 12), min_size=2, max_size=4), seed=st.integers(0, 2**32 - 1),
       gain=st.floats(0.1, 3.0), out_gain=st.floats(0.01, 2.0))
def test_orthogonal_init(sizes, seed, gain, out_gain):
    net = MLP(sizes)
    theta = net.init(np.random.default_rng(seed), scheme="orthogonal", gain=gain, out_gain=out_gain)
    np.testing.assert_array_equal(theta, net.init(np.random.default_rng(seed), "orthogonal", gain, out_gain))
    layers = net.unflatten(theta)
    for l, (W, b) in enumerate(layers):
        g = out_gain if l == len(layers) - 1 else gain
        gram = W.T @ W if W.shape[0] >= W.shape[1] else W @ W.T
        np.testing.assert_allclose(gram, g**2 * np.eye(len(gram)), atol=1e-12)
        np.testing.assert_array_equal(b, 0.0)


def test_normal_init_scale_and_seeds():
    """std of W * sqrt(fan_in) / gain is 1; with n = 65,536 draws the sample std's
    standard error is 1 / sqrt(2n) = 0.0028, so the 2% tolerance is 7 standard
    errors (false-alarm rate below 1e-11) at this fixed seed."""
    net = MLP((256, 256, 64))
    theta = net.init(np.random.default_rng(5), scheme="normal", gain=2.0, out_gain=0.5)
    (W1, b1), (W2, _) = net.unflatten(theta)
    assert abs(W1.std() * np.sqrt(256) / 2.0 - 1) < 0.02 and abs(W1.mean()) < 0.02 * 2.0 / 16
    assert abs(W2.std() * np.sqrt(256) / 0.5 - 1) < 0.04  # 16,384 draws: still 4.5 standard errors
    np.testing.assert_array_equal(b1, 0.0)
    assert not np.array_equal(theta, net.init(np.random.default_rng(6), scheme="normal"))


@pytest.mark.parametrize("make, call, match", [
    (lambda: MLP((4,)), None, r"sizes must be at least two positive integers"),
    (lambda: MLP((4, 0, 2)), None, r"sizes must be"),
    (lambda: MLP((True, True)), None, r"sizes must be at least two positive integers .* got \(True, True\)"),
    (lambda: MLP((4, 2), hidden="softplus"), None, r"unknown hidden activation 'softplus'; accepted: tanh"),
    (lambda: MLP((4, 2), output="softmax"), None, r"unknown output activation 'softmax'"),
    (lambda: MLP((4, 2), dtype=np.int64), None, r"dtype must be float64 or float32"),
    (lambda: MLP((4, 2), dtype="no such type"), None, r"dtype must be float64 or float32, got 'no such type'"),
    (lambda: MLP((4, 2)), lambda n, t: n.init(np.random.default_rng(0), scheme="xavier"),
     r"unknown init scheme 'xavier'; accepted: orthogonal, normal"),
    (lambda: MLP((4, 2)), lambda n, t: n.init(0), r"MLP.init: rng must be a numpy.random.Generator"),
    (lambda: MLP((4, 2)), lambda n, t: n.init(np.random.default_rng(0), gain="1"),
     r"gain and out_gain must be finite numbers, got gain='1'"),
    (lambda: MLP((4, 2)), lambda n, t: n(t, np.zeros(4)), r"x must be a 2-D float64 array of shape \(B, 4\).*got shape \(4,\)"),
    (lambda: MLP((4, 2)), lambda n, t: n.forward(t, np.zeros((3, 5))), r"shape \(B, 4\).*got shape \(3, 5\)"),
    (lambda: MLP((4, 2)), lambda n, t: n.forward(t, np.zeros((3, 4), np.float32)), r"float64 array.*dtype float32"),
    (lambda: MLP((4, 2)), lambda n, t: n.forward(t, [[0.0] * 4]), r"x must be a 2-D float64 array"),
    (lambda: MLP((4, 2)), lambda n, t: n.forward(t[:-1], np.zeros((1, 4))), r"theta has shape \(9,\).*expected a flat array of shape \(10,\)"),
    (lambda: MLP((4, 2)), lambda n, t: n.forward(t.astype(np.float32), np.zeros((1, 4))), r"theta has dtype float32 but this MLP is float64"),
    (lambda: MLP((4, 2)), lambda n, t: n.backward(t, n.forward(t, np.zeros((3, 4)))[1], np.zeros((3, 3))), r"gy must be a 2-D float64 array of shape \(B, 2\)"),
    (lambda: MLP((4, 2)), lambda n, t: n.backward(t, n.forward(t, np.zeros((3, 4)))[1], np.zeros((2, 2))), r"gy has batch size 2 but the cache has 3"),
    (lambda: MLP((4, 2)), lambda n, t: n.backward(t, (np.zeros((1, 4)),), np.zeros((1, 2))), r"cache must be the list returned by forward"),
    (lambda: MLP((4, 3, 2)), lambda n, t: n.jvp(t, MLP((4, 5, 2)).forward(MLP((4, 5, 2)).init(np.random.default_rng(0)),
                                                                        np.zeros((1, 4)))[1], t),
     r"cache must be the list returned by forward of MLP\(\(4, 3, 2\).*; its layer widths are \(4, 5, 2\)"),
    (lambda: MLP((4, 2)), lambda n, t: n.jvp(t, n.forward(t, np.zeros((1, 4)))[1], np.zeros(3)), r"v has shape \(3,\).*expected a flat array of shape \(10,\)"),
])
def test_errors_name_the_problem(make, call, match):
    with pytest.raises(ValueError, match=match):
        net = make()
        call(net, np.zeros(net.n_params))


def test_cupy_matches_numpy(cupy):
    cp = cupy
    net = MLP((3, 6, 2), hidden="tanh", output="sigmoid")
    rng = np.random.default_rng(7)
    theta, x, gy = net.init(rng), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    y, cache = net.forward(theta, x)
    g, gx = net.backward(theta, cache, gy)
    theta_d = net.init(np.random.default_rng(7), xp=cp)
    y_d, cache_d = net.forward(theta_d, cp.asarray(x))
    g_d, gx_d = net.backward(theta_d, cache_d, cp.asarray(gy))
    for a_d, a in ((y_d, y), (g_d, g), (gx_d, gx)):
        assert type(a_d) is cp.ndarray
        np.testing.assert_allclose(cp.asnumpy(a_d), a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sizes, hidden, output, bias, batch", [
    ((4, 16, 16, 2), "tanh", "identity", True, 3),
    ((50, 20, 1), "relu", "sigmoid", False, 1),
    ((50, 20, 1), "relu", "sigmoid", False, 5),
])
def test_benchmark_baselines_compute_the_same_step(sizes, hidden, output, bias, batch):
    """`bench nn` compares like with like: the bare numpy and PyTorch versions
    produce purerl's outputs, gradients and Adam updates."""
    from purerl.bench import nn as bench
    from purerl.optim import Adam

    net = MLP(sizes, hidden, output, bias=bias)
    rng = np.random.default_rng(8)
    theta = net.init(rng, scheme="normal", gain=1.0)
    x, gy = rng.standard_normal((batch, net.in_dim)), rng.standard_normal((batch, net.out_dim))
    layers = [(W.copy(), None if b is None else b.copy()) for W, b in net.unflatten(theta)]
    torch_layers = [(W.copy(), None if b is None else b.copy()) for W, b in layers]  # before Adam moves them
    y, cache = net.forward(theta, x)
    g_theta, _ = net.backward(theta, cache, gy, input_grad=False)
    expected = [a for W, b in net.unflatten(g_theta) for a in (W, b) if a is not None]
    y_bare, grads = (bench.bare_tanh_grads if hidden == "tanh" else bench.bare_pong_grads)(layers, x, gy)
    np.testing.assert_allclose(y_bare, y, rtol=1e-12)
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    if hidden == "tanh":
        np.testing.assert_allclose(bench.bare_tanh_forward(layers, x)(), y, rtol=1e-12)

    params = [a for W, b in layers for a in (W, b) if a is not None]
    before = [p.copy() for p in params]
    state, opt, theta0 = bench.bare_adam_state(params), Adam(1e-3), theta.copy()
    for _ in range(3):
        bench.bare_adam(params, expected, state, lr=1e-3)
        opt.step(theta, g_theta)
    steps = [a for W, b in net.unflatten(theta - theta0) for a in (W, b) if a is not None]
    for p, p0, step in zip(params, before, steps):
        np.testing.assert_allclose(p - p0, step, rtol=1e-9, atol=1e-15)

    torch = pytest.importorskip("torch")
    module = bench.torch_net(torch, torch_layers, hidden, output)
    yt = module(torch.from_numpy(x))
    yt.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(yt.detach().numpy(), y, rtol=1e-12)
    torch_grads = [a.grad.numpy() for a in module.parameters()]  # weight.grad is W^T
    torch_grads = [g.T if g.ndim == 2 else g for g in torch_grads]
    for got, want in zip(torch_grads, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
