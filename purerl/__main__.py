"""`python -m purerl ...` runs the command line (see purerl/cli.py)."""

import sys

from purerl.cli import main

sys.exit(main())
