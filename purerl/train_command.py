"""`python -m purerl train`: start a run, or resume one, and report how it went.

`train ALGO --help` lists every field of the algorithm's Config (type,
default, documentation), read from the dataclass (purerl/configs.py).
"""

import json
import math
import os
import shlex
import sys
import textwrap

import numpy as np

from purerl import checkpoint, configs, runs, trainer
from purerl.algos import registry
from purerl.algos.base import RETURN_WINDOW, config_from_dict
from purerl.cli import CliError
from purerl.evaluate import action_mode, evaluate_run
from purerl.logger import format_duration, read_rows

EVAL_SEED = 0  # the final evaluation uses the same episodes as `purerl eval` by default


def config_help(module, algo):
    """The "settings" block of `train ALGO --help`."""
    lines = [f"settings of {algo} (--set KEY=VALUE; --steps sets total_steps, --num-envs sets num_envs):"]
    for name, kind, default, doc in configs.field_docs(module.Config):
        lines.append(f"  {name}={default}  ({kind})")
        lines += textwrap.wrap(doc or "(undocumented)", width=78, initial_indent="      ",
                               subsequent_indent="      ")
    kwargs = "".join(f" --env-arg {k}={v}" for k, v in registry.default_env_kwargs(module).items())
    lines.append(f"default environment: {registry.default_env(module)}{kwargs}")
    return "\n".join(lines)


def _load_algo(parser, algo):
    try:
        return registry.load(algo)
    except ValueError as err:
        parser.error(str(err))


def check_counts(args, parser):
    for option, value in (("--seed", args.seed), ("--save-every", args.save_every), ("--keep", args.keep),
                          ("--pause-at", args.pause_at), ("--eval-episodes", args.eval_episodes)):
        if value < 0:
            parser.error(f"{option} must be >= 0, got {value}")


def main(args, parser):
    check_counts(args, parser)
    if args.help:
        text = parser.format_help()
        if args.algo:
            text += "\n" + config_help(_load_algo(parser, args.algo), args.algo) + "\n"
        print(text)
        return 0
    if args.resume:
        with runs.exclusive(args.resume, error=CliError):
            return run_and_report(resume_session(args, parser), args)
    if args.algo is None:
        parser.error(f"give ALGO ({', '.join(registry.names())}) or --resume RUN_DIR")
    else:
        session = new_session(args, parser)
    return run_and_report(session, args)


