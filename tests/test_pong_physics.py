"""Pong physics kernel against the design note PONG.md, section 4, tests 1-6: bounds,
speed caps, scores and rewards, bounces, mirror symmetries, determinism."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs import pong_physics as P
from test_pong_helpers import ai, new_games, py_twin, random_actions, random_states, rollout

FEW = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)


# --- 1, 2: bounds and speed caps ----------------------------------------------------
@FEW
@given(seeds, st.floats(0.5, 5.0), st.booleans())
def test_bounds_and_speed_caps(seed, opp_speed, explicit_opp):
    g = np.random.default_rng(seed)
    n, steps = 8, 300
    fs, ist, rng = random_states(g, n)
    opp = random_actions(g, steps, n) if explicit_opp else ai(steps, n)
    rec = rollout(fs, ist, rng, random_actions(g, steps, n), opp, opp_speed=opp_speed, points_to_win=3,
                  autoreset=True)
    f = rec["fs"]
    assert np.all(np.abs(f[..., P.BX]) <= P.BALL_X_MAX)  # top-left x in [0, 158]
    assert np.all(np.abs(f[..., P.BY]) <= P.BALL_Y_MAX)  # top row in [34, 190]
    assert np.all(np.abs(f[..., [P.PA, P.PO]]) <= P.PADDLE_Y_MAX)  # paddle tops in [34, 178]
    assert np.all(np.abs(f[..., P.VY]) <= P.V_MAX)
    speed = np.abs(f[..., P.VX])
    assert np.all((speed >= P.VX_SERVE) & (speed <= P.V_MAX))
    moved = np.diff(f[..., [P.PA, P.PO]], axis=0)
    kept = ~rec["terminated"]  # a restart re-centres the paddles
    assert np.all(np.isin(np.abs(moved[..., 0][kept]), [0.0, P.PADDLE_MOVE]))
    cap = P.PADDLE_MOVE if explicit_opp else opp_speed
    ulp = 1e-12  # rounding of po + step - po for |po| <= 72
    assert np.all(np.abs(moved[..., 1][kept]) <= cap + ulp)
    assert np.any(np.abs(moved[..., 1][kept]) >= cap - ulp)


# --- 3: scores, rewards, termination (truncation is the shell's: test_pong.py) ----
@FEW
@given(seeds, st.integers(1, 4), st.sampled_from([0.0, 0.5]))
def test_scores_rewards_and_termination(seed, points_to_win, hit_reward):
    g = np.random.default_rng(seed)
    n, steps = 6, 600
    fs, ist, rng = new_games(n, seed)
    rec = rollout(fs, ist, rng, random_actions(g, steps, n), ai(steps, n), hit_reward=hit_reward,
                  points_to_win=points_to_win, autoreset=True)
    before, after = rec["ist"][:-1], rec["final_ist"]  # state before / after each step, pre-reset
    d_a = after[..., P.SCORE_A] - before[..., P.SCORE_A]
    d_o = after[..., P.SCORE_O] - before[..., P.SCORE_O]
    d_hits = after[..., P.HITS_A] - before[..., P.HITS_A]
    assert np.all((d_a >= 0) & (d_o >= 0) & (d_a + d_o <= 1))
    assert np.array_equal(rec["reward"], d_a - d_o + hit_reward * d_hits)
    hit_target = np.maximum(after[..., P.SCORE_A], after[..., P.SCORE_O]) == points_to_win
    assert np.array_equal(rec["terminated"], hit_target)
    # over every finished episode, the point rewards sum to the final score difference
    for i in range(n):
        start = 0
        for t in np.flatnonzero(rec["terminated"][:, i]):
            points = rec["reward"][start:t + 1, i] - hit_reward * d_hits[start:t + 1, i]
            assert points.sum() == after[t, i, P.SCORE_A] - after[t, i, P.SCORE_O]
            start = t + 1
    assert rec["terminated"].any()


# --- 4: bounces ------------------------------------------------------------------------
def one_ball(bx, by, vx, vy, pa=0.0, po=0.0):
    fs, ist, rng = new_games(1)
    fs[0] = [bx, by, vx, vy, pa, po]
    ist[0, P.COUNTDOWN] = 0
    return fs, ist, rng


def step_once(fs, ist, rng, a=P.NOOP, o=P.NOOP, **kw):
    rec = rollout(fs, ist, rng, np.array([[a]]), np.array([[o]]), **kw)
    return rec["fs"][1][0], rec["ist"][1][0], rec["reward"][0, 0]


def test_hand_worked_agent_paddle_hit():
    # ball centre x 55 -> 59 in the first step (4 substeps of 1 px): no contact
    # yet (needs 59 < x); next step the first substep reaches 60 and hits the
    # agent paddle (centre 16): vx = -(4 + 0.25), vy = 5 * (10 - 16) / 10 = -3;
    # three substeps remain at (-4.25/4, -3/4) per substep.
    fs, ist, rng = one_ball(55.0, 10.0, 4.0, 0.0, pa=16.0)
    f, i, _ = step_once(fs, ist, rng)
    assert (f[P.BX], f[P.VX], i[P.HITS_A]) == (59.0, 4.0, 0)
    f, i, _ = step_once(f[None].copy(), i[None].copy(), rng)
    assert (f[P.VX], f[P.VY]) == (-4.25, -3.0)
    assert (f[P.BX], f[P.BY]) == (60.0 - 3 * 4.25 / 4, 10.0 - 3 * 3.0 / 4)
    assert i[P.HITS_A] == 1


def test_hand_worked_wall_reflection():
    # ball centre y 77 moving down at 2 px/substep... (vy = 4: 1 px per substep):
    # 78, then 79 -> reflected to 77 with vy -> -4, then 76, 75.
    fs, ist, rng = one_ball(0.0, 77.0, 3.0, 4.0)
    f, _, _ = step_once(fs, ist, rng)
    assert (f[P.BY], f[P.VY]) == (75.0, -4.0)


@FEW
@given(seeds)
def test_walls_keep_speed_and_paddles_flip_vx(seed):
    g = np.random.default_rng(seed)
    n, steps = 16, 200
    fs, ist, rng = random_states(g, n, hidden_prob=0.0)
    rec = rollout(fs, ist, rng, random_actions(g, steps, n), ai(steps, n))
    f, it = rec["fs"], rec["ist"]
    in_play = (it[:-1, :, P.COUNTDOWN] == 0) & (it[1:, :, P.COUNTDOWN] == 0)
    hits = (it[1:, :, P.HITS_A] + it[1:, :, P.HITS_O]) - (it[:-1, :, P.HITS_A] + it[:-1, :, P.HITS_O])
    wall_only = in_play & (hits == 0) & (np.sign(f[1:, :, P.VY]) != np.sign(f[:-1, :, P.VY]))
    assert wall_only.any()
    assert np.array_equal(np.abs(f[1:, :, P.VY])[wall_only], np.abs(f[:-1, :, P.VY])[wall_only])
    no_hit = in_play & (hits == 0)
    assert np.array_equal(f[1:, :, P.VX][no_hit], f[:-1, :, P.VX][no_hit])
    hit = in_play & (hits == 1)
    assert hit.any()
    vx0, vx1 = f[:-1, :, P.VX][hit], f[1:, :, P.VX][hit]
    assert np.all(np.sign(vx1) == -np.sign(vx0))
    assert np.array_equal(np.abs(vx1), np.minimum(np.abs(vx0) + P.VX_GAIN, P.V_MAX))


# --- serves ------------------------------------------------------------------------------
def test_serves_hidden_for_eight_steps_then_from_the_centre_toward_the_conceder():
    n, steps = 32, 2000
    g = np.random.default_rng(1)
    fs, ist, rng = new_games(n, 7)
    rec = rollout(fs, ist, rng, random_actions(g, steps, n), ai(steps, n))
    cd, f = rec["ist"][..., P.COUNTDOWN], rec["fs"]
    assert np.all(cd[0] == P.SERVE_DELAY) and np.all(f[0, :, P.VX] > 0)  # first serve to the agent
    launch = (cd[:-1] == 1) & (cd[1:] == 0)
    top = f[1:, :, P.BY][launch] + P.CY - P.BALL_H / 2
    assert np.array_equal(top, np.round(top))
    assert top.min() >= P.SERVE_TOP_LO and top.max() <= P.SERVE_TOP_HI
    assert set(f[1:, :, P.VY][launch]) == set(P.SERVE_VY)
    assert np.all(f[1:, :, P.BX][launch] == 0.0) and np.all(np.abs(f[1:, :, P.VX][launch]) == P.VX_SERVE)
    # a point hides the ball for exactly SERVE_DELAY observations, then it is served
    point = rec["reward"] != 0
    for t, i in zip(*np.nonzero(point[: steps - P.SERVE_DELAY])):
        assert list(cd[t + 1: t + P.SERVE_DELAY + 2, i]) == list(range(P.SERVE_DELAY, -1, -1))
        assert np.sign(f[t + 1, i, P.VX]) == -rec["reward"][t, i]  # toward whoever conceded
    # the game's RNG is drawn from at launches only (two draws each)
    changed = np.any(rec["rng"][1:] != rec["rng"][:-1], axis=-1)
    assert np.array_equal(changed, launch)


@pytest.mark.parametrize("serve_speed", [1.0, 2.5])
def test_serve_speed_sets_the_launch_speed_and_nothing_before_it(serve_speed):
    n, steps = 16, 600
    g = np.random.default_rng(2)
    fs, ist, rng = new_games(n, 3)
    acts = random_actions(g, steps, n)
    slow = rollout(fs, ist, rng, acts, ai(steps, n), serve_speed=serve_speed)
    cd, f = slow["ist"][..., P.COUNTDOWN], slow["fs"]
    launch = (cd[:-1] == 1) & (cd[1:] == 0)
    assert launch.sum() >= n and np.all(np.abs(f[1:, :, P.VX][launch]) == serve_speed)
    # same draws as the default game up to the first launch: only |vx| differs there
    default = rollout(fs, ist, rng, acts, ai(steps, n))
    t0 = P.SERVE_DELAY
    assert np.array_equal(slow["rng"][: t0 + 1], default["rng"][: t0 + 1])
    assert np.array_equal(slow["fs"][t0, :, P.BY], default["fs"][t0, :, P.BY])
    assert np.all(default["fs"][t0, :, P.VX] == P.VX_SERVE)


def test_sticky_actions():
    n, steps = 4, 100
    g = np.random.default_rng(0)
    fs, ist, rng = new_games(n, 3)
    acts = random_actions(g, steps, n)
    frozen = rollout(fs, ist, rng, acts, ai(steps, n), sticky_prob=1.0)  # always repeats NOOP
    assert np.all(frozen["fs"][..., P.PA] == 0.0)
    a = rollout(fs, ist, rng, acts, ai(steps, n), sticky_prob=0.25)
    b = rollout(fs, ist, rng, acts, ai(steps, n), sticky_prob=0.25)
    assert np.array_equal(a["fs"], b["fs"])
    executed = a["ist"][1:, :, P.LAST]
    assert 0 < np.mean(executed != acts) < 0.5


# --- 5: mirror symmetry -----------------------------------------------------------------
def mirror_y(fs):
    out = fs.copy()
    out[..., [P.BY, P.VY, P.PA, P.PO]] *= -1
    return out


def check_vertical_mirror(seed):
    """Mirror random states vertically, swap UP and DOWN, and compare both
    games bit for bit up to each game's next serve; returns (rollout, compared mask)."""
    g = np.random.default_rng(seed)
    n, steps = 64, 150
    fs, ist, rng = random_states(g, n)
    acts = random_actions(g, steps, n)
    swapped = np.array([0, 2, 1])[acts]  # UP <-> DOWN
    a = rollout(fs, ist, rng, acts, ai(steps, n))
    b = rollout(mirror_y(fs), ist, rng, swapped, ai(steps, n))
    # compare until each game's next serve draws (the draw itself is not mirrored)
    cd = a["ist"][..., P.COUNTDOWN]
    launch = np.vstack([np.zeros((1, n), bool), (cd[:-1] > 0) & (cd[1:] == 0)])
    valid = np.cumsum(launch, axis=0) == 0
    for t in range(steps + 1):
        v = valid[t]
        assert np.array_equal(b["fs"][t][v], mirror_y(a["fs"][t])[v])
        mirrored_ist = a["ist"][t].copy()
        mirrored_ist[:, P.LAST] = np.array([0, 2, 1])[mirrored_ist[:, P.LAST]]
        assert np.array_equal(b["ist"][t][v], mirrored_ist[v])
        if t < steps:
            assert np.array_equal(b["reward"][t][valid[t + 1]], a["reward"][t][valid[t + 1]])
    return a, valid


