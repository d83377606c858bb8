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
  wall reflections) and meets it off centre, |ball_cy - paddle_cy| ~ 7.5 px,
  so the return leaves at |vy| ~ 3.75 px per step (up to 4.75), faster than
  the opponent paddle moves (PONG.md section 4, "Beatability"; Karpathy's "Pong from
  Pixels": shots with high vertical velocity beat the slow AI). Of its two
  edges it picks the one whose return lands farther from the opponent.
- predictor: the edge-hitter's prediction, met with the paddle's centre: it
  never misses, but its flat returns never beat the opponent either.
- updown_tracker(q): UP or DOWN only, toward the ball with probability q
  (how much following the ball alone is worth to a pixel learner).
"""

import numpy as np

from envs import pcg64
from envs import pong_physics as P
from envs.pong_render import N_STATE, render_state

# Aim 7.5 px off centre: the agent's paddle moves on a 4-px grid, so it sits
# within 2 px of its target, |ball_cy - paddle_cy| lies in [5.5, 9.5] (inside
# the hit zone, < 10) and the return leaves at |vy| in [2.75, 4.75].
EDGE = P.HIT_HALF - 2.5


def _unpack(obs):
    """7-value observations (B, 7) -> pixel quantities in centred coordinates."""
    obs = np.asarray(obs, dtype=np.float64)
    if obs.ndim != 2 or obs.shape[1] != 7:
        raise ValueError(f"scripted Pong policies take state observations of shape (B, 7), got {obs.shape}")
    return (obs[:, 0] * P.BALL_X_MAX, obs[:, 1] * P.BALL_Y_MAX, obs[:, 2] * P.V_MAX, obs[:, 3] * P.V_MAX,
            obs[:, 4] * P.PADDLE_Y_MAX, obs[:, 5] * P.PADDLE_Y_MAX, obs[:, 6] * P.SERVE_DELAY)


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
    period = 4 * P.BALL_Y_MAX
    u = np.mod(y + P.BALL_Y_MAX, period)
    return np.where(u > period / 2, period - u, u) - P.BALL_Y_MAX


def steer(paddle, target):
    """UP / DOWN toward target, NOOP within half a move of it."""
    dead = P.PADDLE_MOVE / 2
    return np.where(target < paddle - dead, 1, np.where(target > paddle + dead, 2, 0)).astype(np.int64)


def random_policy(obs, rng):
    return rng.integers(0, 3, size=len(obs), dtype=np.int64)


def centre_tracker(obs, rng=None):
    bx, by, vx, vy, pa, po, countdown = _unpack(obs)
    return steer(pa, np.where(countdown > 0, 0.0, by))


def _intercept(obs):
    """For balls coming toward the agent: where their centre will be when
    they reach its paddle face (wall reflections unfolded). Returns
    (coming (B,) bool, y_hit (B,), the unpacked observation)."""
    bx, by, vx, vy, pa, po, countdown = u = _unpack(obs)
    face = P.AGENT_X0 - P.BALL_W / 2  # ball centre x where it touches the face
    coming = (countdown == 0) & (vx > 0)
    steps = np.where(coming, (face - bx) / np.where(vx > 0, vx, 1.0), 0.0)
    return coming, fold(by + vy * steps), u


def predictor(obs, rng=None):
    """Meets the ball where it will arrive, with the paddle's centre: a
    perfect defender whose returns are flat (vy ~ 0)."""
    coming, y_hit, (bx, by, vx, vy, pa, po, countdown) = _intercept(obs)
    return steer(pa, np.where(coming, y_hit, 0.0))


def edge_hitter(obs, rng=None):
    coming, y_hit, (bx, by, vx, vy, pa, po, countdown) = _intercept(obs)
    # each edge's return: vy_out = 5 * d / 10 with d = ball - paddle = +-EDGE
    vy_out = P.V_MAX * EDGE / P.HIT_HALF
    vx_out = np.minimum(np.abs(vx) + P.VX_GAIN, P.V_MAX)
    far = (P.AGENT_X0 - P.OPP_X1 - P.BALL_W) / vx_out  # steps for the return to reach the opponent
    land_down = fold(y_hit + vy_out * far)
    land_up = fold(y_hit - vy_out * far)
    side = np.where(np.abs(land_down - po) >= np.abs(land_up - po), 1.0, -1.0)
    return steer(pa, np.where(coming, y_hit - side * EDGE, 0.0))


def toward_ball(obs):
    """UP (1) or DOWN (2), whichever steps the paddle centre toward the ball's
    centre (the court centre while the ball is hidden): the follower's action."""
    bx, by, vx, vy, pa, po, countdown = _unpack(obs)
    return np.where(np.where(countdown > 0, 0.0, by) < pa, 1, 2).astype(np.int64)


def updown_tracker(q):
    """A policy on Karpathy's two actions: with probability q the follower's
    step (toward_ball), else UP or DOWN at random. q = 1 is the best a pixel
    learner that only learned to follow the ball can do; q = 0 is random
    UP/DOWN play."""
    def policy(obs, rng):
        toward = toward_ball(obs)
        coin = rng.integers(1, 3, size=len(obs), dtype=np.int64)
        return np.where(rng.random(len(obs)) < q, toward, coin)
    return policy


POLICIES = {"random": random_policy, "centre": centre_tracker, "predictor": predictor, "edge": edge_hitter}


def play_match(agent, opponent=None, games=20, seed=0, points_to_win=21, opp_speed=3.0, max_steps=27_000,
               serve_speed=P.VX_SERVE, frameskip=1):
    """Play `games` games at once, game i seeded with seed + i, with the
    two-player kernel: `agent` (a policy above) on the right, `opponent` on
    the left (None: the built-in AI). Each decision is held for `frameskip`
    frames on both sides, as Pong-v0's `frameskip` holds the agent's (the
    built-in AI still steers every frame). A game ends when a score reaches
    points_to_win or after max_steps steps (decisions). Random policies
    draw from numpy.random.default_rng(seed).

    Returns (agent_score, opponent_score, steps), int64 arrays of shape (games,).
    """
    rng = np.random.default_rng(seed)
    fs = np.zeros((games, P.N_FLOAT))
    ist = np.zeros((games, P.N_INT), dtype=np.int64)
    streams = pcg64.seed_streams([seed + i for i in range(games)])
    P.reset_kernel(fs, ist, np.ones(games, dtype=bool))
    params = P.make_params(opp_speed=opp_speed, points_to_win=points_to_win, serve_speed=serve_speed,
                           frameskip=frameskip)
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
