"""ALE's own Pong-v0, seen as Karpathy's pg-pong saw it (the `atari` extra).

A calibration, not a game of purerl's: the Arcade Learning Environment's Pong
(the Atari 2600 ROM, through Gymnasium and ale-py) behind the interface of
PongDiff-v0, so that the replica (`train reinforce-pong`) can be run
unchanged on the game Karpathy trained on and its curve compared with ours.
The input is the notes' (CMU 10-403, Policy gradients, "Pong from pixels": the
80x80 difference frame of Karpathy's pg-pong.py):

    frames    Pong-v0 as pg-pong.py makes it: sticky actions 0.25, each action
              held for 2-4 frames at random (PONG.md section 2, "Versions")
    pixels    prepro(I): rows 35:195, every 2nd row and column, red channel,
              the background (144 and 109) set to 0 and the rest to 1; 80x80
    obs       x_t = prepro(I_t) - prepro(I_{t-1}), x_0 = 0 (pg-pong's prev_x = None
              at each episode's start), float32 (6400,)
    actions   0 NOOP, 1 UP, 2 DOWN, as purerl's Pong-v0; UP and DOWN are ALE's
              RIGHT and LEFT (minimal action set indices 2 and 3, Karpathy's actions)

`toward_ball` and `play_trackers` are the UP/DOWN ball followers of
envs/pong_scripted.py read from these frames, for `bench pong_policies --trackers
--ale`: how much following the ball is worth against ALE's computer player.

Registered with Gymnasium as "purerl/ALEPongDiff-v0" by envs.gymnasium_compat,
so `python -m purerl train reinforce-pong --env gym:purerl/ALEPongDiff-v0`
plays it. Needs `python -m pip install "purerl[atari]"` (gymnasium and
ale-py, which ships the Pong ROM).
"""

import base64
import warnings

import numpy as np

try:
    import gymnasium
    _Env = gymnasium.Env
except ImportError:  # karpathy_prepro works without the extra; the env needs it
    gymnasium, _Env = None, object

BACKGROUND_REDS = (144, 109)  # pg-pong's "erase background (background type 1 / 2)"
ALE_ACTIONS = (0, 2, 3)  # purerl's NOOP, UP, DOWN -> ALE's NOOP, RIGHT, LEFT
GYM_ID = "purerl/ALEPongDiff-v0"
PADDLE_COLUMNS = [8, 9, 70, 71]  # of the 80x80 frame: the opponent's paddle, then the agent's


def karpathy_prepro(rgb):
    """pg-pong.py's prepro: a (210, 160, 3) uint8 Atari frame -> float32 (6400,) in {0, 1}.

    pg-pong sets every nonzero red other than the two backgrounds to 1; a red of 0 would stay 0 there
    and become 1 here, but Pong draws none (its reds: 53, 92, 101, 109, 144, 213, 236)."""
    red = np.asarray(rgb)[35:195:2, ::2, 0]
    return np.isin(red, BACKGROUND_REDS, invert=True).astype(np.float32).ravel()


def toward_ball(frame):
    """UP (1) or DOWN (2), whichever steps the agent's paddle centre toward the ball's centre (the court
    centre while the ball is hidden or beside a paddle), read from a prepro frame (6400,): the agent's
    paddle is in columns 70-71 and the opponent's in 8-9, as in purerl's Pong (envs/pong_render.py)."""
    f = np.asarray(frame).reshape(80, 80)
    paddle_rows = np.flatnonzero(f[:, 70])
    ball = f.copy()
    ball[:, PADDLE_COLUMNS] = 0
    ball_rows = np.flatnonzero(ball.any(axis=1))
    target = ball_rows.mean() if ball_rows.size else 39.5
    centre = paddle_rows.mean() if paddle_rows.size else 39.5
    return 1 if target < centre else 2


