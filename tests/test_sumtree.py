"""Sum tree: prefix search against cumulative sums, exhaustively and by hypothesis.

Leaves are integers, so every sum in the tree and every cumulative sum is
exact in float64 and the comparisons are equalities, not tolerances.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purerl.sumtree import SumTree, tree_capacity


def reference_prefix(leaves, u):
    """Leaf i with cum[i-1] <= u < cum[i]: searchsorted on the inclusive cumsum."""
    return np.searchsorted(np.cumsum(leaves), u, side="right")


def check_tree_consistent(tree, leaves):
    cap = tree.cap
    full = np.zeros(cap)
    full[: len(leaves)] = leaves
    assert np.array_equal(tree.sum_tree[cap:], full)
    for k in range(cap - 1, 0, -1):
        assert tree.sum_tree[k] == tree.sum_tree[2 * k] + tree.sum_tree[2 * k + 1]
        assert tree.min_tree[k] == min(tree.min_tree[2 * k], tree.min_tree[2 * k + 1])
    assert tree.total == sum(leaves)
    assert tree.min == min(leaves)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_prefix_search_exhaustive_on_small_trees(n):
    # Every tree with leaves in {0, 1, 2} and every u on a grid of step 1/4
    # (which hits every boundary S_i exactly and every interior).
    for leaves in itertools.product((0.0, 1.0, 2.0), repeat=n):
        if sum(leaves) == 0:
            continue
        tree = SumTree(n)
        tree.update(np.arange(n), np.array(leaves))
        check_tree_consistent(tree, leaves)
        u = np.arange(0, sum(leaves), 0.25)
        got = tree.find_prefix(u)
        assert np.array_equal(got, reference_prefix(leaves, u)), (leaves, u, got)
        assert np.all(np.array(leaves)[got] > 0)  # a zero leaf is never hit


@settings(max_examples=60, deadline=None)
@given(
    leaves=st.lists(st.integers(0, 1000), min_size=1, max_size=3000).filter(lambda x: sum(x) > 0),
    seed=st.integers(0, 2**32 - 1),
)
def test_prefix_search_matches_cumsum_on_large_trees(leaves, seed):
    leaves = np.array(leaves, dtype=np.float64)
    rng = np.random.default_rng(seed)
    tree = SumTree(len(leaves))
    # Fill in two shuffled halves, so the final state does not depend on order.
    order = rng.permutation(len(leaves))
    tree.update(order, leaves[order])
    cum = np.cumsum(leaves)
    # Uniform draws plus every boundary S_i and the point just below it.
    boundaries = np.concatenate([[0.0], cum[:-1]])
    u = np.concatenate([rng.random(500) * cum[-1], boundaries, np.maximum(boundaries - 0.5, 0.0)])
    u = u[u < cum[-1]]
    got = tree.find_prefix(u)
    assert np.array_equal(got, reference_prefix(leaves, u))
    assert np.all(leaves[got] > 0)


def test_u_at_or_past_total_returns_last_nonzero_leaf():
    # Rounding could push u to the total; the guard keeps us out of zero leaves.
    tree = SumTree(6)
    tree.update(np.arange(6), np.array([1.0, 0.0, 3.0, 0.0, 0.0, 0.0]))
    assert tree.find_prefix(np.array([4.0, 4.0 + 1e-9]))[0] == 2


def test_update_repeated_index_keeps_last_and_recomputes_ancestors():
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    tree.update(np.array([2, 4, 2]), np.array([10.0, 0.5, 7.0]))
    check_tree_consistent(tree, [1.0, 2.0, 7.0, 4.0, 0.5])


def test_state_dict_round_trip():
    tree = SumTree(7)
    tree.update(np.arange(7), np.arange(1.0, 8.0))
    other = SumTree(7)
    other.load_state_dict(tree.state_dict())
    u = np.linspace(0, tree.total, 50, endpoint=False)
    assert np.array_equal(other.find_prefix(u), tree.find_prefix(u))
    with pytest.raises(ValueError, match="accepted"):
        SumTree(9).load_state_dict(tree.state_dict())


def test_capacity_and_input_errors():
    assert [tree_capacity(n) for n in (1, 2, 3, 4, 5, 1000)] == [1, 2, 4, 4, 8, 1024]
    with pytest.raises(ValueError, match="accepted"):
        SumTree(0)
    tree = SumTree(3)
    with pytest.raises(ValueError, match="out of range"):
        tree.update(np.array([3]), np.array([1.0]))
    with pytest.raises(ValueError, match=">= 0"):
        tree.update(np.array([0]), np.array([-1.0]))
    with pytest.raises(ValueError, match="total is 0"):
        tree.sample(4, np.random.default_rng(0))
