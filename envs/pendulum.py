"""Inverted pendulum swing-up: Gymnasium's Pendulum-v1 exactly.

A rigid rod of mass m and length l hangs from a motor-driven pivot; the torque
is too weak to lift it directly, so a policy must swing it up and balance it
(the standard continuous-control benchmark for DDPG; equations as coded in
Gymnasium's pendulum.py).

State (float64, per game): theta (rad, 0 = upright), theta_dot (rad/s), and
the last applied torque (for render only). Observation float32 (3,):
(cos theta, sin theta, theta_dot).

Step, for a torque action u (float32, shape (1,)), with dt = 0.05 s,
g = 10.0 m/s^2, m = 1.0 kg, l = 1.0 m, max_speed = 8 rad/s, max_torque = 2 N m:

    u          = clip(u, -max_torque, max_torque)         # as Gymnasium: clipped, not rejected
    cost       = angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2
    theta_dot' = clip(theta_dot + (3 g / (2 l) sin(theta) + 3 / (m l^2) u) dt, -max_speed, max_speed)
    theta'     = theta + theta_dot' dt
    reward     = -cost      (in [-16.27, 0])

where angle_normalize(a) = ((a + pi) mod 2 pi) - pi. The derived constants
3 g / (2 l) and 3 / (m l^2) are computed once, in `pendulum_params`.

Bit-exactness with Gymnasium: Gymnasium computes the u terms in float32 (u
stays float32 through numpy's promotion rules), and squares with `** 2`,
which numpy evaluates with the C library's pow (not x * x: the two differ in
the last bit for about 0.1% of inputs). The kernel does the same, calling
pow with the exponent 2 read from params so that LLVM cannot rewrite it into
x * x. Actions are cast to float32 (the action space's dtype), as Gymnasium
receives them from `action_space.sample()`.

Actions: Box([-2], [2], (1,), float32). Finite torques outside [-2, 2] are
clipped to it (Gymnasium does so; this is the one silent clip in purerl's
environments); non-finite torques raise a ValueError.
Termination: never. Truncation: 200 steps (the shell's time limit).
Start state: theta ~ U[-pi, pi), theta_dot ~ U[-1, 1), in that order, drawn
from the game's PCG64 stream exactly as Gymnasium's
`np_random.uniform(low=-[pi, 1], high=[pi, 1])`; reset(options={"x_init": a,
"y_init": b}) changes the bounds to ±a, ±b for that reset, as in Gymnasium.
render(): a line of text (angle, angular velocity, last torque).
"""

import math

import numpy as np
from numba import njit, prange

from envs import pcg64
from envs.core import (FINAL_OBS, INLINE, KERNEL, OBS, REWARD, TERMINATED, EnvSpec, Simulator, begin_step,
                       compile_serial_and_parallel, end_step, first_invalid_action)
from envs.spaces import Box

# Indices into the float64 params vector.
(G, M, L, MAX_SPEED, MAX_TORQUE, DT, GRAV_COEF, TORQUE_COEF, RESET_X, RESET_Y, SQUARE_EXPONENT,
 N_PARAMS) = range(12)
THETA, THETA_DOT, LAST_U = range(3)