def play_trackers(q, games, seed=0):
    """(agent points, opponent points, steps), int arrays (games,): an UP/DOWN player that takes
    toward_ball's action with probability q and a coin flip otherwise, in ALE Pong-v0 games seeded
    seed, seed + 1, ... (the tracker's coins from numpy.random.default_rng(seed)); as
    envs.pong_scripted.updown_tracker plays purerl's Pong."""
    env, rng = AlePongDifference(), np.random.default_rng(seed)
    won, lost, steps = (np.zeros(games, dtype=np.int64) for _ in range(3))
    for i in range(games):
        env.reset(seed=seed + i)
        done = False
        while not done:
            a = toward_ball(env.frame) if rng.random() < q else int(rng.integers(1, 3))
            _, r, terminated, truncated, _ = env.step(a)
            won[i], lost[i], steps[i] = won[i] + (r > 0), lost[i] + (r < 0), steps[i] + 1
            done = terminated or truncated
    env.close()
    return won, lost, steps


def missing_extra():
    """None when gymnasium and ale-py are importable, else the line that says what to install."""
    try:
        import ale_py  # noqa: F401
    except ImportError:
        ale_py = None
    if gymnasium is None or ale_py is None:
        return f'{GYM_ID} needs gymnasium and ale-py, which are not installed: python -m pip install "purerl[atari]"'
    return None


def _register_ale():
    """Make Gymnasium know ALE's ids (Pong-v0), or an ImportError naming the extra to install."""
    problem = missing_extra()
    if problem:
        raise ImportError(problem)
    import ale_py

    gymnasium.register_envs(ale_py)


class AlePongDifference(_Env):
    """ALE Pong-v0 with Karpathy's difference frames and purerl's three Pong actions.

    reset(seed, options) -> (x_0 = 0, info), step(a) -> (x_t, r, terminated,
    truncated, info), with the ALE's rewards (+-1 per point) and episode end (a
    side reaches 21, or the 108,000-frame cap).
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, render_mode=None, **ale_kwargs):
        _register_ale()
        with warnings.catch_warnings():  # "Pong-v0 is out of date": it is the version pg-pong played, on purpose
            warnings.simplefilter("ignore", DeprecationWarning)
            self.ale = gymnasium.make("Pong-v0", render_mode=render_mode, **ale_kwargs)
        self.action_space = gymnasium.spaces.Discrete(len(ALE_ACTIONS))
        self.observation_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(6400,), dtype=np.float32)
        self.render_mode = render_mode
        self.frame = None  # prepro of the current screen, (6400,); the observation is its difference

    @property
    def np_random(self):
        return self.ale.unwrapped.np_random

    def reset(self, *, seed=None, options=None):
        screen, info = self.ale.reset(seed=seed, options=options)
        self.frame = karpathy_prepro(screen)
        return np.zeros_like(self.frame), info

    def step(self, action):
        if self.frame is None:
            raise ValueError(f"{GYM_ID}: step() called before reset(); call reset() first")
        if action not in range(len(ALE_ACTIONS)):  # also refuses 1.5, which int() would quietly make 1
            raise ValueError(f"{GYM_ID}: action {action!r} is not one of 0 (NOOP), 1 (UP), 2 (DOWN)")
        screen, reward, terminated, truncated, info = self.ale.step(ALE_ACTIONS[int(action)])
        previous, self.frame = self.frame, karpathy_prepro(screen)
        return self.frame - previous, float(reward), terminated, truncated, info

    def emulator_state(self):
        """The emulator's state with its sticky-action RNG, base64 text of ALE's own serialisation (not
        a pickle), for envs.gymnasium_compat.snapshot: with the frameskip RNG (np_random) and `frame`,
        which snapshot saves as it does any game's, a resumed run continues bit for bit."""
        return base64.b64encode(self.ale.unwrapped.ale.cloneState(include_rng=True).serialize()).decode("ascii")

    def restore_emulator_state(self, text):
        """Inverse of emulator_state."""
        import ale_py

        self.ale.unwrapped.ale.restoreState(ale_py.ALEState(base64.b64decode(text)))

    def render(self):
        return self.ale.render()

    def close(self):
        self.ale.close()
