"""Time-major trajectory arrays: their checks, and the one recursion over time.

The estimators (purerl/estimators.py, whose docstring states the layout:
arrays (T,) or (T, *B), rewards[t] = r_t, terminated / truncated masks,
next_values) and the baselines (purerl/baselines.py) share these pieces.

Every recursion over time in the estimators is one linear recurrence,

    y_t = a_t + c_t y_{t+1}      (backward_scan; y_T = 0)
    y_t = a_t + c_t y_{t-1}      (forward_scan; y_{-1} = 0)

with the equation in how a and c are built. `backward_scan` runs it as a
numba kernel for numpy arrays and as a loop over t with vector operations
for other array modules (CuPy).
"""

import numpy as np
from numba import njit

from purerl.backend import get_xp

# ----------------------------------------------------------------------------
# input checks shared by the estimators and baselines
# ----------------------------------------------------------------------------


def float_array(name, x, xp):
    try:
        x = xp.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array, shape (T,) or (T, *B) ({err})") from None
    if x.dtype.kind in "biu":
        x = x.astype(xp.float64)
    elif x.dtype.kind != "f" or x.dtype.itemsize < 4:
        raise ValueError(f"{name} must be a float32 or float64 array, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{name} must have a leading time axis, shape (T,) or (T, *B); got a scalar")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row (time step), got shape {tuple(x.shape)}")
    return x


def exact_shape(name, x, shape, xp, dtype=None):
    """x as an array of module xp with exactly `shape` (no silent broadcasting)."""
    x = xp.asarray(x) if dtype is None else xp.asarray(x, dtype=dtype)
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(x.shape)}")
    return x


def done_mask(name, x, shape, xp):
    if x is None:
        return xp.zeros(shape, dtype=bool)
    x = xp.asarray(x)
    if x.dtype.kind not in "biu":
        raise ValueError(f"{name} must be a boolean mask, got dtype {x.dtype}")
    return exact_shape(name, x, shape, xp).astype(bool)


def trajectory_inputs(rewards, terminated, truncated, *others, name="rewards"):
    """(xp, rewards, terminated, truncated) checked against each other."""
    xp = get_xp(rewards, *[x for x in (terminated, truncated, *others) if x is not None])
    r = float_array(name, rewards, xp)
    return xp, r, done_mask("terminated", terminated, r.shape, xp), done_mask("truncated", truncated, r.shape, xp)


def check_unit(name, value, low_open=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")  # not a number: refused below, naming the value
    if not (0.0 < v <= 1.0 if low_open else 0.0 <= v <= 1.0):
        accepted = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be in {accepted}, got {value!r}")
    return v


def bootstrap_values(xp, r, truncated, next_values):
    """next_values checked, or zeros when every trajectory is complete."""
    if next_values is None:
        if bool(truncated.any()):
            raise ValueError(
                "truncated steps need next_values (the value of the final observation) "
                "to bootstrap from; pass next_values, or mark those steps terminated "
                "if the episode really ended there"
            )
        return xp.zeros_like(r)
    return exact_shape("next_values", next_values, r.shape, xp, dtype=r.dtype)


# ----------------------------------------------------------------------------
# the one recursion: y_t = a_t + c_t y_{t+1}
# ----------------------------------------------------------------------------


@njit(cache=True)
def _scan_kernel(a, c, y):
    """y[t, b] = a[t, b] + c[t, b] y[t + 1, b] with y[T, b] = 0; a, c, y of shape (T, B)."""
    for b in range(a.shape[1]):
        running = 0.0
        for t in range(a.shape[0] - 1, -1, -1):
            running = a[t, b] + c[t, b] * running
            y[t, b] = running


def _scan_loop(xp, a, c):
    """The same recursion for any array module: a loop over t, vector operations over the batch."""
    y = xp.empty_like(a)
    running = xp.zeros_like(a[0])
    for t in range(a.shape[0] - 1, -1, -1):
        running = a[t] + c[t] * running
        y[t] = running
    return y


def backward_scan(a, c):
    """y_t = a_t + c_t y_{t+1}, y_T = 0, over arrays (T, *B) of one float dtype."""
    xp = get_xp(a, c)
    if xp is not np:
        return _scan_loop(xp, a, c)
    T = a.shape[0]
    a2 = np.ascontiguousarray(a.reshape(T, -1))
    c2 = np.ascontiguousarray(c.reshape(T, -1), dtype=a2.dtype)
    y = np.empty_like(a2)
    _scan_kernel(a2, c2, y)
    return y.reshape(a.shape)


def forward_scan(a, c):
    """y_t = a_t + c_t y_{t-1}, y_{-1} = 0: the backward scan in reversed time."""
    return backward_scan(a[::-1], c[::-1])[::-1]


def episode_starts(xp, done):
    """start_t: row t begins an episode (row 0, or the row after an end)."""
    return xp.concatenate([xp.ones_like(done[:1]), done[:-1]], axis=0)


def last_row(xp, shape):
    """(T, *B) mask of the last row: the array ends there, so the episode is cut."""
    last = xp.zeros(shape, dtype=bool)
    last[-1] = True
    return last
