"""What every learner shares: the Learner protocol, episode statistics, the
non-finite guard, the training loop, and validation helpers for configs.

A learner is an object built from (env, cfg, rng) whose `step()` runs one
iteration of its algorithm box (collect, estimate, update, log) and returns a
row of metrics. Everything needed to resume bit-identically is in
`state_dict()`. The command line (purerl/cli.py) drives learners through this
protocol only, so it knows nothing of any one algorithm:

    class Learner:
        def __init__(self, env, cfg, rng): ...
        env_steps: int
        iteration: int
        def step(self) -> dict: ...
        def act(self, obs, greedy=True): ...
        def state_dict(self) -> dict: ...
        def load_state_dict(self, state): ...

`act` accepts a batch of any size (evaluation uses its own vector env).
`state_dict()` returns arrays, possibly in nested dicts (checkpoints flatten
them with "/" keys; keys must not contain "/"); it includes
`rng_state_dict(rng)` and `env.get_state()`, so that a learner rebuilt from
(env, cfg, rng) and given `load_state_dict(state)` continues bit-identically.

Configuration and the command line
----------------------------------
An algorithm module `purerl/algos/NAME.py` appears in `python -m purerl train`
once it has a line in purerl/algos/registry.py and provides:

- `Config`: a frozen dataclass; every field has a type annotation (int, float,
  bool, str, tuple[int, ...], Literal[...] or X | None) and a default, and is
  documented with `metadata={"help": ...}`, which `config_field` writes for you:

      @dataclass(frozen=True)
      class Config:
          lr: float = config_field(3e-4, "Adam step size alpha")
          hidden_sizes: tuple[int, ...] = config_field((64, 64), "MLP hidden widths")

  `train NAME --help` lists each field with its type, default and help text;
  `--set lr=1e-3` parses the value by the field's type. Fields named
  `total_steps` and `num_envs` are set by `--steps` and `--num-envs`.
  `validate()` raises ValueError naming the field, value and accepted range.
- `Learner`: the protocol above.
- `QUICK_CONFIG`: a dict of field overrides for a run of a few seconds that
  still exercises every part of the update (e.g. replay warm-up shorter than
  the run); the resume test trains with it.
- optional `DEFAULT_ENV` (default "CartPole-v1"): the env `train NAME` uses
  without --env, and `DEFAULT_ENV_KWARGS` (default {}): keyword arguments
  for that env, which --env-arg of the same key overrides; optional
  `DETERMINISTIC = False` for learners whose runs do not repeat bit for bit
  (excluded from the resume test).
"""

import math
from collections import deque
from dataclasses import field, fields

import numpy as np

from purerl.backend import get_xp, to_device


class NonFiniteError(FloatingPointError):
    """A loss, gradient or parameter became NaN or infinite during training."""

    def __init__(self, quantity, iteration):
        self.quantity = quantity
        self.iteration = iteration
        super().__init__(
            f"non-finite {quantity} at iteration {iteration}; training stopped "
            "(try a smaller learning rate or gradient clipping)"
        )


def check_finite(quantity, value, iteration):
    """Raise NonFiniteError if any entry of `value` is NaN or infinite."""
    if not bool(np.all(np.isfinite(value))):
        raise NonFiniteError(quantity, iteration)


RETURN_WINDOW = 100  # episodes averaged in every learner's mean_return


class EpisodeStats:
    """Returns and lengths of finished episodes, read from vector-env infos.

    The vector env reports, for games that finished this step, their return
    and length in info["episode_return"] / info["episode_length"], valid where
    terminated | truncated.
    """

    def __init__(self, window=RETURN_WINDOW):
        self.window = window
        self.returns = deque(maxlen=window)
        self.lengths = deque(maxlen=window)
        self.episodes = 0

    def update(self, info, terminated, truncated):
        done = np.logical_or(terminated, truncated)
        if done.any():
            self.returns.extend(np.asarray(info["episode_return"])[done].tolist())
            self.lengths.extend(np.asarray(info["episode_length"])[done].tolist())
            self.episodes += int(done.sum())

    def mean_return(self):
        return float(np.mean(self.returns)) if self.returns else math.nan

    def row(self):
        """The metrics every learner reports: episodes and mean recent return."""
        return {"episodes": self.episodes, "mean_return": self.mean_return()}

    def state_dict(self):
        return {
            "returns": np.array(self.returns, dtype=np.float64),
            "lengths": np.array(self.lengths, dtype=np.int64),
            "episodes": np.array(self.episodes, dtype=np.int64),
        }

    def load_state_dict(self, state):
        self.returns = deque(np.asarray(state["returns"]).tolist(), maxlen=self.window)
        self.lengths = deque(np.asarray(state["lengths"]).tolist(), maxlen=self.window)
        self.episodes = int(state["episodes"])


def train(learner, total_steps, callback=None):
    """Run `learner.step()` until it has taken `total_steps` env steps.

    Returns the history: the list of metric rows. `callback(learner, row)` is
    called after each iteration; returning True from it stops training early.
    """
    history = []
    while learner.env_steps < total_steps:
        row = learner.step()
        history.append(row)
        if callback is not None and callback(learner, row):
            break
    return history


