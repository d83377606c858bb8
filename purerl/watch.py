"""`python -m purerl watch RUN_DIR`: one episode of a trained policy, drawn in the terminal.

Frames come from the single-game environment's `render()`: text (CartPole,
Pendulum: one line each) is printed under a character drawing of the
observation (cart and pole, pendulum rod); an RGB array (Pong) is drawn as
characters, one per 2 x 4 block of pixels (a character cell is about twice
as tall as wide), background blank and brighter pixels as denser characters.
On a terminal each frame overwrites the previous one; otherwise frames are
printed one after another.

`--gif FILE` writes the episode as an animated GIF with matplotlib (the
`plot` extra): RGB frames as images; CartPole and Pendulum drawn from their
observations; any other text frame as text.
"""

import sys
import time

import numpy as np

from purerl import checkpoint, runs
from purerl.plot import require_matplotlib

RAMP = " .:-=+*#%@"


def rgb_to_text(frame, width=80):
    """An (H, W, 3) or (H, W) image as lines of characters, `width` columns wide.

    Each character covers a block of (2 * W / width) rows by (W / width)
    columns; the most common block value (the background) is blank and the
    others take a character by brightness from RAMP.
    """
    image = np.asarray(frame, dtype=np.float64)
    if image.ndim == 3:
        image = image[..., :3] @ np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma
    h, w = image.shape
    bw = max(1, int(np.ceil(w / width)))
    bh = 2 * bw
    rows, cols = h // bh, w // bw
    blocks = image[: rows * bh, : cols * bw].reshape(rows, bh, cols, bw)
    # A block shows an object if any pixel differs from the background.
    values, counts = np.unique(image, return_counts=True)
    background = values[np.argmax(counts)]
    diff = np.abs(blocks - background).max(axis=(1, 3))
    peak = diff.max() if diff.max() > 0 else 1.0
    index = np.ceil(diff / peak * (len(RAMP) - 1)).astype(int)
    return ["".join(RAMP[i] for i in row) for row in index]


def _plot_points(grid, points, char):
    for r, c in points:
        r, c = int(np.floor(r + 0.5)), int(np.floor(c + 0.5))  # round half up: no gaps
        if 0 <= r < len(grid) and 0 <= c < len(grid[0]):
            grid[r][c] = char


def cartpole_scene(obs, width=61, height=9, x_limit=2.4):
    """CartPole (x, x_dot, theta, theta_dot) drawn with characters.

    The track spans [-x_limit, x_limit] (CartPole's x_threshold, 2.4 m); the
    pole is drawn from the cart at angle theta (> 0 leans towards +x), with
    columns counted half as tall as rows, as terminal cells are.
    """
    x, theta = float(obs[0]), float(obs[2])
    grid = [[" "] * width for _ in range(height)]
    grid[-1] = ["="] * width
    col = (min(max(x, -x_limit), x_limit) + x_limit) / (2 * x_limit) * (width - 1)
    cart = height - 2
    _plot_points(grid, [(cart, col + dc) for dc in range(-3, 4)], "#")
    length = height - 3  # rows
    char = "|" if abs(theta) < 0.15 else "/" if theta > 0 else "\\"
    samples = np.linspace(1.0, length, 4 * length)
    _plot_points(grid, zip(cart - samples * np.cos(theta), col + 2 * samples * np.sin(theta)), char)
    return ["".join(row) for row in grid]


def pendulum_scene(obs, radius=5):
    """Pendulum (cos theta, sin theta, theta_dot): theta = 0 is upright, > 0 counter-clockwise."""
    cos_t, sin_t = float(obs[0]), float(obs[1])
    height, width = 2 * radius + 1, 4 * radius + 1
    grid = [[" "] * width for _ in range(height)]
    samples = np.linspace(0.5, radius, 3 * radius)
    _plot_points(grid, zip(radius - samples * cos_t, 2 * radius - 2 * samples * sin_t), "*")
    _plot_points(grid, [(radius, 2 * radius)], "o")
    return ["".join(row) for row in grid]


SCENES = {"CartPole": cartpole_scene, "Pendulum": pendulum_scene}


def frame_lines(frame, width, env_name="", obs=None):
    """Text lines of one frame: a drawing where the layout is known, plus the env's own text."""
    if isinstance(frame, str):
        for prefix, scene in SCENES.items():
            if env_name.startswith(prefix) and obs is not None:
                return scene(obs) + frame.splitlines()
        return frame.splitlines() or [""]
    return rgb_to_text(frame, width)


