"""Env-steps per second of every registered simulator, single and batched, against Gymnasium.

For each simulator in envs' registry (and each variant registry.VARIANTS
lists, e.g. Pong's two observation modes):

- single: one environment stepped from a Python loop (env.step(a), reset()
  when an episode ends), as a learner's collection loop does;
- batched: envs.make_vec with N = 1, 64, 1024, 65536 (same-step autoreset
  included), one venv.step per batch;

and, when Gymnasium is importable, in the same run and the same loops,
Gymnasium's CartPole-v1 and Pendulum-v1 single environments (gymnasium.make,
with its default wrappers) and its numpy-vectorized CartPole
(make_vec(..., vectorization_mode="vector_entry_point")) at N = 64 and 1024,
with purerl's ratio. Actions are sampled before timing. A second table
separates the single-env step into the kernel call and the Python shell
around it, and a third compares purerl's CartPole kernel (called directly,
no shell) with a bare numba cart-pole kernel (physics only, constants
inlined) at N = 65536: the machine's limit for this physics.
"""

import functools
import importlib.util
import math

import numpy as np

from purerl.bench import (CLOCKS, add_timing_arguments, format_seconds, format_timing, markdown_table,
                          require_settings, time_call, timing_checks)

BATCHES = (1, 64, 1024, 65536)
GYM_VECTOR_BATCHES = (64, 1024)
SINGLE_CHUNK = 1000  # single-env steps per timed call
MAX_OBS_BYTES = 2**30  # skip batches whose observation buffers (and their per-step copies) exceed this
ACTION_ROWS = 16  # distinct pre-sampled action batches, cycled


def add_arguments(parser):
    add_timing_arguments(parser)
    parser.add_argument("--names", nargs="*", default=None, help="simulators to time (default: all registered)")
    parser.add_argument("--batches", type=int, nargs="*", default=list(BATCHES),
                        help=f"batch sizes (default {' '.join(map(str, BATCHES))})")
    parser.add_argument("--no-gymnasium", action="store_true", help="skip Gymnasium even if it is importable")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, which a busy shared "
                             "machine inflates much less (serial kernels only: parallel rows are skipped)")


def check(args):
    """Clear errors for settings that cannot run (SystemExit: the command line prints them)."""
    from envs import registry

    unknown = sorted(set(args.names or ()) - set(registry.names()))
    require_settings("envs", (*timing_checks(args),
                              ("--names", unknown, not unknown, f"among {', '.join(registry.names())}"),
                              ("--batches", args.batches, all(n >= 1 for n in args.batches), "sizes >= 1")))


def main(args):
    """Print the three tables (see the module docstring)."""
    import numba

    from envs import registry

    check(args)

    gym = None
    if not args.no_gymnasium and importlib.util.find_spec("gymnasium") is not None:
        import gymnasium as gym
    timing = dict(repeat=args.repeat, min_seconds=args.min_seconds, clock=args.clock)
    rows, shell_rows = [], []
    for name in args.names or registry.names():
        for kwargs in registry.VARIANTS.get(name, ({},)):
            label = name + "".join(f" {k}={v}" for k, v in kwargs.items())
            rows += _simulator_rows(registry, gym, name, kwargs, label, args.batches, timing)
            shell_rows.append(_shell_row(registry, name, kwargs, label, timing))
            print(f"  done: {label}", flush=True)
    versions = f"numpy {np.__version__}, numba {numba.__version__}, {numba.get_num_threads()} numba threads"
    if gym is not None:
        versions += f", gymnasium {gym.__version__}"
    clock = "wall-clock" if args.clock == "wall" else "process CPU time"
    print(f"\nEnv-steps per second ({clock}), median (min-max) over {args.repeat} repeats; {versions}.\n")
    print(markdown_table(["simulator", "loop", "N", "purerl M steps/s", "ns / step",
                          "Gymnasium M steps/s", "purerl / Gymnasium"], rows))
    print("\nSingle-env step split: the kernel call alone and the Python shell around it.\n")
    print(markdown_table(["simulator", "env.step()", "kernel call", "shell"], shell_rows))
    if args.names is None or "CartPole-v1" in args.names:
        print("\nCartPole kernels at N = 65536, no shell: purerl's and a bare physics-only kernel.\n")
        print(markdown_table(["kernel", "threads", "M steps/s", "ns / step"], _kernel_rows(timing)))
    return 0


