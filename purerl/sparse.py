"""A first layer that reads only the nonzero inputs: x W_1 as a gather, X^T delta as a scatter.

A Pong difference frame (envs/pong_diff.py) has 6,400 pixels of which a few
dozen are nonzero (about 12 on average during play), so the first layer of
Karpathy's network (CMU 10-403, Policy gradients, "Pong from pixels": 80x80
difference frame, 200 hidden units) does almost all of its dense work on
zeros. With W_1 (fan_in, fan_out) in purerl's layout (purerl/nn.py), row j of
W_1 is the weight vector of pixel j, and

    forward    z_1[b]  = sum_{j : x[b, j] != 0} x[b, j] W_1[j, :]          (gather rows of W_1)
    backward   dL/dW_1[j, :] = sum_{b : x[b, j] != 0} x[b, j] delta_1[b, :]  (scatter into rows)

with delta_1 = dL/dz_1; the bias gradient is sum_b delta_1[b] as in the
dense layer. Cost: nnz * fan_out instead of B * fan_in * fan_out.

`SparseInputMLP` wraps an `nn.MLP` by composition: the same flat theta and
the same layout, its first layer computed here and the layers above it by an
MLP of sizes[1:] on a view of theta. `with_sparse_input(policy)` puts it
inside any policy or value function of purerl/policies.py. The dense MLP stays the reference: on
the same theta and inputs both give the same outputs and gradients (exactly,
when every partial sum is exact in float64; tests/test_sparse.py).
"""

import numpy as np
from numba import njit

from purerl.nn import MLP
from purerl.nn_ops import activate, times_derivative


class SparseRows:
    """A batch of B input rows in compressed sparse row form.

    Row b's nonzeros are values[indptr[b]:indptr[b+1]] at columns
    indices[indptr[b]:indptr[b+1]] (ascending). indptr int64 (B+1,),
    indices int64 (nnz,), values (nnz,) in the network's dtype; n_cols = D.
    """

    def __init__(self, indptr, indices, values, n_cols):
        self.indptr, self.indices, self.values, self.n_cols = indptr, indices, values, int(n_cols)

    @property
    def n_rows(self):
        return self.indptr.shape[0] - 1

    @property
    def nnz(self):
        return self.indices.shape[0]

    @property
    def shape(self):
        return (self.n_rows, self.n_cols)

    def __len__(self):
        return self.n_rows

    def __getitem__(self, rows):
        """The rows `rows` (a slice with step 1, or an integer array) as a new SparseRows.

        So a batch compressed once can be shuffled and cut into minibatches
        like a dense (B, D) array (PPO's epochs: purerl/algos/ppo_pong.py).
        """
        if isinstance(rows, slice):
            start, stop, step = rows.indices(self.n_rows)
            if step != 1:
                raise ValueError(f"SparseRows takes slices with step 1; got step {step}")
            stop = max(start, stop)
            lo, hi = self.indptr[start], self.indptr[stop]
            return SparseRows(self.indptr[start:stop + 1] - lo, self.indices[lo:hi], self.values[lo:hi],
                              self.n_cols)
        rows = np.asarray(rows)
        if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"SparseRows rows must be a slice or a 1-D integer array; got {rows!r}")
        counts = np.diff(self.indptr)[rows]
        indptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        # entry k of result row b is entry self.indptr[rows[b]] + (k - indptr[b]) of this batch
        take = np.repeat(self.indptr[rows] - indptr[:-1], counts) + np.arange(indptr[-1])
        return SparseRows(indptr, self.indices[take], self.values[take], self.n_cols)

    def dense(self):
        """The (B, D) dense array (tests and small batches only)."""
        out = np.zeros((self.n_rows, self.n_cols), dtype=self.values.dtype)
        rows = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
        out[rows, self.indices] = self.values
        return out


def sparse_rows(x, dtype=np.float64):
    """SparseRows of a dense (B, D) array, values cast to `dtype`."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"sparse_rows needs a 2-D batch (B, D); got shape {x.shape}")
    indptr, indices, values = _compress(np.ascontiguousarray(x), np.zeros(0, dtype=dtype))
    return SparseRows(indptr, indices, values, x.shape[1])


@njit(cache=True)
def _compress(x, like):
    """(indptr, indices, values) of x's nonzeros, row-major (one pass to count, one to copy)."""
    n_rows, n_cols = x.shape
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for b in range(n_rows):
        count = 0
        for j in range(n_cols):
            if x[b, j] != 0:
                count += 1
        indptr[b + 1] = indptr[b] + count
    indices = np.empty(indptr[n_rows], dtype=np.int64)
    values = np.empty(indptr[n_rows], dtype=like.dtype)
    k = 0
    for b in range(n_rows):
        for j in range(n_cols):
            if x[b, j] != 0:
                indices[k] = j
                values[k] = x[b, j]
                k += 1
    return indptr, indices, values


def concat_rows(parts):
    """One SparseRows holding the rows of `parts` (a non-empty list) in order."""
    counts = np.concatenate([np.diff(p.indptr) for p in parts])
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return SparseRows(indptr, np.concatenate([p.indices for p in parts]),
                      np.concatenate([p.values for p in parts]), parts[0].n_cols)


def select_rows(x, keep):
    """The rows of SparseRows x where keep (bool (B,)) is true, in order."""
    return x[np.flatnonzero(keep)]


