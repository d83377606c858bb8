"""`python -m purerl plot RUN_DIR [RUN_DIR ...]`: learning curves as a PNG.

Each run's metrics.csv gives its curve: by default the mean return of the
last 100 finished training episodes (the learner's `mean_return`) against env
steps; `--x` and `--y` pick other columns, e.g. `--x episodes --y
running_reward` for the Pong replica's curve as Karpathy reports it.
Runs of the same algorithm and environment share a colour, so several seeds
read as one band of lines, and within a colour each run has its own line
style; when every run is of one algorithm and environment, each gets its own
colour instead, so the seeds can be told apart. Needs matplotlib (the `plot`
extra); without it the command says how to install it.
"""

import math
import os

from purerl import runs
from purerl.logger import read_metrics

INSTALL_HINT = 'python -m pip install "purerl[plot]" (in a checkout: python -m pip install -e ".[plot]")'


def require_matplotlib(what):
    """Import matplotlib with a file-only backend, or raise CliError saying how to install it."""
    from purerl.cli import CliError

    try:
        import matplotlib
    except ImportError:
        raise CliError(f"{what} needs matplotlib, which is not installed; install it with: {INSTALL_HINT}") from None
    matplotlib.use("Agg")
    return matplotlib


AXIS_LABELS = {
    "env_steps": "env steps",
    "episodes": "episodes",
    "wall_time": "wall-clock (s)",
    "mean_return": "mean return (last 100 episodes)",
    "running_reward": "running reward (EMA of episode returns, 0.99)",
}


def load_curve(run_dir, x="env_steps", y="mean_return"):
    """(label, group, x values, y values) of one run, from the columns x and y
    of its metrics.csv; ValueError if it has no metrics yet or lacks a column."""
    info = runs.read_config(run_dir)
    path = os.path.join(run_dir, runs.METRICS)
    if not os.path.isfile(path):
        raise ValueError(f"{run_dir} has no {runs.METRICS} yet")
    metrics = read_metrics(path)
    for column in (x, y):
        if column not in metrics:
            raise ValueError(f"{path} has no column {column!r}; it has: {', '.join(metrics)}")
    group = f"{info['algo']} on {info['env']}"
    return f"{group}, seed {info['seed']}", group, metrics[x], metrics[y]


def legend_labels(labels, run_dirs):
    """The labels, with the run directory added to each that would otherwise repeat."""
    return [f"{label} ({run_dir})" if labels.count(label) > 1 else label for label, run_dir in zip(labels, run_dirs)]


LINE_STYLES = ("-", "--", ":", "-.")


def line_styles(groups):
    """(colour, line style) per run: a colour per group (matplotlib's C0..C9 cycle)
    and, within a group, the next line style, in the order the runs are given;
    a colour per run when there is only one group (noisy dashed curves are hard
    to tell apart)."""
    if len(set(groups)) == 1:
        return [(f"C{i % 10}", "-") for i in range(len(groups))]
    colours, seen = {}, {}
    styles = []
    for group in groups:
        colour = colours.setdefault(group, f"C{len(colours) % 10}")
        seen[group] = seen.get(group, -1) + 1
        styles.append((colour, LINE_STYLES[seen[group] % len(LINE_STYLES)]))
    return styles


def default_out(run_dirs):
    if len(run_dirs) == 1:
        return os.path.join(run_dirs[0], "learning_curve.png")
    return "learning_curves.png"


def plot_runs(run_dirs, out, x="env_steps", y="mean_return"):
    """Draw every run's curve (column y against column x) on one set of axes and save it to `out` (PNG)."""
    require_matplotlib("plot")
    import matplotlib.pyplot as plt

    curves = [load_curve(d, x, y) for d in run_dirs]
    labels = legend_labels([c[0] for c in curves], run_dirs)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, (_, _, xs, ys), (colour, style) in zip(labels, curves, line_styles([c[1] for c in curves])):
        ax.plot(xs, ys, color=colour, linestyle=style, alpha=0.85, linewidth=1.4, label=label)
    ax.set_xlabel(AXIS_LABELS.get(x, x))
    ax.set_ylabel(AXIS_LABELS.get(y, y))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    finite = [r for _, _, _, rs in curves for r in rs if not math.isnan(r)]
    ax.set_title("learning curves" if finite else "learning curves (no finished episodes yet)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(args):
    from purerl.cli import CliError

    out = args.out or default_out(args.run_dirs)
    try:
        plot_runs(args.run_dirs, out, args.x, args.y)
    except ValueError as err:
        raise CliError(str(err)) from None
    print(f"wrote {out} ({len(args.run_dirs)} run{'s' if len(args.run_dirs) > 1 else ''})")
    return 0
