"""Pong renderers: the 80x80 binary frame, the 7-value state and the RGB frame.

Each renderer reads game i of the physics state (envs/pong_physics.py) and
writes into a caller's row (e.g. obs[i]), so the shells render in place; the
batch versions loop over all games.

The 80x80 frame is Karpathy's preprocessing ("Pong from Pixels", pg-pong.py
`prepro`) of the RGB frame by construction: f[i, j] = 1 iff ALE pixel
(row 35 + 2i, column 2j) is covered by a paddle or the visible ball. Objects
are drawn at the integer part of their (possibly fractional) top-left corner,
so a paddle is always 8 rows x 2 columns of the frame (columns 8-9 for the
opponent, 70-71 for the agent) and the ball 2 rows x 1 column.
"""

import numpy as np
from numba import njit

from envs.core import INLINE, KERNEL
from envs.pong_physics import SHARED
from envs.pong_physics import (
    AGENT_X, BALL_H, BALL_W, BALL_X_MAX, BALL_Y_MAX, BOTTOM, BX, BY, COUNTDOWN, CX, CY,
    OPP_X, PA, PADDLE_H, PADDLE_W, PADDLE_Y_MAX, PO, SERVE_DELAY, TOP, V_MAX, VX, VY,
)

# Karpathy's crop I[35:195] keeps every 2nd row and column: rows 35, 37, ..., 193.
CROP_TOP = TOP + 1
FRAME = (BOTTOM - TOP) // 2  # 80
SCREEN_H, SCREEN_W = 210, 160
WALL_TOP = 24  # the top wall covers rows [24, TOP); the bottom one [BOTTOM, 210)
BACKGROUND = (144, 72, 17)  # colours from JAXAtari (PONG.md section 2)
AGENT_RGB = (92, 186, 92)
OPP_RGB = (213, 130, 74)
WHITE = (236, 236, 236)  # ball and walls
# The columns of obs_type="state" (state_into says how each is scaled).
STATE_COLUMNS = ("ball_x", "ball_y", "vx", "vy", "agent_y", "opponent_y", "countdown")
N_STATE = len(STATE_COLUMNS)


@njit(**INLINE)
def boxes(fs, ist, i):
    """Integer ALE top-left corners (row, column) of game i's agent paddle,
    opponent paddle and ball, and whether the ball is visible."""
    pa = np.int64(np.floor(CY + fs[i, PA] - PADDLE_H / 2))
    po = np.int64(np.floor(CY + fs[i, PO] - PADDLE_H / 2))
    by = np.int64(np.floor(CY + fs[i, BY] - BALL_H / 2))
    bx = np.int64(np.floor(CX + fs[i, BX] - BALL_W / 2))
    return pa, AGENT_X, po, OPP_X, by, bx, ist[i, COUNTDOWN] == 0


@njit(**INLINE)
def _fill_frame(row, top, left, h, w):
    """row[80 i + j] = 1 for every sampled pixel (35 + 2i, 2j) in the box."""
    i0 = max((top - CROP_TOP + 1) // 2, 0)  # ceil((top - 35) / 2)
    i1 = min((top + h - 1 - CROP_TOP) // 2, FRAME - 1)
    j0 = max((left + 1) // 2, 0)
    j1 = min((left + w - 1) // 2, FRAME - 1)
    if i0 <= i1 and j0 <= j1:
        row.reshape((FRAME, FRAME))[i0:i1 + 1, j0:j1 + 1] = 1


@njit(**SHARED)
def pixels_into(fs, ist, i, row):
    """row (6400,), any numeric dtype: game i's binary frame, row-major."""
    row[:] = 0
    pa, ax, po, ox, by, bx, visible = boxes(fs, ist, i)
    _fill_frame(row, pa, ax, PADDLE_H, PADDLE_W)
    _fill_frame(row, po, ox, PADDLE_H, PADDLE_W)
    if visible:
        _fill_frame(row, by, bx, BALL_H, BALL_W)


@njit(**SHARED)
def state_into(fs, ist, i, row):
    """row (7,): ball centre x/79 and y/78 in [-1, 1] (y down), vx/5,
    vy/5, agent and opponent paddle centres /72, and the serve countdown /8
    (while it is positive the ball is hidden at the centre and the sign of
    vx says who receives the serve). Positions are relative to the court
    centre. Markov for the rally: with the RNG, these determine the future."""
    row[0] = fs[i, BX] / BALL_X_MAX
    row[1] = fs[i, BY] / BALL_Y_MAX
    row[2] = fs[i, VX] / V_MAX
    row[3] = fs[i, VY] / V_MAX
    row[4] = fs[i, PA] / PADDLE_Y_MAX
    row[5] = fs[i, PO] / PADDLE_Y_MAX
    row[6] = ist[i, COUNTDOWN] / SERVE_DELAY


@njit(**INLINE)
def _fill_rgb(screen, top, left, h, w, rgb):
    r0, r1 = max(top, 0), min(top + h, SCREEN_H)
    c0, c1 = max(left, 0), min(left + w, SCREEN_W)
    if r0 < r1 and c0 < c1:
        for k in range(3):
            screen[r0:r1, c0:c1, k] = rgb[k]


@njit(**SHARED)
def rgb_into(fs, ist, i, screen):
    """screen (210, 160, 3) uint8: an ALE-like screen of game i (background,
    walls, paddles, ball; no score digits)."""
    _fill_rgb(screen, 0, 0, SCREEN_H, SCREEN_W, BACKGROUND)
    _fill_rgb(screen, WALL_TOP, 0, TOP - WALL_TOP, SCREEN_W, WHITE)
    _fill_rgb(screen, BOTTOM, 0, SCREEN_H - BOTTOM, SCREEN_W, WHITE)
    pa, ax, po, ox, by, bx, visible = boxes(fs, ist, i)
    _fill_rgb(screen, pa, ax, PADDLE_H, PADDLE_W, AGENT_RGB)
    _fill_rgb(screen, po, ox, PADDLE_H, PADDLE_W, OPP_RGB)
    if visible:
        _fill_rgb(screen, by, bx, BALL_H, BALL_W, WHITE)


@njit(**KERNEL)
def render_pixels(fs, ist, out):
    """out (N, 6400): every game's frame (reshape to (N, 80, 80) to view)."""
    for i in range(out.shape[0]):
        pixels_into(fs, ist, i, out[i])


@njit(**KERNEL)
def render_state(fs, ist, out):
    """out (N, 7): every game's state vector (see state_into)."""
    for i in range(out.shape[0]):
        state_into(fs, ist, i, out[i])


@njit(**KERNEL)
def render_rgb(fs, ist, out):
    """out (N, 210, 160, 3) uint8: every game's screen."""
    for i in range(out.shape[0]):
        rgb_into(fs, ist, i, out[i])
