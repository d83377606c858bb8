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
