"""Pong-v0: a from-scratch Atari-like Pong in ALE's pixel geometry.

Built to the spec of the team's design note PONG.md (section 4; not shipped,
restated here); the facts it copies come from Karpathy's "Pong from Pixels"
(blog and pg-pong.py), the Arcade Learning Environment's documentation,
JAXAtari and OC_Atari (PONG.md sections 1-2).
The physics is envs/pong_physics.py, the renderers envs/pong_render.py; this
module plugs them into the shells (protocol in envs/vector.py).

Court. ALE pixels, y pointing down: court x in [0, 160), playfield rows
[34, 194) between the walls (rows 24-33 and 194-209). Paddles 4x16 px with
their left edges at x = 16 (opponent, left) and x = 140 (agent, right), tops
clamped to [34, 178]. Ball 2x4 px.

Actions: Discrete(3): 0 = NOOP, 1 = UP (-4 px), 2 = DOWN (+4 px). Karpathy's
replica samples only UP and DOWN (ALE actions 2 and 3).

Each frame (one step unless `frameskip` > 1): (1) the agent's paddle moves;
(2) the built-in opponent moves at most `opp_speed` px (default 3) toward
the ball centre plus a deterministic aim offset while the ball approaches
it, else toward the court centre;
(3) the ball moves in 4 substeps: a wall reflects it (vy -> -vy); a paddle it
overlaps while approaching sends it back with
    vx = -sign(vx) min(|vx| + 0.25, 5),  vy = 5 clip((ball_cy - paddle_cy) / 10, -1, 1),
so an edge hit leaves at up to 5 px per step vertically, faster than the
opponent moves; leaving the court scores a point. After each point (and at
the start) the ball is hidden for 8 frames, then served from the
centre column with its top row ~ U{74..150}, vy ~ U{-2, -1, 1, 2} and
|vx| = `serve_speed` (default 3 px per frame) toward whoever conceded (the
first serve goes to the agent). JAXAtari's ALE-like Pong serves at 1 px
per frame; serve_speed=1 gives that pace (each hit still adds 0.25).

Reward: +1 when the agent wins a point, -1 when it loses one, plus
`hit_reward` (default 0) per paddle hit by the agent.
Termination: a score reaches `points_to_win` (default 21).
Truncation: `max_episode_steps` (default 27,000, ALE v5's 108,000 frames at
frameskip 4), never on the step that terminates.
Sticky actions: with `sticky_prob` (default 0; ALE v0 and v5 use 0.25) the
agent's previous action is repeated instead of the new one (drawn per frame).
Frameskip: with `frameskip` k (default 1, at most 16) one step is k frames of
the physics above with the action held, rewards summed, and the observation
is the last frame, as in ALE (Pong-v0/v4 draw k from {2, 3, 4}; v5 and the
"Deterministic" variants use 4). The step stops at the frame that ends the
game. The serve delay stays 8 frames; `max_episode_steps` counts steps.

Observations (float32):
  obs_type="pixels" (default), shape (6400,): the 80x80 binary frame, f[i, j]
      = 1 iff ALE pixel (row 35 + 2i, column 2j) is covered by a paddle or the
      visible ball, flattened row-major. This is exactly Karpathy's `prepro`
      of the RGB frame. The environment does *not* difference frames: the
      agent feeds x_t - x_{t-1} itself and zeroes x_{t-1} on a new episode
      (on autoreset, where info["_final_obs"] is true).
  obs_type="state", shape (7,): ball x, ball y, vx/5, vy/5, agent paddle
      centre, opponent paddle centre, serve countdown / 8; positions scaled to
      [-1, 1] about the court centre. Markov for the rally.
render(): the 210x160x3 uint8 RGB screen (ALE colours and walls, no digits).

info: agent_score, opponent_score, agent_hits, opponent_hits at the end of
the step (for a game that just ended in a vector env: the finished game's).

Random numbers: each game's PCG64 stream (the shells seed game i of a batch
reset with seed s with s + i) is drawn from only at serves (and every step
when sticky_prob > 0), so game i's stream does not depend on the batch size.

Departures from PONG.md, and why: the serve starts with the ball's centre
on the court's centre line (top-left x = 79, not 78) and a point is scored
when the ball's edge crosses the court edge (x < 0 or x > 158), so the court
is exactly mirror-symmetric; the opponent's aim offset depends on the ball's
height (three bands per half court) rather than on the point number, so the
7-value state is Markov; the random streams are the shells' PCG64 rather
than splitmix64.

Two players: envs.pong_physics.step_kernel steps a batch with an action for
each side (-1 for the built-in AI), for scripted or self-play opponents.
"""

import numpy as np
from numba import njit, prange

from envs import pong_physics as P
from envs import pong_render as R
from envs.core import (FINAL_OBS, INLINE, KERNEL, OBS, REWARD, TERMINATED, TRUNCATED, EnvSpec, Simulator,
                       begin_step, compile_serial_and_parallel, end_step, first_invalid_action)
