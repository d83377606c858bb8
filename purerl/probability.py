"""Validation and numerically stable primitives shared by the policy distributions.

Checks that name the owner, argument and accepted values (finite floats,
whole-number indices, exact shapes, a second distribution of the same kind
for KL); the stable log-softmax and log-sigmoid; and one categorical draw
per row by inverse CDF on the host. Used by purerl/distributions.py and
purerl/tabular_policies.py.
"""

import numpy as np
from numba import njit

from purerl.backend import get_xp, to_device, to_numpy

# ----------------------------------------------------------------------------
# validation and numerically stable primitives
# ----------------------------------------------------------------------------


def as_float(owner, name, x, xp):
    """x as a finite float array of module xp (integer input becomes float64)."""
    x = xp.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(xp.float64)
    elif x.dtype.kind != "f":
        raise ValueError(f"{owner}: {name} must be a real float array, got dtype {x.dtype}")
    finite = xp.isfinite(x)
    if not bool(finite.all()):  # the method: numpy's xp.all wrapper costs more than the check
        bad = int(x.size - int(finite.sum()))
        raise ValueError(
            f"{owner}: {name} must be finite; got {bad} nan/inf entries out of {x.size}"
        )
    return x


def as_index(owner, name, x, n, xp):
    """x as an int64 array of whole numbers in [0, n); floats holding whole
    numbers are accepted because rollout buffers often store actions as floats."""
    x = xp.asarray(x)
    if x.dtype.kind == "f":
        if not bool(xp.all(x == xp.floor(x))):  # also rejects nan and inf
            raise ValueError(f"{owner}: {name} must be whole numbers in [0, {n - 1}], got {x}")
    elif x.dtype.kind not in "biu":
        raise ValueError(f"{owner}: {name} must be integers, got dtype {x.dtype}")
    if x.size and (int(x.min()) < 0 or int(x.max()) >= n):
        raise ValueError(
            f"{owner}: {name} must be integers in [0, {n - 1}], "
            f"got values from {int(x.min())} to {int(x.max())}"
        )
    return x.astype(xp.int64, copy=False)


def positive_int(owner, name, n):
    """n as an int, or a ValueError naming it: a count must be an integer >= 1 (a bool is not a count)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {n!r}")
    return int(n)


def check_rng(owner, rng):
    """rng must be a numpy Generator: every draw in purerl comes from one, so a seed gives the same numbers."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{owner}: rng must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
                         f"got {type(rng).__name__}")


def check_shape(owner, name, x, shape):
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{owner}: {name} must have shape {tuple(shape)}, got {tuple(x.shape)}")


def _reducible(x, axis):
    """x, or a column-major copy of x when x is 2-D and is reduced over its rows.

    numpy reduces a short contiguous axis row by row, about 40 ns a row (10 us
    for the max over logits of shape (256, 2)); over a column-major copy the
    same reduction is K vectorised passes over the batch (2-3 us, copy
    included). Policy heads have few actions and large batches. Maxima are
    unchanged; sums of K >= 8 terms are added in another order.
    """
    if x.ndim == 2 and axis in (1, -1):
        return get_xp(x).asfortranarray(x)
    return x


def log_softmax(logits, axis=-1):
    """log pi_k = z_k - log sum_j exp(z_j), computed as (z_k - m) - log sum_j exp(z_j - m)
    with m = max_j z_j, so logits of 1000 do not overflow exp."""
    xp = get_xp(logits)
    shifted = logits - _reducible(logits, axis).max(axis=axis, keepdims=True)
    return shifted - xp.log(_reducible(xp.exp(shifted), axis).sum(axis=axis, keepdims=True))


def log_sigmoid(x):
    """log sigma(x) = -log(1 + exp(-x)) = -logaddexp(0, -x); stable for |x| large."""
    xp = get_xp(x)
    return -xp.logaddexp(0.0, -x)


def sample_rows(probs, rng, xp):
    """One index per row of probs (N, K) by inverse CDF, drawn on the host.

    u ~ U(0, 1] is scaled by each row's total so rounding in the sum cannot
    make the last category unreachable, and a zero-probability category is
    never drawn (it needs cdf_{k-1} < u <= cdf_k, an empty interval).
    """
    p = to_numpy(probs)
    idx = np.empty(p.shape[0], dtype=np.int64)
    _inverse_cdf(p, 1.0 - rng.random(p.shape[0]), idx)
    return to_device(idx, xp)


@njit(cache=True)
def _inverse_cdf(p, v, idx):
    """idx[n] = the first k with cdf_k >= u = v[n] cdf_{K-1} (K - 1 if none), where
    cdf = cumsum(p[n]) is accumulated in p's dtype and compared with u in float64.

    The same numbers as numpy's cumsum, compare and count, at one call per
    batch instead of eight (a numpy call costs about 1 us on a batch of 8).
    """
    K = p.shape[1]
    for n in range(p.shape[0]):
        total = p[n, 0]
        for k in range(1, K):
            total += p[n, k]
        u = v[n] * total
        k, cdf = 0, p[n, 0]
        while k < K - 1 and cdf < u:
            k += 1
            cdf += p[n, k]
        idx[n] = k


def check_other(dist, other):
    """KL and its gradient compare two distributions of one kind and one shape."""
    owner = type(dist).__name__
    if type(other) is not type(dist):
        raise ValueError(f"{owner}: other must be a {owner}, got {type(other).__name__}")
    if other.shape != dist.shape:
        raise ValueError(
            f"{owner}: other must have parameter shape {dist.shape}, got {other.shape}"
        )
