"""Experience replay: a ring buffer of transitions, uniform and prioritized.

"Store experience {s_t, a_t, r_{t+1}, s_{t+1}} to replay buffer and randomly
sample multiple experiences for mini-batch training" ("Robot Perception and
Control: Reinforcement Learning", 'Experience Replay'); replay "removes
correlation, restores the i.i.d. property" (Stuttgart RL Lecture 10, 'Deep
Q-networks (DQN)').

A transition is (obs, action, reward, next_obs, terminated, truncated). For a
game that ended this step, next_obs is the true last observation
(info["final_obs"] of the vector env), not the first observation of the next
game; terminated and truncated are stored separately so that targets bootstrap
through a time limit and only stop at a real termination.

All storage is preallocated; `add` writes a batch of N transitions (one per
game) with one slice assignment and `sample` draws indices from a passed
Generator, so there is no per-transition Python loop.
"""

from dataclasses import dataclass

import numpy as np

from purerl.sumtree import SumTree

FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated", "truncated")


def successor_observations(obs, info, flatten):
    """s' of every game's last step: obs, with info["final_obs"] where a game just ended.

    A vector env resets finished games in the same step, so `obs` then holds
    the next game's first observation; the transition must store the true
    last one (envs/vector.py) so that a truncated step bootstraps from it.
    flatten maps observations to the buffer's (N, obs_dim) rows.
    """
    ended = info["_final_obs"]
    if not ended.any():
        return obs
    next_obs = obs.copy()
    next_obs[ended] = flatten(info["final_obs"][ended])
    return next_obs


@dataclass(frozen=True)
class Batch:
    """A minibatch of B transitions; `weights` are importance weights (ones if uniform)."""

    obs: np.ndarray  # (B, *obs_shape)
    actions: np.ndarray  # (B, *action_shape)
    rewards: np.ndarray  # (B,) float64
    next_obs: np.ndarray  # (B, *obs_shape)
    terminated: np.ndarray  # (B,) bool
    truncated: np.ndarray  # (B,) bool
    indices: np.ndarray  # (B,) int64, positions in the buffer
    weights: np.ndarray  # (B,) float64


