"""Batched environments with same-step autoreset, and the protocol every simulator implements.

    venv = envs.make_vec("CartPole-v1", num_envs=64, seed=0)
    obs, info = venv.reset()                        # obs (64, 4) float32
    obs, rewards, terminated, truncated, info = venv.step(actions)

Autoreset happens in the same step: the obs of a game that finished is
already its new episode's first observation; the observation that ended it
is info["final_obs"][i], valid where info["_final_obs"][i] (so learners can
bootstrap a truncated episode from V(final_obs)). info["episode_return"] and
info["episode_length"] hold each game's totals so far, which are the
finished episode's where the game is done. Game i of a batch reset with seed
s runs the stream of seed s + i: it equals a single environment reset with
seed s + i and reset again (without a seed) after every episode, whatever N.

The simulator protocol (how a game plugs into both shells)
----------------------------------------------------------
An environment module (envs/cartpole.py is the worked example) builds a
`Simulator` record (envs/core.py) in a factory function that the registry
names. It provides:

1. State arrays. `state_layout` lists (per-game shape, dtype) of each state
   array; the shell allocates `state`, a tuple of C-contiguous arrays of
   shape (N, *per-game shape), zeroed. Kernels may read and write them freely.
   Everything a game needs to continue (positions, scores, countdowns) lives
   here, so get_state()/set_state() can checkpoint it.
2. Parameters. `params`, a float64 vector of every constant the kernels
   read; derived constants are computed once in the factory from the
   primitives (STYLE 10). Kernels never write it.
3. Random streams. `rng`, uint64 (N, 4): game i's PCG64 stream (envs/pcg64.py).
   Draw with `pcg64.uniform(rng, i, low, high)` / `next_double` /
   `next_uint64`, always for game i only, so game i's draws do not depend on N.
4. The step kernel, `step(state, params, rng, actions, autoreset, max_steps,
   elapsed, values, flags, obs) -> int`, compiled by
   `core.compile_serial_and_parallel` from a plain function whose game loop
   is a `prange`. Its body (envs/cartpole.py's `_step_games`):
     bad = first_invalid_action(actions, low, high)  # action validation
     if bad >= 0: return bad                           # nothing changed
     for i in prange(N):
         begin_step(i, elapsed, values, flags)
         values[REWARD, i], flags[TERMINATED, i] = <physics of game i>
         if end_step(i, autoreset, max_steps, elapsed, values, flags):
             <observe game i into obs[FINAL_OBS, i]>
             <draw game i's start state from rng row i>
         <observe game i into obs[OBS, i]>
     return -1
   `begin_step` and `end_step` (envs/core.py) are the only place the time
   limit (truncation) and the episode totals are computed. Arrays, with
   envs/core.py's row names: elapsed int64 (N,) steps into the episode;
   values float64 (2, N) rows REWARD, EP_RETURN; flags bool (3, N) rows
   TERMINATED, TRUNCATED, HAS_FINAL; obs float32 (2, N, *obs_shape) rows OBS,
   FINAL_OBS. actions are int64 (N,) for a Discrete space and float32
   (N, *shape) for a Box: the shell converts and checks dtype and shape, the
   kernel checks values (non-finite or outside [low, high] is invalid; pass
   ±inf to accept any finite value, e.g. where the reference clips).
5. The reset kernel, `reset(state, params, rng, mask, obs)`: for each game
   with mask[i], draw its start state from rng row i and write obs[i]. It
   must draw exactly what the step kernel's autoreset draws.
6. Optional `reset_params(params, options)`: the params for one reset with
   Gymnasium-style options; `render(state, params, i)`: text or an RGB array
   of game i; `info(state, params)`: dict of (N,) arrays added to info.

Numba options (envs/core.py): kernels are `@njit(**KERNEL)` (cache=True,
and _nrt=False: no reference counting, so kernels must not allocate arrays)
and the per-game functions they call are `@njit(**INLINE)` (inlined, so they
compile with the kernel's options; a non-inlined helper that takes arrays
costs atomic reference counts per game, 3x slower on cart-pole). No eager
signatures: nothing compiles at import. Kernels take and return plain
arrays and run unchanged in pure Python under NUMBA_DISABLE_JIT=1.
"""

