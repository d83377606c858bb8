"""A fake environment and learner for testing the command line's machinery.

They follow the same protocols as the real ones (vector env with same-step
autoreset and get_state/set_state; Learner with state_dict), are tiny and
fast, and have switches to misbehave on purpose: `nan_at` makes the
parameters non-finite at an iteration, `interrupt_at` sends this process a
SIGINT, `sleep` slows iterations down so a test can interrupt them.

`install(monkeypatch)` registers the learner as algorithm "fake" and the env
as "Fake-v0" (in this process; `install()` without monkeypatch is for a
subprocess driver).
"""

import os
import sys
import signal
import time
import typing
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

import envs
from purerl.algos import registry
from purerl.algos.base import (EpisodeStats, check_finite, config_field, load_rng_state,
                               require_positive, rng_state_dict)

ENV_NAME = "Fake-v0"
OBS_DIM, N_ACTIONS = 3, 3
MASK = (1 << 64) - 1


class Discrete:
    def __init__(self, n):
        self.n, self.start, self.shape, self.dtype = n, 0, (), np.dtype(np.int64)


class Box:
    def __init__(self, shape):
        self.shape, self.dtype = shape, np.dtype(np.float32)
        self.low, self.high = np.full(shape, -np.inf), np.full(shape, np.inf)


def _lcg(state):
    """Knuth's MMIX LCG on uint64 arrays, with Python ints to avoid overflow warnings."""
    return np.array([(6364136223846793005 * int(s) + 1442695040888963407) & MASK for s in state],
                    dtype=np.uint64)


class FakeVecEnv:
    """Episodes of 3-8 steps; reward 1 when the action matches a hidden target (obs[0] hints it)."""

    def __init__(self, num_envs, seed=None):
        self.num_envs = num_envs
        self.single_observation_space = Box((OBS_DIM,))
        self.single_action_space = Discrete(N_ACTIONS)
        self._seed(0 if seed is None else seed)

    def _seed(self, seed):
        n = self.num_envs
        self.lcg = _lcg(np.arange(n, dtype=np.uint64) + np.uint64(seed * 7919 + 1))
        self.t = np.zeros(n, dtype=np.int64)
        self.ret = np.zeros(n)
        self.length = self._new_lengths()

    def _new_lengths(self):
        return 3 + (self.lcg >> np.uint64(40)).astype(np.int64) % 6

    def _target(self):
        return (self.lcg >> np.uint64(20)).astype(np.int64) % N_ACTIONS

    def _obs(self):
        target = self._target()
        return np.stack([target / 2.0, self.t / 8.0, np.ones(self.num_envs)], axis=1).astype(np.float32)

    def reset(self, seed=None):
        if seed is not None:
            self._seed(seed)
        return self._obs(), {}

    def step(self, actions):
        actions = np.asarray(actions)
        rewards = (actions == self._target()).astype(np.float64)
        self.ret += rewards
        self.t += 1
        self.lcg = _lcg(self.lcg)
        done = self.t >= self.length
        terminated = done & (self.length % 2 == 0)
        truncated = done & ~terminated
        info = {"final_obs": self._obs(), "_final_obs": done.copy(),
                "episode_return": self.ret.copy(), "episode_length": self.t.copy()}
        self.t[done], self.ret[done] = 0, 0.0
        self.length = np.where(done, self._new_lengths(), self.length)
        return self._obs(), rewards, terminated, truncated, info

    def get_state(self):
        return {"lcg": self.lcg.copy(), "t": self.t.copy(), "ret": self.ret.copy(), "length": self.length.copy()}

    def set_state(self, state):
        self.lcg, self.t = np.array(state["lcg"]), np.array(state["t"])
        self.ret, self.length = np.array(state["ret"]), np.array(state["length"])


class FakeEnv:
    """The single-game Fake-v0 (what envs.make gives): a FakeVecEnv of one game, text render."""

    spec = SimpleNamespace(id=ENV_NAME, max_episode_steps=8, reward_threshold=2.0)

    def __init__(self):
        self.vec = FakeVecEnv(1)
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space

    def reset(self, seed=None, options=None):
        obs, info = self.vec.reset(seed=seed)
        return obs[0], info

    def step(self, action):
        obs, rewards, terminated, truncated, info = self.vec.step(np.array([action]))
        if terminated[0] or truncated[0]:
            obs = info["final_obs"]
        return obs[0], float(rewards[0]), bool(terminated[0]), bool(truncated[0]), {}

    def render(self):
        return f"t={int(self.vec.t[0])} target={int(self.vec._target()[0])}"


DEFAULT_ENV = ENV_NAME
QUICK_CONFIG = {"total_steps": 96, "num_envs": 2, "num_steps": 8}


@dataclass(frozen=True)
class Config:
    total_steps: int = config_field(256, "env steps in total")
    num_envs: int = config_field(2, "parallel games")
    num_steps: int = config_field(8, "steps per game per iteration")
    lr: float = config_field(0.1, "step size of the fake update")
    hidden_sizes: tuple[int, ...] = config_field((4, 4), "unused widths (tests tuple parsing)")
    activation: typing.Literal["tanh", "relu"] = config_field("tanh", "unused (tests Literal parsing)")
    clip: float | None = config_field(None, "unused (tests optional parsing)")
    normalize: bool = config_field(False, "unused (tests bool parsing)")
    nan_at: int = config_field(-1, "iteration at which theta becomes NaN (-1: never)")
    silent_nan_at: int = config_field(-1, "iteration at which theta becomes NaN unchecked (-1: never)")
    interrupt_at: int = config_field(-1, "iteration at which the learner sends itself SIGINT (-1: never)")
    sleep: float = config_field(0.0, "seconds to sleep per iteration")

    def validate(self):
        for name in ("total_steps", "num_envs", "num_steps", "lr"):
            require_positive(name, getattr(self, name))


