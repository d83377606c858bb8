"""ALE's Pong as pg-pong saw it (envs/ale_pong.py): the preprocessing, always;
the environment itself only where gymnasium and ale-py are installed (the
`atari` extra), which CI does not install, so those tests skip there."""

import numpy as np
import pytest

from envs import ale_pong
from envs import pong_render as R
from test_pong_helpers import karpathy_prepro, random_states


def test_prepro_equals_pg_pong_on_rgb_frames():
    """The product's prepro against the tests' transcription of pg-pong.py's, on rendered Atari-coloured frames
    (ALE's colours: background red 144, the paddles and ball other reds)."""
    fs, ist, _ = random_states(np.random.default_rng(0), 16)
    rgb = np.zeros((16, R.SCREEN_H, R.SCREEN_W, 3), dtype=np.uint8)
    R.render_rgb(fs, ist, rgb)
    pixels = np.zeros((16, R.FRAME * R.FRAME), dtype=np.float32)
    R.render_pixels(fs, ist, pixels)  # our Pong's frames, which are this prepro by construction
    for frame, expected in zip(rgb, pixels):
        x = ale_pong.karpathy_prepro(frame)
        assert x.dtype == np.float32 and x.shape == (6400,)
        assert np.array_equal(x, karpathy_prepro(frame).ravel())
        assert np.array_equal(x, expected) and 0 < x.sum() < 6400


def test_prepro_erases_both_background_reds():
    frame = np.zeros((210, 160, 3), dtype=np.uint8)
    frame[..., 0] = 144
    frame[100:110, :80, 0] = 109
    frame[101, 40, 0] = 236  # one white pixel, on a kept row (101 = 35 + 2 * 33) and column (40 = 2 * 20)
    x = ale_pong.karpathy_prepro(frame).reshape(80, 80)
    assert x.sum() == 1 and x[33, 20] == 1


def frame_with(paddle_top=None, ball=None):
    f = np.zeros((80, 80), dtype=np.float32)
    f[30:38, 8:10] = 1  # the opponent's paddle, never read
    if paddle_top is not None:
        f[paddle_top:paddle_top + 8, 70:72] = 1
    if ball is not None:
        f[ball[0]:ball[0] + 2, ball[1]] = 1
    return f.ravel()


@pytest.mark.parametrize("paddle_top, ball, action", [
    (30, (10, 40), 1), (30, (60, 40), 2),  # toward the ball: UP (row numbers grow downward), DOWN
    (30, None, 2), (50, None, 1),  # no ball: toward the court centre, row 39.5
    (50, (10, 71), 1), (None, (60, 40), 2),  # a ball beside a paddle counts as hidden; no paddle: at the centre
])
def test_toward_ball_reads_ball_and_paddle_from_the_frame(paddle_top, ball, action):
    assert ale_pong.toward_ball(frame_with(paddle_top, ball)) == action


def test_toward_ball_agrees_with_the_state_follower_on_our_frames():
    """On purerl's Pong, where both can be read, the pixel follower takes the state follower's action
    whenever the ball is visible, away from the paddles' columns, and 4 px or more from the paddle's centre."""
    from envs import pong_physics as P
    from envs import pong_scripted

    fs, ist, _ = random_states(np.random.default_rng(1), 400)
    pixels = np.zeros((400, 6400), dtype=np.float32)
    states = np.zeros((400, R.N_STATE), dtype=np.float32)
    R.render_pixels(fs, ist, pixels)
    R.render_state(fs, ist, states)
    expected = pong_scripted.toward_ball(states)
    clear = (ist[:, P.COUNTDOWN] == 0) & (np.abs(fs[:, P.BY] - fs[:, P.PA]) >= 4) & (np.abs(fs[:, P.BX]) < 50)
    assert clear.sum() > 100
    for i in np.flatnonzero(clear):
        assert ale_pong.toward_ball(pixels[i]) == expected[i]


def test_a_missing_extra_is_one_clear_error(monkeypatch):
    """Without ale-py, `--env gym:purerl/ALEPongDiff-v0` and `bench pong_policies --ale` stop with a line
    naming the extra, before any work (ale_pong.missing_extra stands in for the uninstalled package)."""
    from purerl import runs
    from purerl.bench import pong_policies
    from purerl.cli import build_parser

    monkeypatch.setattr(ale_pong, "missing_extra", lambda: "needs gymnasium and ale-py: purerl[atari]")
    with pytest.raises(ValueError, match=r"needs gymnasium and ale-py: purerl\[atari\]"):
        runs.check_env_name("gym:" + ale_pong.GYM_ID)
    args = build_parser().parse_args(["bench", "pong_policies", "--ale", "--trackers", "1"])
    with pytest.raises(SystemExit, match=r"--ale must be run with the atari extra .*, got without gymnasium"):
        pong_policies.check(args)


