"""Distributions: every hand-written derivative against central finite
differences in float64, expectations over outcomes by exact enumeration, and
sampling statistics within stated bounds at a fixed seed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from purerl.distributions import (
    Bernoulli,
    Categorical,
    DiagGaussian,
)

FD_STEP = 1e-6


def numerical_grad(f, x, h=FD_STEP):
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h of scalar f, shaped like x."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x.copy())
        x[i] = old - h
        down = f(x.copy())
        x[i] = old
        g[i] = (up - down) / (2 * h)
    return g


# ----------------------------------------------------------------------------
# batch-first heads: each kind as (random parameters, constructor, actions)
# ----------------------------------------------------------------------------

B, K, D = 3, 4, 2
KINDS = ["categorical", "bernoulli", "gaussian"]
DISCRETE = ["categorical", "bernoulli"]


def random_params(kind, rng):
    """Parameters as a tuple of float64 arrays (log_std per sample, so its
    per-sample gradient is the one checked)."""
    if kind == "categorical":
        return (2.0 * rng.standard_normal((B, K)),)
    if kind == "bernoulli":
        return (2.0 * rng.standard_normal(B),)
    return rng.standard_normal((B, D)), 0.5 * rng.standard_normal((B, D))


def build(kind, params):
    return {"categorical": Categorical, "bernoulli": Bernoulli, "gaussian": DiagGaussian}[kind](
        *params
    )


def as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


def fd_grads(f, params, h=FD_STEP):
    """Central differences of scalar f(params) for each array in the tuple params."""
    grads = []
    for j in range(len(params)):

        def f_j(x, j=j):
            return f(params[:j] + (x,) + params[j + 1 :])

        grads.append(numerical_grad(f_j, params[j], h))
    return tuple(grads)


def weighted(values, w):
    """sum_b w_b values_b: random per-sample weights catch a gradient put in the wrong row."""
    return float((w * values).sum())


def row_weights(w, g):
    return w.reshape((-1,) + (1,) * (g.ndim - 1)) * g


@pytest.mark.parametrize("kind", KINDS)
def test_score_matches_finite_differences_of_log_prob(kind):
    rng = np.random.default_rng(10)
    params = random_params(kind, rng)
    dist = build(kind, params)
    a = dist.sample(rng)
    w = rng.uniform(0.5, 1.5, size=B)
    fd = fd_grads(lambda p: weighted(build(kind, p).log_prob(a), w), params)
    for g, g_fd in zip(as_tuple(dist.score(a)), fd):
        np.testing.assert_allclose(row_weights(w, g), g_fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_entropy_grad_matches_finite_differences(kind):
    rng = np.random.default_rng(11)
    params = random_params(kind, rng)
    w = rng.uniform(0.5, 1.5, size=B)
    fd = fd_grads(lambda p: weighted(build(kind, p).entropy(), w), params)
    for g, g_fd in zip(as_tuple(build(kind, params).entropy_grad()), fd):
        np.testing.assert_allclose(row_weights(w, g), g_fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_kl_grad_matches_finite_differences_in_other(kind):
    rng = np.random.default_rng(12)
    p, q = random_params(kind, rng), random_params(kind, rng)
    w = rng.uniform(0.5, 1.5, size=B)
    fd = fd_grads(lambda q_: weighted(build(kind, p).kl(build(kind, q_)), w), q)
    for g, g_fd in zip(as_tuple(build(kind, p).kl_grad(build(kind, q))), fd):
        np.testing.assert_allclose(row_weights(w, g), g_fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_fisher_vp_is_the_hessian_of_kl_at_other_equal_self(kind):
    # KL(p || q) = 1/2 d^T F d + O(d^3) for q = p + d (handwritten notes,
    # Fisher / natural gradient), so the derivative of kl_grad along v at q = p is F v.
    rng = np.random.default_rng(13)
    params = random_params(kind, rng)
    v = tuple(rng.standard_normal(x.shape) for x in params)
    h = 1e-5
    dist = build(kind, params)
    up = build(kind, tuple(x + h * vx for x, vx in zip(params, v)))
    down = build(kind, tuple(x - h * vx for x, vx in zip(params, v)))
    fvp = as_tuple(dist.fisher_vp(*v))
    for g_up, g_down, fv in zip(as_tuple(dist.kl_grad(up)), as_tuple(dist.kl_grad(down)), fvp):
        np.testing.assert_allclose((g_up - g_down) / (2 * h), fv, rtol=1e-6, atol=1e-8)


def all_outcomes(kind, dist):
    """Every action value k with its action batch (k for every sample)."""
    n = K if kind == "categorical" else 2
    return [np.full(B, k) for k in range(n)]


def outer_rows(g):
    """Per-sample outer product: (B, K) -> (B, K, K); (B,) -> (B,)."""
    return g[:, :, None] * g[:, None, :] if g.ndim == 2 else g * g


@pytest.mark.parametrize("kind", DISCRETE)
def test_score_has_mean_zero_and_second_moment_equal_to_fisher(kind):
    rng = np.random.default_rng(14)
    dist = build(kind, random_params(kind, rng))
    mean = 0.0
    second = 0.0
    for a in all_outcomes(kind, dist):
        p = np.exp(dist.log_prob(a))
        g = dist.score(a)
        mean = mean + row_weights(p, g)
        second = second + row_weights(p, outer_rows(g))
    np.testing.assert_allclose(mean, 0.0, atol=1e-15)
    np.testing.assert_allclose(second, dist.fisher(), rtol=1e-13, atol=1e-15)
    v = rng.standard_normal(dist.logits.shape)
    if kind == "categorical":
        fisher_v = np.einsum("bij,bj->bi", dist.fisher(), v)
    else:
        fisher_v = dist.fisher() * v
    np.testing.assert_allclose(dist.fisher_vp(v), fisher_v, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("kind", DISCRETE)
def test_discrete_kl_and_entropy_equal_sums_over_outcomes(kind):
    rng = np.random.default_rng(15)
    p, q = (build(kind, random_params(kind, rng)) for _ in range(2))
    kl = sum(np.exp(p.log_prob(a)) * (p.log_prob(a) - q.log_prob(a)) for a in all_outcomes(kind, p))
    entropy = -sum(np.exp(p.log_prob(a)) * p.log_prob(a) for a in all_outcomes(kind, p))
    np.testing.assert_allclose(p.kl(q), kl, rtol=1e-13)
    np.testing.assert_allclose(p.entropy(), entropy, rtol=1e-13)
    total = sum(np.exp(p.log_prob(a)) for a in all_outcomes(kind, p))
    np.testing.assert_allclose(total, 1.0, rtol=1e-15)


def gauss_hermite_grid(n_dims, n_nodes=5):
    """Nodes (G, n_dims) and weights (G,) with sum_g w_g f(x_g) = E_{x ~ N(0, I)} f(x),
    exact for polynomials of degree <= 2 n_nodes - 1 in each coordinate."""
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / np.sqrt(2 * np.pi)
    grids = np.meshgrid(*[x] * n_dims, indexing="ij")
    weights = np.prod(np.meshgrid(*[w] * n_dims, indexing="ij"), axis=0)
    return np.stack([g.reshape(-1) for g in grids], axis=1), weights.reshape(-1)


def test_gaussian_kl_and_entropy_equal_exact_quadrature():
    # log p(a) - log q(a) is quadratic in a, so Gauss-Hermite quadrature with 5
    # nodes per coordinate gives E_p[log p - log q] exactly (up to rounding).
    rng = np.random.default_rng(16)
    (mu1, ls1), (mu2, ls2) = random_params("gaussian", rng), random_params("gaussian", rng)
    nodes, weights = gauss_hermite_grid(D)
    kl = DiagGaussian(mu1, ls1).kl(DiagGaussian(mu2, ls2))
    entropy = DiagGaussian(mu1, ls1).entropy()
    for b in range(B):
        p = DiagGaussian(np.tile(mu1[b], (len(nodes), 1)), ls1[b])
        q = DiagGaussian(np.tile(mu2[b], (len(nodes), 1)), ls2[b])
        a = mu1[b] + np.exp(ls1[b]) * nodes
        np.testing.assert_allclose(kl[b], weights @ (p.log_prob(a) - q.log_prob(a)), rtol=1e-12)
        np.testing.assert_allclose(entropy[b], -weights @ p.log_prob(a), rtol=1e-12)


def test_gaussian_fisher_vp_matches_closed_form_and_explicit_matrix():
    rng = np.random.default_rng(17)
    mean, log_std = rng.standard_normal((B, D)), rng.standard_normal(D)
    dist = DiagGaussian(mean, log_std)
    v_mean, v_log_std = rng.standard_normal((B, D)), rng.standard_normal((B, D))
    f_mean, f_log_std = dist.fisher_vp(v_mean, v_log_std)
    np.testing.assert_allclose(f_mean, v_mean * np.exp(-2 * log_std), rtol=1e-14)
    np.testing.assert_allclose(f_log_std, 2 * v_log_std, rtol=1e-15)
    explicit = np.einsum("bij,bj->bi", dist.fisher(), np.concatenate([v_mean, v_log_std], axis=1))
    np.testing.assert_allclose(np.concatenate([f_mean, f_log_std], axis=1), explicit, rtol=1e-14)
    shared = dist.fisher_vp(v_mean, v_log_std[0])[1]  # a (D,) direction for a shared log_std
    np.testing.assert_allclose(shared, np.broadcast_to(2 * v_log_std[0], (B, D)), rtol=1e-15)


def test_gaussian_fisher_vp_matches_monte_carlo_estimate():
    # F v = E[s (s . v)] with s the score in [mean, log_std]. Each coordinate of
    # the sample mean must lie within 5 of its own standard errors of F v: by
    # the CLT a false alarm has probability about 6e-7 per coordinate (2.4e-6
    # for the 4 here), at a fixed seed.
    rng = np.random.default_rng(18)
    n = 100_000
    mean, log_std = np.array([0.3, -1.0]), np.array([-0.5, 0.4])
    dist = DiagGaussian(np.tile(mean, (n, 1)), log_std)
    s = np.concatenate(dist.score(dist.sample(rng)), axis=1)  # (n, 2D)
    v = np.array([1.0, -2.0, 0.5, 1.5])
    terms = s * (s @ v)[:, None]
    est, stderr = terms.mean(axis=0), terms.std(axis=0, ddof=1) / np.sqrt(n)
    one = DiagGaussian(mean[None], log_std)
    exact = np.concatenate(one.fisher_vp(v[None, :D], v[None, D:]), axis=1)[0]
    assert np.all(np.abs(est - exact) < 5 * stderr), (est, exact, stderr)
    # the score's own mean is zero, within the same 5-standard-error bound
    assert np.all(np.abs(s.mean(axis=0)) < 5 * s.std(axis=0, ddof=1) / np.sqrt(n))


def test_gaussian_sample_mean_and_variance_within_bounds():
    # Sample mean within 5 sigma/sqrt(n) of mu; sample variance within
    # 5 sigma^2 sqrt(2/(n-1)) of sigma^2 (normal approximation to the
    # chi-square); correlation between coordinates within 5/sqrt(n). Each check
    # has false-alarm rate about 6e-7 (under 1e-5 for all 9 together); fixed seed.
    rng = np.random.default_rng(19)
    n = 200_000
    mean, log_std = np.array([1.0, -2.0, 0.0]), np.array([0.0, -1.0, 1.5])
    a = DiagGaussian(np.tile(mean, (n, 1)), log_std).sample(rng)
    sigma2 = np.exp(2 * log_std)
    assert np.all(np.abs(a.mean(axis=0) - mean) < 5 * np.sqrt(sigma2 / n))
    assert np.all(np.abs(a.var(axis=0, ddof=1) - sigma2) < 5 * sigma2 * np.sqrt(2 / (n - 1)))
    corr = np.corrcoef(a, rowvar=False)[np.triu_indices(3, k=1)]
    assert np.all(np.abs(corr) < 5 / np.sqrt(n))


@pytest.mark.parametrize("kind", DISCRETE)
def test_discrete_sample_frequencies_match_probabilities(kind):
    # 5-sigma binomial bound per (sample, outcome) cell: false-alarm rate about
    # 6e-7 per cell (normal approximation); fixed seed.
    rng = np.random.default_rng(20)
    n = 20_000
    params = random_params(kind, rng)
    one = build(kind, params)
    many = build(kind, tuple(np.repeat(x, n, axis=0) for x in params))
    draws = many.sample(rng).reshape(B, n)
    assert draws.dtype == np.int64
    for a in all_outcomes(kind, one):
        p = np.exp(one.log_prob(a))
        freq = (draws == a[:, None]).mean(axis=1)
        assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_sample_is_the_inverse_cdf_of_its_definition(dtype):
    """Categorical.sample (a numba kernel) draws exactly the index of the inverse-CDF
    definition written with numpy: with u = (1 - U[0, 1)) cdf_{K-1}, the number of
    k < K - 1 with cdf_k < u, cdf accumulated in the probabilities' dtype.
    Zero-probability categories included (logit -1000: exp underflows to 0)."""
    rng = np.random.default_rng(22)
    for batch, k in ((500, 2), (300, 3), (200, 7), (50, 1)):
        logits = (3.0 * rng.standard_normal((batch, k))).astype(dtype)
        logits[::3, rng.integers(0, k)] = -1000.0
        dist = Categorical(logits)
        p = dist.probs
        cdf = np.cumsum(p, axis=1)
        u = (1.0 - np.random.default_rng(7).random(batch))[:, None] * cdf[:, -1:]
        expected = np.minimum((cdf < u).sum(axis=1), k - 1)
        np.testing.assert_array_equal(dist.sample(np.random.default_rng(7)), expected)
        assert np.all(p[np.arange(batch), expected] > 0)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_same_samples(kind):
    dist = build(kind, random_params(kind, np.random.default_rng(21)))
    first = dist.sample(np.random.default_rng(5))
    np.testing.assert_array_equal(first, dist.sample(np.random.default_rng(5)))


def test_modes():
    assert Categorical(np.array([[0.0, 3.0, 1.0], [5.0, 0.0, 0.0]])).mode().tolist() == [1, 0]
    assert Bernoulli(np.array([-0.5, 0.5, 3.0])).mode().tolist() == [0, 1, 1]
    mean = np.array([[1.0, -2.0]])
    np.testing.assert_array_equal(DiagGaussian(mean, np.zeros(2)).mode(), mean)


def test_huge_logits_do_not_overflow():
    cat = Categorical(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]]))
    np.testing.assert_allclose(cat.log_prob([0, 1]), [0.0, -np.log(3)], rtol=1e-15)
    assert cat.log_prob([2, 2])[0] == -2000.0
    np.testing.assert_allclose(cat.entropy(), [0.0, np.log(3)], atol=1e-15)
    bern = Bernoulli(np.array([1000.0, -1000.0]))
    np.testing.assert_array_equal(bern.log_prob([1, 1]), [0.0, -1000.0])
    np.testing.assert_array_equal(bern.log_prob([0, 0]), [-1000.0, 0.0])
    for dist in (cat, bern):
        values = [dist.entropy(), dist.kl(dist), dist.entropy_grad(), dist.score(dist.mode())]
        assert all(np.all(np.isfinite(x)) for x in values)


def test_float32_parameters_keep_float32():
    logits = np.zeros((2, 3), dtype=np.float32)
    assert Categorical(logits).log_prob([0, 1]).dtype == np.float32
    assert Bernoulli(logits[:, 0]).score([0, 1]).dtype == np.float32
    gauss = DiagGaussian(logits, np.zeros(3, dtype=np.float32))
    assert gauss.sample(np.random.default_rng(0)).dtype == np.float32
    assert gauss.log_prob(logits).dtype == np.float32


# ----------------------------------------------------------------------------
# KL properties (hypothesis)
# ----------------------------------------------------------------------------

moderate = st.floats(-8.0, 8.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, (2, 2, 5), elements=moderate))
def test_categorical_kl_zero_for_identical_and_above_pinsker_bound(z):
    p, q = Categorical(z[0]), Categorical(z[1])
    np.testing.assert_allclose(p.kl(Categorical(z[0].copy())), 0.0, atol=1e-15)
    # Pinsker: KL(p || q) >= 1/2 ||p - q||_1^2, so KL > 0 whenever p != q
    l1 = np.abs(p.probs - q.probs).sum(axis=1)
    assert np.all(p.kl(q) >= 0.5 * l1**2 - 1e-12)
    assert np.all(p.kl(q)[l1 > 1e-6] > 0)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, (2, 6), elements=moderate))
def test_bernoulli_kl_zero_for_identical_and_above_pinsker_bound(x):
    p, q = Bernoulli(x[0]), Bernoulli(x[1])
    np.testing.assert_allclose(p.kl(Bernoulli(x[0].copy())), 0.0, atol=1e-15)
    l1 = 2 * np.abs(p.p - q.p)
    assert np.all(p.kl(q) >= 0.5 * l1**2 - 1e-12)
    assert np.all(p.kl(q)[l1 > 1e-6] > 0)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, (4, 3, 2), elements=st.floats(-3.0, 3.0)))
def test_gaussian_kl_zero_for_identical_and_positive_otherwise(x):
    p, q = DiagGaussian(x[0], x[1]), DiagGaussian(x[2], x[3])
    np.testing.assert_allclose(p.kl(DiagGaussian(x[0].copy(), x[1].copy())), 0.0, atol=1e-14)
    differs = np.abs(x[0] - x[2]).max(axis=1) + np.abs(x[1] - x[3]).max(axis=1) > 1e-3
    assert np.all(p.kl(q) >= 0)
    assert np.all(p.kl(q)[differs] > 0)


# ----------------------------------------------------------------------------
# bad inputs
# ----------------------------------------------------------------------------


def test_heads_bad_inputs_raise_clear_errors():
    cat = Categorical(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"logits must have shape \(B, K\).*got \(3,\)"):
        Categorical(np.zeros(3))
    with pytest.raises(ValueError, match="logits must be finite; got 1 nan/inf"):
        Categorical(np.array([[0.0, np.inf]]))
    with pytest.raises(ValueError, match=r"integers in \[0, 2\], got values from 0 to 3"):
        cat.log_prob([0, 3])
    with pytest.raises(ValueError, match=r"actions must have shape \(2,\), got \(3,\)"):
        cat.score([0, 1, 2])
    with pytest.raises(ValueError, match=r"v must have shape \(2, 3\)"):
        cat.fisher_vp(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="other must be a Categorical, got Bernoulli"):
        cat.kl(Bernoulli(np.zeros(2)))
    with pytest.raises(ValueError, match=r"other must have parameter shape \(2, 3\), got \(1, 3\)"):
        cat.kl_grad(Categorical(np.zeros((1, 3))))
    bern = Bernoulli(np.zeros(2))
    with pytest.raises(ValueError, match=r"logits must have shape \(B,\), got \(2, 1\)"):
        Bernoulli(np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"integers in \[0, 1\], got values from 0 to 2"):
        bern.log_prob([0, 2])
    with pytest.raises(ValueError, match="actions must be whole numbers"):
        bern.score(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="logits must be finite"):
        Bernoulli(np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match=r"log_std must have shape \(2,\) or \(3, 2\).*got \(3,\)"):
        DiagGaussian(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="mean must be finite"):
        DiagGaussian(np.full((1, 2), np.nan), np.zeros(2))
    with pytest.raises(ValueError, match="exp\\(log_std\\) must be a positive finite number"):
        DiagGaussian(np.zeros((1, 2)), np.array([0.0, 800.0]))
    gauss = DiagGaussian(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"actions must have shape \(3, 2\), got \(3,\)"):
        gauss.log_prob(np.zeros(3))
    with pytest.raises(ValueError, match="actions must be finite"):
        gauss.score(np.full((3, 2), np.inf))
    with pytest.raises(ValueError, match=r"log_std part must have shape \(3, 2\)"):
        gauss.fisher_vp(np.zeros((3, 2)), np.zeros(3))


# ----------------------------------------------------------------------------
# CuPy: the same code on device arrays (skips where CuPy or a GPU is missing)
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_cupy_arrays_give_the_numpy_results(kind, cupy):
    cp = cupy
    params = random_params(kind, np.random.default_rng(30))
    host, device = build(kind, params), build(kind, tuple(cp.asarray(x) for x in params))
    a_host = host.sample(np.random.default_rng(1))
    a_device = device.sample(np.random.default_rng(1))  # drawn on the host, same seed
    assert type(a_device).__module__.startswith("cupy")
    np.testing.assert_array_equal(cp.asnumpy(a_device), a_host)
    other = build(kind, random_params(kind, np.random.default_rng(31)))
    other_params = random_params(kind, np.random.default_rng(31))
    other_device = build(kind, tuple(cp.asarray(x) for x in other_params))
    pairs = [
        (host.log_prob(a_host), device.log_prob(a_device)),
        (host.entropy(), device.entropy()),
        (host.kl(other), device.kl(other_device)),
        (host.mode(), device.mode()),
    ]
    pairs += list(zip(as_tuple(host.score(a_host)), as_tuple(device.score(a_device))))
    pairs += list(zip(as_tuple(host.entropy_grad()), as_tuple(device.entropy_grad())))
    pairs += list(zip(as_tuple(host.kl_grad(other)), as_tuple(device.kl_grad(other_device))))
    v = params
    v_device = tuple(cp.asarray(x) for x in v)
    pairs += list(zip(as_tuple(host.fisher_vp(*v)), as_tuple(device.fisher_vp(*v_device))))
    pairs.append((host.fisher(), device.fisher()))
    for want, got in pairs:
        np.testing.assert_allclose(cp.asnumpy(got), want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [lambda: Categorical(np.zeros((2, 3))), lambda: Bernoulli(np.zeros(2)),
                                  lambda: DiagGaussian(np.zeros((2, 1)), np.zeros(1))])
@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0)])
def test_sample_needs_a_generator_and_says_so(make, rng):
    with pytest.raises(ValueError, match=r"\.sample: rng must be a numpy.random.Generator, e.g. np.random.default_rng"):
        make().sample(rng)
