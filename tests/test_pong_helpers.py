"""Shared helpers for the Pong tests (no tests here): batches of games, random states, rollouts."""

import numpy as np

from envs import pong_physics as P


def new_games(n, seed=0):
    """n freshly reset games, game i seeded with seed + i."""
    fs = np.zeros((P.N_FLOAT, n))
    ist = np.zeros((P.N_INT, n), dtype=np.int64)
    rng = np.zeros(n, dtype=np.uint64)
    P.seed_rng(rng, seed)
    P.reset_kernel(fs, ist, np.ones(n, dtype=bool))
    return fs, ist, rng


def random_states(g, n, points_to_win=21, hidden_prob=0.2):
    """n consistent mid-game states drawn from the numpy Generator g: the
    ball anywhere in the court at any legal velocity, the agent paddle on
    its 4-px grid, the opponent paddle anywhere, ball hidden with
    probability hidden_prob (then at the centre with vy = 0, |vx| = 3)."""
    fs, ist, rng = new_games(n, int(g.integers(2**32)))
    fs[P.BX] = g.uniform(-P.BALL_X_MAX, P.BALL_X_MAX, n)
    fs[P.BY] = g.uniform(-P.BALL_Y_MAX, P.BALL_Y_MAX, n)
    fs[P.VX] = g.choice([-1.0, 1.0], n) * (P.VX_SERVE + P.VX_GAIN * g.integers(0, 9, n))
    fs[P.VY] = g.uniform(-P.V_MAX, P.V_MAX, n)
    fs[P.PA] = P.PADDLE_MOVE * g.integers(-18, 19, n)
    fs[P.PO] = g.uniform(-P.PADDLE_Y_MAX, P.PADDLE_Y_MAX, n)
    hidden = g.random(n) < hidden_prob
    ist[P.COUNTDOWN] = np.where(hidden, g.integers(1, P.SERVE_DELAY + 1, n), 0)
    fs[P.BX, hidden] = 0.0
    fs[P.BY, hidden] = 0.0
    fs[P.VY, hidden] = 0.0
    fs[P.VX, hidden] = np.sign(fs[P.VX, hidden]) * P.VX_SERVE
    ist[P.SCORE_A] = g.integers(0, points_to_win, n)
    ist[P.SCORE_O] = g.integers(0, points_to_win, n)
    ist[P.T] = g.integers(0, 1000, n)
    return fs, ist, rng


def rollout(fs, ist, rng, act_agent, act_opp, opp_speed=3.0, hit_reward=0.0, points_to_win=21,
            max_steps=27000, sticky_prob=0.0, autoreset=False, kernel=None):
    """Step copies of the games through act_agent/act_opp of shape (T, N).
    Returns a dict of per-step records: fs (T+1, 6, N), ist (T+1, 7, N),
    rng (T+1, N), reward/terminated/truncated (T, N). With autoreset, games
    that ended are reset in the same step (as the vector env does) and the
    record holds the state before the reset in 'final_fs'/'final_ist'."""
    kernel = P.step_kernel if kernel is None else kernel
    fs, ist, rng = fs.copy(), ist.copy(), rng.copy()
    steps, n = act_agent.shape
    rec = {
        "fs": [fs.copy()], "ist": [ist.copy()], "rng": [rng.copy()], "final_fs": [], "final_ist": [],
        "reward": [], "terminated": [], "truncated": [],
    }
    reward, term, trunc = np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for t in range(steps):
        kernel(fs, ist, rng, act_agent[t], act_opp[t], opp_speed, hit_reward, points_to_win,
               max_steps, sticky_prob, reward, term, trunc)
        rec["final_fs"].append(fs.copy())
        rec["final_ist"].append(ist.copy())
        if autoreset:
            P.reset_kernel(fs, ist, term | trunc)
        for key, val in (("fs", fs), ("ist", ist), ("rng", rng), ("reward", reward),
                         ("terminated", term), ("truncated", trunc)):
            rec[key].append(val.copy())
    return {k: np.array(v) for k, v in rec.items()}


def ai(steps, n):
    return np.full((steps, n), P.AI, dtype=np.int64)


def random_actions(g, steps, n):
    return g.integers(0, 3, size=(steps, n)).astype(np.int64)


def py_twin(kernel):
    """The plain-Python function behind a numba dispatcher (itself under NUMBA_DISABLE_JIT=1)."""
    return getattr(kernel, "py_func", kernel)
