"""Pieces shared by the on-policy learners (REINFORCE, A2C, A3C, TRPO / NPG, PPO).

`PolicyLearner`, the base class that acts with pi_theta and starts the
rollout collector; building pi_theta and V_phi for an environment; GAE
advantages and lambda-return targets from a rollout.
"""

import numpy as np

from purerl.algos.base import EpisodeStats
from purerl.backend import array_module, get_xp, to_device, to_numpy
from purerl.estimators import gae
from purerl.policies import ValueFunction, make_policy
from purerl.rollout import RolloutCollector


class PolicyLearner:
    """What the on-policy learners share: acting with pi_theta and starting to collect.

    A subclass sets env, rng, policy, theta and value_fn (None without a
    critic) before calling `_start_collecting`.
    """

    def _start_collecting(self, stats=None, **collector_options):
        """Episode statistics, a RolloutCollector on the reset env, and zeroed counters."""
        self.stats = EpisodeStats() if stats is None else stats
        self.collector = RolloutCollector(self.env, self.policy, self.rng, self.stats, self.value_fn,
                                          **collector_options)
        self.collector.reset()
        self.env_steps = self.iteration = 0

    def act(self, obs, greedy=True):
        """The mode of pi_theta(.|s) (greedy) or a sample from it; host numpy actions."""
        return act(self.policy, self.theta, obs, self.rng, greedy, self.env.single_action_space)


def build_networks(env, hidden_sizes, dtype, rng):
    """pi_theta and V_phi (separate tanh MLPs of `hidden_sizes`) and their flat parameters.

    theta and phi are views into one vector `params` = [theta, phi], so a
    single optimizer, gradient clip or checkpoint can treat both at once.
    Returns (policy, value_fn, params, theta, phi), on the backend of
    purerl.backend.array_module() (numpy unless PURERL_BACKEND=cupy).
    """
    xp = array_module()
    dtype = np.dtype(dtype)
    policy = make_policy(env.single_observation_space, env.single_action_space, hidden_sizes, dtype=dtype)
    value_fn = ValueFunction(env.single_observation_space.shape[0], hidden_sizes, dtype=dtype)
    params = xp.concatenate([policy.init(rng, xp=xp), value_fn.init(rng, xp=xp)])
    return policy, value_fn, params, params[: policy.n_params], params[policy.n_params :]


def advantages_and_returns(rollout, gamma, lam):
    """GAE advantages and their lambda-return targets, each (T, N) in the values' dtype.

        A_hat_t = estimators.gae(...)   (Schulman et al. 2016)
        R_t     = A_hat_t + V(s_t)      (the lambda-return, the critic's regression target)

    Yamazaki, "PPO-Clip", Algorithm 1 steps 4-5 (rewards-to-go and
    advantages from the current value function).
    """
    xp = get_xp(rollout.values)
    advantages = gae(rollout.rewards, rollout.values, rollout.next_values,
                     to_device(rollout.terminated, xp), to_device(rollout.truncated, xp), gamma=gamma, lam=lam)
    advantages = advantages.astype(rollout.values.dtype, copy=False)
    return advantages, advantages + rollout.values


def act(policy, theta, obs, rng, greedy, action_space):
    """Actions of pi_theta for host observations: the mode (greedy) or a sample; host numpy.

    Box actions are clipped to the space's bounds, as the rollout collector
    does before stepping (a Gaussian's mean or sample may lie outside them,
    and the environments reject such actions rather than clip them).
    """
    obs = to_device(np.asarray(obs, dtype=theta.dtype), get_xp(theta))
    actions = to_numpy(policy.act(theta, obs, rng, greedy=greedy))
    if not hasattr(action_space, "n"):
        actions = np.clip(actions, action_space.low, action_space.high)
    return actions
