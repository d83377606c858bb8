"""The command line: `python -m purerl {train,eval,watch,plot,bench} ...`.

Argument parsing lives here and only here; the library itself takes
configuration dataclasses, never argv. Every expected failure (a bad name or
value, an unreadable checkpoint) ends as one line `purerl CMD: error: ...`
on stderr with exit status 1 or 2, never a traceback.
"""

import os

# purerl's networks are small: a second BLAS thread only adds synchronisation
# and, on a busy 2-core machine, made training many times slower. One thread
# unless the user chose otherwise. This has to run before numpy is imported,
# so it sits above the imports (`python -m purerl` and the `purerl` script
# both import this module first).
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402
import sys  # noqa: E402

import purerl.bench  # noqa: E402
from purerl import __version__  # noqa: E402
from purerl.algos import registry  # noqa: E402
from purerl.backend import BackendError  # noqa: E402
from purerl.checkpoint import CheckpointError  # noqa: E402


class CliError(Exception):
    """An error the user can fix; printed as one line, exit status 1."""


CHECKPOINT_HELP = ("a checkpoint of this run to load instead of policy.npz, relative to RUN_DIR "
                   "(e.g. checkpoints/step-*.npz) or a path inside it")


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


def add_train_arguments(parser):
    parser.add_argument("algo", metavar="ALGO", nargs="?",
                        help=f"algorithm: {', '.join(registry.names())}")
    parser.add_argument("-h", "--help", action="store_true", help="show this help (with ALGO: its settings)")
    parser.add_argument("--env", metavar="NAME", help="environment (default: the algorithm's, e.g. CartPole-v1); "
                        "gym:ID for a Gymnasium environment")
    parser.add_argument("--seed", type=int, default=0, help="seed of the learner and the environments (default 0)")
    parser.add_argument("--steps", type=int, metavar="N", help="total env steps (sets total_steps)")
    parser.add_argument("--num-envs", type=int, metavar="K", help="parallel games (sets num_envs)")
    parser.add_argument("--out", default="runs", metavar="DIR", help="where run directories go (default runs/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set a config field (repeatable); see train ALGO --help")
    parser.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="keyword argument for the environment, e.g. obs_type=state (repeatable)")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue RUN_DIR from its last checkpoint (--steps N raises its total)")
    parser.add_argument("--save-every", type=int, default=0, metavar="N",
                        help="checkpoint every N env steps (default: a tenth of the run)")
    parser.add_argument("--keep", type=int, default=3, metavar="K",
                        help="periodic checkpoints kept (default 3; 0 keeps all)")
    parser.add_argument("--keep-best", action="store_true",
                        help="also keep checkpoints/best.npz, the state with the highest mean return "
                        "of 100 episodes (looked at every iteration, written at most every tenth of --save-every)")
    parser.add_argument("--pause-at", type=int, default=0, metavar="N",
                        help="stop resumably after N env steps without changing the run's total (default 0: run to the end)")
    parser.add_argument("--eval-episodes", type=int, default=10, metavar="K",
                        help="greedy episodes played after training (default 10; 0 skips)")


def add_watch_arguments(parser):
    parser.add_argument("--seed", type=int, default=0, help="seed of the episode (default 0)")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    parser.add_argument("--max-steps", type=int, default=None, metavar="N",
                        help="stop after N steps (default: the episode's time limit)")
    parser.add_argument("--sample", action="store_true", help="sample actions instead of greedy ones")
    parser.add_argument("--gif", metavar="FILE",
                        help="write an animated GIF instead (needs matplotlib; limit long episodes with --max-steps)")
    parser.add_argument("--width", type=int, default=80, help="text width of image frames (default 80)")


