"""Cart-pole: Gymnasium's CartPole-v1 exactly, and a continuous-force variant.

A pole is hinged on a cart that moves on a frictionless track; pushing the
cart left or right must keep the pole upright (Barto, Sutton & Anderson 1983,
"Neuronlike adaptive elements that can solve difficult learning control
problems"; equations as corrected by Florian 2007, "Correct equations for the
dynamics of the cart-pole system", and as coded in Gymnasium's cartpole.py).

State (float64, per game): x (m), x_dot (m/s), theta (rad, 0 = upright),
theta_dot (rad/s). Observation: the state as float32, shape (4,).

Dynamics, for a force F on the cart (one explicit Euler step of tau seconds):

    temp       = (F + m_p l theta_dot^2 sin(theta)) / (m_c + m_p)
    theta_acc  = (g sin(theta) - cos(theta) temp)
                 / (l (4/3 - m_p cos(theta)^2 / (m_c + m_p)))
    x_acc      = temp - m_p l theta_acc cos(theta) / (m_c + m_p)
    x += tau x_dot;  x_dot += tau x_acc;  theta += tau theta_dot;  theta_dot += tau theta_acc

with g = 9.8 m/s^2, m_c = 1.0 kg, m_p = 0.1 kg, l = 0.5 m (half the pole's
length), tau = 0.02 s. The derived constants total_mass = m_c + m_p and
polemass_length = m_p l are computed once, in `cartpole_params`.

Actions:
  CartPole-v1            Discrete(2): 0 pushes left (F = -10 N), 1 pushes right (F = +10 N).
  CartPoleContinuous-v1  Box([-1], [1], (1,), float32): F = 10 N * a. Non-finite
                         actions and actions outside [-1, 1] raise a ValueError;
                         nothing is clipped.
Reward: +1 on every step, including the one that terminates.
Termination: |x| > 2.4 m or |theta| > 12 degrees (checked after the step).
Truncation: 500 steps (the shell's time limit).
Start state: each of the four coordinates uniform on [-0.05, 0.05], drawn in
that order from the game's PCG64 stream exactly as Gymnasium's
`np_random.uniform(-0.05, 0.05, size=4)`; reset(options={"low": a, "high": b})
changes the bounds for that reset, as in Gymnasium.
render(): a line of text (cart position and pole angle).
"""

import math

import numpy as np
from numba import njit, prange

from envs import pcg64
from envs.core import (FINAL_OBS, INLINE, KERNEL, OBS, REWARD, TERMINATED, EnvSpec, Simulator, begin_step,
                       compile_serial_and_parallel, end_step, first_invalid_action)
from envs.spaces import Box, Discrete

# Indices into the float64 params vector.
(GRAVITY, MASSPOLE, TOTAL_MASS, LENGTH, POLEMASS_LENGTH, FORCE_MAG, TAU, THETA_THRESHOLD, X_THRESHOLD,
 CONTINUOUS, ACTION_LOW, ACTION_HIGH, RESET_LOW, RESET_HIGH, N_PARAMS) = range(15)
X, X_DOT, THETA, THETA_DOT = range(4)