from envs.spaces import Box, Discrete

N_ACTIONS = 3
# state[2], the per-game tally that info reports: the scores and hits at the
# end of the last step, before any autoreset.
AGENT_SCORE, OPP_SCORE, AGENT_HITS, OPP_HITS = range(4)
INFO_KEYS = ("agent_score", "opponent_score", "agent_hits", "opponent_hits")


@njit(**INLINE)
def observe(fs, ist, i, row, pixels):
    """Game i's observation into row: the 80x80 frame or the 7-value state."""
    if pixels:
        R.pixels_into(fs, ist, i, row)
    else:
        R.state_into(fs, ist, i, row)


@njit(**INLINE)
def record_tally(ist, tally, i):
    tally[i, AGENT_SCORE] = ist[i, P.SCORE_A]
    tally[i, OPP_SCORE] = ist[i, P.SCORE_O]
    tally[i, AGENT_HITS] = ist[i, P.HITS_A]
    tally[i, OPP_HITS] = ist[i, P.HITS_O]


def _step_games(state, params, rng, actions, autoreset, max_steps, elapsed, values, flags, obs):
    """The step kernel (protocol in envs/vector.py) against the built-in opponent."""
    bad = first_invalid_action(actions, 0.0, N_ACTIONS - 1.0)
    if bad >= 0:
        return bad
    fs, ist, tally = state
    pixels = params[P.OBS_PIXELS] != 0.0
    for i in prange(fs.shape[0]):
        begin_step(i, elapsed, values, flags)
        values[REWARD, i], flags[TERMINATED, i] = P.step_frames(fs, ist, rng, i, actions[i], P.AI, params)
        done = end_step(i, autoreset, max_steps, elapsed, values, flags)
        if flags[TERMINATED, i]:
            flags[TRUNCATED, i] = False  # PONG.md: never both (end_step, like TimeLimit, may set both)
        record_tally(ist, tally, i)
        if done:
            observe(fs, ist, i, obs[FINAL_OBS, i], pixels)
            P.start_game(fs, ist, i)
        observe(fs, ist, i, obs[OBS, i], pixels)
    return -1


step_games, step_games_parallel = compile_serial_and_parallel(_step_games)


@njit(**KERNEL)
def reset_games(state, params, rng, mask, obs):
    """The reset kernel: a new game where mask[i] (no random draw: the first
    serve draws when it is launched, as after an autoreset)."""
    fs, ist, tally = state
    pixels = params[P.OBS_PIXELS] != 0.0
    for i in range(fs.shape[0]):
        if mask[i]:
            P.start_game(fs, ist, i)
            record_tally(ist, tally, i)
            observe(fs, ist, i, obs[OBS, i], pixels)


def render_rgb(state, params, i):
    """Game i's 210x160x3 uint8 screen."""
    screen = np.zeros((R.SCREEN_H, R.SCREEN_W, 3), dtype=np.uint8)
    R.rgb_into(state[0], state[1], i, screen)
    return screen


def info(state, params):
    """Scores and hits per game (copies), keyed by INFO_KEYS."""
    tally = state[2]
    return {key: tally[:, k].copy() for k, key in enumerate(INFO_KEYS)}


def simulator(obs_type="pixels", points_to_win=21, max_episode_steps=27_000, opp_speed=3.0, hit_reward=0.0,
              sticky_prob=0.0, frameskip=1, serve_speed=P.VX_SERVE):
    """The Simulator record for Pong-v0 (see the module docstring for each argument)."""
    params = P.make_params(opp_speed=opp_speed, hit_reward=hit_reward, points_to_win=points_to_win,
                           sticky_prob=sticky_prob, obs_type=obs_type, frameskip=frameskip, serve_speed=serve_speed)
    if obs_type == "pixels":
        space = Box(0.0, 1.0, (R.FRAME * R.FRAME,), np.float32)
    else:
        space = Box(-1.0, 1.0, (R.N_STATE,), np.float32)
    kwargs = dict(obs_type=obs_type, points_to_win=points_to_win, opp_speed=opp_speed, hit_reward=hit_reward,
                  sticky_prob=sticky_prob, frameskip=frameskip, serve_speed=serve_speed)
    return Simulator(
        spec=EnvSpec("Pong-v0", int(max_episode_steps), kwargs),
        observation_space=space,
        action_space=Discrete(N_ACTIONS),
        params=params,
        state_layout=(((P.N_FLOAT,), np.float64), ((P.N_INT,), np.int64), ((len(INFO_KEYS),), np.int64)),
        step=step_games,
        step_parallel=step_games_parallel,
        reset=reset_games,
        render=render_rgb,
        render_mode="rgb_array",
        info=info,
        accepts="integers in [0, 2] (0 NOOP, 1 UP, 2 DOWN)",
    )
