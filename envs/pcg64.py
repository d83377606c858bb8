"""One PCG64 random stream per game, in numba, bit-identical to numpy's.

Gymnasium seeds each environment with
`numpy.random.Generator(PCG64(SeedSequence(seed)))` and draws its start state
with `Generator.uniform`. A Python Generator object per game would make
autoreset at N = 65536 games far too slow, so the streams live in a plain
uint64 array `rng` of shape (N, 4), one row per game,

    rng[i] = (state_hi, state_lo, inc_hi, inc_lo)

(the 128-bit PCG state and increment as pairs of 64-bit words), and the
generator's step and output run inside the kernels. Seeding happens once, in
Python: `seed_streams` copies numpy's own `PCG64(SeedSequence(s)).state`.

PCG64 (O'Neill 2014, "PCG: A family of simple fast space-efficient
statistically good algorithms", the XSL-RR 128/64 member; numpy's pcg64.h):

    state <- state * MULT + inc          (mod 2**128)
    out    = rotr64(hi(state) xor lo(state), state >> 122)

numpy steps first and outputs from the new state. A double in [0, 1) is
(out >> 11) * 2**-53, and `uniform(low, high)` is low + (high - low) * double.

The 128-bit arithmetic is written with 32-bit halves so that no intermediate
overflows: under NUMBA_DISABLE_JIT the same code runs on numpy uint64 scalars,
which warn on overflow.
"""

import numpy as np
from numba import njit

from envs.core import INLINE, KERNEL

# PCG's default 128-bit multiplier (numpy's PCG_DEFAULT_MULTIPLIER_128).
MULT_HI = np.uint64(0x2360ED051FC65DA4)
MULT_LO = np.uint64(0x4385DF649FCCF645)

_LOW32 = np.uint64(0xFFFFFFFF)
_U11 = np.uint64(11)
_U32 = np.uint64(32)
_U58 = np.uint64(58)
_U63 = np.uint64(63)
_U64 = np.uint64(64)
_TWO_POW_M53 = 1.0 / 9007199254740992.0  # 2**-53

STATE_HI, STATE_LO, INC_HI, INC_LO = 0, 1, 2, 3


@njit(**INLINE)
def _add64(a, b):
    """(a + b) mod 2**64 and the carry out, from 32-bit halves."""
    lo = (a & _LOW32) + (b & _LOW32)
    hi = (a >> _U32) + (b >> _U32) + (lo >> _U32)
    return ((hi & _LOW32) << _U32) | (lo & _LOW32), hi >> _U32


@njit(**INLINE)
def _mul64(a, b):
    """The full 128-bit product a * b of two uint64, as (hi, lo)."""
    a0, a1 = a & _LOW32, a >> _U32
    b0, b1 = b & _LOW32, b >> _U32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _U32) + (p01 & _LOW32) + (p10 & _LOW32)  # < 3 * 2**32
    lo = ((mid & _LOW32) << _U32) | (p00 & _LOW32)
    hi = p11 + (p01 >> _U32) + (p10 >> _U32) + (mid >> _U32)  # the true high word, < 2**64
    return hi, lo


@njit(**INLINE)
def next_uint64(rng, i):
    """Advance game i's stream one step and return its 64-bit output."""
    s_hi, s_lo = rng[i, STATE_HI], rng[i, STATE_LO]
    # state * MULT mod 2**128: the full low product plus the two cross terms' low words.
    hi, lo = _mul64(s_lo, MULT_LO)
    hi = _add64(hi, _mul64(s_hi, MULT_LO)[1])[0]
    hi = _add64(hi, _mul64(s_lo, MULT_HI)[1])[0]
    # + inc, carrying from the low word into the high word.
    lo, carry = _add64(lo, rng[i, INC_LO])
    hi = _add64(_add64(hi, rng[i, INC_HI])[0], carry)[0]
    rng[i, STATE_HI], rng[i, STATE_LO] = hi, lo
    # XSL-RR output: xor the halves, rotate right by the top 6 bits.
    x = hi ^ lo
    rot = hi >> _U58
    return (x >> rot) | (x << ((_U64 - rot) & _U63))


@njit(**INLINE)
def next_double(rng, i):
    """A double uniform on [0, 1) from game i's stream: (out >> 11) * 2**-53 (numpy's)."""
    return np.float64(next_uint64(rng, i) >> _U11) * _TWO_POW_M53


@njit(**INLINE)
def uniform(rng, i, low, high):
    """numpy's Generator.uniform(low, high) for one value: low + (high - low) * double."""
    return low + (high - low) * next_double(rng, i)


@njit(**KERNEL)
def draw_doubles(rng, out):
    """Fill out[i, :] with successive doubles of game i's stream (for tests)."""
    for i in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] = next_double(rng, i)


def check_seed(seed):
    """Return seed as an int if it is an int >= 0 (Gymnasium's rule), else raise."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be None or an int >= 0, got {seed!r}")
    return int(seed)


def entropy_seed():
    """A fresh 128-bit seed from the operating system (as SeedSequence() draws one)."""
    return int(np.random.SeedSequence().entropy)


def seed_streams(seeds):
    """uint64 array (len(seeds), 4): the stream of numpy's PCG64(SeedSequence(s)) for each s.

    Costs about 15 microseconds per seed (numpy's SeedSequence hashing), so it is
    done at seeding time only, never per step.
    """
    seeds = [check_seed(s) for s in seeds]
    out = np.empty((len(seeds), 4), dtype=np.uint64)
    mask = (1 << 64) - 1
    for i, s in enumerate(seeds):
        st = np.random.PCG64(np.random.SeedSequence(s)).state["state"]
        out[i] = (st["state"] >> 64, st["state"] & mask, st["inc"] >> 64, st["inc"] & mask)
    return out
