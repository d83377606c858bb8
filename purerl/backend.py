"""Array backend: numpy by default, CuPy when asked for.

DESIGN.md principle 6: network and algorithm code takes its array functions
from the arrays it is given, so the GPU path is the same code. This is the only
module that imports CuPy, and it does so lazily.

Choose the backend with `array_module("cupy")` or the environment variable
`PURERL_BACKEND=cupy`; asking for CuPy where it cannot be imported, or for an
unknown backend, raises a BackendError (an ImportError) that says what to do;
the command line prints it as one line.
"""

import os

import numpy as np

BACKENDS = ("numpy", "cupy")


class BackendError(ImportError):
    """The requested array backend is unknown or cannot be imported (the message says what to do)."""


def _import_cupy():
    try:
        import cupy
    except ImportError as err:  # pragma: no cover - depends on the machine
        raise BackendError(
            "the CuPy backend was requested but CuPy cannot be imported "
            f"({err}); install it with `pip install -e \".[gpu]\"` on a machine "
            "with a CUDA GPU, or use PURERL_BACKEND=numpy"
        ) from err
    return cupy


def array_module(name=None):
    """Return the array module for `name` ("numpy" or "cupy").

    With name=None, read PURERL_BACKEND (default "numpy").
    """
    if name is None:
        name = os.environ.get("PURERL_BACKEND", "numpy")
    name = str(name).lower()
    if name not in BACKENDS:
        raise BackendError(f"unknown array backend {name!r} (PURERL_BACKEND or name); accepted: {', '.join(BACKENDS)}")
    if name == "numpy":
        return np
    return _import_cupy()


def get_xp(*arrays):
    """The array module of the given arrays: CuPy if any is a CuPy array, else numpy.

    Checks the array's type module name instead of importing CuPy, so this is
    free on machines without it.
    """
    for a in arrays:
        if type(a) is np.ndarray:  # the common case first: a type check costs ~30 ns
            continue
        if type(a).__module__.split(".")[0] == "cupy":
            return _import_cupy()
    return np


def to_numpy(x):
    """Copy an array to host memory as a numpy array (no copy if already numpy)."""
    if type(x).__module__.split(".")[0] == "cupy":
        return x.get()
    return np.asarray(x)


def to_device(x, xp):
    """Move a host array to the array module `xp` (a no-op for numpy)."""
    if xp is np:
        return np.asarray(x)
    return xp.asarray(x)