@FEW
@given(seeds)
def test_vertical_mirror_with_up_down_swapped_mirrors_the_game(seed):
    check_vertical_mirror(seed)


def test_vertical_mirror_comparison_covers_hits_by_both_sides():
    a, valid = check_vertical_mirror(0)
    # hits are 0 in random_states, so these count hits inside the compared stretches
    assert np.any(a["ist"][..., P.HITS_O][valid] > 0) and np.any(a["ist"][..., P.HITS_A][valid] > 0)


def swap_players(fs, ist):
    f, i = fs.copy(), ist.copy()
    f[:, [P.BX, P.VX]] *= -1
    f[:, [P.PA, P.PO]] = fs[:, [P.PO, P.PA]]
    i[:, [P.SCORE_A, P.SCORE_O]] = ist[:, [P.SCORE_O, P.SCORE_A]]
    i[:, [P.HITS_A, P.HITS_O]] = ist[:, [P.HITS_O, P.HITS_A]]
    return f, i


@FEW
@given(seeds)
def test_swapping_players_mirrors_the_game_in_x_across_serves(seed):
    g = np.random.default_rng(seed)
    n, steps = 8, 400
    fs, ist, rng = random_states(g, n)
    right, left = random_actions(g, steps, n), random_actions(g, steps, n)
    a = rollout(fs, ist, rng, right, left, points_to_win=1000)
    b = rollout(*swap_players(fs, ist), rng, left, right, points_to_win=1000)
    keep = [k for k in range(P.N_INT) if k != P.LAST]  # LAST records the right player's action
    for t in range(steps + 1):
        f, i = swap_players(a["fs"][t], a["ist"][t])
        assert np.array_equal(b["fs"][t], f)
        assert np.array_equal(b["ist"][t][:, keep], i[:, keep])
    assert np.array_equal(b["reward"], -a["reward"])
    assert np.array_equal(b["rng"], a["rng"])
    assert np.any(a["reward"] != 0)