class Learner:
    def __init__(self, env, cfg, rng):
        self.env, self.cfg, self.rng = env, cfg, rng
        self.theta = rng.normal(size=OBS_DIM * N_ACTIONS)
        self.m = np.zeros_like(self.theta)
        self.stats = EpisodeStats()
        self.env_steps = self.iteration = 0
        self.obs, _ = env.reset()

    def act(self, obs, greedy=True):
        logits = np.asarray(obs, dtype=np.float64) @ self.theta.reshape(OBS_DIM, N_ACTIONS)
        if not greedy:
            logits = logits + self.rng.gumbel(size=logits.shape)
        return np.argmax(logits, axis=1)

    def step(self):
        cfg = self.cfg
        grad = np.zeros((OBS_DIM, N_ACTIONS))
        for _ in range(cfg.num_steps):
            actions = self.act(self.obs, greedy=False)
            next_obs, rewards, terminated, truncated, info = self.env.step(actions)
            grad += np.einsum("bi,bj,b->ij", self.obs, np.eye(N_ACTIONS)[actions], rewards - 0.3)
            self.stats.update(info, terminated, truncated)
            self.obs = next_obs
        self.m = 0.9 * self.m + 0.1 * grad.ravel()
        self.theta += cfg.lr * self.m
        if self.iteration == cfg.nan_at:
            self.theta[0] = np.nan
        if cfg.silent_nan_at < 0:
            check_finite("theta", self.theta, self.iteration)
        elif self.iteration == cfg.silent_nan_at:
            self.theta[-1] = np.nan  # a bug the learner does not catch
        if self.iteration == cfg.interrupt_at:
            os.kill(os.getpid(), signal.SIGINT)
        if cfg.sleep:
            time.sleep(cfg.sleep)
        self.env_steps += cfg.num_steps * self.env.num_envs
        self.iteration += 1
        return {"env_steps": self.env_steps, **self.stats.row(),
                "grad_norm": float(np.linalg.norm(grad)), "theta_mean": float(self.theta.mean())}

    def state_dict(self):
        return {"params": {"theta": self.theta.copy()}, "optim": {"m": self.m.copy()},
                "rng": rng_state_dict(self.rng), "env": self.env.get_state(), "obs": self.obs.copy(),
                "stats": self.stats.state_dict(),
                "counters": {"env_steps": np.int64(self.env_steps), "iteration": np.int64(self.iteration)}}

    def load_state_dict(self, state):
        self.theta = np.array(state["params"]["theta"])
        self.m = np.array(state["optim"]["m"])
        load_rng_state(self.rng, state["rng"])
        self.env.set_state(state["env"])
        self.obs = np.array(state["obs"])
        self.stats.load_state_dict(state["stats"])
        self.env_steps = int(state["counters"]["env_steps"])
        self.iteration = int(state["counters"]["iteration"])


def _patched(original, fake):
    def wrapper(name, *args, **kwargs):
        if name == ENV_NAME:
            return fake(*args, **kwargs)
        if original is None:
            raise ValueError(f"unknown environment {name!r}")
        return original(name, *args, **kwargs)

    return wrapper


def install(monkeypatch=None):
    """Register algorithm "fake" and env "Fake-v0" (monkeypatched, or for good in a subprocess)."""
    make_vec = _patched(getattr(envs, "make_vec", None), lambda num_envs, seed=None: FakeVecEnv(num_envs, seed))
    make = _patched(getattr(envs, "make", None), lambda **kwargs: FakeEnv())
    original_names = getattr(envs, "names", lambda: [])

    def names():
        return sorted(set(original_names()) | {ENV_NAME})

    if monkeypatch is None:
        registry.ALGORITHMS["fake"] = __name__
        envs.make_vec, envs.make, envs.names = make_vec, make, names
    else:
        monkeypatch.setitem(registry.ALGORITHMS, "fake", __name__)
        monkeypatch.setattr(envs, "make_vec", make_vec, raising=False)
        monkeypatch.setattr(envs, "make", make, raising=False)
        monkeypatch.setattr(envs, "names", names, raising=False)


@pytest.fixture
def cli(monkeypatch, tmp_path, capfd):
    """run(*argv) -> (exit code, stdout, stderr) of purerl.cli.main, in tmp_path, with the fakes."""
    install(monkeypatch)
    return cli_runner(monkeypatch, tmp_path, capfd)


def cli_runner(monkeypatch, tmp_path, capfd):
    """run(*argv) -> (exit code, stdout, stderr) of purerl.cli.main, run in tmp_path."""
    from purerl.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*argv):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as stop:
            code = stop.code
        out, err = capfd.readouterr()
        return code, out, err

    return run


def run_dir_of(out):
    """The run directory a train command reported."""
    for line in out.splitlines():
        if line.startswith("run directory: "):
            return line[len("run directory: "):]
    raise AssertionError(f"no run directory in output:\n{out}")


DRIVER = f"""
import sys
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import cli_fakes
cli_fakes.install()
from purerl.cli import main
sys.exit(main(sys.argv[1:]))
"""


def driver_command(*argv):
    """argv of a subprocess running the CLI with the fakes installed."""
    return [sys.executable, "-c", DRIVER, *map(str, argv)]