# ----- the timed loops -------------------------------------------------------------


def _time(fn, timing):
    """A Timing of fn() by the chosen clock (purerl.bench.time_call)."""
    return time_call(fn, repeat=timing["repeat"], min_seconds=timing["min_seconds"], clock=CLOCKS[timing["clock"]])


def _sample_actions(space, shape, rng):
    return space.sample_batch(math.prod(shape), rng).reshape(shape + space.shape)


def _single_loop(env, actions):
    """A closure running SINGLE_CHUNK steps of `env` with pre-sampled actions, resetting after ends."""
    env.reset(seed=0)
    where = [0]

    def run():
        t = where[0]
        for _ in range(SINGLE_CHUNK):
            _, _, terminated, truncated, _ = env.step(actions[t])
            t = t + 1 if t + 1 < len(actions) else 0
            if terminated or truncated:
                env.reset()
        where[0] = t

    return run


def _vector_loop(venv, actions):
    """A closure running one batched step, cycling through pre-sampled action batches."""
    venv.reset(seed=0)
    where = [0]

    def run():
        venv.step(actions[where[0]])
        where[0] = (where[0] + 1) % len(actions)

    return run


def _rate(t, steps_per_call):
    """(cell 'M steps/s median (min-max)', ns per step, M steps/s median) from a Timing."""
    def m(seconds):
        return steps_per_call / seconds / 1e6
    cell = f"{m(t.median):.3g} ({m(t.max):.3g}-{m(t.min):.3g})"
    return cell, f"{t.median / steps_per_call * 1e9:.3g}", m(t.median)


def _single_actions(space, rng):
    raw = _sample_actions(space, (4096,), rng)
    return [int(a) for a in raw] if raw.ndim == 1 else list(raw)


def _simulator_rows(registry, gym, name, kwargs, label, batches, timing):
    rng = np.random.default_rng(0)
    env = registry.make(name, **kwargs)
    actions = _single_actions(env.action_space, rng)
    t = _time(_single_loop(env, actions), timing)
    cell, ns, ours = _rate(t, SINGLE_CHUNK)
    row = [label, "single (Python loop)", 1, cell, ns, "", ""]
    if gym is not None and name in ("CartPole-v1", "Pendulum-v1") and not kwargs:
        theirs = _rate(_time(_single_loop(gym.make(name), actions), timing), SINGLE_CHUNK)[2]
        row[5:] = [f"{theirs:.3g}", f"{ours / theirs:.2f}"]
    rows = [row]
    for n in batches:
        obs_bytes = 4 * n * math.prod(env.observation_space.shape) * 4  # obs, final_obs, and their copies
        if obs_bytes > MAX_OBS_BYTES:
            rows.append([label, f"batched: skipped, buffers need {obs_bytes / 2**30:.1f} GiB", n, "", "", "", ""])
            continue
        for parallel in _parallel_choices(n, timing):
            venv = registry.make_vec(name, n, parallel=parallel, **kwargs)
            acts = _sample_actions(venv.single_action_space, (ACTION_ROWS, n), rng)
            cell, ns, ours = _rate(_time(_vector_loop(venv, acts), timing), n)
            loop = "batched (make_vec)" if parallel is None else f"batched, parallel={parallel}"
            row = [label, loop, n, cell, ns, "", ""]
            if gym is not None and name == "CartPole-v1" and n in GYM_VECTOR_BATCHES:
                gvenv = gym.make_vec(name, num_envs=n, vectorization_mode="vector_entry_point")
                theirs = _rate(_time(_vector_loop(gvenv, acts), timing), n)[2]
                row[5:] = [f"{theirs:.3g}", f"{ours / theirs:.2f}"]
            rows.append(row)
    return rows


