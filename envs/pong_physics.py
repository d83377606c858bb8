"""Pong physics: one numba kernel steps a batch of two-player games.

Spec: the team's design note PONG.md, section 4 ("Recommended spec";
restated in envs/pong.py), in ALE pixel geometry (PONG.md section 2, after
JAXAtari and OC_Atari): court x in [0, 160),
playfield rows y in [34, 194) with y pointing down, paddles 4x16 with their
left edge at x=16 (opponent) and x=140 (agent), ball 2x4.

Coordinates. The kernel stores the *centres* of the ball and paddles relative
to the centre of the playfield (80, 114), so both mirror maps of the court are
plain negations: the vertical mirror y -> 228 - y is `by -> -by` and the
player swap x -> 160 - x is `bx -> -bx`. IEEE arithmetic is exactly
sign-symmetric, so mirrored games stay bit-for-bit mirrored (tested).
In these units the ball centre lies in [-79, 79] x [-78, 78] (ball top edge in
ALE rows [34, 190]) and a paddle centre in [-72, 72] (paddle top in [34, 178]).

State, one row per game (the layout the shells of envs/vector.py allocate):
    fs (N, N_FLOAT) float64: BX, BY ball centre; VX, VY ball velocity in
        px per agent step; PA, PO agent and opponent paddle centres.
    ist (N, N_INT) int64: COUNTDOWN (steps the ball stays hidden before a
        serve; 0 while in play), SCORE_A, SCORE_O, HITS_A, HITS_O (this
        episode), LAST (the agent's previous action, for sticky actions).
    rng (N, 4) uint64: game i's PCG64 stream (envs/pcg64.py), drawn from
        only at serves (and every step when sticky_prob > 0), so game i's
        stream does not depend on how many games share the batch.
"""

import numpy as np
from numba import njit

from envs import pcg64
from envs.core import INLINE, KERNEL

# options for the per-game entry points (step_game, start_game, *_into): compiled
# once and shared by every kernel that calls them, instead of inlined into each
# (inlining everything tripled the cold compile time of the tests)
SHARED = {"cache": True}

# --- ALE geometry, in pixels (PONG.md sections 2 and 4) --------------------
COURT_W = 160
TOP, BOTTOM = 34, 194  # playfield rows [TOP, BOTTOM)
PADDLE_W, PADDLE_H = 4, 16
BALL_W, BALL_H = 2, 4
OPP_X, AGENT_X = 16, 140  # left edges of the paddles

# --- dynamics (PONG.md section 4) -------------------------------------------
PADDLE_MOVE = 4.0  # px per step for an explicit UP or DOWN
SUBSTEPS = 4  # ball substeps per agent step (|v| / 4 <= 1.25 px: no tunnelling)
VX_SERVE = 3.0
VX_GAIN = 0.25  # |vx| grows by this on every paddle hit ...
V_MAX = 5.0  # ... up to this; also the largest |vy| a paddle gives
SERVE_DELAY = 8  # steps the ball stays hidden after a point
SERVE_TOP_LO, SERVE_TOP_HI = 74, 150  # serve: ball top row ~ U{74..150}
SERVE_VY = (-2.0, -1.0, 1.0, 2.0)

# --- derived, in centred coordinates (STYLE.md 10: computed, never restated)
CX = COURT_W / 2  # 80: court centre column
CY = (TOP + BOTTOM) / 2  # 114: playfield centre row
BALL_X_MAX = (COURT_W - BALL_W) / 2  # 79: beyond this the ball has left the court
BALL_Y_MAX = (BOTTOM - TOP - BALL_H) / 2  # 78: wall contact
PADDLE_Y_MAX = (BOTTOM - TOP - PADDLE_H) / 2  # 72: paddle clamp
AGENT_X0, AGENT_X1 = AGENT_X - CX, AGENT_X + PADDLE_W - CX  # [60, 64)
OPP_X0, OPP_X1 = OPP_X - CX, OPP_X + PADDLE_W - CX  # [-64, -60)
HIT_HALF = (PADDLE_H + BALL_H) / 2  # 10: |ball_cy - paddle_cy| < 10 <=> overlap in y
# The opponent AI's aim: the court's half is cut into three bands of height
# 26 px; in band k (counted from the centre) of the lower half it aims
# AIM_BAND[k] px below the ball centre, mirrored in the upper half.
AIM_BAND_H = BALL_Y_MAX / 3
AIM_BAND = (3.0, -9.0, 9.0)

