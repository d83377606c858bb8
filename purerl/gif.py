"""`watch --gif FILE`: an episode as an animated GIF, drawn with matplotlib.

RGB frames (Pong) are shown as images. Text-rendered games are drawn from
their observations where the layout is known: CartPole (x, x_dot, theta,
theta_dot) as a cart on a track with its pole, Pendulum (cos theta, sin theta,
theta_dot) as a rod from the pivot; any other text frame is shown as text.
"""

import math

import numpy as np

CART_W, CART_H = 0.5, 0.3  # metres, as drawn (Gymnasium's CartPole rendering proportions)
POLE_LEN = 1.0             # drawn length 2 * half-length 0.5 m


def draw_cartpole(ax, obs):
    from matplotlib.patches import Rectangle

    x, theta = float(obs[0]), float(obs[2])
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-0.4, 1.5)
    ax.plot([-2.4, 2.4], [0, 0], color="0.3", linewidth=1)
    ax.add_patch(Rectangle((x - CART_W / 2, -CART_H / 2), CART_W, CART_H, color="0.15"))
    # theta > 0 leans the pole towards +x.
    ax.plot([x, x + POLE_LEN * math.sin(theta)], [0, POLE_LEN * math.cos(theta)],
            color="tab:orange", linewidth=5, solid_capstyle="round")


def draw_pendulum(ax, obs):
    cos_t, sin_t = float(obs[0]), float(obs[1])
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    # theta = 0 is upright; theta > 0 turns counter-clockwise.
    ax.plot([0, -sin_t], [0, cos_t], color="tab:red", linewidth=6, solid_capstyle="round")
    ax.plot([0], [0], "o", color="0.2")


def draw_frame(ax, frame, obs, env_name):
    ax.clear()
    ax.set_axis_off()
    if isinstance(frame, np.ndarray):
        ax.imshow(frame, interpolation="nearest")
    elif "CartPole" in env_name:
        draw_cartpole(ax, obs)
    elif "Pendulum" in env_name:
        draw_pendulum(ax, obs)
    else:
        ax.text(0.0, 0.5, str(frame), family="monospace", fontsize=8, va="center")


def write_gif(path, frames, env_name, fps=30.0):
    """frames: [(frame, obs, step, return)] from purerl.watch.play."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig, ax = plt.subplots(figsize=(4, 3))

    def update(i):
        frame, obs, step, total = frames[i]
        draw_frame(ax, frame, obs, env_name)
        ax.set_title(f"{env_name}  step {step}  return {total:g}", fontsize=8)
        return []

    animation = FuncAnimation(fig, update, frames=len(frames), blit=False)
    animation.save(path, writer=PillowWriter(fps=fps))
    plt.close(fig)
