"""The single-game, Gymnasium-style environment: a batch of one game, no autoreset.

    env = envs.make("CartPole-v1")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(1)

Conventions are Gymnasium's (reset(seed=None, options=None) -> (obs, info);
step(action) -> (obs, reward, terminated, truncated, info); `spec.id`,
`spec.max_episode_steps`), with three differences that make mistakes loud:
a step after the episode ended (terminated or truncated) without a reset, a
step before the first reset, and an invalid action each raise a ValueError
instead of warning. The physics is the same kernel the vector environment
runs (envs/vector.py), called with N = 1.

Seeding: reset(seed=s) seeds the game's PCG64 stream exactly as Gymnasium
does (numpy's PCG64(SeedSequence(s))); reset() continues the stream; the
first reset() of a never-seeded environment seeds from fresh OS entropy.
"""

import numpy as np

from envs.core import OBS, REWARD
from envs.shell import GameBatch


class Env:
    """One game of a Simulator (see envs/core.py), Gymnasium's single-env API."""

    def __init__(self, sim):
        self.sim = sim
        self.spec = sim.spec
        self.render_mode = sim.render_mode  # what render() returns: "ansi" text or an "rgb_array"
        self.observation_space = sim.observation_space
        self.action_space = sim.action_space
        self._batch = b = GameBatch(sim, 1, autoreset=False, parallel=False)
        self._needs_reset = True
        # The hot path: the kernel's arguments never change identity (the arrays are
        # updated in place), so they are bound once; each step unpacks this tuple.
        self._kernel = b.kernel
        self._args = (b.state, b.params, b.rng, b.actions, False, b.max_steps, b.elapsed, b.values, b.flags, b.obs)
        self._actions, self._values = b.actions, b.values
        self._flags0 = b.flags[:, 0]  # view of game 0's flags: TERMINATED, TRUNCATED, HAS_FINAL
        self._obs0 = b.obs[OBS, 0]  # view of game 0's observation
        self._discrete = b.discrete
        self._has_info = sim.info is not None

    def reset(self, seed=None, options=None):
        """Start a new episode; returns (obs float32 (*obs_shape,), info)."""
        obs = self._batch.reset(seed=seed, options=options)[0]
        self._needs_reset = False
        return obs, self._info()

    def step(self, action):
        """Advance one step; returns (obs, reward float, terminated bool, truncated bool, info)."""
        if self._needs_reset:
            raise ValueError(f"{self.spec.id}: step() called before reset() or after the episode ended "
                             "(terminated or truncated); call reset() first")
        # The common cases, fast: a Python int, or a float array of the action's shape.
        if self._discrete:
            if type(action) is int and 0 <= action < 1 << 62:
                self._actions[0] = action
            else:
                self._store_action(action)
        elif type(action) is np.ndarray and action.shape == self.action_space.shape and action.dtype.kind == "f":
            self._actions[0] = action  # cast to the space's float32
        else:
            self._store_action(action)
        if self._kernel(*self._args) >= 0:
            raise ValueError(self._batch.bad_action_message(self._actions, 0))
        terminated, truncated, _ = self._flags0.tolist()
        self._needs_reset = terminated or truncated
        info = self._info() if self._has_info else {}
        return self._obs0.copy(), self._values.item(REWARD), terminated, truncated, info

    def _store_action(self, action):
        """Write `action` into the kernel's action buffer, or raise a ValueError."""
        if self._discrete:
            if isinstance(action, (int, np.integer)) or (
                    isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu"):
                try:
                    self._actions[0] = action
                    return
                except OverflowError:
                    pass
            raise ValueError(f"invalid action {action!r} for {self.spec.id}; accepted: "
                             f"{self.action_space.describe()}")
        a = np.asarray(action)
        if a.shape != self.action_space.shape:
            raise ValueError(f"action must have shape {self.action_space.shape}, got {a.shape}; accepted: "
                             f"{self.action_space.describe()}")
        self._actions[...] = self._batch.check_actions(a[None])

    def _info(self):
        info = self._batch.info()
        return {key: value.item(0) for key, value in info.items()}

    def render(self):
        """Game state as text (CartPole, Pendulum) or an RGB uint8 array (see the simulator)."""
        if not self._batch.started:
            raise ValueError(f"{self.spec.id}: render() needs a reset() first")
        return self.sim.render(self._batch.state, self._batch.params, 0)

    def close(self):
        """Nothing to release; kept for Gymnasium compatibility."""

    @property
    def unwrapped(self):
        return self

    def get_state(self):
        """Everything needed to resume bit-identically (plain numpy arrays)."""
        d = self._batch.get_state()
        d["needs_reset"] = np.array(self._needs_reset)
        return d

    def set_state(self, d):
        """Restore get_state(); returns the current observation."""
        self._batch.set_state(d)
        self._needs_reset = bool(d.get("needs_reset", False))
        return self._obs0.copy()

    def __repr__(self):
        return f"Env({self.spec.id})"
