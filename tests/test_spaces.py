"""Discrete and Box: Gymnasium's attributes and membership rules, seeded sampling."""

import numpy as np
import pytest

from envs.spaces import Box, Discrete


def test_discrete_attributes_and_contains():
    space = Discrete(3)
    assert (space.n, space.start, space.shape, space.dtype) == (3, 0, (), np.dtype(np.int64))
    for x in (0, 2, np.int64(1), np.uint8(2), np.array(1)):
        assert space.contains(x) and x in space
    for x in (3, -1, 1.0, "1", None, np.array([1]), np.array(1.0)):
        assert not space.contains(x)
    shifted = Discrete(2, start=-1)
    assert -1 in shifted and 0 in shifted and 1 not in shifted
    assert space == Discrete(3) and space != Discrete(4) and space != shifted


@pytest.mark.parametrize("n", [0, -2, 2.0, True, None])
def test_discrete_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n >= 1"):
        Discrete(n)


def test_box_attributes_and_contains():
    space = Box(-1.0, np.array([1.0, np.inf], dtype=np.float32))
    assert space.shape == (2,) and space.dtype == np.float32
    np.testing.assert_array_equal(space.low, [-1, -1])
    assert space.low.dtype == np.float32
    assert space.is_bounded("below") and not space.is_bounded("above") and not space.is_bounded()
    assert np.array([0.5, 100.0], np.float32) in space
    assert [0.5, 100.0] in space  # array-likes, as Gymnasium
    assert np.array([1.5, 0.0], np.float32) not in space
    assert np.array([0.0], np.float32) not in space  # shape
    assert np.array([np.nan, 0.0], np.float32) not in space
    assert np.array(["a", "b"]) not in space  # dtype
    with pytest.raises(ValueError, match="low <= high"):
        Box(1.0, -1.0, (1,))


def test_samples_lie_in_the_space_and_follow_the_rng():
    spaces = [Discrete(5, start=2), Box(-2.0, 2.0, (3,)),
              Box(np.array([-np.inf, 0.0, -np.inf]), np.array([np.inf, np.inf, 1.0]), dtype=np.float64)]
    for space in spaces:
        for x in space.sample_batch(200, np.random.default_rng(0)):
            assert x in space
        a = space.sample_batch(10, np.random.default_rng(1))
        b = space.sample_batch(10, np.random.default_rng(1))
        np.testing.assert_array_equal(a, b)
        assert space.sample(np.random.default_rng(2)) in space
    assert set(Discrete(3).sample_batch(300, np.random.default_rng(0))) == {0, 1, 2}
    ints = Box(0, 2, (500,), dtype=np.int64).sample(np.random.default_rng(0))
    assert set(ints.tolist()) == {0, 1, 2}


def test_seed_makes_the_own_generator_reproducible():
    a, b = Box(-1.0, 1.0, (4,)), Box(-1.0, 1.0, (4,))
    assert a.seed(42) == 42
    b.seed(42)
    np.testing.assert_array_equal(a.sample(), b.sample())
    d = Discrete(10, seed=3)
    first = [int(d.sample()) for _ in range(5)]
    d.seed(3)
    assert [int(d.sample()) for _ in range(5)] == first
    with pytest.raises(ValueError, match="seed"):
        d.seed(-1)


def test_matches_gymnasium_spaces():
    gymnasium = pytest.importorskip("gymnasium")
    ours, theirs = Discrete(4, start=1), gymnasium.spaces.Discrete(4, start=1)
    assert (ours.n, ours.start, ours.shape) == (int(theirs.n), int(theirs.start), theirs.shape)
    low, high = np.array([-1.0, -np.inf], np.float32), np.array([2.0, 3.0], np.float32)
    ours, theirs = Box(low, high, dtype=np.float32), gymnasium.spaces.Box(low, high, dtype=np.float32)
    assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)
    np.testing.assert_array_equal(ours.low, theirs.low)
    np.testing.assert_array_equal(ours.high, theirs.high)
    for x in ([0.0, 0.0], [2.5, 0.0], [-1.0, -1e9], [0.0]):
        assert ours.contains(np.array(x, np.float32)) == theirs.contains(np.array(x, np.float32))
