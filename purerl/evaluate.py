"""Evaluate a policy: mean and spread of the return over whole episodes.

Used by the learning tests ("mean return of 20 evaluation episodes with the
greedy / mean action") and, through `evaluate_run`, by `python -m purerl eval`
and the closing evaluation of `train`.
"""

import numpy as np

import envs


def evaluate(act, env, episodes=20, seed=0, greedy=True):
    """Run `episodes` full episodes and return their returns, shape (episodes,).

    act(obs (N, *obs_shape), greedy) -> actions (N, ...) is the policy, e.g.
    `learner.act`. `env` is an environment name or a vector env; with a name a
    vector env of `episodes` games is made, one episode per game, seeded with
    seed, seed + 1, ... (so results do not depend on anything but `seed`).
    Each game's first finished episode is counted; games that finish early
    keep stepping until all have finished, but their later episodes are ignored.
    """
    if isinstance(env, str):
        env = envs.make_vec(env, num_envs=episodes)
    n = env.num_envs
    if episodes > n:
        raise ValueError(f"episodes={episodes} exceeds the vector env's num_envs={n}; accepted: 1..{n}")
    obs, _ = env.reset(seed=seed)
    returns = np.zeros(n)
    finished = np.zeros(n, dtype=bool)
    while not finished[:episodes].all():
        obs, _, terminated, truncated, info = env.step(act(obs, greedy))
        done = np.logical_or(terminated, truncated) & ~finished
        returns[done] = np.asarray(info["episode_return"])[done]
        finished |= done
    return returns[:episodes]


def action_mode(learner, greedy=True):
    """How `learner.act(obs, greedy)` chooses, in words, for the lines `eval` and `train` print.

    A learner whose policy has no greedy action (the uniform random policy)
    sets `GREEDY_ACTIONS = False`.
    """
    if not getattr(learner, "GREEDY_ACTIONS", True):
        return "uniformly random actions"
    return "greedy actions" if greedy else "sampled actions"


def evaluate_run(act, env_name, env, episodes, seed=0, greedy=True):
    """(returns (episodes,), a summary line of wins and points or None): `evaluate`, scored as games on Pong."""
    if env_name.startswith("Pong"):
        from purerl.pong_eval import play_pong  # Pong only: wins and point differences

        result = play_pong(act, env, episodes, seed=seed, greedy=greedy)
        return result.returns, result.summary()
    return evaluate(act, env, episodes=episodes, seed=seed, greedy=greedy), None
