"""Test-session settings.

The networks in these tests are small (tens to hundreds of units), where a
second BLAS thread only adds synchronisation: with both of CI's two cores
busy, OpenBLAS's threads wait on each other and a learning test ran 15x
slower. Pin BLAS to one thread unless the caller chose otherwise. This must
run before numpy is imported, which conftest.py does (pytest loads it before
collecting the test modules).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


import pytest  # noqa: E402 - after the BLAS settings above, which must precede numpy


@pytest.fixture
def cupy():
    """The cupy module, or a skip when CuPy is absent or cannot reach a GPU."""
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception as err:  # any CUDA failure means "no GPU here"
        pytest.skip(f"CuPy is installed but no GPU is usable: {err}")
    return cp


@pytest.fixture
def cupy_backend(cupy, monkeypatch):
    """PURERL_BACKEND=cupy for one test (skips without a usable GPU)."""
    monkeypatch.setenv("PURERL_BACKEND", "cupy")
    return cupy
