"""Run directories: everything to reproduce, resume, evaluate and plot a run.

    runs/ppo-CartPole-v1-seed0-20250101-120000/
        config.json                 algo, env, seed, total_steps, the full Config,
                                    purerl / numpy / numba / Python versions, command
        metrics.csv                 one row per iteration (purerl/logger.py)
        checkpoints/step-*.npz      periodic checkpoints, named by env steps (newest few kept)
        checkpoints/best.npz        with train --keep-best: the state of highest mean return
        policy.npz                  the final checkpoint (same format as the others)

A run is rebuilt from its config and a checkpoint: the environment with
`make_vec(env, num_envs, seed=seed)`, the learner with
`Learner(env, cfg, numpy.random.default_rng(seed))`, then
`load_state_dict(checkpoint state)`, which restores parameters, optimizer,
RNG and environment state, so the run continues bit-identically.
"""

import contextlib
import glob
import json
import os
import platform
import re
import shlex
import sys
import time

import numpy as np

import envs
import purerl
from purerl import checkpoint, configs
from purerl.algos import registry

GYM_PREFIX = "gym:"
CONFIG = "config.json"
METRICS = "metrics.csv"
POLICY = "policy.npz"
CHECKPOINTS = "checkpoints"
BEST = "best.npz"
LOCK = ".lock"


@contextlib.contextmanager
def exclusive(run_dir, error=ValueError):
    """Hold RUN_DIR/.lock while one session trains it; `error` (an exception class) if another holds it.

    An advisory flock, which the operating system drops when the process
    ends, however it ends, so a killed session leaves no stale lock. Where
    fcntl is missing (Windows) nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        yield
        return
    if not os.path.isdir(run_dir):
        yield  # the missing directory is reported by the caller
        return
    with open(os.path.join(run_dir, LOCK), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise error(f"{run_dir} is being trained by another purerl session; wait for it to end") from None
        yield


def command_line():
    """This process's command line as `python -m purerl ...`, quoted so that it can be pasted back into a shell."""
    return shlex.join(["python", "-m", "purerl", *sys.argv[1:]])


def versions():
    """The software versions a run records in config.json."""
    import numba

    return {"purerl": purerl.__version__, "numpy": np.__version__, "numba": numba.__version__,
            "python": platform.python_version()}


def env_names():
    """Names accepted by --env: purerl's environments, plus gym:ID with Gymnasium."""
    return list(envs.names())


def check_env_name(name):
    """ValueError listing the valid names when `name` is not an environment."""
    if name.startswith(GYM_PREFIX):
        check_gym_name(name[len(GYM_PREFIX):])
        return
    known = env_names()
    if name not in known:
        hint = ""
        try:
            check_gym_name(name)
            hint = f" (Gymnasium has it: --env {GYM_PREFIX}{name})"
        except ValueError:
            pass
        raise ValueError(
            f"unknown environment {name!r}{hint}; available: {', '.join(known)}, "
            f"or {GYM_PREFIX}ID for any Gymnasium environment (needs the gym extra)"
        )


def check_gym_name(gym_id):
    """ValueError unless Gymnasium is installed and knows `gym_id`."""
    from envs import ale_pong

    problem = ale_pong.missing_extra() if gym_id == ale_pong.GYM_ID else None
    if problem:
        raise ValueError(problem)
    try:
        import gymnasium
    except ImportError:
        raise ValueError(f"{GYM_PREFIX}{gym_id} needs Gymnasium, which is not installed; install it with: "
                         'python -m pip install "purerl[gym]"') from None
    from envs.gymnasium_compat import register

    register()  # purerl/NAME and purerl/ALEPongDiff-v0, which gymnasium.spec only knows once registered
    try:
        gymnasium.spec(gym_id)
    except gymnasium.error.Error as err:
        raise ValueError(f"unknown Gymnasium environment {gym_id!r}: {err}") from None


def make_env(name, num_envs, seed, env_kwargs=None):
    """A vector env of `num_envs` games of `name`, seeded with `seed`."""
    check_env_name(name)
    return envs.make_vec(name, num_envs, seed=seed, **dict(env_kwargs or {}))


def num_envs_of(cfg):
    """The number of parallel games a config asks for (1 if it has no num_envs)."""
    return int(getattr(cfg, "num_envs", 1))


def build_learner(module, env_name, cfg, seed, env_kwargs=None):
    """A fresh learner of algorithm `module` on a new vector env."""
    env = make_env(env_name, num_envs_of(cfg), seed, env_kwargs)
    return module.Learner(env, cfg, np.random.default_rng(seed))


def restore_learner(ck, config_overrides=None):
    """(module, cfg, learner) rebuilt from a loaded checkpoint, state restored.

    `config_overrides` (e.g. a larger total_steps on resume) replace fields of
    the saved config. CheckpointError if the file does not fit the learner.
    """
    try:
        module = registry.load(ck.algo)
    except ValueError as err:
        raise checkpoint.CheckpointError(f"{ck.path}: {err}") from None
    values = json.loads(ck.config_json)
    values.update(config_overrides or {})
    cfg = configs.config_from_values(module.Config, values)
    learner = build_learner(module, ck.env, cfg, ck.meta["seed"], ck.meta.get("env_kwargs"))
    checkpoint.check_compatible(ck, ck.algo, learner.state_dict())
    try:
        learner.load_state_dict(ck.state)
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise checkpoint.CheckpointError(
            f"{ck.path} does not fit this {ck.algo} learner ({type(err).__name__}: {err})") from None
    return module, cfg, learner


