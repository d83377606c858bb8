"""Pong physics: one numba kernel steps a batch of two-player games.

Spec: shared PONG.md section 4 ("Recommended spec"), in ALE pixel geometry
(PONG.md section 2, after JAXAtari and OC_Atari): court x in [0, 160),
playfield rows y in [34, 194) with y pointing down, paddles 4x16 with their
left edge at x=16 (opponent) and x=140 (agent), ball 2x4.

Coordinates. The kernel stores the *centres* of the ball and paddles relative
to the centre of the playfield (80, 114), so both mirror maps of the court are
plain negations: the vertical mirror y -> 228 - y is `by -> -by` and the
player swap x -> 160 - x is `bx -> -bx`. IEEE arithmetic is exactly
sign-symmetric, so mirrored games stay bit-for-bit mirrored (tested).
In these units the ball centre lies in [-79, 79] x [-78, 78] (ball top edge in
ALE rows [34, 190]) and a paddle centre in [-72, 72] (paddle top in [34, 178]).

State is structure-of-arrays, one column per game:
    fstate (N_FLOAT, N) float64: BX, BY ball centre; VX, VY ball velocity in
        px per agent step; PA, PO agent and opponent paddle centres.
    istate (N_INT, N) int64: COUNTDOWN (steps the ball stays hidden before a
        serve; 0 while in play), SCORE_A, SCORE_O, T (steps this episode),
        HITS_A, HITS_O, LAST (the agent's previous action, for sticky actions).
    rng (N,) uint64: one splitmix64 state per game. It is drawn from only at
        serves (and every step when sticky_prob > 0), so game i's stream does
        not depend on how many games share the batch.
"""

import numpy as np
from numba import njit

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

# --- state layout -----------------------------------------------------------
BX, BY, VX, VY, PA, PO = range(6)
N_FLOAT = 6
COUNTDOWN, SCORE_A, SCORE_O, T, HITS_A, HITS_O, LAST = range(7)
N_INT = 7

NOOP, UP, DOWN = 0, 1, 2
AI = -1  # act_opp value: the built-in opponent plays

# --- splitmix64 (Steele, Lea & Flood 2014), in 32-bit halves ------------------
_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def _add64(a, b):
    """(a + b) mod 2**64. Built from 32-bit halves so no intermediate exceeds
    64 bits: the plain-Python twin (NUMBA_DISABLE_JIT=1) then wraps exactly
    like the compiled code, without numpy's scalar-overflow warnings."""
    lo = (a & _M32) + (b & _M32)
    hi = ((a >> _S32) + (b >> _S32) + (lo >> _S32)) & _M32
    return (hi << _S32) | (lo & _M32)


@njit(cache=True)
def _mul64(a, b):
    """(a * b) mod 2**64 from 32-bit halves (see _add64):
    a*b = a0*b0 + 2**32 (a1*b0 + a0*b1) mod 2**64."""
    a0, a1 = a & _M32, a >> _S32
    b0, b1 = b & _M32, b >> _S32
    lo = a0 * b0
    mid = ((a1 * b0) & _M32) + ((a0 * b1) & _M32)
    hi = ((lo >> _S32) + mid) & _M32
    return (hi << _S32) | (lo & _M32)


