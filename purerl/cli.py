"""The command line: `python -m purerl {train,eval,watch,plot,bench} ...`.

Argument parsing lives here and only here; the library itself takes
configuration dataclasses, never argv.
"""

import argparse
import importlib
import pkgutil
import sys

import purerl.bench
from purerl import __version__


def add_bench_parser(subparsers):
    bench = subparsers.add_parser(
        "bench",
        help="run a benchmark and print its table",
        description="Run a benchmark and print a Markdown table of medians and min-max over repeats.",
    )
    which = bench.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for info in sorted(pkgutil.iter_modules(purerl.bench.__path__), key=lambda m: m.name):
        name = info.name
        module = importlib.import_module(f"purerl.bench.{name}")
        sub = which.add_parser(name, help=module.__doc__.strip().splitlines()[0])
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="purerl",
        description="Deep reinforcement learning from scratch: numpy networks, numba simulators.",
    )
    parser.add_argument("--version", action="version", version=f"purerl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_bench_parser(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.handler(args) or 0


if __name__ == "__main__":
    sys.exit(main())
