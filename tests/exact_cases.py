"""Shared test fixtures for the exact oracle: hypothesis draws a small MDP and a
tabular or linear softmax policy, and a few gradient estimators written with
the library's own functions (the same callables serve the enumeration and the
sampled batches)."""

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from purerl import estimators as E
from purerl.tabular_policies import LinearSoftmax, TabularSoftmax
from purerl.exact import TabularMDP, random_mdp


class Problem(NamedTuple):
    mdp: TabularMDP
    policy: object
    theta: np.ndarray
    rng: np.random.Generator  # for further draws (baselines, behaviour policies)


@st.composite
def problems(draw, max_states=3, max_actions=3, max_horizon=4, kinds=("tabular", "linear"),
             gammas=(1.0, 0.9, 0.5)):
    """An MDP with up to 3 states, 3 actions and horizon 4, a policy and theta in [-2, 2]."""
    S = draw(st.integers(1, max_states))
    A = draw(st.integers(2, max_actions))
    H = draw(st.integers(1, max_horizon))
    gamma = draw(st.sampled_from(gammas))
    kind = draw(st.sampled_from(kinds))
    integer = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mdp = random_mdp(rng, n_states=S, n_actions=A, horizon=H, gamma=gamma, integer_rewards=integer)
    if kind == "tabular":
        policy = TabularSoftmax(S, A)
    else:
        policy = LinearSoftmax(rng.normal(size=(S, A, draw(st.integers(1, 3)))))
    theta = rng.uniform(-2.0, 2.0, size=policy.n_params)
    return Problem(mdp, policy, theta, rng)


def full_return(batch):
    """g_hat = grad log p(tau) R(tau) = sum_t score_t R(tau)."""
    R = E.total_return(batch.rewards, batch.terminated, gamma=batch.gamma)
    return batch.score_estimate(R)


def reward_to_go(batch):
    """g_hat = sum_t score_t gamma^t G_t."""
    return batch.score_estimate(E.reward_to_go(batch.rewards, batch.terminated, gamma=batch.gamma))


def discounts(batch):
    """gamma^t at every step, (H, M, n)."""
    return batch.gamma ** E.episode_steps(batch.terminated, batch.truncated)


def trajectory_scores(batch):
    """grad log p(tau) per trajectory: (M, P) for n = 1."""
    return batch.score_estimate(np.ones(batch.shape))
