"""The command line: `python -m purerl {train,eval,watch,plot,bench} ...`.

Argument parsing lives here and only here; the library itself takes
configuration dataclasses, never argv.
"""

import argparse
import sys

from purerl import __version__


def build_parser():
    parser = argparse.ArgumentParser(
        prog="purerl",
        description="Deep reinforcement learning from scratch: numpy networks, numba simulators.",
    )
    parser.add_argument("--version", action="version", version=f"purerl {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
