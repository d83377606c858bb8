"""The MLP's elementwise and row operations (purerl/nn.py computes with these).

Activations and their derivatives written from a layer's output h = sigma(z),
and two row operations on a batch (B, n): adding the bias to every row, and
summing the rows (the bias gradient). numpy runs a row operation as one small
inner loop per row, at about 25 ns a row, which for a (256, 32) batch costs
more than the arithmetic; the numba kernels here do the same operations in
the same order (so the same bits) in one call. CuPy arrays, and numpy arrays
under NUMBA_DISABLE_JIT=1 (where the kernels would be slow Python loops),
take the array operations.
"""

import numba
import numpy as np
from numba import njit


def activate(xp, name, z):
    """Apply sigma in place on z and return it. sigmoid(z) = (1 + tanh(z/2)) / 2
    never overflows (1 / (1 + exp(-z)) does for z < -88 in float32)."""
    if name == "tanh":
        xp.tanh(z, out=z)
    elif name == "relu":
        xp.maximum(z, 0, out=z)
    elif name == "sigmoid":
        z *= 0.5
        xp.tanh(z, out=z)
        z += 1
        z *= 0.5
    return z


def times_derivative(xp, name, h, g, owned):
    """g * sigma'(z) with sigma'(z) written from h = sigma(z) (purerl/nn.py's docstring).

    Writes into g when `owned` (g is a temporary of ours), else allocates.
    """
    if name == "identity":
        return g
    if name == "relu":
        if owned:
            return xp.multiply(g, h > 0, out=g)
        return g * (h > 0)
    if name == "tanh":
        d = h * h
        xp.subtract(1, d, out=d)  # 1 - h^2
    else:  # sigmoid
        d = 1 - h
        d *= h  # h (1 - h)
    d *= g
    return d


def use_kernels(xp):
    return xp is np and not numba.config.DISABLE_JIT


def add_rows(xp, z, b):
    """z += b on every row of z (B, n), in place: the bias of z_l = h_{l-1} W_l + b_l."""
    if use_kernels(xp):
        _add_rows_kernel(z, b)
    else:
        z += b


@njit(cache=True)
def _add_rows_kernel(z, b):
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += b[j]


def sum_rows(xp, a, out):
    """out = sum_b a[b], (n,) for a (B, n): the bias gradient 1^T delta_l.

    numpy sums a C-ordered array over axis 0 by adding its rows one at a time
    (7 us for (256, 32)); the kernel adds them in that same order, so its
    result is numpy's bit for bit, in about 1 us. Other layouts, a single
    column (numpy sums that pairwise) and an empty batch take numpy's own sum.
    """
    if use_kernels(xp) and a.shape[0] > 0 and a.shape[1] > 1 and a.flags.c_contiguous:
        _sum_rows_kernel(a, out)
    else:
        a.sum(axis=0, out=out)


@njit(cache=True)
def _sum_rows_kernel(a, out):
    for j in range(a.shape[1]):
        out[j] = a[0, j]
    for i in range(1, a.shape[0]):
        for j in range(a.shape[1]):
            out[j] += a[i, j]


def times_transpose(delta, W):
    """delta W^T, (B, fan_in). With fan_out = 1 (a value head) it is an outer
    product, done as a broadcast multiply (the same numbers): gemm with k = 1
    takes about 2x longer."""
    if W.shape[1] == 1:
        return delta * W.T
    return delta @ W.T
