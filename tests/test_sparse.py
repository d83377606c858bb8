"""The sparse first layer (purerl/sparse.py) against the dense MLP it reads.

Exact equality needs every partial sum to be exact in float64, whatever the
order: weights and upstream gradients are drawn on the dyadic grid k / 256
(|k| < 2^12) and inputs are difference frames with entries in {-1, 0, 1}, so
every product and sum has at most ~40 significant bits and the gather (which
adds only the nonzero terms, in its own order) must give the same bits as
the dense matrix product. On ordinary floats only the summation order
differs, checked to a relative 1e-12.
"""

import numpy as np
import pytest

from purerl.nn import MLP
from purerl.sparse import SparseInputMLP, SparseRows, concat_rows, select_rows, sparse_rows


def dyadic(rng, shape, scale=256):
    return np.round(rng.standard_normal(shape) * scale) / scale


def difference_frames(rng, batch, dim, density):
    """Random frames in {-1, 0, 1} with about density * dim nonzeros per row (some rows all zero)."""
    x = np.zeros((batch, dim))
    mask = rng.random((batch, dim)) < density
    x[mask] = rng.choice([-1.0, 1.0], size=mask.sum())
    x[0] = 0.0  # the first frame of an episode
    return x


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("sizes", [(6400, 200, 1), (300, 16, 8, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_equals_dense_exactly_on_difference_frames(sizes, bias, seed):
    # ReLU keeps every backward quantity on the dyadic grid (relu' is 0 or 1); tanh' would not.
    rng = np.random.default_rng(seed)
    net = MLP(sizes, hidden="relu", output="identity", bias=bias)
    sparse = SparseInputMLP(net)
    theta = dyadic(rng, net.n_params)
    x = difference_frames(rng, 17, sizes[0], 0.02)  # a few columns have several nonzero rows
    gy = dyadic(rng, (17, sizes[-1]))
    y_dense, cache = net.forward(theta, x)
    y_sparse, sparse_cache = sparse.forward(theta, sparse_rows(x))
    np.testing.assert_array_equal(y_sparse, y_dense)
    g_dense, _ = net.backward(theta, cache, gy)
    np.testing.assert_array_equal(sparse.backward(theta, sparse_cache, gy)[0], g_dense)
    assert np.count_nonzero(g_dense[: sizes[0] * sizes[1]]) > 0  # the first layer's gradient is not trivially 0


def test_sparse_matches_dense_to_rounding_on_ordinary_floats():
    rng = np.random.default_rng(5)
    net = MLP((500, 32, 1), hidden="relu", bias=False)
    sparse = SparseInputMLP(net)
    theta = net.init(rng, scheme="normal", gain=1.0)
    x = rng.standard_normal((9, 500)) * (rng.random((9, 500)) < 0.05)
    gy = rng.standard_normal((9, 1))
    y, cache = net.forward(theta, x)
    ys, cs = sparse.forward(theta, x)  # a dense array is accepted and compressed
    np.testing.assert_allclose(ys, y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse.backward(theta, cs, gy)[0], net.backward(theta, cache, gy)[0],
                               rtol=1e-12, atol=1e-12)


def test_sparse_rows_round_trip_concat_and_select():
    rng = np.random.default_rng(3)
    a, b = difference_frames(rng, 5, 40, 0.1), difference_frames(rng, 3, 40, 0.1)
    ra, rb = sparse_rows(a), sparse_rows(b)
    np.testing.assert_array_equal(ra.dense(), a)
    assert ra.nnz == np.count_nonzero(a) and ra.n_rows == 5
    np.testing.assert_array_equal(concat_rows([ra, rb]).dense(), np.concatenate([a, b]))
    keep = np.array([True, False, True, True, False])
    np.testing.assert_array_equal(select_rows(ra, keep).dense(), a[keep])
    np.testing.assert_array_equal(sparse_rows(np.zeros((2, 4))).dense(), np.zeros((2, 4)))


def test_sparse_rows_index_like_the_dense_array():
    rng = np.random.default_rng(4)
    a = difference_frames(rng, 9, 40, 0.1)
    a[3] = 0.0  # an empty row
    ra = sparse_rows(a)
    assert ra.shape == (9, 40) and len(ra) == 9
    for rows in (slice(2, 7), slice(0, 9), slice(5, None), slice(7, 3), np.array([8, 0, 3, 3, 5]),
                 rng.permutation(9), np.array([], dtype=np.int64)):
        np.testing.assert_array_equal(ra[rows].dense(), a[rows])
    for bad in (slice(0, 9, 2), np.array([0.5]), np.array([[1]])):
        with pytest.raises(ValueError, match="SparseRows"):
            ra[bad]


def test_errors_name_the_bad_input():
    net = MLP((10, 4, 1), hidden="relu")
    sparse = SparseInputMLP(net)
    theta = net.init(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\(B, 10\)"):
        sparse.forward(theta, np.zeros((2, 9)))
    with pytest.raises(ValueError, match="9 columns"):
        sparse.forward(theta, SparseRows(np.zeros(2, np.int64), np.zeros(0, np.int64), np.zeros(0), 9))
    with pytest.raises(ValueError, match="hidden layer"):
        SparseInputMLP(MLP((10, 1)))
    with pytest.raises(ValueError, match="2-D"):
        sparse_rows(np.zeros(4))
    with pytest.raises(ValueError, match="no input gradient"):
        sparse.backward(theta, sparse.forward(theta, np.zeros((1, 10)))[1], np.ones((1, 1)), input_grad=True)


@pytest.mark.parametrize("kind", ["categorical", "value"])
def test_a_policy_with_sparse_input_gives_the_dense_policys_numbers(kind):
    from purerl.policies import CategoricalPolicy, ValueFunction
    from purerl.sparse import with_sparse_input

    make = (lambda: CategoricalPolicy(300, 3, hidden=(16, 16))) if kind == "categorical" else (
        lambda: ValueFunction(300, hidden=(16,)))
    dense, sparse = make(), with_sparse_input(make())
    rng = np.random.default_rng(9)
    theta = dyadic(rng, dense.n_params)
    x = difference_frames(rng, 11, 300, 0.05)
    if kind == "categorical":
        (d_dist, d_cache), (s_dist, s_cache) = dense.distribution(theta, x), sparse.distribution(theta, x)
        np.testing.assert_array_equal(s_dist.logits, d_dist.logits)
        g = dyadic(rng, (11, 3))
        np.testing.assert_array_equal(sparse.backward(theta, s_cache, g), dense.backward(theta, d_cache, g))
    else:
        (d_v, d_cache), (s_v, s_cache) = dense.forward(theta, x), sparse.forward(theta, x)
        np.testing.assert_array_equal(s_v, d_v)
        g = dyadic(rng, 11)
        np.testing.assert_array_equal(sparse.backward(theta, s_cache, g), dense.backward(theta, d_cache, g))