def pendulum_params(g=10.0, m=1.0, l=1.0, max_speed=8.0, max_torque=2.0, dt=0.05,  # noqa: E741 (Gymnasium's name)
                    reset_x=np.pi, reset_y=1.0):
    """The params vector; derived constants are computed here and nowhere else (STYLE 10),
    with Gymnasium's expressions so that they round identically."""
    for name, value in (("g", g), ("m", m), ("l", l), ("max_speed", max_speed), ("max_torque", max_torque),
                        ("dt", dt)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    g, m, l = float(g), float(m), float(l)  # noqa: E741
    p = np.zeros(N_PARAMS)
    p[G], p[M], p[L], p[MAX_SPEED], p[MAX_TORQUE], p[DT] = g, m, l, max_speed, max_torque, dt
    p[GRAV_COEF] = 3 * g / (2 * l)
    p[TORQUE_COEF] = 3.0 / (m * l**2)
    p[RESET_X], p[RESET_Y] = reset_x, reset_y
    p[SQUARE_EXPONENT] = 2.0
    return p


@njit(**INLINE)
def angle_normalize(a):
    """a wrapped into [-pi, pi): ((a + pi) mod 2 pi) - pi, Python's (and numpy's) floored mod."""
    return ((a + np.pi) % (2 * np.pi)) - np.pi


@njit(**INLINE)
def advance(s, i, u, p):
    """One step of game i under torque u (float32); returns (reward, terminated=False)."""
    th, thdot = s[i, THETA], s[i, THETA_DOT]
    two, two32 = p[SQUARE_EXPONENT], np.float32(p[SQUARE_EXPONENT])  # x ** two is pow(x, 2), not x * x
    u = min(max(u, np.float32(-p[MAX_TORQUE])), np.float32(p[MAX_TORQUE]))  # float32, as np.clip
    u_cost = np.float32(0.001) * u**two32  # float32 arithmetic (powf), as Gymnasium's
    costs = angle_normalize(th) ** two + 0.1 * thdot**two + u_cost
    newthdot = thdot + (p[GRAV_COEF] * np.sin(th) + np.float32(p[TORQUE_COEF]) * u) * p[DT]
    newthdot = min(max(newthdot, -p[MAX_SPEED]), p[MAX_SPEED])
    s[i, THETA] = th + newthdot * p[DT]
    s[i, THETA_DOT] = newthdot
    s[i, LAST_U] = u
    return -costs, False


@njit(**INLINE)
def draw_start(s, i, rng, p):
    """Game i's start state: theta ~ U[-x, x), then theta_dot ~ U[-y, y)."""
    s[i, THETA] = pcg64.uniform(rng, i, -p[RESET_X], p[RESET_X])
    s[i, THETA_DOT] = pcg64.uniform(rng, i, -p[RESET_Y], p[RESET_Y])
    s[i, LAST_U] = np.nan


@njit(**INLINE)
def observe(s, i, out):
    """out[i] = float32(cos theta, sin theta, theta_dot)."""
    out[i, 0] = np.float32(np.cos(s[i, THETA]))
    out[i, 1] = np.float32(np.sin(s[i, THETA]))
    out[i, 2] = np.float32(s[i, THETA_DOT])


def _step_games(state, params, rng, actions, autoreset, max_steps, elapsed, values, flags, obs):
    """The step kernel (protocol in envs/vector.py): validate, step, time limit, autoreset, observe."""
    bad = first_invalid_action(actions, -np.inf, np.inf)  # non-finite only: range is clipped
    if bad >= 0:
        return bad
    s = state[0]
    for i in prange(s.shape[0]):
        begin_step(i, elapsed, values, flags)
        values[REWARD, i], flags[TERMINATED, i] = advance(s, i, actions[i, 0], params)
        if end_step(i, autoreset, max_steps, elapsed, values, flags):
            observe(s, i, obs[FINAL_OBS])
            draw_start(s, i, rng, params)
        observe(s, i, obs[OBS])
    return -1


step_games, step_games_parallel = compile_serial_and_parallel(_step_games)


@njit(**KERNEL)
def reset_games(state, params, rng, mask, obs):
    """The reset kernel: new start states for the games where mask[i], and their obs[OBS, i]."""
    s = state[0]
    for i in range(s.shape[0]):
        if mask[i]:
            draw_start(s, i, rng, params)
            observe(s, i, obs[OBS])


def reset_params(params, options):
    """params for one reset(options={"x_init": a, "y_init": b}) (Gymnasium's Pendulum options)."""
    unknown = set(options) - {"x_init", "y_init"}
    if unknown:
        raise ValueError(f"unknown reset options {sorted(unknown)}; Pendulum accepts 'x_init' and 'y_init'")
    p = params.copy()
    for key, index in (("x_init", RESET_X), ("y_init", RESET_Y)):
        if key in options:
            value = float(options[key])
            if not math.isfinite(value):
                raise ValueError(f"reset option {key} must be finite, got {options[key]!r}")
            p[index] = value
    return p


def render_text(state, params, i):
    """One line of text: angle (0 = upright), angular velocity and last torque."""
    th, thdot, u = state[0][i]
    th = getattr(angle_normalize, "py_func", angle_normalize)(th)
    arrows = "↑↗→↘↓↙←↖"
    # the rod's direction from the pivot (theta = 0 up, increasing counter-clockwise)
    rod = arrows[int(round(-th / (np.pi / 4))) % 8]
    torque = "none" if math.isnan(u) else f"{u:+.2f} N m"
    return f"{rod} theta={math.degrees(th):+7.2f} deg theta_dot={thdot:+.3f} rad/s " \
           f"torque={torque}"


def simulator(max_episode_steps=200, **physics):
    """The Simulator record for Pendulum-v1; physics: keyword overrides of
    `pendulum_params`'s primitives (g as in Gymnasium's make("Pendulum-v1", g=...), m, l, ...)."""
    params = pendulum_params(**physics)
    high = np.array([1.0, 1.0, params[MAX_SPEED]], dtype=np.float32)
    max_torque = params[MAX_TORQUE]
    return Simulator(
        spec=EnvSpec("Pendulum-v1", int(max_episode_steps), dict(physics)),
        observation_space=Box(-high, high, dtype=np.float32),
        action_space=Box(-max_torque, max_torque, (1,), np.float32),
        params=params,
        state_layout=(((3,), np.float64),),
        step=step_games,
        step_parallel=step_games_parallel,
        reset=reset_games,
        reset_params=reset_params,
        render=render_text,
        accepts=f"finite float32 torques of shape (1,); values outside [{-max_torque}, {max_torque}] "
                "are clipped to it, as in Gymnasium",
    )