def run_name(algo, env, seed, when=None):
    """ALGO-ENV-seedS-YYYYmmdd-HHMMSS, with characters unsafe in paths made '-'."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    safe_env = re.sub(r"[^A-Za-z0-9_.-]+", "-", env)
    return f"{algo}-{safe_env}-seed{seed}-{stamp}"


def create_run_dir(out, algo, env, seed):
    """Make a new, empty run directory under `out` (suffix -2, -3... if taken)."""
    base = os.path.join(out, run_name(algo, env, seed))
    path, n = base, 1
    while True:
        try:
            os.makedirs(os.path.join(path, CHECKPOINTS))
            return path
        except FileExistsError:
            n += 1
            path = f"{base}-{n}"
        except OSError as err:  # out is a file, unwritable, or on a path that cannot hold directories
            raise ValueError(f"cannot create a run directory under {out!r}: {err.strerror}; "
                             f"give --out a writable directory") from None


def write_config(run_dir, info):
    checkpoint.atomic_write_text(os.path.join(run_dir, CONFIG), json.dumps(info, indent=2) + "\n")


def read_config(run_dir):
    """config.json of a run directory; ValueError if this is not one."""
    path = os.path.join(run_dir, CONFIG)
    if not os.path.exists(run_dir):
        raise ValueError(f"{run_dir} does not exist (expected a run directory, e.g. runs/ppo-CartPole-v1-seed0-...)")
    if not os.path.isfile(path):
        listing = os.listdir(run_dir) if os.path.isdir(run_dir) else []
        inner = sorted(d for d in listing if os.path.isfile(os.path.join(run_dir, d, CONFIG)))
        count = f"{len(inner)} run{'s' if len(inner) > 1 else ''}"
        hint = f"; it holds {count}, e.g. {os.path.join(run_dir, inner[-1])}" if inner else ""
        raise ValueError(f"{run_dir} is not a purerl run directory (no {CONFIG}){hint}")
    try:
        with open(path) as f:
            info = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(info, dict):
        raise ValueError(f"{path} holds a JSON {type(info).__name__}, not an object (was it edited by hand?)")
    missing = [key for key in ("algo", "env", "seed") if key not in info]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)} (was it edited by hand?)")
    return info


def run_settings(algo, env, env_kwargs, seed, total_steps, cfg):
    """What config.json says the run is: the part a resume rewrites from the checkpoint."""
    return {
        "algo": algo, "env": env, "env_kwargs": dict(env_kwargs or {}), "seed": seed,
        "total_steps": total_steps, "config": json.loads(configs.config_to_json(cfg)),
    }


def run_info(algo, env, env_kwargs, seed, total_steps, cfg):
    """The contents of config.json for a new run: its settings, and how and when it was made."""
    return {**run_settings(algo, env, env_kwargs, seed, total_steps, cfg),
            "versions": versions(), "command": command_line(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def resume_record(env_steps):
    """What config.json's "resumes" list records of each resumed session."""
    return {"env_steps": int(env_steps), "command": command_line(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def checkpoint_path(run_dir, env_steps):
    return os.path.join(run_dir, CHECKPOINTS, f"step-{env_steps:012d}.npz")


def best_checkpoint_path(run_dir):
    return os.path.join(run_dir, CHECKPOINTS, BEST)


def list_checkpoints(run_dir):
    """Periodic checkpoint files, oldest first (temporary files are ignored)."""
    return sorted(glob.glob(os.path.join(run_dir, CHECKPOINTS, "step-*.npz")))


def latest_checkpoint(run_dir):
    """The checkpoint a resume continues from; ValueError if there is none."""
    found = list_checkpoints(run_dir)
    if not found:
        raise ValueError(f"{run_dir} has no checkpoints in {CHECKPOINTS}/")
    return found[-1]


def policy_checkpoint(run_dir):
    """What eval and watch load: policy.npz, else (interrupted run) the latest checkpoint."""
    if os.path.isfile(run_dir):
        if not run_dir.endswith(".npz"):
            raise ValueError(f"{run_dir} is neither a run directory nor a .npz checkpoint")
        return run_dir  # a checkpoint file given directly
    path = os.path.join(run_dir, POLICY)
    if os.path.isfile(path):
        return path
    read_config(run_dir)  # a clear error if this is not a run directory at all
    return latest_checkpoint(run_dir)


def prune_checkpoints(run_dir, keep):
    """Delete all but the newest `keep` periodic checkpoints."""
    for path in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
        os.unlink(path)


def reward_threshold(env_name, env_kwargs=None):
    """The return at which `env_name` counts as solved (its spec's
    reward_threshold), or None where it has none or cannot be made."""
    if env_name.startswith(GYM_PREFIX):
        try:
            import gymnasium

            return gymnasium.spec(env_name[len(GYM_PREFIX):]).reward_threshold
        except Exception:  # noqa: BLE001 - no threshold is not an error
            return None
    try:
        env = envs.make(env_name, **dict(env_kwargs or {}))
    except Exception:  # noqa: BLE001
        return None
    return env.spec.reward_threshold
