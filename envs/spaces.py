"""Action and observation spaces with Gymnasium's attribute names, without Gymnasium.

`Discrete(n, start=0)` is the set {start, ..., start + n - 1} of integers;
`Box(low, high, shape, dtype)` is the set of arrays of `shape` with
low <= x <= high elementwise. Attribute names and `contains` follow
`gymnasium.spaces` (n, start, shape, dtype, low, high, sample, contains, seed),
so code written against Gymnasium's spaces reads ours unchanged.

Randomness: `sample(rng)` draws from the `numpy.random.Generator` it is given;
with rng=None it draws from the space's own generator, which `seed(s)` seeds
as Gymnasium does (`Generator(PCG64(SeedSequence(s)))`) and which is seeded
from fresh OS entropy on first use otherwise. No global RNG is touched.
"""

import numpy as np


def _check_seed(seed):
    """A seed is None or an int >= 0 (Gymnasium's rule); anything else is an error."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be None or an int >= 0, got {seed!r}")
    return int(seed)


class Space:
    """Common seeding for spaces: a lazily created generator of their own."""

    shape = ()
    dtype = None

    def __init__(self, seed=None):
        self._np_random = None
        if seed is not None:
            self.seed(seed)

    @property
    def np_random(self):
        """The space's own Generator (created from OS entropy on first use)."""
        if self._np_random is None:
            self.seed()
        return self._np_random

    def seed(self, seed=None):
        """Seed the space's generator as Gymnasium does; return the seed used."""
        seed = _check_seed(seed)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)
        self._np_random = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
        return seed

    def _rng(self, rng):
        return self.np_random if rng is None else rng

    def __contains__(self, x):
        return self.contains(x)


class Discrete(Space):
    """The integers {start, ..., start + n - 1}; samples are numpy int64 scalars."""

    def __init__(self, n, start=0, seed=None):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"Discrete needs an int n >= 1, got n={n!r}")
        if isinstance(start, (bool, np.bool_)) or not isinstance(start, (int, np.integer)):
            raise ValueError(f"Discrete needs an int start, got start={start!r}")
        self.n = int(n)
        self.start = int(start)
        self.shape = ()
        self.dtype = np.dtype(np.int64)
        super().__init__(seed)

    def sample(self, rng=None):
        """One uniformly drawn element, as np.int64."""
        return np.int64(self._rng(rng).integers(self.start, self.start + self.n))

    def sample_batch(self, num, rng=None):
        """`num` independent uniform draws, int64 array of shape (num,)."""
        return self._rng(rng).integers(self.start, self.start + self.n, size=num, dtype=np.int64)

    def contains(self, x):
        """True for an int, numpy integer or 0-d integer array in range (Gymnasium's rule)."""
        if isinstance(x, (int, np.integer)):
            value = int(x)
        elif isinstance(x, np.ndarray) and x.shape == () and np.issubdtype(x.dtype, np.integer):
            value = int(x)
        else:
            return False
        return self.start <= value < self.start + self.n

    def describe(self):
        """The accepted values, for error messages."""
        return f"integers in [{self.start}, {self.start + self.n - 1}]"

    def __repr__(self):
        return f"Discrete({self.n})" if self.start == 0 else f"Discrete({self.n}, start={self.start})"

    def __eq__(self, other):
        return isinstance(other, Discrete) and (self.n, self.start) == (other.n, other.start)


class Box(Space):
    """Arrays of `shape` and `dtype` with low <= x <= high elementwise.

    low and high may be scalars (broadcast to `shape`) or arrays (then `shape`
    defaults to theirs); infinite bounds mark unbounded coordinates, as in
    Gymnasium.
    """

    def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
        self.dtype = np.dtype(dtype)
        if shape is None:
            shape = np.broadcast_shapes(np.shape(low), np.shape(high))
        self.shape = tuple(int(d) for d in shape)
        self.low = np.broadcast_to(np.asarray(low, dtype=self.dtype), self.shape).copy()
        self.high = np.broadcast_to(np.asarray(high, dtype=self.dtype), self.shape).copy()
        if np.any(np.isnan(self.low)) or np.any(np.isnan(self.high)) or np.any(self.low > self.high):
            raise ValueError(f"Box needs low <= high (no nan), got low={self.low}, high={self.high}")
        self.bounded_below = np.isfinite(self.low)
        self.bounded_above = np.isfinite(self.high)
        super().__init__(seed)

    def is_bounded(self, manner="both"):
        """Whether every coordinate is bounded 'below', 'above' or on 'both' sides."""
        below, above = bool(np.all(self.bounded_below)), bool(np.all(self.bounded_above))
        if manner not in ("both", "below", "above"):
            raise ValueError(f"manner must be 'both', 'below' or 'above', got {manner!r}")
        return {"both": below and above, "below": below, "above": above}[manner]

    def sample_batch(self, num, rng=None):
        """`num` draws, shape (num, *shape): uniform where bounded on both sides,
        low + exponential / high - exponential where bounded on one side, and
        standard normal where unbounded (Gymnasium's scheme)."""
        rng = self._rng(rng)
        size = (num,) + self.shape
        low = self.low.astype(np.float64)
        integer = np.issubdtype(self.dtype, np.integer)
        high = self.high.astype(np.float64) + (1.0 if integer else 0.0)  # integers: floor of U[low, high + 1)
        both = self.bounded_below & self.bounded_above
        out = rng.standard_normal(size)
        out = np.where(both, rng.uniform(np.where(both, low, 0.0), np.where(both, high, 1.0), size), out)
        only_low = self.bounded_below & ~self.bounded_above
        out = np.where(only_low, np.where(only_low, low, 0.0) + rng.exponential(size=size), out)
        only_high = ~self.bounded_below & self.bounded_above
        out = np.where(only_high, np.where(only_high, high, 0.0) - rng.exponential(size=size), out)
        if integer:
            out = np.floor(out)
        return np.clip(out, self.low, self.high).astype(self.dtype)

    def sample(self, rng=None):
        """One draw of shape `shape` (see `sample_batch`)."""
        return self.sample_batch(1, rng)[0]

    def contains(self, x):
        """True for an array (or array-like) of `shape`, castable to `dtype`, within bounds."""
        x = np.asarray(x)
        if x.shape != self.shape or not np.can_cast(x.dtype, self.dtype, casting="same_kind"):
            return False
        return bool(np.all(x >= self.low) and np.all(x <= self.high))

    def describe(self):
        """The accepted values, for error messages."""
        low, high = self.low.tolist(), self.high.tolist()
        return f"finite {self.dtype} arrays of shape {self.shape} with {low} <= x <= {high}"

    def __repr__(self):
        return f"Box({self.low.min()}, {self.high.max()}, {self.shape}, {self.dtype})"

    def __eq__(self, other):
        return (
            isinstance(other, Box)
            and self.shape == other.shape
            and self.dtype == other.dtype
            and np.array_equal(self.low, other.low)
            and np.array_equal(self.high, other.high)
        )