import numpy as np

from envs.core import EP_RETURN, FINAL_OBS, HAS_FINAL, OBS, REWARD, TERMINATED, TRUNCATED
from envs.shell import GameBatch
from envs.spaces import Box


class VecEnv:
    """N games of one Simulator stepped together by one kernel call, with autoreset."""

    def __init__(self, sim, num_envs, parallel=None):
        self.sim = sim
        self.spec = sim.spec
        self.render_mode = sim.render_mode  # what render(i) returns: "ansi" text or an "rgb_array"
        self._batch = b = GameBatch(sim, num_envs, autoreset=True, parallel=parallel)
        # The kernel's arguments around the actions, bound once (updated in place).
        self._args_before = (b.state, b.params, b.rng)
        self._args_after = (True, b.max_steps, b.elapsed, b.values, b.flags, b.obs)
        self._has_info = sim.info is not None
        self.num_envs = self._batch.num_envs
        self.single_observation_space = sim.observation_space
        self.single_action_space = sim.action_space
        space = sim.observation_space
        n = self.num_envs
        self.observation_space = Box(np.broadcast_to(space.low, (n,) + space.shape),
                                     np.broadcast_to(space.high, (n,) + space.shape), dtype=space.dtype)

    def seed(self, seed):
        """Seed the streams (game i gets seed + i) without resetting; the next reset() uses them."""
        self._batch.seed(seed)

    def reset(self, seed=None, options=None):
        """Start every game; returns (obs (N, *obs_shape) float32, info).

        seed: None (continue each game's stream; fresh OS entropy if never seeded),
        an int s (game i gets s + i) or a sequence of N ints. options: the
        simulator's reset options (e.g. CartPole's {"low", "high"}) for this
        reset only; later autoresets use the defaults.
        """
        obs = self._batch.reset(seed=seed, options=options)
        return obs, self._batch.info()

    def step(self, actions):
        """Step every game; returns (obs, rewards, terminated, truncated, info), all fresh arrays."""
        b = self._batch
        if not b.started:
            raise ValueError(f"{self.spec.id}: step() called before reset(); call reset() first")
        a = b.check_actions(actions)
        bad = b.kernel(*self._args_before, a, *self._args_after)
        if bad >= 0:
            raise ValueError(b.bad_action_message(a, bad))
        # One copy per bookkeeping block, then views into the copies.
        values, flags, obs = b.values.copy(), b.flags.copy(), b.obs.copy()
        info = {"final_obs": obs[FINAL_OBS], "_final_obs": flags[HAS_FINAL],
                "episode_return": values[EP_RETURN], "episode_length": b.elapsed.copy()}
        if self._has_info:
            info.update(b.info())
        return obs[OBS], values[REWARD], flags[TERMINATED], flags[TRUNCATED], info

    def sample_actions(self, rng):
        """One random action per game from `rng` (int64 (N,) or float32 (N, *shape))."""
        return self.single_action_space.sample_batch(self.num_envs, rng)

    def render(self, i=0):
        """Game i as text or an RGB array (see the simulator)."""
        if not self._batch.started:
            raise ValueError(f"{self.spec.id}: render() needs a reset() first")
        return self.sim.render(self._batch.state, self._batch.params, i)

    def close(self):
        """Nothing to release; kept for Gymnasium compatibility."""

    def get_state(self):
        """Kernel state, per-game RNG streams, step counters, episode accumulators and
        the current observation, as plain numpy arrays (copies)."""
        return self._batch.get_state()

    def set_state(self, d):
        """Restore get_state() (bit-identical continuation); returns the current observation."""
        self._batch.set_state(d)
        return self._batch.obs[OBS].copy()

    def __repr__(self):
        return f"VecEnv({self.spec.id}, num_envs={self.num_envs})"