def cartpole_params(continuous=False, gravity=9.8, masscart=1.0, masspole=0.1, length=0.5, force_mag=10.0,
                    tau=0.02, theta_threshold_radians=12 * 2 * math.pi / 360, x_threshold=2.4,
                    reset_low=-0.05, reset_high=0.05):
    """The params vector; derived constants are computed here and nowhere else (STYLE 10)."""
    for name, value in (("gravity", gravity), ("masscart", masscart), ("masspole", masspole), ("length", length),
                        ("force_mag", force_mag), ("tau", tau)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    p = np.zeros(N_PARAMS)
    p[GRAVITY], p[MASSPOLE], p[LENGTH], p[FORCE_MAG], p[TAU] = gravity, masspole, length, force_mag, tau
    p[TOTAL_MASS] = masspole + masscart
    p[POLEMASS_LENGTH] = masspole * length
    p[THETA_THRESHOLD], p[X_THRESHOLD] = theta_threshold_radians, x_threshold
    p[CONTINUOUS] = 1.0 if continuous else 0.0
    p[ACTION_LOW], p[ACTION_HIGH] = (-1.0, 1.0) if continuous else (0.0, 1.0)
    p[RESET_LOW], p[RESET_HIGH] = reset_low, reset_high
    return p


@njit(**INLINE)
def force(action, p):
    """The force on the cart (N): ±force_mag for a discrete action, force_mag * a for a continuous one."""
    if p[CONTINUOUS] != 0.0:
        return p[FORCE_MAG] * np.float64(action)
    return p[FORCE_MAG] if action == 1 else -p[FORCE_MAG]


@njit(**INLINE)
def advance(s, i, f, p):
    """One Euler step of game i's state s[i] under force f; returns (reward, terminated).

    The operations and their order are Gymnasium's, so the float64 results are bit-identical.
    """
    x, x_dot, theta, theta_dot = s[i, X], s[i, X_DOT], s[i, THETA], s[i, THETA_DOT]
    costheta = np.cos(theta)
    sintheta = np.sin(theta)
    temp = (f + p[POLEMASS_LENGTH] * (theta_dot * theta_dot) * sintheta) / p[TOTAL_MASS]
    thetaacc = (p[GRAVITY] * sintheta - costheta * temp) / (
        p[LENGTH] * (4.0 / 3.0 - p[MASSPOLE] * (costheta * costheta) / p[TOTAL_MASS]))
    xacc = temp - p[POLEMASS_LENGTH] * thetaacc * costheta / p[TOTAL_MASS]
    x = x + p[TAU] * x_dot
    x_dot = x_dot + p[TAU] * xacc
    theta = theta + p[TAU] * theta_dot
    theta_dot = theta_dot + p[TAU] * thetaacc
    s[i, X], s[i, X_DOT], s[i, THETA], s[i, THETA_DOT] = x, x_dot, theta, theta_dot
    terminated = (x < -p[X_THRESHOLD] or x > p[X_THRESHOLD]
                  or theta < -p[THETA_THRESHOLD] or theta > p[THETA_THRESHOLD])
    return 1.0, terminated


@njit(**INLINE)
def draw_start(s, i, rng, p):
    """Game i's start state: x, x_dot, theta, theta_dot ~ U[low, high), in that order."""
    for k in range(4):
        s[i, k] = pcg64.uniform(rng, i, p[RESET_LOW], p[RESET_HIGH])


@njit(**INLINE)
def observe(s, i, out):
    """out[i] = float32(state of game i)."""
    for k in range(4):
        out[i, k] = np.float32(s[i, k])


def _step_games(state, params, rng, actions, autoreset, max_steps, elapsed, values, flags, obs):
    """The step kernel (protocol in envs/vector.py): validate, step, time limit, autoreset, observe."""
    bad = first_invalid_action(actions, params[ACTION_LOW], params[ACTION_HIGH])
    if bad >= 0:
        return bad
    s = state[0]
    a = actions.reshape(actions.shape[0])  # (N,) discrete or (N, 1) continuous -> (N,)
    for i in prange(s.shape[0]):
        begin_step(i, elapsed, values, flags)
        values[REWARD, i], flags[TERMINATED, i] = advance(s, i, force(a[i], params), params)
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
    """params for one reset(options={"low": a, "high": b}) (Gymnasium's CartPole options)."""
    unknown = set(options) - {"low", "high"}
    if unknown:
        raise ValueError(f"unknown reset options {sorted(unknown)}; CartPole accepts 'low' and 'high'")
    p = params.copy()
    low, high = float(options.get("low", p[RESET_LOW])), float(options.get("high", p[RESET_HIGH]))
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"reset options need finite low <= high, got low={low}, high={high}")
    p[RESET_LOW], p[RESET_HIGH] = low, high
    return p


def render_text(state, params, i):
    """One line of text: the track from -x_threshold to x_threshold, the cart, the pole's lean."""
    x, theta = state[0][i, X], state[0][i, THETA]
    width, limit = 41, params[X_THRESHOLD]
    col = int(round((min(max(x, -limit), limit) + limit) / (2 * limit) * (width - 1)))
    # theta > 0 leans the pole's top toward +x (Gymnasium's convention): "/".
    lean = "/" if theta > 0.02 else "\\" if theta < -0.02 else "|"
    track = ["-"] * width
    track[col] = lean
    return f"[{''.join(track)}] x={x:+.3f} m theta={math.degrees(theta):+.2f} deg"


def simulator(continuous=False, max_episode_steps=500, **physics):
    """The Simulator record for CartPole-v1 (continuous=False) or CartPoleContinuous-v1.

    physics: keyword overrides of the primitives in `cartpole_params` (gravity,
    masscart, masspole, length, force_mag, tau, ...).
    """
    params = cartpole_params(continuous=continuous, **physics)
    high = np.array([params[X_THRESHOLD] * 2, np.inf, params[THETA_THRESHOLD] * 2, np.inf], dtype=np.float32)
    action_space = Box(-1.0, 1.0, (1,), np.float32) if continuous else Discrete(2)
    name = "CartPoleContinuous-v1" if continuous else "CartPole-v1"
    return Simulator(
        # Gymnasium registers CartPole-v1 with reward_threshold 475 for its
        # 500-step limit; with other limits or physics no threshold is claimed.
        spec=EnvSpec(name, int(max_episode_steps), dict(physics),
                     475.0 if (max_episode_steps == 500 and not physics) else None),
        observation_space=Box(-high, high, dtype=np.float32),
        action_space=action_space,
        params=params,
        state_layout=(((4,), np.float64),),
        step=step_games,
        step_parallel=step_games_parallel,
        reset=reset_games,
        reset_params=reset_params,
        render=render_text,
    )


def continuous_simulator(max_episode_steps=500, **physics):
    """The Simulator record for CartPoleContinuous-v1 (see the module docstring)."""
    return simulator(continuous=True, max_episode_steps=max_episode_steps, **physics)