@njit(cache=True)
def next_u64(rng, n):
    """Advance game n's splitmix64 state and return its next 64-bit output."""
    s = _add64(rng[n], _GOLDEN)
    rng[n] = s
    z = _mul64(s ^ (s >> np.uint64(30)), _MIX1)
    z = _mul64(z ^ (z >> np.uint64(27)), _MIX2)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def next_uniform(rng, n):
    """A float64 uniform on [0, 1) from the top 53 bits of next_u64."""
    return np.float64(next_u64(rng, n) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def seed_rng(rng, seed):
    """Seed game i of a batch with seed + i (Gymnasium's vector convention):
    splitmix64's state is the seed itself, so game i of a batch reset with
    seed s is the same game as a single env reset with seed s + i."""
    rng[:] = np.arange(rng.shape[0], dtype=np.uint64) + np.uint64(int(seed) % 2**64)


# --- reset --------------------------------------------------------------------
@njit(cache=True)
def reset_kernel(fstate, istate, mask):
    """Start a new game where mask[n]: paddles centred, scores and counters 0,
    ball hidden for SERVE_DELAY steps with the first serve toward the agent
    (vx > 0). The RNG is left alone: a game's stream runs on across episodes."""
    for n in range(fstate.shape[1]):
        if mask[n]:
            fstate[BX, n] = 0.0
            fstate[BY, n] = 0.0
            fstate[VX, n] = VX_SERVE
            fstate[VY, n] = 0.0
            fstate[PA, n] = 0.0
            fstate[PO, n] = 0.0
            for k in range(N_INT):
                istate[k, n] = 0
            istate[COUNTDOWN, n] = SERVE_DELAY


# --- one agent step -------------------------------------------------------------
@njit(cache=True)
def _clamp(v, lo, hi):
    return min(max(v, lo), hi)


@njit(cache=True)
def _paddle_move(action):
    """NOOP/UP/DOWN -> 0, -4, +4 px (y points down, so UP decreases y)."""
    if action == UP:
        return -PADDLE_MOVE
    if action == DOWN:
        return PADDLE_MOVE
    return 0.0


@njit(cache=True)
def opponent_target(fstate, istate, n):
    """Where the built-in opponent steers its paddle centre.

    While the ball approaches it (in play, vx < 0): the ball centre plus a
    deterministic aim offset that depends only on the ball's height (bands of
    AIM_BAND_H px, antisymmetric about the court centre), so the 7-value state
    observation stays Markov and the game stays mirror-symmetric. PONG.md's
    example offset cycled with the point number instead, which the state
    vector cannot see. Otherwise: the court centre.
    """
    if istate[COUNTDOWN, n] > 0 or fstate[VX, n] >= 0.0:
        return 0.0
    by = fstate[BY, n]
    m = abs(by)
    aim = AIM_BAND[0] if m < AIM_BAND_H else (AIM_BAND[1] if m < 2 * AIM_BAND_H else AIM_BAND[2])
    if by > 0.0:
        return by + aim
    if by < 0.0:
        return by - aim
    return by


@njit(cache=True)
def _move_paddles(fstate, istate, rng, n, act_agent, act_opp, opp_speed, sticky_prob):
    a = act_agent
    if sticky_prob > 0.0 and next_uniform(rng, n) < sticky_prob:
        a = istate[LAST, n]  # ALE's sticky actions: repeat the previous action
    istate[LAST, n] = a
    fstate[PA, n] = _clamp(fstate[PA, n] + _paddle_move(a), -PADDLE_Y_MAX, PADDLE_Y_MAX)
    if act_opp == AI:
        step = _clamp(opponent_target(fstate, istate, n) - fstate[PO, n], -opp_speed, opp_speed)
    else:
        step = _paddle_move(act_opp)
    fstate[PO, n] = _clamp(fstate[PO, n] + step, -PADDLE_Y_MAX, PADDLE_Y_MAX)


@njit(cache=True)
def _serve(fstate, rng, n):
    """Launch the hidden ball from the centre column: top row ~ U{74..150}
    and vy ~ U{-2,-1,1,2} from the game's RNG; |vx| = 3 toward whoever
    conceded (already stored in the sign of vx while the ball was hidden)."""
    top = SERVE_TOP_LO + np.int64(next_u64(rng, n) % np.uint64(SERVE_TOP_HI - SERVE_TOP_LO + 1))
    fstate[BX, n] = 0.0
    fstate[BY, n] = top + BALL_H / 2 - CY
    fstate[VY, n] = SERVE_VY[np.int64(next_u64(rng, n) % np.uint64(4))]
    fstate[VX, n] = VX_SERVE if fstate[VX, n] > 0.0 else -VX_SERVE


@njit(cache=True)
def _bounce(fstate, n, paddle_cy):
    """Paddle hit (PONG.md section 4): vx = -sign(vx) min(|vx| + 0.25, 5),
    vy = 5 clip((ball_cy - paddle_cy) / 10, -1, 1)."""
    vx = fstate[VX, n]
    speed = min(abs(vx) + VX_GAIN, V_MAX)
    fstate[VX, n] = -speed if vx > 0.0 else speed
    fstate[VY, n] = V_MAX * _clamp((fstate[BY, n] - paddle_cy) / HIT_HALF, -1.0, 1.0)


@njit(cache=True)
def _overlaps(bx, by, x0, x1, paddle_cy):
    """Open-interval overlap of the ball's and a paddle's pixel boxes."""
    half_w = BALL_W / 2
    return bx + half_w > x0 and bx - half_w < x1 and abs(by - paddle_cy) < HIT_HALF


@njit(cache=True)
def _move_ball(fstate, istate, n):
    """SUBSTEPS substeps of wall reflection, paddle hits and scoring.
    Returns +1 / -1 if the agent / opponent won the point, else 0."""
    for _ in range(SUBSTEPS):
        fstate[BX, n] += fstate[VX, n] / SUBSTEPS
        fstate[BY, n] += fstate[VY, n] / SUBSTEPS
        by = fstate[BY, n]
        if by < -BALL_Y_MAX:  # reflect about the wall, keep |vy|
            fstate[BY, n] = -2 * BALL_Y_MAX - by
            fstate[VY, n] = -fstate[VY, n]
        elif by > BALL_Y_MAX:
            fstate[BY, n] = 2 * BALL_Y_MAX - by
            fstate[VY, n] = -fstate[VY, n]
        bx, by = fstate[BX, n], fstate[BY, n]
        if fstate[VX, n] > 0.0 and _overlaps(bx, by, AGENT_X0, AGENT_X1, fstate[PA, n]):
            _bounce(fstate, n, fstate[PA, n])
            istate[HITS_A, n] += 1
        elif fstate[VX, n] < 0.0 and _overlaps(bx, by, OPP_X0, OPP_X1, fstate[PO, n]):
            _bounce(fstate, n, fstate[PO, n])
            istate[HITS_O, n] += 1
        if bx < -BALL_X_MAX or bx > BALL_X_MAX:
            point = 1 if bx < 0.0 else -1
            # hide the ball at the centre; the next serve goes to the conceder
            fstate[BX, n] = 0.0
            fstate[BY, n] = 0.0
            fstate[VX, n] = -VX_SERVE * point
            fstate[VY, n] = 0.0
            istate[COUNTDOWN, n] = SERVE_DELAY
            return point
    return 0


@njit(cache=True)
def step_kernel(fstate, istate, rng, act_agent, act_opp, opp_speed, hit_reward,
                points_to_win, max_steps, sticky_prob, rewards, terminated, truncated):
    """One agent step of N two-player games, in place.

    act_agent[n] in {0, 1, 2} (NOOP, UP, DOWN); act_opp[n] the same, or -1
    (AI) for the built-in opponent, which moves at most opp_speed px toward
    opponent_target. Order within a step: paddles move, then the ball (or the
    serve countdown). Writes rewards[n] = (agent points - opponent points)
    this step + hit_reward * agent hits this step; terminated[n] iff a score
    reached points_to_win; truncated[n] iff not terminated and the episode
    has lasted max_steps steps.
    """
    for n in range(fstate.shape[1]):
        istate[T, n] += 1
        _move_paddles(fstate, istate, rng, n, act_agent[n], act_opp[n], opp_speed, sticky_prob)
        hits_before = istate[HITS_A, n]
        point = 0
        if istate[COUNTDOWN, n] > 0:
            istate[COUNTDOWN, n] -= 1
            if istate[COUNTDOWN, n] == 0:
                _serve(fstate, rng, n)
        else:
            point = _move_ball(fstate, istate, n)
        if point > 0:
            istate[SCORE_A, n] += 1
        elif point < 0:
            istate[SCORE_O, n] += 1
        rewards[n] = point + hit_reward * (istate[HITS_A, n] - hits_before)
        done = istate[SCORE_A, n] >= points_to_win or istate[SCORE_O, n] >= points_to_win
        terminated[n] = done
        truncated[n] = (not done) and istate[T, n] >= max_steps
