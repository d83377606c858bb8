"""What every simulator shares: its description record and the per-game bookkeeping.

`Simulator` is the record an environment module hands to the shells (the
protocol is documented in envs/vector.py). The numba helpers below are the
per-game pieces of a step kernel that are the same for every game: checking
actions against their accepted range, the time limit (truncation) and the
episode accumulators. Each environment's step kernel calls them, so the time
limit is written once, here.

Numba's on-disk cache keys a kernel on its own source file only: after
editing this file, delete the `__pycache__` folders under envs/ so kernels in
other files that inline these helpers recompile.
"""

import math
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from numba import njit


def _numba_knows_option(name):
    try:
        from numba.core.cpu import CPUTargetOptions
    except ImportError:  # numba moved its internals: assume the option is gone too
        return False
    return hasattr(CPUTargetOptions, name)


# numba options for batch kernels. _nrt=False compiles without numba's
# reference counting: kernels only index arrays they are given (no
# allocation), and without it every per-game helper call that takes arrays
# costs two atomic operations per array per game, which measured 3x slower on
# cart-pole (README, "bench envs").
# `_nrt` is a private numba option; where a numba version no longer knows it,
# kernels compile with reference counting (slower, same results).
KERNEL = {"cache": True, **({"_nrt": False} if _numba_knows_option("_nrt") else {})}
# numba options for per-game functions called inside kernels: inlined into the
# kernel at numba's IR level, so they compile with the kernel's options.
INLINE = {"cache": True, "inline": "always"}


@dataclass(frozen=True)
class EnvSpec:
    """Gymnasium's `env.spec`, reduced to what purerl uses: the name, the
    time limit, the keyword arguments the environment was made with, and the
    return at which the task counts as solved (None where there is none)."""

    id: str
    max_episode_steps: int
    kwargs: dict = field(default_factory=dict)
    reward_threshold: float | None = None


@dataclass(frozen=True, eq=False)
class Simulator:
    """One kind of game, as the shells (envs/env.py, envs/vector.py) need it.

    Fields (see envs/vector.py for the kernels' exact signatures):
      spec               EnvSpec: id, max_episode_steps (the time limit), kwargs
      observation_space  Box of one game's observation (float32)
      action_space       Discrete (actions int64 (N,)) or Box (actions float32 (N, *shape))
      params             float64 (P,): every constant the kernels read, derived
                         ones computed once by the module's factory
      state_layout       ((per-game shape, dtype), ...): one entry per state array;
                         the shell allocates zeros of shape (N, *per-game shape)
      step, step_parallel  the step kernel, compiled serially and with parallel=True
      reset              the reset kernel
      reset_params       callable(params, options) -> params for one reset(options=...),
                         raising ValueError on unknown options; None if options unsupported
      render             callable(state arrays, params, i) -> str or RGB uint8 array
      render_mode        what render returns, in Gymnasium's words: "ansi" (text)
                         or "rgb_array" (an RGB uint8 array)
      info               optional callable(state arrays, params) -> dict of (N,) arrays
                         merged into each step's and reset's info
      accepts            optional text for invalid-action errors (default: the
                         action space's own description)
    """

    spec: EnvSpec
    observation_space: Any
    action_space: Any
    params: np.ndarray
    state_layout: tuple
    step: Callable
    step_parallel: Callable
    reset: Callable
    reset_params: Callable = None
    render: Callable = None
    render_mode: str = "ansi"
    info: Callable = None
    accepts: str = None


def compile_serial_and_parallel(fn):
    """Compile the plain function `fn` twice with the KERNEL options, serially and
    with parallel=True, where its `prange` loop is split over
    numba's threads (in the serial version prange is range).

    The parallel twin is a copy of `fn` under another qualified name, because
    numba's cache names its files after the function: two compilations of one
    function object would overwrite each other's cache entries.
    """
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel", fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_parallel"
    twin.__module__ = fn.__module__
    twin.__doc__ = fn.__doc__
    return njit(**KERNEL)(fn), njit(parallel=True, **KERNEL)(twin)


@njit(**INLINE)
def first_invalid_action(actions, low, high):
    """Index of the first game whose action is non-finite or outside [low, high], or -1.

    actions: (N,) or (N, d); low, high: float64 scalars (±inf for unbounded).
    Nothing is clipped: an invalid action stops the whole step before any
    game changes, and the shell raises a ValueError naming it.
    """
    n = actions.shape[0]
    flat = actions.reshape(actions.size)
    per_game = flat.size // n
    for k in range(flat.size):
        a = float(flat[k])
        if not (math.isfinite(a) and low <= a <= high):
            return k // per_game
    return -1


# Rows of the bookkeeping arrays the shell passes to every step kernel. They
# are packed into few arrays because each array argument costs numba's
# dispatcher about 60 ns, on every step of every learner.
REWARD, EP_RETURN = 0, 1  # values: float64 (2, N)
TERMINATED, TRUNCATED, HAS_FINAL = 0, 1, 2  # flags: bool (3, N)
OBS, FINAL_OBS = 0, 1  # obs: float32 (2, N, *obs_shape)


@njit(**INLINE)
def begin_step(i, elapsed, values, flags):
    """Start game i's step: if its previous step ended an episode (and it was
    reset then), zero its episode totals now. Zeroing one step late keeps the
    finished episode's totals readable until the step after it ended."""
    if flags[HAS_FINAL, i]:
        elapsed[i] = 0
        values[EP_RETURN, i] = 0.0
        flags[HAS_FINAL, i] = False


@njit(**INLINE)
def end_step(i, autoreset, max_steps, elapsed, values, flags):
    """Time limit and episode totals for game i after its physics step; returns
    whether the shell's autoreset must reset it now (flags[HAS_FINAL, i]).

        elapsed[i] += 1;  values[EP_RETURN, i] += values[REWARD, i]
        flags[TRUNCATED, i] = elapsed[i] >= max_steps

    As Gymnasium's TimeLimit, truncation is set at the limit even when the
    game also terminated on that step (both flags true; terminated takes
    precedence for bootstrapping).
    """
    elapsed[i] += 1
    values[EP_RETURN, i] += values[REWARD, i]
    flags[TRUNCATED, i] = elapsed[i] >= max_steps
    done = autoreset and (flags[TERMINATED, i] or flags[TRUNCATED, i])
    flags[HAS_FINAL, i] = done
    return done