# --- 6: determinism and batch == singles; jit == Python ------------------------------
@FEW
@given(seeds, st.integers(1, 5), st.sampled_from([0.0, 0.3]))
def test_batch_equals_single_games_and_is_deterministic(seed, n, sticky_prob):
    g = np.random.default_rng(seed)
    steps = 300
    acts = random_actions(g, steps, n)
    batch = rollout(*new_games(n, seed), acts, ai(steps, n), sticky_prob=sticky_prob, autoreset=True,
                    points_to_win=2)
    again = rollout(*new_games(n, seed), acts, ai(steps, n), sticky_prob=sticky_prob, autoreset=True,
                    points_to_win=2)
    for key in batch:
        assert np.array_equal(batch[key], again[key])
    for i in range(n):
        single = rollout(*new_games(1, seed + i), acts[:, i:i + 1], ai(steps, 1), sticky_prob=sticky_prob,
                         autoreset=True, points_to_win=2)
        for key in single:
            assert np.array_equal(single[key][:, 0], batch[key][:, i])


def test_jitted_kernel_equals_its_python_twin():
    g = np.random.default_rng(5)
    n, steps = 8, 40
    fs, ist, rng = random_states(g, n)
    acts, opp = random_actions(g, steps, n), ai(steps, n)
    opp[:, ::2] = random_actions(g, steps, n)[:, ::2]
    jit = rollout(fs, ist, rng, acts, opp, sticky_prob=0.2, hit_reward=0.5)
    py = rollout(fs, ist, rng, acts, opp, sticky_prob=0.2, hit_reward=0.5, kernel=py_twin(P.step_kernel))
    for key in jit:
        assert np.array_equal(jit[key], py[key]), key