def config_field(default, help):
    """A dataclass field with a default and its documentation for `--help`.

    Shorthand for `field(default=default, metadata={"help": help})`; write the
    symbol and the equation it enters, e.g. "clip_eps: PPO clip range epsilon
    in clip(ratio, 1 - eps, 1 + eps)".
    """
    return field(default=default, metadata={"help": help})


def new_default(parent, name, default):
    """A subclass Config's field `name` with another default and the parent's help text."""
    return config_field(default, parent.__dataclass_fields__[name].metadata["help"])


def config_from_dict(config_cls, values):
    """Build a config from a dict, rejecting keys the config does not have."""
    names = {f.name for f in fields(config_cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"unknown {config_cls.__module__.rsplit('.', 1)[-1]} config field(s) "
            f"{', '.join(unknown)}; accepted: {', '.join(sorted(names))}"
        )
    cfg = config_cls(**values)
    cfg.validate()
    return cfg


# Validation helpers: each raises a ValueError naming the field, the value and
# what is accepted, so configs' validate() methods read as a list of rules.


def require(condition, name, value, accepted):
    if not condition:
        raise ValueError(f"invalid {name}={value!r}; accepted: {accepted}")


def require_positive(name, value):
    require(value > 0, name, value, "a number > 0")


def require_nonnegative(name, value):
    require(value >= 0, name, value, "a number >= 0")


def require_unit_interval(name, value, open_low=False, open_high=False):
    lo_ok = value > 0 if open_low else value >= 0
    hi_ok = value < 1 if open_high else value <= 1
    lo = "(0" if open_low else "[0"
    hi = "1)" if open_high else "1]"
    require(lo_ok and hi_ok, name, value, f"a number in {lo}, {hi}")


def require_choice(name, value, choices):
    require(value in choices, name, value, "one of " + ", ".join(map(repr, choices)))


def require_replay_sizes(cfg):
    """The replay learners' shared checks: a warm-up >= 0, and a minibatch and one step of games within the buffer."""
    require(cfg.learning_starts >= 0, "learning_starts", cfg.learning_starts, "an integer >= 0")
    require(cfg.batch_size <= cfg.buffer_size, "batch_size", cfg.batch_size, f"<= buffer_size={cfg.buffer_size}")
    require(cfg.num_envs <= cfg.buffer_size, "num_envs", cfg.num_envs, f"<= buffer_size={cfg.buffer_size}")


def rng_state_dict(rng):
    """A Generator's PCG64 state as plain uint64 arrays (checkpoint-safe, no pickle).

    The 128-bit state and increment are split into (high, low) 64-bit words.
    """
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise ValueError(
            f"cannot checkpoint a {state['bit_generator']} generator; accepted: "
            "numpy.random.default_rng(...) (PCG64)"
        )
    words = []
    for key in ("state", "inc"):
        value = state["state"][key]
        words += [value >> 64, value & (2**64 - 1)]
    return {
        "pcg64": np.array(words, dtype=np.uint64),
        "uinteger": np.array([state["has_uint32"], state["uinteger"]], dtype=np.uint64),
    }


def load_rng_state(rng, saved):
    """Restore a Generator's state from `rng_state_dict` output, in place."""
    hi_s, lo_s, hi_i, lo_i = (int(v) for v in saved["pcg64"])
    has_uint32, uinteger = (int(v) for v in saved["uinteger"])
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": (hi_s << 64) | lo_s, "inc": (hi_i << 64) | lo_i},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }


def run_state_dict(learner, obs=None):
    """The part of a checkpoint every learner shares, besides its parameters
    and optimizers: the rng, the env (kernel state and per-game streams), the
    current observations (when the learner keeps them between iterations), the
    episode statistics and the counters (env_steps, iteration). A learner's
    state_dict() adds its own entries to this dict.
    """
    state = {
        "rng": rng_state_dict(learner.rng), "env": learner.env.get_state(), "stats": learner.stats.state_dict(),
        "counters": np.array([learner.env_steps, learner.iteration], dtype=np.int64),
    }
    if obs is not None:
        state["obs"] = np.array(obs)
    return state


def load_run_state(learner, state):
    """Restore what run_state_dict saved, in place; returns the saved
    observations (None if there were none)."""
    load_rng_state(learner.rng, state["rng"])
    learner.env.set_state(state["env"])
    learner.stats.load_state_dict(state["stats"])
    learner.env_steps, learner.iteration = (int(v) for v in state["counters"])
    return np.array(state["obs"]) if "obs" in state else None


def load_vector(target, saved, name):
    """Copy a checkpointed flat vector into `target` in place (so the per-layer views stay valid)."""
    saved = np.asarray(saved)
    if saved.shape != target.shape:
        raise ValueError(f"checkpoint {name} has shape {saved.shape}; this network needs {target.shape}")
    target[...] = to_device(saved.astype(target.dtype), get_xp(target))
