"""Scripted Pong players, for measuring how beatable the built-in opponent is.

Each policy maps a batch of 7-value state observations (obs_type="state",
see envs.pong_render.render_state) to actions in {0=NOOP, 1=UP, 2=DOWN}
for the right-hand (agent) paddle. `mirror_obs` turns the state into the
left player's view, so any policy can also play the opponent's side of the
two-player kernel.

- random_policy: uniform actions.
- centre_tracker: steers its paddle centre to the ball's centre. It returns
  the ball flat (vy ~ 0), which the opponent reaches easily.
- edge_hitter: predicts where the ball will reach its paddle (unfolding the
  wall reflections) and meets it with an edge, |ball_cy - paddle_cy| ~ 9 px,
  so the return leaves at |vy| ~ 4.5 px per step, faster than the opponent
  paddle moves (PONG.md section 4, "Beatability"; Karpathy's "Pong from
  Pixels": shots with high vertical velocity beat the slow AI). Of its two
  edges it picks the one whose return lands farther from the opponent.
"""

import numpy as np

from envs import pcg64
from envs import pong_physics as P
from envs.pong_render import N_STATE, render_state
from envs.pong_physics import (
    AGENT_X0, BALL_W, BALL_X_MAX, BALL_Y_MAX, HIT_HALF, OPP_X1, PADDLE_MOVE, PADDLE_Y_MAX,
    SERVE_DELAY, V_MAX, VX_GAIN,
)

EDGE = HIT_HALF - 2.5  # aim 7.5 px off centre; the paddle sits within 2 px of its target, so |d| in [5.5, 9.5] and |vy| in [2.75, 4.75]


def _unpack(obs):
    """7-value observations (B, 7) -> pixel quantities in centred coordinates."""
    obs = np.asarray(obs, dtype=np.float64)
    if obs.ndim != 2 or obs.shape[1] != 7:
        raise ValueError(f"scripted Pong policies take state observations of shape (B, 7), got {obs.shape}")
    return (obs[:, 0] * BALL_X_MAX, obs[:, 1] * BALL_Y_MAX, obs[:, 2] * V_MAX, obs[:, 3] * V_MAX,
            obs[:, 4] * PADDLE_Y_MAX, obs[:, 5] * PADDLE_Y_MAX, obs[:, 6] * SERVE_DELAY)


def mirror_obs(obs):
    """The same court seen by the left player: x -> -x, paddles swapped."""
    obs = np.asarray(obs)
    out = obs.copy()
    out[:, 0], out[:, 2] = -obs[:, 0], -obs[:, 2]
    out[:, 4], out[:, 5] = obs[:, 5], obs[:, 4]
    return out


def fold(y):
    """Where an unobstructed ball centre at height y ends up after its wall
    reflections: reflect into [-78, 78] with period 4 * 78."""
    period = 4 * BALL_Y_MAX
    u = np.mod(y + BALL_Y_MAX, period)
    return np.where(u > period / 2, period - u, u) - BALL_Y_MAX


def steer(paddle, target):
    """UP / DOWN toward target, NOOP within half a move of it."""
    dead = PADDLE_MOVE / 2
    return np.where(target < paddle - dead, 1, np.where(target > paddle + dead, 2, 0)).astype(np.int64)


def random_policy(obs, rng):
    return rng.integers(0, 3, size=len(obs), dtype=np.int64)


def centre_tracker(obs, rng=None):
    bx, by, vx, vy, pa, po, countdown = _unpack(obs)
    return steer(pa, np.where(countdown > 0, 0.0, by))


def edge_hitter(obs, rng=None):
    bx, by, vx, vy, pa, po, countdown = _unpack(obs)
    face = AGENT_X0 - BALL_W / 2  # ball centre x where it touches our face
    coming = (countdown == 0) & (vx > 0)
    steps = np.where(coming, (face - bx) / np.where(vx > 0, vx, 1.0), 0.0)
    y_hit = fold(by + vy * steps)
    # each edge's return: vy_out = 5 * d / 10 with d = ball - paddle = +-EDGE
    vy_out = V_MAX * EDGE / HIT_HALF
    vx_out = np.minimum(np.abs(vx) + VX_GAIN, V_MAX)
    far = (face - (OPP_X1 + BALL_W / 2)) / vx_out  # steps for the return to reach the opponent
    land_down = fold(y_hit + vy_out * far)
    land_up = fold(y_hit - vy_out * far)
    side = np.where(np.abs(land_down - po) >= np.abs(land_up - po), 1.0, -1.0)
    target = np.where(coming, y_hit - side * EDGE, 0.0)
    return steer(pa, target)


POLICIES = {"random": random_policy, "centre": centre_tracker, "edge": edge_hitter}


def play_match(agent, opponent=None, games=20, seed=0, points_to_win=21, opp_speed=3.0, max_steps=27_000):
    """Play `games` games at once, game i seeded with seed + i, with the
    two-player kernel: `agent` (a policy above) on the right, `opponent` on
    the left (None: the built-in AI). A game ends when a score reaches
    points_to_win or after max_steps steps. Random policies draw from
    numpy.random.default_rng(seed).

    Returns (agent_score, opponent_score, steps), int64 arrays of shape (games,).
    """
    rng = np.random.default_rng(seed)
    fs = np.zeros((games, P.N_FLOAT))
    ist = np.zeros((games, P.N_INT), dtype=np.int64)
    streams = pcg64.seed_streams([seed + i for i in range(games)])
    P.reset_kernel(fs, ist, np.ones(games, dtype=bool))
    params = P.make_params(opp_speed=opp_speed, points_to_win=points_to_win)
    obs = np.zeros((games, N_STATE))
    rewards, terminated = np.zeros(games), np.zeros(games, dtype=bool)
    steps = np.zeros(games, dtype=np.int64)
    final = np.zeros((games, 2), dtype=np.int64)
    done = np.zeros(games, dtype=bool)
    ai = np.full(games, P.AI, dtype=np.int64)
    for t in range(1, max_steps + 1):
        render_state(fs, ist, obs)
        act_opp = ai if opponent is None else opponent(mirror_obs(obs), rng)
        P.step_kernel(fs, ist, streams, agent(obs, rng), act_opp, params, rewards, terminated)
        ending = ~done & (terminated | (t == max_steps))
        final[ending] = ist[ending][:, [P.SCORE_A, P.SCORE_O]]
        steps[ending] = t
        done |= ending
        if done.all():
            break
    return final[:, 0], final[:, 1], steps