# --- frameskip: one decision is k frames with the action held ------------------------
@FEW
@given(seeds, st.integers(2, 8), st.sampled_from([0.0, 0.25]), st.sampled_from([0.0, 0.5]))
def test_frameskip_k_is_k_frames_with_the_action_held(seed, k, sticky_prob, hit_reward):
    g = np.random.default_rng(seed)
    n, decisions = 8, 120
    fs, ist, rng = random_states(g, n, points_to_win=3)
    acts = random_actions(g, decisions, n)
    opp = np.where(g.random((decisions, n)) < 0.5, P.AI, random_actions(g, decisions, n))
    skipped = rollout(fs, ist, rng, acts, opp, frameskip=k, points_to_win=3, sticky_prob=sticky_prob,
                      hit_reward=hit_reward)
    frames = rollout(fs, ist, rng, np.repeat(acts, k, axis=0), np.repeat(opp, k, axis=0), points_to_win=3,
                     sticky_prob=sticky_prob, hit_reward=hit_reward)
    for i in range(n):
        over = np.flatnonzero(frames["terminated"][:, i])
        last = over[0] if over.size else decisions * k - 1  # the frame at which game i ends
        for t in range(decisions):
            end = min((t + 1) * k, last + 1)  # frames after decision t, stopping when the game ends
            for key in ("fs", "ist", "rng"):
                assert np.array_equal(skipped[key][t + 1, i], frames[key][end, i])
            assert skipped["reward"][t, i] == frames["reward"][t * k: end, i].sum()
            assert skipped["terminated"][t, i] == (end == last + 1 and over.size > 0)
            if end == last + 1:
                break