# --- state layout (game-major, as the shells allocate it: envs/vector.py) ----
BX, BY, VX, VY, PA, PO = range(6)
N_FLOAT = 6
COUNTDOWN, SCORE_A, SCORE_O, HITS_A, HITS_O, LAST = range(6)
N_INT = 6

NOOP, UP, DOWN = 0, 1, 2
AI = -1  # act_opp value: the built-in opponent plays

# --- params: a float64 vector the kernels read -------------------------------
OPP_SPEED, HIT_REWARD, POINTS_TO_WIN, STICKY_PROB, OBS_PIXELS, FRAMESKIP, SERVE_SPEED = range(7)
N_PARAMS = 7


def _number(name, value, ok, accepted):
    """float(value) if it is a real number with ok(value), else a ValueError naming it."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = float("nan")
    if isinstance(value, bool) or not ok(x):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return x


def make_params(opp_speed=3.0, hit_reward=0.0, points_to_win=21, sticky_prob=0.0, obs_type="pixels", frameskip=1,
                serve_speed=VX_SERVE):
    """The params vector, with every value checked (errors name the value and the accepted range)."""
    opp_speed = _number("opp_speed", opp_speed, lambda x: 0 < x < np.inf, "a finite number of px per step > 0")
    serve_speed = _number("serve_speed", serve_speed, lambda x: 0 < x <= V_MAX,
                          f"a number of px per frame in (0, {V_MAX:g}]")
    hit_reward = _number("hit_reward", hit_reward, np.isfinite, "a finite number")
    sticky_prob = _number("sticky_prob", sticky_prob, lambda x: 0 <= x <= 1, "a probability in [0, 1]")
    if isinstance(points_to_win, bool) or not isinstance(points_to_win, (int, np.integer)) or points_to_win < 1:
        raise ValueError(f"points_to_win must be an int >= 1, got {points_to_win!r}")
    if isinstance(frameskip, bool) or not isinstance(frameskip, (int, np.integer)) or not 1 <= frameskip <= 16:
        raise ValueError(f"frameskip must be an int in [1, 16] (frames per agent step), got {frameskip!r}")
    if obs_type not in ("pixels", "state"):
        raise ValueError(f"obs_type must be 'pixels' or 'state', got {obs_type!r}")
    p = np.zeros(N_PARAMS)
    p[OPP_SPEED], p[HIT_REWARD], p[POINTS_TO_WIN], p[STICKY_PROB] = opp_speed, hit_reward, points_to_win, sticky_prob
    p[OBS_PIXELS] = 1.0 if obs_type == "pixels" else 0.0
    p[FRAMESKIP] = frameskip
    p[SERVE_SPEED] = serve_speed
    return p


# --- new game -------------------------------------------------------------------
@njit(**SHARED)
def start_game(fs, ist, i):
    """Game i starts: paddles centred, scores and counters 0, ball hidden for
    SERVE_DELAY steps with the first serve toward the agent (vx > 0). No
    random draw: the first serve draws when it is launched."""
    fs[i, BX] = 0.0
    fs[i, BY] = 0.0
    fs[i, VX] = VX_SERVE
    fs[i, VY] = 0.0
    fs[i, PA] = 0.0
    fs[i, PO] = 0.0
    for k in range(N_INT):
        ist[i, k] = 0
    ist[i, COUNTDOWN] = SERVE_DELAY


@njit(**KERNEL)
def reset_kernel(fs, ist, mask):
    """start_game for every game i with mask[i]."""
    for i in range(fs.shape[0]):
        if mask[i]:
            start_game(fs, ist, i)


# --- one agent step -------------------------------------------------------------
@njit(**INLINE)
def _clamp(v, lo, hi):
    return min(max(v, lo), hi)


@njit(**INLINE)
def _paddle_move(action):
    """NOOP/UP/DOWN -> 0, -4, +4 px (y points down, so UP decreases y)."""
    if action == UP:
        return -PADDLE_MOVE
    if action == DOWN:
        return PADDLE_MOVE
    return 0.0


@njit(**INLINE)
def opponent_target(fs, ist, i):
    """Where the built-in opponent steers its paddle centre.

    While the ball approaches it (in play, vx < 0): the ball centre plus a
    deterministic aim offset that depends only on the ball's height (bands of
    AIM_BAND_H px, antisymmetric about the court centre), so the 7-value state
    observation stays Markov and the game stays mirror-symmetric. PONG.md's
    example offset cycled with the point number instead, which the state
    vector cannot see. Otherwise: the court centre.
    """
    if ist[i, COUNTDOWN] > 0 or fs[i, VX] >= 0.0:
        return 0.0
    by = fs[i, BY]
    m = abs(by)
    aim = AIM_BAND[0] if m < AIM_BAND_H else (AIM_BAND[1] if m < 2 * AIM_BAND_H else AIM_BAND[2])
    if by > 0.0:
        return by + aim
    if by < 0.0:
        return by - aim
    return by


@njit(**INLINE)
def _move_paddles(fs, ist, rng, i, act_agent, act_opp, params):
    a = act_agent
    if params[STICKY_PROB] > 0.0 and pcg64.next_double(rng, i) < params[STICKY_PROB]:
        a = ist[i, LAST]  # ALE's sticky actions: repeat the previous action
    ist[i, LAST] = a
    fs[i, PA] = _clamp(fs[i, PA] + _paddle_move(a), -PADDLE_Y_MAX, PADDLE_Y_MAX)
    if act_opp == AI:
        speed = params[OPP_SPEED]
        step = _clamp(opponent_target(fs, ist, i) - fs[i, PO], -speed, speed)
    else:
        step = _paddle_move(act_opp)
    fs[i, PO] = _clamp(fs[i, PO] + step, -PADDLE_Y_MAX, PADDLE_Y_MAX)


@njit(**INLINE)
def _serve(fs, rng, i, params):
    """Launch the hidden ball from the centre column: top row ~ U{74..150}
    and vy ~ U{-2,-1,1,2} from the game's RNG; |vx| = params[SERVE_SPEED]
    (default VX_SERVE = 3) toward whoever conceded (already stored in the
    sign of vx while the ball was hidden)."""
    top = SERVE_TOP_LO + np.int64(pcg64.next_uint64(rng, i) % np.uint64(SERVE_TOP_HI - SERVE_TOP_LO + 1))
    fs[i, BX] = 0.0
    fs[i, BY] = top + BALL_H / 2 - CY
    fs[i, VY] = SERVE_VY[np.int64(pcg64.next_uint64(rng, i) % np.uint64(len(SERVE_VY)))]
    speed = params[SERVE_SPEED]
    fs[i, VX] = speed if fs[i, VX] > 0.0 else -speed


@njit(**INLINE)
def _bounce(fs, i, paddle_cy):
    """Paddle hit (PONG.md section 4): vx = -sign(vx) min(|vx| + 0.25, 5),
    vy = 5 clip((ball_cy - paddle_cy) / 10, -1, 1)."""
    vx = fs[i, VX]
    speed = min(abs(vx) + VX_GAIN, V_MAX)
    fs[i, VX] = -speed if vx > 0.0 else speed
    fs[i, VY] = V_MAX * _clamp((fs[i, BY] - paddle_cy) / HIT_HALF, -1.0, 1.0)


@njit(**INLINE)
def _overlaps(bx, by, x0, x1, paddle_cy):
    """Open-interval overlap of the ball's and a paddle's pixel boxes."""
    half_w = BALL_W / 2
    return bx + half_w > x0 and bx - half_w < x1 and abs(by - paddle_cy) < HIT_HALF


@njit(**INLINE)
def _move_ball(fs, ist, i):
    """SUBSTEPS substeps of wall reflection, paddle hits and scoring.
    Returns +1 / -1 if the agent / opponent won the point, else 0."""
    for _ in range(SUBSTEPS):
        fs[i, BX] += fs[i, VX] / SUBSTEPS
        fs[i, BY] += fs[i, VY] / SUBSTEPS
        by = fs[i, BY]
        if by < -BALL_Y_MAX:  # reflect about the wall, keep |vy|
            fs[i, BY] = -2 * BALL_Y_MAX - by
            fs[i, VY] = -fs[i, VY]
        elif by > BALL_Y_MAX:
            fs[i, BY] = 2 * BALL_Y_MAX - by
            fs[i, VY] = -fs[i, VY]
        bx, by = fs[i, BX], fs[i, BY]
        if fs[i, VX] > 0.0 and _overlaps(bx, by, AGENT_X0, AGENT_X1, fs[i, PA]):
            _bounce(fs, i, fs[i, PA])
            ist[i, HITS_A] += 1
        elif fs[i, VX] < 0.0 and _overlaps(bx, by, OPP_X0, OPP_X1, fs[i, PO]):
            _bounce(fs, i, fs[i, PO])
            ist[i, HITS_O] += 1
        if bx < -BALL_X_MAX or bx > BALL_X_MAX:
            point = 1 if bx < 0.0 else -1
            # hide the ball at the centre; the next serve goes to the conceder
            fs[i, BX] = 0.0
            fs[i, BY] = 0.0
            fs[i, VX] = -VX_SERVE * point
            fs[i, VY] = 0.0
            ist[i, COUNTDOWN] = SERVE_DELAY
            return point
    return 0


@njit(**SHARED)
def step_game(fs, ist, rng, i, act_agent, act_opp, params):
    """One agent step of game i, in place; returns (reward, terminated).

    act_agent in {0, 1, 2} (NOOP, UP, DOWN); act_opp the same, or -1 (AI)
    for the built-in opponent, which moves at most params[OPP_SPEED] px
    toward opponent_target. Order: paddles move, then the ball (or the serve
    countdown). reward = (agent points - opponent points) this step +
    params[HIT_REWARD] * agent paddle hits this step; terminated iff a score
    reached params[POINTS_TO_WIN]. The time limit is the shell's.
    """
    _move_paddles(fs, ist, rng, i, act_agent, act_opp, params)
    hits_before = ist[i, HITS_A]
    point = 0
    if ist[i, COUNTDOWN] > 0:
        ist[i, COUNTDOWN] -= 1
        if ist[i, COUNTDOWN] == 0:
            _serve(fs, rng, i, params)
    else:
        point = _move_ball(fs, ist, i)
    if point > 0:
        ist[i, SCORE_A] += 1
    elif point < 0:
        ist[i, SCORE_O] += 1
    reward = point + params[HIT_REWARD] * (ist[i, HITS_A] - hits_before)
    target = params[POINTS_TO_WIN]
    return reward, (ist[i, SCORE_A] >= target or ist[i, SCORE_O] >= target)


@njit(**SHARED)
def step_frames(fs, ist, rng, i, act_agent, act_opp, params):
    """One agent decision of game i: params[FRAMESKIP] frames of step_game
    with the same actions, as ALE repeats an action over its frameskip;
    returns (summed reward, terminated), stopping early when the game ends.

    After a point the ball is hidden for SERVE_DELAY = 8 frames and served at
    |vx| <= V_MAX = 5 (make_params caps serve_speed there) from the centre
    line, 79 px from either goal, so points are at least 8 + 16 frames apart:
    with frameskip <= 16 (make_params) one decision wins or loses at most one
    point.
    """
    reward = 0.0
    for _ in range(np.int64(params[FRAMESKIP])):
        r, over = step_game(fs, ist, rng, i, act_agent, act_opp, params)
        reward += r
        if over:
            return reward, True
    return reward, False


@njit(**KERNEL)
def step_kernel(fs, ist, rng, act_agent, act_opp, params, rewards, terminated):
    """The two-player kernel: step_frames for every game i with act_agent[i]
    and act_opp[i] (-1: built-in AI). No time limit, no autoreset (the
    shells in envs/pong.py add both); for tests, scripted matches and self-play."""
    for i in range(fs.shape[0]):
        rewards[i], terminated[i] = step_frames(fs, ist, rng, i, act_agent[i], act_opp[i], params)