def parse_env_args(items):
    """{key: value} from ["key=value"]; values are JSON when they parse as JSON, else strings."""
    kwargs = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--env-arg expects KEY=VALUE, got {item!r}")
        try:
            kwargs[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            kwargs[key.strip()] = text
    return kwargs


def build_config(module, args, algo):
    """The Config from defaults, --steps / --num-envs and --set (ValueError on any bad value)."""
    names = configs.field_types(module.Config)
    values = configs.parse_assignments(module.Config, args.set, algo)
    for option, field, given in (("--steps", "total_steps", args.steps), ("--num-envs", "num_envs", args.num_envs)):
        if given is None:
            continue
        if field not in names:
            raise ValueError(f"{option} does not apply: {algo} has no {field} setting")
        if field in values:
            raise ValueError(f"{option} and --set {field}=... both given; use one")
        values[field] = given
    return config_from_dict(module.Config, values)


def new_session(args, parser):
    module = _load_algo(parser, args.algo)
    env = args.env or registry.default_env(module)
    try:
        runs.check_env_name(env)
        defaults = registry.default_env_kwargs(module) if env == registry.default_env(module) else {}
        env_kwargs = {**defaults, **parse_env_args(args.env_arg)}
        cfg = build_config(module, args, args.algo)
    except ValueError as err:
        parser.error(str(err))
    total = getattr(cfg, "total_steps", args.steps)
    if total is None:
        parser.error(f"{args.algo} has no total_steps setting; give --steps N")
    try:
        learner = runs.build_learner(module, env, cfg, args.seed, env_kwargs)
        run_dir = runs.create_run_dir(args.out, args.algo, env, args.seed)
    except ValueError as err:
        raise CliError(str(err)) from None
    runs.write_config(run_dir, runs.run_info(args.algo, env, env_kwargs, args.seed, total, cfg))
    return trainer.Session(run_dir, args.algo, env, args.seed, cfg, learner, int(total), env_kwargs)


def resume_session(args, parser):
    fixed = [opt for opt, given in (("ALGO", args.algo), ("--env", args.env), ("--num-envs", args.num_envs),
                                    ("--set", args.set), ("--env-arg", args.env_arg),
                                    ("--out", args.out != "runs"))
             if given and not (opt == "ALGO" and _same_algo(args))]
    if fixed or args.seed != 0:
        what = ", ".join(fixed + (["--seed"] if args.seed != 0 else []))
        parser.error(f"--resume continues a run with its saved settings; {what} cannot be given with it")
    try:
        info = runs.read_config(args.resume)
        latest = runs.latest_checkpoint(args.resume)
    except ValueError as err:
        raise CliError(str(err)) from None
    try:
        ck = checkpoint.load(latest)
    except checkpoint.CheckpointError as err:
        older = runs.list_checkpoints(args.resume)[:-1]
        hint = f" (to resume from the previous checkpoint, {older[-1]}, delete this one)" if older else ""
        raise CliError(f"{err}{hint}") from None
    overrides = {}
    total = int(ck.meta["total_steps"])
    if args.steps is not None:
        if args.steps < ck.meta["env_steps"]:
            parser.error(f"--steps {args.steps} is below the {ck.meta['env_steps']:,} steps already done")
        total = args.steps
        if "total_steps" in json.loads(ck.config_json):
            overrides["total_steps"] = total
    try:
        _, cfg, learner = runs.restore_learner(ck, overrides)
    except ValueError as err:
        raise CliError(str(err)) from None
    if learner.env_steps >= total:
        raise CliError(f"{args.resume} is complete ({learner.env_steps:,} of {total:,} env steps); "
                       "give --steps N to train further")
    check_metrics(args.resume, int(ck.meta["metrics_rows"]))
    # The checkpoint is the truth; config.json is its readable record, rewritten from it (undoing hand edits).
    info.update(runs.run_settings(ck.algo, ck.env, ck.meta.get("env_kwargs"), int(ck.meta["seed"]), total, cfg))
    info.setdefault("resumes", []).append(runs.resume_record(learner.env_steps))
    runs.write_config(args.resume, info)
    return trainer.Session(args.resume, ck.algo, ck.env, int(ck.meta["seed"]), cfg, learner, total,
                           dict(ck.meta.get("env_kwargs") or {}), int(ck.meta["metrics_rows"]),
                           float(ck.meta["wall_time"]))


def check_metrics(run_dir, expected_rows):
    """CliError if metrics.csv has fewer rows than the checkpoint wrote; a warning if it is gone."""
    path = os.path.join(run_dir, runs.METRICS)
    if not os.path.exists(path):
        if expected_rows:
            print(f"warning: {path} is missing: its first {expected_rows} rows are lost, it restarts here")
        return
    rows = len(read_rows(path)[1])
    if rows < expected_rows:
        raise CliError(f"{path} has {rows} rows but the checkpoint was written after {expected_rows}; restore the "
                       "file, or move it away to resume with a metrics.csv that starts here")


def _same_algo(args):
    try:
        return runs.read_config(args.resume).get("algo") == args.algo
    except ValueError:
        return True  # the missing run directory is reported later


def run_and_report(session, args):
    print(f"training {session.algo} on {session.env} (seed {session.seed}) to {session.total_steps:,} env steps"
          + (f", resuming at {session.learner.env_steps:,}" if session.learner.env_steps else ""))
    print(f"run directory: {session.run_dir}")
    sys.stdout.flush()
    options = trainer.Options(save_every=args.save_every, keep=args.keep, pause_at=args.pause_at,
                              keep_best=args.keep_best)
    code, progress = trainer.run(session, options)
    if code != 0 or session.learner.env_steps < session.total_steps:
        return code
    for line in summary(session, progress, args.eval_episodes):
        print(line)
    return 0


def best_lines(run_dir):
    """Where the best checkpoint is and how to play it (nothing without one)."""
    path = runs.best_checkpoint_path(run_dir)
    if not os.path.exists(path):
        return []
    rel = os.path.relpath(path, run_dir)
    try:
        meta = checkpoint.load(path).meta
        best = f"{meta['best_mean_return']:.1f} at {meta['env_steps']:,} env steps"
    except (checkpoint.CheckpointError, KeyError) as err:  # the run itself is fine; say so and go on
        return [f"warning: {rel} is not a readable best checkpoint ({err}); the run's policy.npz is unaffected"]
    return [f"best mean return of {RETURN_WINDOW} episodes: {best}, kept in {rel}",
            f"play it: python -m purerl eval {shlex.quote(run_dir)} --checkpoint {rel}"]


def summary(session, progress, eval_episodes):
    """The closing lines: totals, a greedy evaluation, and what to run next."""
    learner = session.learner
    elapsed = progress.elapsed()
    rate = (learner.env_steps - progress.start_steps) / elapsed if elapsed > 0 else math.nan
    ret = "n/a" if math.isnan(progress.mean_return) else f"{progress.mean_return:.1f}"
    lines = [f"done: {learner.env_steps:,} env steps in {format_duration(elapsed)} ({rate:,.0f} steps/s), "
             f"{progress.episodes:,} episodes, mean return of the last {min(progress.episodes, 100)}: {ret}"]
    if eval_episodes > 0:
        env = runs.make_env(session.env, eval_episodes, EVAL_SEED, session.env_kwargs)
        returns, pong = evaluate_run(learner.act, session.env, env, eval_episodes, seed=EVAL_SEED)
        mean = float(np.mean(returns))
        line = (f"evaluation, {eval_episodes} episodes with {action_mode(learner)}: "
                f"{mean:.1f} ± {np.std(returns):.1f}")
        threshold = runs.reward_threshold(session.env, session.env_kwargs)
        if threshold is not None:
            verdict = "solved" if mean >= threshold else "not solved yet"
            line += f" ({verdict}: {session.env} counts as solved at {threshold:g})"
        lines += [line] if pong is None else [line, pong]
    lines += best_lines(session.run_dir)
    d = shlex.quote(session.run_dir)  # pasteable even with spaces in the path
    lines += [f"run directory: {session.run_dir}",
              f"next: python -m purerl eval {d}",
              f"      python -m purerl watch {d}",
              f"      python -m purerl plot {d}"]
    return lines