def add_train_parser(subparsers):
    train = subparsers.add_parser(
        "train", add_help=False, help="train an agent (train ALGO --help lists its settings)",
        description="Train ALGO on an environment; everything lands in a new run directory.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(train)
    train.set_defaults(handler=lambda args: cmd_train(args, train))


def cmd_train(args, parser):
    from purerl import train_command  # imported when used: it loads numba (via envs)

    return train_command.main(args, parser)


def _at_least_one(text):
    """argparse type: an integer >= 1 (a bad one is a command-line error, exit status 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_eval_parser(subparsers):
    ev = subparsers.add_parser(
        "eval", help="evaluate a trained policy: mean and std of the return",
        description="Load a run's final (or a given) checkpoint and play whole episodes with it.",
    )
    ev.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (or a checkpoint .npz)")
    ev.add_argument("--episodes", type=_at_least_one, default=10, help="episodes to play (default 10)")
    ev.add_argument("--seed", type=int, default=0,
                    help="episode i is seeded with SEED + i (default 0)")
    ev.add_argument("--checkpoint", metavar="FILE", help=CHECKPOINT_HELP)
    ev.add_argument("--sample", action="store_true",
                    help="sample actions from the policy instead of taking the greedy / mean action")
    ev.set_defaults(handler=cmd_eval)


def cmd_eval(args):
    import numpy as np

    from purerl import runs
    from purerl.checkpoint import load
    from purerl.evaluate import action_mode, evaluate_run

    path = _checkpoint_path(args)
    ck = load(path)
    _, _, learner = runs.restore_learner(ck)
    env = runs.make_env(ck.env, args.episodes, args.seed, ck.meta.get("env_kwargs"))
    # On Pong the same games are also scored as wins and points (purerl/pong_eval.py).
    returns, pong = evaluate_run(learner.act, ck.env, env, args.episodes, seed=args.seed, greedy=not args.sample)
    mode = action_mode(learner, greedy=not args.sample)
    print(f"{ck.algo} on {ck.env}, {path} ({ck.meta['env_steps']:,} env steps)")
    print(f"return over {args.episodes} episodes ({mode}, seeds {args.seed}..{args.seed + args.episodes - 1}): "
          f"{np.mean(returns):.2f} ± {np.std(returns):.2f} (min {np.min(returns):.2f}, max {np.max(returns):.2f})")
    if pong is not None:
        print(pong)
    return 0


def _checkpoint_path(args):
    """--checkpoint (relative to RUN_DIR, or a path that lies inside it), else RUN_DIR's policy."""
    if args.checkpoint is None:
        return _policy_path(args.run_dir)
    path = args.checkpoint
    if not os.path.isabs(path) and os.path.isfile(os.path.join(args.run_dir, path)):
        path = os.path.join(args.run_dir, path)
    if not os.path.isfile(path):
        hint = " (best.npz exists only in runs trained with --keep-best)" if os.path.basename(path) == "best.npz" else ""
        raise CliError(f"--checkpoint {args.checkpoint}: no such file, in RUN_DIR {args.run_dir} or as given{hint}")
    inside = os.path.commonpath([os.path.abspath(path), os.path.abspath(args.run_dir)])
    if not os.path.isdir(args.run_dir) or inside != os.path.abspath(args.run_dir):
        raise CliError(f"--checkpoint {args.checkpoint} is not inside RUN_DIR {args.run_dir}; "
                       f"to play a checkpoint on its own, give it as RUN_DIR")
    return path


def _policy_path(run_dir):
    from purerl import runs

    try:
        return runs.policy_checkpoint(run_dir)
    except ValueError as err:
        raise CliError(str(err)) from None


def add_watch_parser(subparsers):
    w = subparsers.add_parser(
        "watch", help="play an episode in the terminal (or write a GIF)",
        description="Play one episode with a run's policy, drawn as text in the terminal; "
                    "--gif writes an animation instead (needs the plot extra).",
    )
    w.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (or a checkpoint .npz)")
    w.add_argument("--checkpoint", metavar="FILE", help=CHECKPOINT_HELP)
    add_watch_arguments(w)
    w.set_defaults(handler=cmd_watch)


def cmd_watch(args):
    from purerl import watch

    if args.gif:
        check_output_file("--gif", args.gif, ".gif")
    args.checkpoint = _checkpoint_path(args)
    return watch.main(args)


def check_output_file(flag, path, suffix=None):
    """CliError, before any work, when `path` cannot be written: no such folder, or (with `suffix`) another extension."""
    if suffix and not path.lower().endswith(suffix):
        raise CliError(f"{flag} {path}: the file name must end in {suffix}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"{flag} {path}: no such folder {folder}")


def add_plot_parser(subparsers):
    p = subparsers.add_parser(
        "plot", help="learning curves of one or more runs as a PNG",
        description="Plot mean return against env steps for each run, overlaid (needs the plot extra); "
                    "--x and --y pick other metrics.csv columns.",
    )
    p.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="run directories to overlay")
    p.add_argument("--x", default="env_steps", metavar="COLUMN",
                   help="metrics.csv column on the x axis (default env_steps; also episodes, wall_time)")
    p.add_argument("--y", default="mean_return", metavar="COLUMN",
                   help="metrics.csv column on the y axis (default mean_return; e.g. running_reward "
                        "for reinforce-pong)")
    p.add_argument("--out", metavar="FILE",
                   help="PNG to write (default: RUN_DIR/learning_curve.png for one run, "
                        "learning_curves.png for several)")
    p.set_defaults(handler=cmd_plot)


def cmd_plot(args):
    from purerl import plot

    if args.out:
        check_output_file("--out", args.out)  # the extension is matplotlib's to judge (png, svg, pdf, ...)
    return plot.main(args)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `purerl CMD: error: ...` and where to find the options (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = Parser(
        prog="purerl",
        description="Deep reinforcement learning from scratch: numpy networks, numba simulators.",
    )
    parser.add_argument("--version", action="version", version=f"purerl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_train_parser(subparsers)
    add_eval_parser(subparsers)
    add_watch_parser(subparsers)
    add_plot_parser(subparsers)
    add_bench_parser(subparsers)
    return parser


def main(argv=None):
    try:
        return run(argv)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        # Point stdout at devnull so the interpreter's final flush is silent too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args) or 0
    except (CliError, CheckpointError, BackendError) as err:
        print(f"purerl {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"purerl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