class ReplayBuffer:
    """Ring buffer of the last `capacity` transitions, sampled uniformly."""

    def __init__(self, capacity, obs_shape, action_shape=(), obs_dtype=np.float32, action_dtype=np.int64):
        if int(capacity) < 1:
            raise ValueError(f"invalid capacity={capacity!r}; accepted: an integer >= 1")
        self.capacity = int(capacity)
        obs_shape, action_shape = tuple(obs_shape), tuple(action_shape)
        c = self.capacity
        self.obs = np.zeros((c, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((c, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(c, dtype=np.float64)
        self.next_obs = np.zeros((c, *obs_shape), dtype=obs_dtype)
        self.terminated = np.zeros(c, dtype=bool)
        self.truncated = np.zeros(c, dtype=bool)
        self.pos = 0  # where the next transition goes
        self.size = 0  # how many slots hold data

    def __len__(self):
        return self.size

    def add(self, obs, actions, rewards, next_obs, terminated, truncated):
        """Append a batch of N transitions (leading axis N); returns their slots (N,)."""
        obs = np.asarray(obs)
        n = obs.shape[0] if obs.ndim == self.obs.ndim else None
        if n is None or obs.shape[1:] != self.obs.shape[1:]:
            raise ValueError(f"obs has shape {obs.shape}; accepted: (N, {', '.join(map(str, self.obs.shape[1:]))})")
        if n > self.capacity:
            raise ValueError(f"a batch of {n} transitions exceeds capacity={self.capacity}")
        slots = (self.pos + np.arange(n)) % self.capacity
        values = (obs, actions, rewards, next_obs, terminated, truncated)
        for name, value in zip(FIELDS, values):
            store = getattr(self, name)
            value = np.asarray(value)
            if value.shape != (n, *store.shape[1:]):
                raise ValueError(f"{name} has shape {value.shape}; accepted: {(n, *store.shape[1:])}")
            store[slots] = value
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)
        return slots

    def _check_can_sample(self, batch_size):
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        if int(batch_size) < 1:
            raise ValueError(f"invalid batch_size={batch_size!r}; accepted: an integer >= 1")

    def get(self, indices, weights=None):
        """The transitions at `indices` as a Batch (fancy indexing copies them)."""
        indices = np.asarray(indices, dtype=np.int64)
        if weights is None:
            weights = np.ones(indices.shape[0])
        return Batch(*(getattr(self, name)[indices] for name in FIELDS), indices, weights)

    def sample(self, batch_size, rng):
        """batch_size transitions drawn uniformly with replacement."""
        self._check_can_sample(batch_size)
        return self.get(rng.integers(0, self.size, size=int(batch_size)))

    def state_dict(self):
        """Stored transitions (only the filled slots) and the ring position."""
        state = {name: getattr(self, name)[: self.size].copy() for name in FIELDS}
        state["pos"] = np.array(self.pos, dtype=np.int64)
        state["size"] = np.array(self.size, dtype=np.int64)
        return state

    def load_state_dict(self, state):
        size, pos = int(state["size"]), int(state["pos"])
        if not (0 <= size <= self.capacity and 0 <= pos < self.capacity):
            raise ValueError(f"replay state size={size}, pos={pos} does not fit capacity={self.capacity}")
        for name in FIELDS:
            store, value = getattr(self, name), np.asarray(state[name])
            if value.shape != (size, *store.shape[1:]):
                raise ValueError(f"replay {name} has shape {value.shape}; accepted: {(size, *store.shape[1:])}")
            store[:size] = value
        self.size, self.pos = size, pos


class PrioritizedReplayBuffer(ReplayBuffer):
    """Replay sampled with P_i = p_i^alpha / sum_j p_j^alpha, with importance weights.

    ("Robot Perception and Control: Reinforcement Learning", 'Prioritized
    Experience Replay'; Schaul et al. 2016.) p_i = |delta_i| + eps is the
    magnitude of the transition's last TD error; a new transition gets the
    largest priority seen so far so that it is replayed at least once soon.
    The tree stores p_i^alpha. Sampling is i.i.d. (not stratified), so the
    draw counts are exactly multinomial(P).

    The importance weights correct the bias of sampling from P instead of
    uniformly: w_i = (N P_i)^-beta / max_j w_j, N = len(buffer), with beta
    annealed to 1 by the learner. Since max_j w_j = (N min_j P_j)^-beta,
    w_i = (P_i / min_j P_j)^-beta; the min tree gives min_j P_j in O(1).
    """

    def __init__(self, capacity, obs_shape, action_shape=(), obs_dtype=np.float32, action_dtype=np.int64, alpha=0.6, eps=1e-6):
        super().__init__(capacity, obs_shape, action_shape, obs_dtype, action_dtype)
        if not alpha >= 0:
            raise ValueError(f"invalid alpha={alpha!r}; accepted: a number >= 0")
        if not eps > 0:
            raise ValueError(f"invalid eps={eps!r}; accepted: a number > 0")
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.tree = SumTree(self.capacity)
        self.max_priority = 1.0  # largest p_i seen so far (before the power alpha)

    def add(self, obs, actions, rewards, next_obs, terminated, truncated):
        slots = super().add(obs, actions, rewards, next_obs, terminated, truncated)
        self.tree.update(slots, np.full(slots.shape[0], self.max_priority**self.alpha))
        return slots

    def probabilities(self, indices):
        """P_i = p_i^alpha / sum_j p_j^alpha for the given slots."""
        return self.tree.leaves(indices) / self.tree.total

    def weights(self, indices, beta):
        """w_i = (N P_i)^-beta / max_j w_j = (P_i / min_j P_j)^-beta."""
        p_min = self.tree.min / self.tree.total
        return (self.probabilities(indices) / p_min) ** (-beta)

    def sample(self, batch_size, rng, beta=1.0):
        """batch_size transitions drawn i.i.d. from P, with their weights."""
        self._check_can_sample(batch_size)
        if not 0 <= beta <= 1:
            raise ValueError(f"invalid beta={beta!r}; accepted: a number in [0, 1]")
        indices = self.tree.sample(int(batch_size), rng)
        return self.get(indices, self.weights(indices, beta))

    def update_priorities(self, indices, td_errors):
        """p_i = |delta_i| + eps for the replayed transitions."""
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)) + self.eps
        if not np.all(np.isfinite(priorities)):
            raise ValueError("non-finite TD errors passed to update_priorities")
        self.tree.update(indices, priorities**self.alpha)
        self.max_priority = max(self.max_priority, float(priorities.max(initial=0.0)))

    def state_dict(self):
        state = super().state_dict()
        state.update({"tree_" + k: v for k, v in self.tree.state_dict().items()})
        state["max_priority"] = np.array(self.max_priority)
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.tree.load_state_dict({k[len("tree_"):]: v for k, v in state.items() if k.startswith("tree_")})
        self.max_priority = float(state["max_priority"])