def make_single_env(name, env_kwargs):
    """(one game of `name` with render(), obs -> policy input).

    gym: names get Gymnasium's "ansi" render mode if the game has it, else
    "rgb_array", and their observations are encoded as the training adapter
    encodes them (envs/gymnasium_compat.py).
    """
    if name.startswith(runs.GYM_PREFIX):
        import gymnasium

        from envs.gymnasium_compat import observation_encoder

        gym_id = name[len(runs.GYM_PREFIX):]
        probe = gymnasium.make(gym_id, **env_kwargs)
        modes = probe.metadata.get("render_modes", [])
        _, encode = observation_encoder(probe.observation_space)
        probe.close()
        mode = "ansi" if "ansi" in modes else "rgb_array"
        return gymnasium.make(gym_id, render_mode=mode, **env_kwargs), encode
    import envs

    return envs.make(name, **env_kwargs), lambda obs: np.asarray(obs, dtype=np.float32)


class Renderer:
    """env.render(), or the observation as text when the env cannot draw itself
    (e.g. a Gymnasium game whose renderer needs pygame)."""

    def __init__(self, env, warn):
        self.env, self.warn, self.failed = env, warn, False

    def __call__(self, obs):
        if not self.failed:
            try:
                frame = self.env.render()
                if frame is not None:
                    return frame
                reason = "render() returned nothing"
            except Exception as err:  # noqa: BLE001 - any renderer failure: show numbers instead
                reason = f"{type(err).__name__}: {err}"
            self.failed = True
            self.warn(f"(no picture: {reason}; showing the observation instead)")
        return "obs = " + np.array2string(np.asarray(obs), precision=3, max_line_width=100)


def play(learner, env, seed, greedy, max_steps, on_frame, warn=print, encode=np.asarray):
    """Play one episode, or max_steps of it; on_frame(frame, obs, step, total_return) after reset and each step.

    Returns (steps, total return, whether the episode ended rather than being cut at max_steps).
    """
    render = Renderer(env, warn)
    obs, _ = env.reset(seed=seed)
    total, step = 0.0, 0
    on_frame(render(obs), obs, step, total)
    while max_steps is None or step < max_steps:
        action = np.asarray(learner.act(encode(obs)[None], greedy))[0]
        if action.ndim == 0:
            action = int(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        step += 1
        on_frame(render(obs), obs, step, total)
        if terminated or truncated:
            return step, total, True
    return step, total, False


class TerminalScreen:
    """Draws frames in place on a terminal (ANSI cursor moves), or appends them."""

    def __init__(self, stream, width, fps, env_name="", tty=None):
        self.stream, self.width, self.env_name = stream, width, env_name
        self.delay = 1.0 / fps if fps > 0 else 0.0
        self.tty = stream.isatty() if tty is None else tty
        self.height = 0

    def __call__(self, frame, obs, step, total):
        lines = frame_lines(frame, self.width, self.env_name, obs) + [f"step {step}  return {total:g}"]
        if self.tty and self.height:
            self.stream.write(f"\x1b[{self.height}A\r")  # cursor up to the first line of the last frame
        self.stream.write("".join(line + "\x1b[K\n" if self.tty else line + "\n" for line in lines))
        self.stream.flush()
        self.height = len(lines)
        if self.tty and self.delay:
            time.sleep(self.delay)


def main(args):
    ck = checkpoint.load(args.checkpoint)
    _, _, learner = runs.restore_learner(ck)
    env, encode = make_single_env(ck.env, dict(ck.meta.get("env_kwargs") or {}))
    greedy = not args.sample
    print(f"{ck.algo} on {ck.env} ({ck.meta['env_steps']:,} env steps), seed {args.seed}")
    if args.gif:
        from purerl import gif

        require_matplotlib("watch --gif")
        frames = []
        steps, total, _ = play(learner, env, args.seed, greedy, args.max_steps,
                            lambda frame, obs, step, ret: frames.append((frame, np.array(obs), step, ret)),
                            encode=encode)
        gif.write_gif(args.gif, frames, ck.env, fps=args.fps)
        print(f"wrote {args.gif}: {steps} steps, return {total:g}")
        return 0
    screen = TerminalScreen(sys.stdout, args.width, args.fps, ck.env)
    steps, total, ended = play(learner, env, args.seed, greedy, args.max_steps, screen, encode=encode)
    print(f"{'episode over' if ended else 'stopped by --max-steps'} after {steps} steps: return {total:g}")
    return 0