@pytest.fixture(scope="module")
def gymnasium():
    gym = pytest.importorskip("gymnasium")
    pytest.importorskip("ale_py")
    from envs.gymnasium_compat import register

    register()  # purerl/ALEPongDiff-v0
    return gym


def test_difference_frames_and_actions_follow_the_ale_step_for_step(gymnasium):
    """x_0 = 0 and x_t = prepro(I_t) - prepro(I_{t-1}) against a raw Pong-v0 with the same seed, UP/DOWN mapped
    to ALE's RIGHT/LEFT (2/3); the sticky actions and random frameskip then draw the same numbers."""
    import warnings

    ours = gymnasium.make(ale_pong.GYM_ID)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        raw = gymnasium.make("Pong-v0")
    x, _ = ours.reset(seed=3)
    frame, _ = raw.reset(seed=3)
    assert x.shape == (6400,) and x.dtype == np.float32 and not x.any()
    prev = karpathy_prepro(frame).ravel()
    rng = np.random.default_rng(0)
    for _ in range(300):
        a = int(rng.integers(0, 3))
        x, r, term, trunc, _ = ours.step(a)
        frame, r_raw, term_raw, trunc_raw, _ = raw.step((0, 2, 3)[a])
        current = karpathy_prepro(frame).ravel()
        assert np.array_equal(x, current - prev)
        assert (r, term, trunc) == (r_raw, term_raw, trunc_raw)
        prev = current
    for bad in (3, 1.5):
        with pytest.raises(ValueError, match=f"action {bad} is not one of 0 .NOOP., 1 .UP., 2 .DOWN."):
            ours.step(bad)


def test_games_end_and_restart_from_a_zero_difference_in_the_vector_env(gymnasium):
    """Through the vector adapter, a game ends at 21 points and the next one starts with x_0 = 0 (pg-pong's
    prev_x = None), its own final difference frame kept in final_obs."""
    from envs.gymnasium_compat import make_vec

    venv = make_vec(ale_pong.GYM_ID, 1, seed=0)
    venv.reset()
    rng = np.random.default_rng(0)
    points = 0
    for _ in range(5000):
        obs, r, terminated, truncated, info = venv.step(rng.integers(1, 3, size=1))
        points += int(r[0] != 0)
        if terminated[0]:
            break
    assert terminated[0] and points >= 21 and max(abs(info["episode_return"][0]), points) <= 41
    assert not obs.any() and info["final_obs"][0].any()


def test_a_resume_continues_bit_for_bit(gymnasium):
    """Checkpointed mid-game (emulator, sticky-action RNG, frameskip RNG, last frame), a fresh env continues
    exactly as the original, frames and rewards."""
    from envs.gymnasium_compat import make_vec

    rng = np.random.default_rng(1)
    actions = rng.integers(0, 3, size=(900, 1))
    venv = make_vec(ale_pong.GYM_ID, 1, seed=4)
    venv.reset()
    for a in actions[:300]:
        venv.step(a)
    saved = venv.get_state()
    after = [venv.step(a) for a in actions[300:]]
    other = make_vec(ale_pong.GYM_ID, 1, seed=99)
    other.set_state(saved)
    again = [other.step(a) for a in actions[300:]]
    assert sum(x[1][0] != 0 for x in after) > 0  # points were played after the checkpoint
    for x, y in zip(after, again):
        for u, v in zip(x[:4], y[:4]):
            assert np.asarray(u).tobytes() == np.asarray(v).tobytes()


def test_reinforce_pong_accepts_it_through_the_gym_adapter(gymnasium):
    from purerl import runs
    from purerl.algos import pong_pg

    env = runs.make_env(pong_pg.ALE_ENV, 1, seed=0)
    learner = pong_pg.Learner(env, pong_pg.Config(hidden=4, num_envs=1), np.random.default_rng(0))
    assert (learner.up, learner.down) == (1, 2)
    obs = env.get_state()["obs"]  # started (and seeded) on demand, so a checkpoint can be written first
    assert obs.shape == (1, 6400) and not obs.any()


def test_trackers_play_whole_ale_games(gymnasium):
    won, lost, steps = ale_pong.play_trackers(1.0, games=1, seed=0)
    assert max(won[0], lost[0]) == 21 and min(won[0], lost[0]) < 21 and steps[0] > 21
