"""Exploration from action values: greedy, epsilon-greedy and Boltzmann policies.

Each policy is given two ways: as probabilities pi(a|s) over the last axis
of a table of action values q (..., A) (what exact evaluation and SARSA's
expected target need), and, for epsilon-greedy, as a sampler over a batch of
states (what DQN's actor needs: one draw per game and no per-game loop).
Ties in argmax go to the lowest action index (numpy's argmax).
"""

import numpy as np

from purerl.backend import get_xp


def greedy_probs(q):
    """pi(a|s) = 1 for a = argmax_a' q(s, a') (lowest index on ties), else 0. (..., A)."""
    xp = get_xp(q)
    q = xp.asarray(q)
    return (xp.arange(q.shape[-1]) == q.argmax(axis=-1)[..., None]).astype(xp.float64)


def epsilon_greedy_probs(q, eps):
    """Epsilon-greedy: pi(a|s) = (1 - eps) [a = argmax q(s, .)] + eps / |A|.

    With probability eps an action is drawn uniformly from all |A| actions,
    otherwise the greedy one is taken. The handwritten notes ("Policy
    Gradients / Q Learning", epsilon-greedy) spread eps over the |A| - 1
    non-greedy actions instead; that is this policy with eps' = eps |A| / (|A| - 1),
    and this form makes eps = 1 the uniform policy, which an annealed schedule
    starts from. q: (..., A); returns (..., A) float64 rows summing to 1.
    """
    _check_eps(eps)
    n_actions = q.shape[-1]
    return (1.0 - eps) * greedy_probs(q) + eps / n_actions


def epsilon_greedy(q, eps, rng):
    """Sample a ~ epsilon_greedy_probs(q, eps) for each row of q (N, A); returns (N,) int64.

    Two draws per row from rng, always (so the stream does not depend on eps):
    u ~ U[0, 1) decides exploring (u < eps), a uniform action replaces the
    greedy one where it does.
    """
    _check_eps(eps)
    q = np.asarray(q)
    if q.ndim != 2:
        raise ValueError(f"q must have shape (N, A), got {q.shape}")
    explore = rng.random(q.shape[0]) < eps
    random_actions = rng.integers(0, q.shape[1], size=q.shape[0])
    return np.where(explore, random_actions, q.argmax(axis=1)).astype(np.int64)


def boltzmann_probs(q, temperature):
    """Boltzmann (softmax) exploration: pi(a|s) = exp(q(s,a)/T) / sum_a' exp(q(s,a')/T).

    Computed as exp((q - max q) / T) so large q/T cannot overflow. As T -> 0
    it concentrates uniformly on the maximizing actions (greedy when the
    maximum is unique); T = 0 returns that limit; T -> inf gives the uniform
    policy. q: (..., A); returns (..., A).
    """
    if not temperature >= 0:
        raise ValueError(f"invalid temperature={temperature!r}; accepted: a number >= 0")
    xp = get_xp(q)
    q = xp.asarray(q, dtype=xp.float64)
    z = q - q.max(axis=-1, keepdims=True)
    if temperature == 0:
        w = (z == 0).astype(xp.float64)
    else:
        w = xp.exp(z / temperature)
    return w / w.sum(axis=-1, keepdims=True)


def _check_eps(eps):
    if not 0 <= eps <= 1:
        raise ValueError(f"invalid eps={eps!r}; accepted: a number in [0, 1]")
