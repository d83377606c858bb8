"""Pong renderers: the 80x80 binary frame, the 7-value state and the RGB frame.

All three read the physics state of envs/pong_physics.py and write into a
caller's array of N games, so the vector env renders in place.

The 80x80 frame is Karpathy's preprocessing ("Pong from Pixels", pg-pong.py
`prepro`) of the RGB frame by construction: f[i, j] = 1 iff ALE pixel
(row 35 + 2i, column 2j) is covered by a paddle or the visible ball. Objects
are drawn at the integer part of their (possibly fractional) top-left corner,
so a paddle is always 8 rows x 2 columns of the frame (columns 8-9 for the
opponent, 70-71 for the agent) and the ball 2 rows x 1 column.
"""

import numpy as np
from numba import njit

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
N_STATE = 7


@njit(cache=True)
def ball_visible(istate, n):
    return istate[COUNTDOWN, n] == 0


@njit(cache=True)
def boxes(fstate, n):
    """Integer ALE top-left corners (row, column) of the agent paddle, the
    opponent paddle and the ball, as six int64s."""
    pa = np.int64(np.floor(CY + fstate[PA, n] - PADDLE_H / 2))
    po = np.int64(np.floor(CY + fstate[PO, n] - PADDLE_H / 2))
    by = np.int64(np.floor(CY + fstate[BY, n] - BALL_H / 2))
    bx = np.int64(np.floor(CX + fstate[BX, n] - BALL_W / 2))
    return pa, AGENT_X, po, OPP_X, by, bx


@njit(cache=True)
def _fill_frame(out, n, top, left, h, w):
    """Set f[i, j] = 1 for every sampled pixel (35 + 2i, 2j) in the box."""
    i0 = max((top - CROP_TOP + 1) // 2, 0)  # ceil((top - 35) / 2)
    i1 = min((top + h - 1 - CROP_TOP) // 2, FRAME - 1)
    j0 = max((left + 1) // 2, 0)
    j1 = min((left + w - 1) // 2, FRAME - 1)
    for i in range(i0, i1 + 1):
        for j in range(j0, j1 + 1):
            out[n, i, j] = 1


@njit(cache=True)
def render_pixels(fstate, istate, out):
    """out (N, 80, 80), any numeric dtype: the binary frame of every game."""
    for n in range(out.shape[0]):
        out[n] = 0
        pa, ax, po, ox, by, bx = boxes(fstate, n)
        _fill_frame(out, n, pa, ax, PADDLE_H, PADDLE_W)
        _fill_frame(out, n, po, ox, PADDLE_H, PADDLE_W)
        if ball_visible(istate, n):
            _fill_frame(out, n, by, bx, BALL_H, BALL_W)


@njit(cache=True)
def render_state(fstate, istate, out):
    """out (N, 7): ball centre x/79 and y/78 in [-1, 1] (y down), vx/5,
    vy/5, agent and opponent paddle centres /72, and the serve countdown
    /8 (while it is positive the ball is hidden at the centre and the sign of
    vx says who receives the serve). Positions are relative to the court
    centre. Markov for the rally: with the RNG, these determine the future."""
    for n in range(out.shape[0]):
        out[n, 0] = fstate[BX, n] / BALL_X_MAX
        out[n, 1] = fstate[BY, n] / BALL_Y_MAX
        out[n, 2] = fstate[VX, n] / V_MAX
        out[n, 3] = fstate[VY, n] / V_MAX
        out[n, 4] = fstate[PA, n] / PADDLE_Y_MAX
        out[n, 5] = fstate[PO, n] / PADDLE_Y_MAX
        out[n, 6] = istate[COUNTDOWN, n] / SERVE_DELAY


@njit(cache=True)
def _fill_rgb(out, n, top, left, h, w, rgb):
    for r in range(max(top, 0), min(top + h, SCREEN_H)):
        for c in range(max(left, 0), min(left + w, SCREEN_W)):
            for k in range(3):
                out[n, r, c, k] = rgb[k]


@njit(cache=True)
def render_rgb(fstate, istate, out):
    """out (N, 210, 160, 3) uint8: ALE-like screens (background, walls,
    paddles, ball; no score digits)."""
    for n in range(out.shape[0]):
        _fill_rgb(out, n, 0, 0, SCREEN_H, SCREEN_W, BACKGROUND)
        _fill_rgb(out, n, WALL_TOP, 0, TOP - WALL_TOP, SCREEN_W, WHITE)
        _fill_rgb(out, n, BOTTOM, 0, SCREEN_H - BOTTOM, SCREEN_W, WHITE)
        pa, ax, po, ox, by, bx = boxes(fstate, n)
        _fill_rgb(out, n, pa, ax, PADDLE_H, PADDLE_W, AGENT_RGB)
        _fill_rgb(out, n, po, ox, PADDLE_H, PADDLE_W, OPP_RGB)
        if ball_visible(istate, n):
            _fill_rgb(out, n, by, bx, BALL_H, BALL_W, WHITE)
