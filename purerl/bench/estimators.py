"""Time the return and advantage estimators against bare numpy loops of the same recursions.

The bare versions are what a training script would inline (CleanRL's GAE
loop: reversed over T, vectorised over N, no input checks). purerl runs the
recursion as one numba scan after validating its inputs, so purerl/bare below
1 means the scan more than pays for the checks. The first call compiles the
scan (numba caches it on disk); timings start after a warm-up call.
Sizes: A2C (5 x 16), PPO on CartPole (128 x 8), one long rollout (2048 x 1),
and 10 games of 1000 steps (1000 x 10).
"""

import numpy as np

from purerl.bench import (add_timing_arguments, format_timing, markdown_table, require_settings, time_call,
                          timing_checks)

SIZES = ((5, 16), (128, 8), (2048, 1), (1000, 10))
GAMMA, LAM = 0.99, 0.95


def add_arguments(parser):
    add_timing_arguments(parser)


def _bare_gae(r, v, nv, term, done):
    adv = np.empty_like(r)
    last = np.zeros(r.shape[1])
    for t in range(r.shape[0] - 1, -1, -1):
        delta = r[t] + GAMMA * nv[t] * (1.0 - term[t]) - v[t]
        last = delta + GAMMA * LAM * (1.0 - done[t]) * last
        adv[t] = last
    return adv


def _bare_returns(r, term):
    G = np.empty_like(r)
    running = np.zeros(r.shape[1])
    for t in range(r.shape[0] - 1, -1, -1):
        running = r[t] + GAMMA * running * (1.0 - term[t])
        G[t] = running
    return G


def _cases(T, N):
    from purerl import baselines, estimators

    rng = np.random.default_rng(0)
    r, v, nv = (rng.standard_normal((T, N)) for _ in range(3))
    term = rng.random((T, N)) < 0.01
    trunc = (rng.random((T, N)) < 0.005) & ~term
    done = (term | trunc).astype(np.float64)
    termf = term.astype(np.float64)
    return {
        "gae": (lambda: estimators.gae(r, v, nv, term, trunc, gamma=GAMMA, lam=LAM),
                lambda: _bare_gae(r, v, nv, termf, done)),
        "discounted_returns": (lambda: estimators.discounted_returns(r, term, gamma=GAMMA),
                               lambda: _bare_returns(r, termf)),
        "lambda_returns": (lambda: estimators.lambda_returns(r, nv, term, trunc, gamma=GAMMA, lam=LAM), None),
        "nstep_returns n=5": (lambda: estimators.nstep_returns(r, nv, term, trunc, gamma=GAMMA, n=5), None),
        "standardize_episodes": (lambda: baselines.standardize_episodes(r, term, trunc), None),
    }


def main(args):
    require_settings("estimators", timing_checks(args))
    columns = ["estimator", "T x N", "purerl", "bare numpy", "purerl/bare", "per step"]
    rows = []
    for T, N in SIZES:
        for name, (ours, bare) in _cases(T, N).items():
            t = time_call(ours, repeat=args.repeat, min_seconds=args.min_seconds)
            row = [name, f"{T} x {N}", format_timing(t)]
            if bare is None:
                row += ["-", "-"]
            else:
                b = time_call(bare, repeat=args.repeat, min_seconds=args.min_seconds)
                row += [format_timing(b), f"{t.median / b.median:.3g}"]
            rows.append(row + [f"{t.median / (T * N) * 1e9:.0f} ns"])
        print(f"  done: {T} x {N}", flush=True)
    print(f"\nSeconds per call, median (min-max) over {args.repeat} repeats; numpy {np.__version__}.\n")
    print(markdown_table(columns, rows))
    return 0