def _parallel_choices(n, timing):
    """The default kernel choice (None), plus the other one at the two largest standard sizes;
    only the serial kernel when timing CPU time."""
    from envs.shell import PARALLEL_MIN_GAMES

    if timing["clock"] == "cpu":
        return (False,)
    if n in (1024, 65536):
        return (None, n < PARALLEL_MIN_GAMES)
    return (None,)


def _shell_row(registry, name, kwargs, label, timing):
    """env.step() of a running game against the bare kernel call it makes."""
    env = registry.make(name, **kwargs)
    env.reset(seed=0)
    action = _single_actions(env.action_space, np.random.default_rng(1))[0]

    def step():
        env._needs_reset = False  # keep stepping past an episode end: timing only
        env.step(action)

    args, kernel = env._args, env._kernel
    total = _time(step, timing)
    call = _time(lambda: kernel(*args), timing)
    return [label, format_timing(total), format_timing(call), format_seconds(total.median - call.median)]


def _kernel_rows(timing):
    import numba

    from envs import cartpole, registry

    n = 65536
    rows = []
    threads = numba.get_num_threads()
    choices = (False,) if timing["clock"] == "cpu" else (False, True)
    for parallel in choices:
        venv = registry.make_vec("CartPole-v1", n, parallel=parallel)
        venv.reset(seed=0)
        b = venv._batch
        a = _sample_actions(venv.single_action_space, (n,), np.random.default_rng(2))
        args = (b.state, b.params, b.rng, a, True, b.max_steps, b.elapsed, b.values, b.flags, b.obs)
        t = _time(lambda: b.kernel(*args), timing)
        cell, ns, _ = _rate(t, n)
        rows.append(["purerl CartPole step kernel (autoreset, bookkeeping, obs)", threads if parallel else 1, cell, ns])
    state = cartpole.cartpole_params()  # only to check the bare kernel's constants below
    assert state[cartpole.TOTAL_MASS] == 1.1 and state[cartpole.POLEMASS_LENGTH] == 0.05
    s = np.random.default_rng(3).uniform(-0.05, 0.05, (n, 4))
    rewards, done = np.zeros(n), np.zeros(n, dtype=np.bool_)
    a = (np.random.default_rng(4).random(n) < 0.5).astype(np.int64)
    for kernel, k_threads in list(zip(_bare_kernels(), (1, threads)))[:len(choices)]:
        kernel(s, a, rewards, done)
        cell, ns, _ = _rate(_time(lambda: kernel(s, a, rewards, done), timing), n)
        rows.append(["bare numba cart-pole (physics, reward, done, fixed reset)", k_threads, cell, ns])
    return rows


# ----- the bare kernel: CartPole physics with constants inlined, nothing else -----


def _bare_cartpole_py(s, a, rewards, done):
    for i in _prange(s.shape[0]):
        x, x_dot, theta, theta_dot = s[i, 0], s[i, 1], s[i, 2], s[i, 3]
        f = 10.0 if a[i] == 1 else -10.0
        c, sn = math.cos(theta), math.sin(theta)
        temp = (f + 0.05 * theta_dot * theta_dot * sn) / 1.1
        theta_acc = (9.8 * sn - c * temp) / (0.5 * (4.0 / 3.0 - 0.1 * c * c / 1.1))
        x_acc = temp - 0.05 * theta_acc * c / 1.1
        x, x_dot = x + 0.02 * x_dot, x_dot + 0.02 * x_acc
        theta, theta_dot = theta + 0.02 * theta_dot, theta_dot + 0.02 * theta_acc
        d = x < -2.4 or x > 2.4 or theta < -0.20943951 or theta > 0.20943951
        if d:
            x, x_dot, theta, theta_dot = 0.01, -0.01, 0.01, -0.01
        s[i, 0], s[i, 1], s[i, 2], s[i, 3] = x, x_dot, theta, theta_dot
        rewards[i] = 1.0
        done[i] = d


_prange = range  # numba.prange once _bare_kernels() has run (keeps this module's import cheap)


@functools.lru_cache(maxsize=None)
def _bare_kernels():
    """(serial, parallel) compilations of _bare_cartpole_py."""
    import numba

    from envs.core import compile_serial_and_parallel

    global _prange
    _prange = numba.prange
    return compile_serial_and_parallel(_bare_cartpole_py)
