"""The on-policy rollout collector: run pi_theta in a vector env and store what
the estimators need.

CMU 10-403, Policy gradients, "Algorithm 1" step 1: sample trajectories
{tau_i} from pi_theta(a_t|s_t) by running the policy. The collector stores,
for T steps of N games (arrays of shape (T, N, ...)): observations, actions,
log pi_theta(a_t|s_t) at collection time, rewards, and the termination and
truncation masks, which are never confused: after a termination the return
is complete (no bootstrap); after a truncation (a time limit) the estimators
bootstrap from V(final observation), which the collector evaluates here
because the vector env has already reset that game.

With a value function it also stores values[t] = V_phi(s_t) and
next_values[t], the value of the state that follows s_t in the same episode
(V_phi(s_{t+1}), V_phi(final_obs_t) after a truncation, 0 after a
termination; built by estimators.next_state_values).

Actions of a Box space are clipped to its bounds before the env steps them;
the stored actions and log-probs are the unclipped samples of pi_theta, so
the likelihood-ratio gradient stays the gradient of the policy that was run
(Stable-Baselines3's on-policy collector does the same).

With `store_next_obs=True` it also stores next_obs[t], the observation that
followed s_t in the same episode (s_{t+1}, or final_obs_t where the game
ended), which TD fitted-V iteration needs to recompute V(s') with new phi.
"""

from dataclasses import dataclass

import numpy as np

from purerl.backend import get_xp, to_device, to_numpy
from purerl.estimators import next_state_values


def _stack_steps(xp, arrays):
    """xp.stack(arrays) for T arrays of one shape, (T, ...). numpy's stack is Python
    code that indexes every array (15 us for 32 small arrays); np.array is one C call (5 us)."""
    if xp is np:
        return np.array(arrays)
    return xp.stack(arrays)


@dataclass
class Rollout:
    """T steps of N games; every array has leading shape (T, N).

    `valid` marks the steps that count: all of them for fixed-length
    collection; for whole-episode collection, the steps of each game's first
    `episodes_per_env` episodes (later steps were simulated but are ignored).
    values / next_values are None when no value function was given.
    """

    obs: object
    actions: object
    log_probs: object
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    values: object = None
    next_values: object = None
    next_obs: object = None

    @property
    def num_steps(self):
        return self.rewards.shape[0]

    @property
    def env_steps(self):
        """Env steps simulated (T * N), valid or not."""
        return self.rewards.size

    def flat(self, name):
        """The field `name` with (T, N) flattened into one batch axis, valid steps only."""
        x = getattr(self, name)
        x = x.reshape((-1,) + x.shape[2:])
        if self.valid.all():
            return x
        return x[to_device(self.valid.reshape(-1), get_xp(x))]


class RolloutCollector:
    """Steps a vector env with pi_theta; keeps the current observations between calls.

    `stats` (an EpisodeStats) records every finished episode's return.
    """

    def __init__(self, env, policy, rng, stats, value_fn=None, store_next_obs=False):
        self.env = env
        self.store_next_obs = store_next_obs
        self.policy = policy
        self.rng = rng
        self.stats = stats
        self.value_fn = value_fn
        self.obs = None
        space = env.single_action_space
        self.action_bounds = None if hasattr(space, "n") else (space.low, space.high)

    def reset(self, seed=None):
        self.obs, _ = self.env.reset(seed=seed)

    def _to_xp(self, obs, xp, dtype):
        return to_device(np.asarray(obs, dtype=dtype), xp)

    def _step(self, theta, phi):
        """One env step for all N games. Returns the transition as a dict."""
        xp = get_xp(theta)
        obs = self._to_xp(self.obs, xp, theta.dtype)
        dist, _ = self.policy.distribution(theta, obs)
        actions = dist.sample(self.rng)
        step = {"obs": obs, "actions": actions, "log_probs": dist.log_prob(actions)}
        env_actions = to_numpy(actions)
        if self.action_bounds is not None:
            env_actions = np.clip(env_actions, *self.action_bounds)
        next_obs, rewards, terminated, truncated, info = self.env.step(env_actions)
        step.update(rewards=rewards, terminated=terminated, truncated=truncated)
        if self.store_next_obs:
            ended = info["_final_obs"]
            after = np.where(ended.reshape((-1,) + (1,) * (next_obs.ndim - 1)), info["final_obs"], next_obs)
            step["next_obs"] = self._to_xp(after, xp, theta.dtype)
        if self.value_fn is not None:
            # The final observation of a truncated game still has a future the
            # time limit cut off; its value is the bootstrap target.
            final_values = xp.zeros(len(rewards), dtype=theta.dtype)
            if truncated.any():
                final_obs = self._to_xp(info["final_obs"][truncated], xp, theta.dtype)
                final_values[to_device(truncated, xp)] = self.value_fn(phi, final_obs)
            step["final_values"] = final_values
        self.stats.update(info, terminated, truncated)
        self.obs = next_obs
        return step

    def _stack(self, steps, valid, theta, phi):
        xp = get_xp(theta)
        field = {k: [s[k] for s in steps] for k in steps[0]}
        host = {k: _stack_steps(np, field[k]) for k in ("rewards", "terminated", "truncated")}
        rollout = Rollout(
            obs=_stack_steps(xp, field["obs"]),
            actions=_stack_steps(xp, field["actions"]),
            log_probs=_stack_steps(xp, field["log_probs"]),
            valid=valid,
            **host,
        )
        if self.store_next_obs:
            rollout.next_obs = _stack_steps(xp, field["next_obs"])
        if self.value_fn is not None:
            # V_phi(s_t) for every stored step and V_phi of the observation after
            # the last one, in one batched forward pass instead of T small ones.
            T, n = rollout.rewards.shape
            every_obs = xp.concatenate([rollout.obs.reshape((T * n,) + rollout.obs.shape[2:]),
                                        self._to_xp(self.obs, xp, theta.dtype)])
            v = self.value_fn(phi, every_obs)
            rollout.values, last_values = v[: T * n].reshape(T, n), v[T * n :]
            rollout.next_values = next_state_values(
                rollout.values,
                last_values,
                truncated=to_device(host["truncated"], xp),
                final_values=_stack_steps(xp, field["final_values"]),
                terminated=to_device(host["terminated"], xp),
            )
        return rollout

    def collect(self, theta, num_steps, phi=None):
        """Run num_steps steps of all N games from where the last call left off."""
        if self.obs is None:
            raise RuntimeError("call reset(seed) before collect()")
        steps = [self._step(theta, phi) for _ in range(num_steps)]
        valid = np.ones((num_steps, self.env.num_envs), dtype=bool)
        return self._stack(steps, valid, theta, phi)

    def collect_episodes(self, theta, episodes_per_env, phi=None):
        """Reset all games and run until each has finished `episodes_per_env` episodes.

        Every game contributes exactly its first `episodes_per_env` episodes,
        decided before they are played, so the batch is N * episodes_per_env
        independent draws of tau ~ p_theta. (Keeping instead the first K
        episodes to finish across games would favour short episodes and bias
        the gradient.) Steps a game takes after its quota are marked invalid.
        """
        self.reset()
        n = self.env.num_envs
        finished = np.zeros(n, dtype=np.int64)
        steps, valid = [], []
        while (finished < episodes_per_env).any():
            counting = finished < episodes_per_env
            step = self._step(theta, phi)
            finished += (step["terminated"] | step["truncated"]) & counting
            steps.append(step)
            valid.append(counting)
        return self._stack(steps, _stack_steps(np, valid), theta, phi)
