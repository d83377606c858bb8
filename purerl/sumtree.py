"""Sum tree (and min tree) over priorities, for prioritized experience replay.

Prioritized replay samples transition i with probability

    P_i = p_i^alpha / sum_j p_j^alpha

("Robot Perception and Control: Reinforcement Learning", 'Prioritized
Experience Replay'). A binary tree whose every node holds the sum of its two
children turns sampling into one descent from the root (O(log N)) and a
priority change into one walk up (O(log N)); a second tree holding the minimum
gives min_j p_j^alpha, which normalizes the importance weights.

Layout: a flat array `tree` of length 2 * cap, cap a power of two; node k has
children 2k and 2k + 1, the root is node 1 (tree[0] is unused), and leaf i
(0 <= i < cap) is node cap + i. The kernels are plain numba functions over
these arrays; `SumTree` is the thin object around them.
"""

import numpy as np
from numba import njit


def tree_capacity(n):
    """The number of leaves for n items: the smallest power of two >= n."""
    if n < 1:
        raise ValueError(f"invalid sum tree size n={n!r}; accepted: an integer >= 1")
    return 1 << (int(n) - 1).bit_length()


@njit(cache=True)
def tree_update(sum_tree, min_tree, indices, values):
    """Set leaves `indices` to `values` and repair the sums and minima above them.

    sum_tree, min_tree: (2 cap,) float64. indices: (B,) int in [0, cap).
    values: (B,) float64 >= 0. Applied in order, so a repeated index keeps its
    last value. Each parent is recomputed as left + right (not adjusted by a
    difference), so rounding errors never accumulate.
    """
    cap = sum_tree.shape[0] // 2
    for b in range(indices.shape[0]):
        k = cap + indices[b]
        sum_tree[k] = values[b]
        min_tree[k] = values[b]
        k //= 2
        while k >= 1:
            sum_tree[k] = sum_tree[2 * k] + sum_tree[2 * k + 1]
            min_tree[k] = min(min_tree[2 * k], min_tree[2 * k + 1])
            k //= 2


@njit(cache=True)
def tree_find_prefix(sum_tree, u):
    """For each u_b in [0, total), the leaf i with S_i <= u_b < S_{i+1}.

    S_i = sum_{j < i} leaf_j is the prefix sum, so leaf i is hit by a uniform
    u in [0, total) with probability leaf_i / total. Descend from the root:
    go left if u < left sum, else subtract the left sum and go right.
    Guard against rounding: never enter a subtree whose sum is 0, so a leaf of
    priority 0 is never returned while the total is positive.
    u: (B,) float64. Returns (B,) int64.
    """
    cap = sum_tree.shape[0] // 2
    out = np.empty(u.shape[0], dtype=np.int64)
    for b in range(u.shape[0]):
        x = u[b]
        k = 1
        while k < cap:
            left = sum_tree[2 * k]
            if (x < left and left > 0.0) or sum_tree[2 * k + 1] <= 0.0:
                k = 2 * k
            else:
                x -= left
                k = 2 * k + 1
        out[b] = k - cap
    return out


class SumTree:
    """Priorities of `n` items in a sum tree and a min tree.

    Empty leaves hold 0 in the sum tree and +inf in the min tree, so they are
    never sampled and never are the minimum.
    """

    def __init__(self, n):
        self.n = int(n)
        self.cap = tree_capacity(n)
        self.sum_tree = np.zeros(2 * self.cap)
        self.min_tree = np.full(2 * self.cap, np.inf)

    @property
    def total(self):
        """sum_j leaf_j."""
        return float(self.sum_tree[1])

    @property
    def min(self):
        """min_j leaf_j over the leaves set so far (+inf if none)."""
        return float(self.min_tree[1])

    def leaves(self, indices):
        """The values of leaves `indices`, (B,) float64."""
        return self.sum_tree[self.cap + np.asarray(indices)]

    def update(self, indices, values):
        indices = np.ascontiguousarray(indices, dtype=np.int64).reshape(-1)
        values = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
        if indices.shape != values.shape:
            raise ValueError(f"indices {indices.shape} and values {values.shape} must have the same shape")
        if indices.size and (indices.min() < 0 or indices.max() >= self.n):
            raise ValueError(f"sum tree index out of range; accepted: 0..{self.n - 1}")
        if not np.all(values >= 0) or not np.all(np.isfinite(values)):
            raise ValueError("sum tree values must be finite and >= 0")
        tree_update(self.sum_tree, self.min_tree, indices, values)

    def find_prefix(self, u):
        """Leaves hit by u (B,) in [0, total); see `tree_find_prefix`."""
        return tree_find_prefix(self.sum_tree, np.ascontiguousarray(u, dtype=np.float64).reshape(-1))

    def sample(self, batch_size, rng):
        """batch_size i.i.d. leaves, leaf i with probability leaf_i / total."""
        total = self.total
        if not total > 0:
            raise ValueError("cannot sample from a sum tree whose total is 0")
        return self.find_prefix(rng.random(batch_size) * total)

    def state_dict(self):
        return {"sum_tree": self.sum_tree.copy(), "min_tree": self.min_tree.copy()}

    def load_state_dict(self, state):
        for key in ("sum_tree", "min_tree"):
            value = np.asarray(state[key], dtype=np.float64)
            if value.shape != (2 * self.cap,):
                raise ValueError(f"{key} has shape {value.shape}; accepted: ({2 * self.cap},)")
        self.sum_tree[:] = state["sum_tree"]
        self.min_tree[:] = state["min_tree"]