@njit(cache=True)
def gather_product(indptr, indices, values, W, out):
    """out[b, :] = sum_k values[k] W[indices[k], :] over row b's nonzeros k: out = X W, (B, fan_out)."""
    for b in range(indptr.shape[0] - 1):
        for h in range(W.shape[1]):
            out[b, h] = 0.0
        for k in range(indptr[b], indptr[b + 1]):
            v, j = values[k], indices[k]
            for h in range(W.shape[1]):
                out[b, h] += v * W[j, h]
    return out


@njit(cache=True)
def scatter_product(indptr, indices, values, delta, out):
    """out[j, :] += values[k] delta[b, :] for every nonzero k = (b, j): out += X^T delta, (fan_in, fan_out)."""
    for b in range(indptr.shape[0] - 1):
        for k in range(indptr[b], indptr[b + 1]):
            v, j = values[k], indices[k]
            for h in range(delta.shape[1]):
                out[j, h] += v * delta[b, h]
    return out


class SparseInputMLP:
    """`net` (an nn.MLP) with its first layer computed from SparseRows inputs.

    A drop-in for the MLP in a policy or value function (`with_sparse_input`):
    same theta, layout, n_params, init and unflatten; `forward` / `__call__`
    take SparseRows or a dense (B, in_dim) array (compressed on the way in);
    `backward` returns (g_theta, None), the flat gradient of sum_b <gy_b, y_b>
    as MLP.backward does. There is no input gradient (a pixel needs none)
    and no jvp.
    """

    def __init__(self, net):
        if len(net.sizes) < 3:
            raise ValueError(f"SparseInputMLP needs at least one hidden layer; got sizes {net.sizes}")
        self.net = net
        self.sizes, self.dtype, self.n_params = net.sizes, net.dtype, net.n_params
        self.in_dim, self.out_dim = net.in_dim, net.out_dim
        fan_in, fan_out = net.sizes[0], net.sizes[1]
        self.first_activation = net.activations[0]
        # theta = [W_1 (fan_in * fan_out), b_1 (fan_out) if bias | the layers above]
        self.n_w1 = fan_in * fan_out
        self.split = self.n_w1 + (fan_out if net.bias else 0)
        self.tail = MLP(net.sizes[1:], hidden=net.hidden, output=net.output, bias=net.bias, dtype=net.dtype)
        self._theta, self._tail_theta = None, None  # the last theta and its tail view

    def __repr__(self):
        return f"SparseInputMLP({self.net!r})"

    def init(self, rng, *args, **kwargs):
        return self.net.init(rng, *args, **kwargs)

    def unflatten(self, theta):
        return self.net.unflatten(theta)

    def _tail_view(self, theta):
        # One view per theta, so the tail MLP finds its layer views by identity.
        if theta is not self._theta:
            self._theta, self._tail_theta = theta, theta[self.split:]
        return self._tail_theta

    def _rows(self, x):
        if isinstance(x, SparseRows):
            if x.n_cols != self.in_dim or x.values.dtype != self.dtype:
                raise ValueError(f"SparseRows with {x.n_cols} columns of {x.values.dtype} given to a network "
                                 f"with in_dim {self.in_dim} and dtype {self.dtype.name}")
            return x
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"x must be SparseRows or a (B, {self.in_dim}) array; got shape {x.shape}")
        return sparse_rows(x, self.dtype)

    def forward(self, theta, x):
        """(y (B, out_dim), cache) with h_1 = sigma(X W_1 + b_1) from the gather, then the tail MLP."""
        x = self._rows(x)
        W1, b1 = self.net.unflatten(theta)[0]
        h1 = gather_product(x.indptr, x.indices, x.values, W1, np.empty((x.n_rows, W1.shape[1]), self.dtype))
        if b1 is not None:
            h1 += b1
        activate(np, self.first_activation, h1)
        y, tail_cache = self.tail.forward(self._tail_view(theta), h1)
        return y, (x, tail_cache)

    def __call__(self, theta, x):
        return self.forward(theta, x)[0]

    def backward(self, theta, cache, gy, input_grad=False):
        """(g_theta (n_params,), None): the tail's VJP, then the scatter for W_1 (module docstring)."""
        if input_grad:
            raise ValueError("SparseInputMLP has no input gradient; call backward(..., input_grad=False)")
        x, tail_cache = cache
        g_tail, g_h1 = self.tail.backward(self._tail_view(theta), tail_cache, gy, input_grad=True)
        delta1 = times_derivative(np, self.first_activation, tail_cache[0], g_h1, True)  # dL/dz_1 (B, fan_out)
        g_theta = np.empty(self.n_params, dtype=self.dtype)
        g_theta[self.split:] = g_tail
        gW1 = g_theta[:self.n_w1].reshape(self.in_dim, -1)
        gW1[...] = 0.0
        scatter_product(x.indptr, x.indices, x.values, delta1, gW1)
        if self.split > self.n_w1:
            np.sum(delta1, axis=0, out=g_theta[self.n_w1:self.split])
        return g_theta, None


def with_sparse_input(model):
    """Swap the MLP `model.net` of a policy or value function (purerl/policies.py) for its sparse twin.

    The model keeps its parameters and methods; only how its network reads
    the input changes. Returns the model. Use it for inputs that are mostly
    zeros (difference frames), where it gives the same numbers faster.
    """
    model.net = SparseInputMLP(model.net)
    return model
