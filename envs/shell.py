"""The machinery both shells share: a batch of N games of one Simulator.

`GameBatch` owns the arrays the kernels read and write (state, per-game PCG64
streams, episode accumulators, output buffers), seeds the streams, converts
and checks actions, calls the kernels, and saves and restores everything as
plain numpy arrays. The single environment (envs/env.py) is a GameBatch of
one game without autoreset; the vector environment (envs/vector.py) is a
GameBatch of N games with autoreset.
"""

import numba
import numpy as np

from envs import pcg64
from envs.core import OBS
from envs.spaces import Discrete

# Batches at least this large use the parallel step kernel by default when
# numba has more than one thread. Below it the serial kernel is the safe
# choice: a parallel step waits for its slowest thread, and on a busy 2-core
# machine (another process, or BLAS threads spinning after a matrix product)
# that thread may be descheduled for milliseconds; measured here under load,
# N = 4096 CartPole took 5 ms per step in parallel against 0.4 ms serially.
# On an idle machine parallel wins from about N = 1024 (README, "bench envs");
# make_vec(..., parallel=True) opts in.
PARALLEL_MIN_GAMES = 16384


class GameBatch:
    """N games of `sim`: arrays, seeding, action checks and kernel calls."""

    def __init__(self, sim, num_envs, autoreset, parallel=None):
        if isinstance(num_envs, (bool, np.bool_)) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        n = int(num_envs)
        self.sim = sim
        self.num_envs = n
        self.autoreset = bool(autoreset)
        self.max_steps = int(sim.spec.max_episode_steps)
        if self.max_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {self.max_steps}")
        if parallel is None:
            parallel = n >= PARALLEL_MIN_GAMES and numba.get_num_threads() > 1
        self.kernel = sim.step_parallel if parallel else sim.step
        self.params = sim.params
        self.state = tuple(np.zeros((n,) + tuple(shape), dtype=dtype) for shape, dtype in sim.state_layout)
        self.rng = np.zeros((n, 4), dtype=np.uint64)
        self.seeded = False
        self.started = False
        # Bookkeeping, laid out as envs/core.py's row constants say.
        self.elapsed = np.zeros(n, dtype=np.int64)
        self.values = np.zeros((2, n), dtype=np.float64)  # REWARD, EP_RETURN
        self.flags = np.zeros((3, n), dtype=np.bool_)  # TERMINATED, TRUNCATED, HAS_FINAL
        self.obs = np.zeros((2, n) + sim.observation_space.shape, dtype=np.float32)  # OBS, FINAL_OBS
        self.all_games = np.ones(n, dtype=np.bool_)
        space = sim.action_space
        self.discrete = isinstance(space, Discrete)
        self.action_dtype = np.dtype(np.int64) if self.discrete else space.dtype
        self.action_shape = (n,) + space.shape
        self.actions = np.zeros(self.action_shape, dtype=self.action_dtype)

    # ----- seeding and reset -------------------------------------------------

    def seed(self, seed):
        """Seed game i's stream with seed + i (an int), or seed[i] (a sequence of N ints)."""
        if isinstance(seed, (list, tuple, np.ndarray)):
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} games; give one int or {self.num_envs}")
        else:
            base = pcg64.check_seed(seed)
            seeds = [base + i for i in range(self.num_envs)]
        self.rng[:] = pcg64.seed_streams(seeds)
        self.seeded = True

    def reset(self, seed=None, options=None):
        """Start a new episode in every game; returns a copy of the observations (N, *obs_shape)."""
        if seed is not None:
            self.seed(seed)
        elif not self.seeded:
            self.seed(pcg64.entropy_seed())
        params = self.params
        if options:  # None and {} both mean "no options", as in Gymnasium
            if self.sim.reset_params is None:
                raise ValueError(f"{self.sim.spec.id} accepts no reset options, got {options!r}")
            params = self.sim.reset_params(self.params, dict(options))
        self.sim.reset(self.state, params, self.rng, self.all_games, self.obs)
        self.elapsed[:] = 0
        self.values[:] = 0.0
        self.flags[:] = False
        self.started = True
        return self.obs[OBS].copy()

    # ----- stepping ----------------------------------------------------------

    def check_actions(self, actions):
        """actions as a C-contiguous array of the kernel's dtype and shape, or a ValueError."""
        a = actions if type(actions) is np.ndarray else np.asarray(actions)
        if a.shape != self.action_shape:
            raise ValueError(f"actions must have shape {self.action_shape} (num_envs, *action shape), got {a.shape}")
        if a.dtype != self.action_dtype:
            kinds = "iu" if self.discrete else "iuf"
            if a.dtype.kind not in kinds:
                what = "integers" if self.discrete else "numbers"
                raise ValueError(f"actions must be {what} ({self.sim.action_space.describe()}), got dtype {a.dtype}")
            a = a.astype(self.action_dtype)
        if not a.flags.c_contiguous:
            a = np.ascontiguousarray(a)
        return a

    def bad_action_message(self, actions, i):
        value = actions[i].tolist()  # a Python number or list, printed plainly
        accepts = self.sim.accepts or self.sim.action_space.describe()
        return f"invalid action {value!r} for game {i} of {self.sim.spec.id}; accepted: {accepts} (nothing was stepped)"

    def info(self):
        """The simulator's own per-game info arrays (e.g. Pong's scores), or {}."""
        if self.sim.info is None:
            return {}
        return self.sim.info(self.state, self.params)

    # ----- checkpointing -----------------------------------------------------

    def get_state(self):
        """Everything needed to resume bit-identically, as plain numpy arrays (copies)."""
        d = {f"state_{k}": s.copy() for k, s in enumerate(self.state)}
        d.update(rng=self.rng.copy(), elapsed=self.elapsed.copy(), values=self.values.copy(),
                 flags=self.flags.copy(), obs=self.obs.copy(),
                 seeded=np.array(self.seeded), started=np.array(self.started))
        return d

    def set_state(self, d):
        """Restore a get_state() dict; raises a ValueError naming a missing or mismatched array."""
        targets = {f"state_{k}": s for k, s in enumerate(self.state)}
        targets.update(rng=self.rng, elapsed=self.elapsed, values=self.values, flags=self.flags, obs=self.obs)
        for key, target in targets.items():
            if key not in d:
                raise ValueError(f"environment state lacks {key!r}; it needs {sorted(targets)}")
            value = np.asarray(d[key])
            if value.shape != target.shape or value.dtype != target.dtype:
                raise ValueError(f"environment state {key!r} must be {target.dtype} of shape {target.shape}, "
                                 f"got {value.dtype} of shape {value.shape}")
        for key, target in targets.items():
            target[...] = d[key]
        self.seeded = bool(d.get("seeded", True))
        self.started = bool(d.get("started", True))
