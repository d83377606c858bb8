"""Pong renderers (the design note PONG.md, section 4, test 7): the 80x80 frame is
Karpathy's preprocessing of the RGB frame, exactly; objects have the stated
pixel counts; the state vector is the scaled physics state."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from envs import pong_physics as P
from envs import pong_render as R
from test_pong_helpers import karpathy_prepro, py_twin, random_states

FEW = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def render(fn, shape, dtype, fs, ist):
    out = np.full((fs.shape[0],) + shape, 7, dtype=dtype)  # garbage: renderers must overwrite all
    fn(fs, ist, out)
    return out


def frames(fs, ist, dtype=np.float32):
    return render(R.render_pixels, (R.FRAME * R.FRAME,), dtype, fs, ist).reshape(-1, R.FRAME, R.FRAME)


@FEW
@given(seeds)
def test_pixels_equal_karpathy_preprocessing_of_the_rgb_frame(seed):
    fs, ist, _ = random_states(np.random.default_rng(seed), 32)
    rgb = render(R.render_rgb, (210, 160, 3), np.uint8, fs, ist)
    pix = frames(fs, ist)
    for n in range(fs.shape[0]):
        assert np.array_equal(pix[n], karpathy_prepro(rgb[n]))


def test_pixel_and_rgb_counts_per_object():
    g = np.random.default_rng(0)
    fs, ist, _ = random_states(g, 150, hidden_prob=0.3)
    fs[:, P.BX] = g.uniform(-57.0, 57.0, 150)  # keep the ball clear of the paddles' columns
    pix = frames(fs, ist, np.uint8)
    rgb = render(R.render_rgb, (210, 160, 3), np.uint8, fs, ist)
    visible = ist[:, P.COUNTDOWN] == 0
    assert visible.any() and not visible.all()
    for n in range(150):
        f = pix[n]
        for cols in ((8, 9), (70, 71)):  # opponent, agent: 2 columns x 8 consecutive rows
            rows = np.flatnonzero(f[:, cols[0]])
            assert len(rows) == 8 and rows[-1] - rows[0] == 7
            assert np.array_equal(f[:, cols[0]], f[:, cols[1]])
        rest = f.copy()
        rest[:, [8, 9, 70, 71]] = 0
        ball = np.argwhere(rest)
        if visible[n]:  # 1 column x 2 consecutive rows
            assert len(ball) == 2 and ball[0, 1] == ball[1, 1] and ball[1, 0] - ball[0, 0] == 1
        else:
            assert len(ball) == 0
        screen = rgb[n]
        for colour, count, cols in ((R.AGENT_RGB, 64, (140, 144)), (R.OPP_RGB, 64, (16, 20))):
            mask = np.all(screen == colour, axis=-1)
            assert mask.sum() == count and mask[:, cols[0]:cols[1]].sum() == count
        white = np.all(screen == R.WHITE, axis=-1)
        assert white[24:34].all() and white[194:].all() and not white[:24].any()
        assert white[34:194].sum() == (8 if visible[n] else 0)  # ball 2 x 4


def test_hand_placed_objects():
    fs, ist, _ = random_states(np.random.default_rng(1), 1, hidden_prob=0.0)
    # ball centre (10.5, -20.25) -> top-left (89.5, 91.75) -> pixel (row 91, col 89)
    fs[0] = [10.5, -20.25, 3.0, 1.0, 8.0, -71.5]
    pix = frames(fs, ist, np.uint8)[0]
    # rows 91..94 -> sampled rows 91, 93 = 35 + 2i for i = 28, 29; cols 89, 90 -> j = 45
    assert pix[28, 45] == pix[29, 45] == 1 and pix[:, 10:68].sum() == 2
    # agent paddle top 114 + 8 - 8 = 114: rows 114..129 -> odd rows 115..129 -> i = 40..47
    assert np.array_equal(np.flatnonzero(pix[:, 70]), np.arange(40, 48))
    # opponent top floor(114 - 71.5 - 8) = 34: rows 34..49 -> i = 0..7
    assert np.array_equal(np.flatnonzero(pix[:, 8]), np.arange(0, 8))


@FEW
@given(seeds)
def test_state_vector_scaling(seed):
    fs, ist, _ = random_states(np.random.default_rng(seed), 16)
    out = render(R.render_state, (R.N_STATE,), np.float64, fs, ist)
    scale = [P.BALL_X_MAX, P.BALL_Y_MAX, P.V_MAX, P.V_MAX, P.PADDLE_Y_MAX, P.PADDLE_Y_MAX]
    expected = np.vstack([fs[:, k] / s for k, s in enumerate(scale)] + [ist[:, P.COUNTDOWN] / P.SERVE_DELAY]).T
    assert np.array_equal(out, expected)
    assert np.all(np.abs(out) <= 1.0)
    named = dict(zip(R.STATE_COLUMNS, out.T))  # the names callers index by
    assert np.array_equal(named["countdown"], ist[:, P.COUNTDOWN] / P.SERVE_DELAY)
    assert np.array_equal(named["agent_y"], fs[:, P.PA] / P.PADDLE_Y_MAX)


def test_renderers_equal_their_python_twins_and_dtypes_agree():
    fs, ist, _ = random_states(np.random.default_rng(2), 8)
    for fn, shape in ((R.render_pixels, (6400,)), (R.render_state, (7,)), (R.render_rgb, (210, 160, 3))):
        dtype = np.uint8 if fn is R.render_rgb else np.float32
        assert np.array_equal(render(fn, shape, dtype, fs, ist), render(py_twin(fn), shape, dtype, fs, ist))
    assert np.array_equal(frames(fs, ist, np.uint8), frames(fs, ist, np.float32))
