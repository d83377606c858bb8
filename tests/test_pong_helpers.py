"""Shared helpers for the Pong tests (no tests here): batches of games, random states, rollouts."""

import numpy as np

from envs import pcg64
from envs import pong_physics as P


def new_games(n, seed=0):
    """n freshly started games (fs (n, 6), ist (n, 6), rng (n, 4)), game i seeded with seed + i."""
    fs = np.zeros((n, P.N_FLOAT))
    ist = np.zeros((n, P.N_INT), dtype=np.int64)
    rng = pcg64.seed_streams([seed + i for i in range(n)])
    P.reset_kernel(fs, ist, np.ones(n, dtype=bool))
    return fs, ist, rng


def random_states(g, n, points_to_win=21, hidden_prob=0.2):
    """n consistent mid-game states drawn from the numpy Generator g: the
    ball anywhere in the court at any legal velocity, the agent paddle on
    its 4-px grid, the opponent paddle anywhere, ball hidden with
    probability hidden_prob (then at the centre with vy = 0, |vx| = 3)."""
    fs, ist, rng = new_games(n, int(g.integers(2**32)))
    fs[:, P.BX] = g.uniform(-P.BALL_X_MAX, P.BALL_X_MAX, n)
    fs[:, P.BY] = g.uniform(-P.BALL_Y_MAX, P.BALL_Y_MAX, n)
    fs[:, P.VX] = g.choice([-1.0, 1.0], n) * (P.VX_SERVE + P.VX_GAIN * g.integers(0, 9, n))
    fs[:, P.VY] = g.uniform(-P.V_MAX, P.V_MAX, n)
    fs[:, P.PA] = P.PADDLE_MOVE * g.integers(-18, 19, n)
    fs[:, P.PO] = g.uniform(-P.PADDLE_Y_MAX, P.PADDLE_Y_MAX, n)
    hidden = g.random(n) < hidden_prob
    ist[:, P.COUNTDOWN] = np.where(hidden, g.integers(1, P.SERVE_DELAY + 1, n), 0)
    fs[hidden, P.BX] = 0.0
    fs[hidden, P.BY] = 0.0
    fs[hidden, P.VY] = 0.0
    fs[hidden, P.VX] = np.sign(fs[hidden, P.VX]) * P.VX_SERVE
    ist[:, P.SCORE_A] = g.integers(0, points_to_win, n)
    ist[:, P.SCORE_O] = g.integers(0, points_to_win, n)
    return fs, ist, rng


def rollout(fs, ist, rng, act_agent, act_opp, autoreset=False, kernel=None, **params):
    """Step copies of the games through act_agent/act_opp of shape (T, N)
    with the two-player kernel and P.make_params(**params). Returns a dict of
    per-step records: fs (T+1, N, 6), ist (T+1, N, 6), rng (T+1, N, 4),
    reward/terminated (T, N). With autoreset, games that ended restart in the
    same step (as the vector env does); 'final_fs'/'final_ist' (T, N, 6)
    hold the states before those restarts."""
    kernel = P.step_kernel if kernel is None else kernel
    p = P.make_params(**params)
    fs, ist, rng = fs.copy(), ist.copy(), rng.copy()
    steps, n = act_agent.shape
    rec = {"fs": [fs.copy()], "ist": [ist.copy()], "rng": [rng.copy()], "final_fs": [], "final_ist": [],
           "reward": [], "terminated": []}
    reward, term = np.zeros(n), np.zeros(n, dtype=bool)
    for t in range(steps):
        kernel(fs, ist, rng, act_agent[t], act_opp[t], p, reward, term)
        rec["final_fs"].append(fs.copy())
        rec["final_ist"].append(ist.copy())
        if autoreset:
            P.reset_kernel(fs, ist, term)
        for key, val in (("fs", fs), ("ist", ist), ("rng", rng), ("reward", reward), ("terminated", term)):
            rec[key].append(val.copy())
    return {k: np.array(v) for k, v in rec.items()}


def ai(steps, n):
    return np.full((steps, n), P.AI, dtype=np.int64)


def random_actions(g, steps, n):
    return g.integers(0, 3, size=(steps, n)).astype(np.int64)


def py_twin(kernel):
    """The plain-Python function behind a numba dispatcher (itself under NUMBA_DISABLE_JIT=1)."""
    return getattr(kernel, "py_func", kernel)


def karpathy_prepro(frame):
    """pg-pong.py's prepro: crop rows 35:195, keep every 2nd row and column
    of the red channel, background colours 144 and 109 -> 0, the rest -> 1."""
    img = frame[35:195][::2, ::2, 0].astype(np.float64)
    img[img == 144] = 0
    img[img == 109] = 0
    img[img != 0] = 1
    return img
