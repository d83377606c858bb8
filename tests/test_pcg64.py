"""The per-game PCG64 streams in numba equal numpy's Generator(PCG64(SeedSequence(s))) bit for bit."""

import os
import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from envs import pcg64


def numpy_stream(seed):
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))


@settings(max_examples=30, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**128), min_size=1, max_size=8), draws=st.integers(1, 400))
def test_doubles_equal_numpys_for_any_seed(seeds, draws):
    rng = pcg64.seed_streams(seeds)
    out = np.empty((len(seeds), draws))
    pcg64.draw_doubles(rng, out)
    for i, seed in enumerate(seeds):
        np.testing.assert_array_equal(out[i], numpy_stream(seed).random(draws))


def test_raw_outputs_and_uniform_equal_numpys():
    # The helpers are inlined into kernels; called from Python they compile standalone.
    seeds = [0, 1, 2**64 + 3]
    rng = pcg64.seed_streams(seeds)
    for i, seed in enumerate(seeds):
        got = np.array([pcg64.next_uint64(rng, i) for _ in range(1000)], dtype=np.uint64)
        np.testing.assert_array_equal(got, numpy_stream(seed).bit_generator.random_raw(1000))
    rng = pcg64.seed_streams([5])
    got = [pcg64.uniform(rng, 0, -np.pi, np.pi) for _ in range(100)]
    np.testing.assert_array_equal(got, numpy_stream(5).uniform(-np.pi, np.pi, size=100))


def test_streams_of_the_same_seed_are_independent_of_their_row():
    a = pcg64.seed_streams([7, 8, 9])
    b = pcg64.seed_streams([9])
    np.testing.assert_array_equal(a[2], b[0])


def test_bad_seeds_raise():
    for bad in (-1, 1.5, "3", True):
        try:
            pcg64.seed_streams([bad])
        except ValueError as err:
            assert "seed" in str(err)
        else:
            raise AssertionError(f"seed {bad!r} accepted")


def test_pure_python_mode_is_identical_and_silent():
    """Under NUMBA_DISABLE_JIT the same code runs on numpy scalars without overflow warnings."""
    code = ("import numpy as np, warnings; warnings.simplefilter('error');"
            "from envs import pcg64; r = pcg64.seed_streams([3, 2**100]); o = np.empty((2, 50));"
            "pcg64.draw_doubles(r, o); print(repr(o.tobytes().hex()))")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    want = np.stack([numpy_stream(3).random(50), numpy_stream(2**100).random(50)])
    assert eval(out) == want.tobytes().hex()
