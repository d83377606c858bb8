"""Difference frames: the agent sees x_t = f_t - f_{t-1}, not the frame f_t.

Karpathy's pg-pong (CMU 10-403, Policy gradients, "Pong from pixels"; shared
PONG.md section 1) feeds the network the difference of two consecutive
preprocessed 80x80 frames, so that one input shows where the ball and the
paddles are going:

    x_t = f_t - f_{t-1}   for t >= 1,        x_0 = 0   (prev_x = None at a reset)

and forgets the previous frame whenever a game starts again. Here that is a
wrapper around a pixel Simulator (envs/core.py), so both shells (the single
env used by `watch` and the vector env used by `train` and `eval`) and every
learner see the same differenced game, and the previous frame is checkpointed
with the rest of the game's state (get_state / set_state).

Per game, with f the frame the inner simulator just rendered and `prev` the
last frame kept for that game:

    reset:                 prev <- f_0;  obs <- 0
    step, game goes on:    obs <- f_t - prev;  prev <- f_t
    step, game ended and   final_obs <- f_T - prev         (the last difference of
    was autoreset:                                          the episode that ended)
                           prev <- f_0';  obs <- 0         (the new episode's x_0)

so no difference ever spans two episodes. Observations are float32 in
{-1, 0, 1}; a difference frame of Pong has at most a few dozen nonzero
pixels (12-20 typically), which purerl/sparse.py exploits. "PongDiff-v0"
(envs/registry.py) is Pong-v0's pixels through this wrapper and takes
Pong-v0's keyword arguments, plus actions="updown" for Karpathy's two
actions (`up_down_only`).
"""

import dataclasses

import numpy as np
from numba import njit

from envs import registry
from envs.core import FINAL_OBS, HAS_FINAL, OBS, EnvSpec, Simulator
from envs.spaces import Box, Discrete


@njit(cache=True)
def difference_into(obs, prev, ended):
    """The step rule of the module docstring, in place, for every game.

    obs: float32 (2, N, D), rows OBS (the frames just rendered) and FINAL_OBS
    (the last frame of games with ended[i]); prev: float32 (N, D); ended:
    bool (N,). On return obs holds differences and prev the current frames.
    """
    for i in range(obs.shape[1]):
        cur = obs[OBS, i]
        if ended[i]:
            final = obs[FINAL_OBS, i]
            for j in range(cur.shape[0]):
                final[j] -= prev[i, j]
                prev[i, j] = cur[j]
                cur[j] = 0.0
        else:
            for j in range(cur.shape[0]):
                f = cur[j]
                cur[j] = f - prev[i, j]
                prev[i, j] = f


@njit(cache=True)
def start_into(obs, prev, mask):
    """The reset rule, in place: prev <- f_0 and obs <- 0 for games with mask[i]."""
    for i in range(obs.shape[1]):
        if mask[i]:
            for j in range(obs.shape[2]):
                prev[i, j] = obs[OBS, i, j]
                obs[OBS, i, j] = 0.0


def difference_simulator(inner, env_id):
    """A Simulator whose observations are the difference frames of `inner`'s.

    inner: a Simulator with a flat (D,) float32 pixel observation. The new
    record keeps inner's physics, time limit, random streams, render and
    info, and adds one state array, the previous frame (D,) float32 per game.
    """
    shape = inner.observation_space.shape
    if len(shape) != 1:
        raise ValueError(f"difference frames need flat frames of shape (D,); {inner.spec.id} has {shape}")

    def wrap(kernel):
        def step(state, params, rng, actions, autoreset, max_steps, elapsed, values, flags, obs):
            bad = kernel(state[:-1], params, rng, actions, autoreset, max_steps, elapsed, values, flags, obs)
            if bad < 0:
                difference_into(obs, state[-1], flags[HAS_FINAL])
            return bad
        return step

    def reset(state, params, rng, mask, obs):
        inner.reset(state[:-1], params, rng, mask, obs)
        start_into(obs, state[-1], mask)

    def info(state, params):
        return inner.info(state[:-1], params)

    return Simulator(
        spec=EnvSpec(env_id, inner.spec.max_episode_steps, dict(inner.spec.kwargs)),
        observation_space=Box(-1.0, 1.0, shape, np.float32),
        action_space=inner.action_space,
        params=inner.params,
        state_layout=tuple(inner.state_layout) + ((shape, np.float32),),
        step=wrap(inner.step),
        step_parallel=wrap(inner.step_parallel),
        reset=reset,
        reset_params=inner.reset_params,
        render=None if inner.render is None else (lambda state, params, i: inner.render(state[:-1], params, i)),
        render_mode=inner.render_mode,
        info=None if inner.info is None else info,
        accepts=inner.accepts,
    )


def up_down_only(sim):
    """`sim` with Karpathy's action set: Discrete(2), 0 = UP and 1 = DOWN (Pong-v0's actions 1 and 2).

    Without NOOP the agent's paddle moves every step, so it is always visible
    in a difference frame (a paddle at rest differences to nothing).
    """
    def wrap(kernel):
        def step(state, params, rng, actions, autoreset, max_steps, elapsed, values, flags, obs):
            bad = np.flatnonzero((actions < 0) | (actions > 1))
            if bad.size:
                return int(bad[0])  # nothing stepped; the shell names the action and Discrete(2)
            return kernel(state, params, rng, actions + 1, autoreset, max_steps, elapsed, values, flags, obs)
        return step

    return dataclasses.replace(sim, action_space=Discrete(2), step=wrap(sim.step),
                               step_parallel=wrap(sim.step_parallel), accepts="0 (UP) or 1 (DOWN)")


def pong_difference_simulator(actions="all", **kwargs):
    """PongDiff-v0: Pong-v0's 80x80 pixel frames (obs_type="pixels"), differenced.

    Takes Pong-v0's keyword arguments (points_to_win, opp_speed, sticky_prob,
    hit_reward, frameskip, serve_speed, max_episode_steps); obs_type other
    than "pixels" is refused. With frameskip k the difference spans k
    frames, as in ALE.
    actions: "all" (Pong-v0's Discrete(3): 0 NOOP, 1 UP, 2 DOWN) or "updown"
    (Discrete(2): 0 UP, 1 DOWN, Karpathy's set; `up_down_only`).
    """
    obs_type = kwargs.pop("obs_type", "pixels")
    if obs_type != "pixels":
        raise ValueError(f"PongDiff-v0 differences pixel frames; got obs_type={obs_type!r}, accepted: 'pixels' "
                         "(use Pong-v0 with obs_type='state' for the state vector)")
    if actions not in ("all", "updown"):
        raise ValueError(f"PongDiff-v0: invalid actions={actions!r}; accepted: 'all' (NOOP, UP, DOWN) or "
                         "'updown' (UP, DOWN)")
    inner = registry.simulator("Pong-v0", obs_type="pixels", **kwargs)
    sim = difference_simulator(inner, "PongDiff-v0")
    if actions == "updown":
        sim = up_down_only(sim)
        sim = dataclasses.replace(sim, spec=EnvSpec(sim.spec.id, sim.spec.max_episode_steps,
                                                    {**sim.spec.kwargs, "actions": "updown"}))
    return sim
