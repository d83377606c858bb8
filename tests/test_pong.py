"""Pong-v0 through the shells (envs.make / envs.make_vec): spaces, dtypes and
errors, truncation, single == vector, checkpoints, rendering, and the scripted
players' scores (the design note PONG.md, section 4, tests 3, 6, 7, 8, 9)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envs
from envs import pong_physics as P
from envs import pong_scripted as S
from test_pong_helpers import karpathy_prepro

FEW = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2**31)


def run_single(env, seed, actions):
    """Step a single env through `actions`, resetting (without a seed) after
    each episode as the vector env does. Returns per-step lists."""
    obs, _ = env.reset(seed=seed)
    out = {"obs": [obs], "reward": [], "terminated": [], "truncated": [], "final_obs": [], "info": []}
    for a in actions:
        obs, r, term, trunc, info = env.step(int(a))
        out["final_obs"].append(obs if (term or trunc) else None)
        if term or trunc:
            obs, _ = env.reset()
        for key, val in (("obs", obs), ("reward", r), ("terminated", term), ("truncated", trunc), ("info", info)):
            out[key].append(val)
    return out


# --- 9: spaces, dtypes, errors ---------------------------------------------------
def test_registered_with_gymnasium_style_spaces():
    assert "Pong-v0" in envs.names()
    pix, state = envs.make("Pong-v0"), envs.make("Pong-v0", obs_type="state")
    assert pix.action_space.n == 3 and pix.spec.id == "Pong-v0" and pix.spec.max_episode_steps == 27_000
    assert pix.observation_space.shape == (6400,) and pix.observation_space.dtype == np.float32
    assert (pix.observation_space.low.min(), pix.observation_space.high.max()) == (0.0, 1.0)
    assert state.observation_space.shape == (7,) and state.observation_space.dtype == np.float32
    for env in (pix, state):
        obs, info = env.reset(seed=0)
        assert obs.dtype == np.float32 and env.observation_space.contains(obs)
        assert info == {"agent_score": 0, "opponent_score": 0, "agent_hits": 0, "opponent_hits": 0}
        obs, reward, term, trunc, info = env.step(1)
        assert env.observation_space.contains(obs) and isinstance(reward, float)
    assert np.array_equal(np.unique(pix.reset(seed=0)[0]), [0.0, 1.0])
    assert pix.reset(seed=0)[0].sum() == 32  # two 8x2 paddles; the ball is hidden until the serve


@pytest.mark.parametrize("kwargs, words", [
    ({"obs_type": "rgb"}, ["obs_type", "'rgb'", "'pixels'", "'state'"]),
    ({"points_to_win": 0}, ["points_to_win", ">= 1", "0"]),
    ({"points_to_win": 2.5}, ["points_to_win", "int"]),
    ({"opp_speed": -1.0}, ["opp_speed", "> 0", "-1.0"]),
    ({"opp_speed": "fast"}, ["opp_speed", "> 0", "'fast'"]),
    ({"sticky_prob": 1.5}, ["sticky_prob", "[0, 1]", "1.5"]),
    ({"hit_reward": float("nan")}, ["hit_reward", "finite"]),
    ({"frameskip": 0}, ["frameskip", "[1, 16]", "0"]),
    ({"frameskip": 2.0}, ["frameskip", "int", "2.0"]),
    ({"serve_speed": 0}, ["serve_speed", "(0, 5]", "0"]),
    ({"serve_speed": 6.0}, ["serve_speed", "(0, 5]", "6.0"]),
    ({"paddle_speed": 5}, ["Pong-v0", "paddle_speed"]),
])
def test_bad_settings_raise_errors_naming_them(kwargs, words):
    with pytest.raises(ValueError) as err:
        envs.make("Pong-v0", **kwargs)
    for word in words:
        assert word in str(err.value)


def test_bad_actions_and_misuse_raise_errors_naming_the_valid_range():
    env = envs.make("Pong-v0", points_to_win=1)
    with pytest.raises(ValueError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    for bad in (3, -1, 1.0, "UP"):
        with pytest.raises(ValueError, match=r"accepted: integers in \[0, 2\]"):
            env.step(bad)
    while not env.step(0)[2]:
        pass
    with pytest.raises(ValueError, match="reset"):
        env.step(0)
    venv = envs.make_vec("Pong-v0", 4, seed=0)
    venv.reset()
    accepted = r"invalid action \S*3\S* for game 2 of Pong-v0; accepted: integers in \[0, 2\]"
    with pytest.raises(ValueError, match=accepted):
        venv.step(np.array([0, 1, 3, 2]))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        venv.step(np.zeros(3, dtype=np.int64))


# --- 3: episode ends ---------------------------------------------------------------
def test_truncated_exactly_at_the_cap_and_never_together_with_terminated():
    env = envs.make("Pong-v0", points_to_win=100, max_episode_steps=60)
    env.reset(seed=0)
    ends = [env.step(0)[2:4] for _ in range(60)]
    assert ends[-1] == (False, True) and not any(t or u for t, u in ends[:-1])
    # find the step at which a game to 2 points terminates, then cap it there
    env = envs.make("Pong-v0", points_to_win=2)
    env.reset(seed=3)
    steps = 1
    while not env.step(2)[2]:
        steps += 1
    env = envs.make("Pong-v0", points_to_win=2, max_episode_steps=steps)
    env.reset(seed=3)
    for _ in range(steps - 1):
        assert env.step(2)[2:4] == (False, False)
    assert env.step(2)[2:4] == (True, False)


@FEW
@given(seeds)
def test_episode_returns_are_final_score_differences(seed):
    venv = envs.make_vec("Pong-v0", 8, seed=seed, obs_type="state", points_to_win=3, hit_reward=0.0)
    venv.reset()
    g = np.random.default_rng(seed)
    total = np.zeros(8)
    finished = 0
    for _ in range(400):
        obs, rewards, term, trunc, info = venv.step(venv.sample_actions(g))
        total += rewards
        done = info["_final_obs"]
        diff = info["agent_score"] - info["opponent_score"]
        assert np.array_equal(info["episode_return"][done], diff[done])
        assert np.array_equal(total[done], diff[done])
        assert np.all(np.maximum(info["agent_score"], info["opponent_score"])[done] == 3)
        assert np.array_equal(term, done)
        total[done] = 0.0
        finished += done.sum()
    assert finished > 0


# --- 6: determinism, single == vector, checkpoints -----------------------------------
@FEW
@given(seeds, st.integers(1, 4), st.sampled_from(["pixels", "state"]), st.sampled_from([0.0, 0.25]),
       st.sampled_from([1, 3]))
def test_vector_env_equals_single_envs_seeded_s_plus_i(seed, n, obs_type, sticky_prob, frameskip):
    steps = 250
    kw = dict(obs_type=obs_type, points_to_win=2, max_episode_steps=120, sticky_prob=sticky_prob,
              frameskip=frameskip)
    actions = np.random.default_rng(seed).integers(0, 3, size=(steps, n))
    venv = envs.make_vec("Pong-v0", n, seed=seed, **kw)
    obs, _ = venv.reset()
    singles = [run_single(envs.make("Pong-v0", **kw), seed + i, actions[:, i]) for i in range(n)]
    assert all(np.array_equal(obs[i], singles[i]["obs"][0]) for i in range(n))
    for t in range(steps):
        obs, rewards, term, trunc, info = venv.step(actions[t])
        for i, s in enumerate(singles):
            assert np.array_equal(obs[i], s["obs"][t + 1])
            assert (rewards[i], term[i], trunc[i]) == (s["reward"][t], s["terminated"][t], s["truncated"][t])
            assert info["_final_obs"][i] == (s["final_obs"][t] is not None)
            if info["_final_obs"][i]:
                assert np.array_equal(info["final_obs"][i], s["final_obs"][t])
            assert all(info[k][i] == s["info"][t][k] for k in ("agent_score", "opponent_score", "agent_hits"))


@pytest.mark.parametrize("obs_type", ["pixels", "state"])
def test_frameskip_step_is_k_plain_steps_with_the_action_held(obs_type):
    k = 4
    skip = envs.make("Pong-v0", obs_type=obs_type, frameskip=k, points_to_win=3, max_episode_steps=10**6)
    plain = envs.make("Pong-v0", obs_type=obs_type, points_to_win=3, max_episode_steps=10**6)
    skip.reset(seed=7), plain.reset(seed=7)
    actions = np.random.default_rng(7).integers(0, 3, size=2000)
    for t, a in enumerate(actions):
        obs, reward, term, _, info = skip.step(a)
        total = 0.0
        for _ in range(k):
            plain_obs, r, plain_term, _, plain_info = plain.step(a)
            total += r
            if plain_term:
                break
        assert np.array_equal(obs, plain_obs) and (reward, term, info) == (total, plain_term, plain_info)
        if term:
            break
    assert term and t < 2000 // 2  # the game ended, in fewer steps than frames
    truncated = envs.make("Pong-v0", frameskip=k, max_episode_steps=10)
    truncated.reset(seed=0)
    assert [truncated.step(1)[3] for _ in range(10)] == [False] * 9 + [True]  # the limit counts steps


def test_same_seed_same_game_and_checkpoints_resume_bit_identically():
    def play(venv, actions):
        return [venv.step(a)[:4] for a in actions]

    actions = np.random.default_rng(0).integers(0, 3, size=(300, 16))
    a, b = (envs.make_vec("Pong-v0", 16, seed=5, points_to_win=2) for _ in range(2))
    a.reset(), b.reset()
    first = play(a, actions[:100])
    assert all(all(np.array_equal(x, y) for x, y in zip(s, t)) for s, t in zip(first, play(b, actions[:100])))
    saved = a.get_state()
    rest = play(a, actions[100:])
    c = envs.make_vec("Pong-v0", 16, points_to_win=2)
    c.set_state(saved)
    assert all(all(np.array_equal(x, y) for x, y in zip(s, t)) for s, t in zip(rest, play(c, actions[100:])))


@pytest.mark.slow  # compiling the parallel kernel takes ~30 s
def test_parallel_kernel_equals_serial_kernel():
    actions = np.random.default_rng(1).integers(0, 3, size=(200, 64))
    out = []
    for parallel in (False, True):
        venv = envs.make_vec("Pong-v0", 64, seed=9, points_to_win=2, parallel=parallel)
        venv.reset()
        out.append([venv.step(a) for a in actions])
    for (o1, r1, t1, u1, i1), (o2, r2, t2, u2, i2) in zip(*out):
        for x, y in ((o1, o2), (r1, r2), (t1, t2), (u1, u2), (i1["final_obs"], i2["final_obs"])):
            assert np.array_equal(x, y)


# --- 7: rendering through the shell ---------------------------------------------------------
def test_observation_is_karpathy_preprocessing_of_render():
    env = envs.make("Pong-v0")
    obs, _ = env.reset(seed=2)
    g = np.random.default_rng(2)
    seen_ball = False
    for _ in range(300):
        frame = env.render()
        assert frame.shape == (210, 160, 3) and frame.dtype == np.uint8
        assert np.array_equal(karpathy_prepro(frame).ravel(), obs)
        seen_ball |= obs.sum() == 34  # paddles 32 + ball 2
        obs = env.step(int(g.integers(3)))[0]
    assert seen_ball


# --- 8: scripted players at fixed seeds ----------------------------------------------------
def test_scripted_players_scores():
    """Games to 5 at seeds 0..9: random play loses nearly every point, the
    centre-tracker loses, the edge-hitter beats the built-in AI and beats the
    centre-tracker head to head (the full measurement, games to 21, is
    `python -m purerl bench pong_policies`, recorded in README)."""
    games, ptw = 10, 5
    results = {}
    for name, opponent in (("random", None), ("centre", None), ("edge", None), ("edge", "centre")):
        a, o, _ = S.play_match(S.POLICIES[name], opponent and S.POLICIES[opponent], games=games, seed=0,
                               points_to_win=ptw)
        results[name, opponent] = a - o
    assert results["random", None].mean() <= -0.8 * ptw
    assert np.all(results["random", None] < 0)
    assert results["centre", None].mean() < 0
    assert np.all(results["edge", None] > 0) and results["edge", None].mean() >= 0.8 * ptw
    assert np.all(results["edge", "centre"] > 0)


def test_policies_read_state_observations():
    obs = envs.make("Pong-v0", obs_type="state").reset(seed=0)[0][None]
    for policy in S.POLICIES.values():
        assert policy(obs, np.random.default_rng(0)).dtype == np.int64
    with pytest.raises(ValueError, match=r"shape \(B, 7\)"):
        S.edge_hitter(np.zeros((1, 6400)))
    assert np.array_equal(S.mirror_obs(S.mirror_obs(obs)), obs)
    # the fold of an unobstructed ball matches the kernel's wall reflections
    y = np.linspace(-500, 500, 41)
    assert np.all(np.abs(S.fold(y)) <= P.BALL_Y_MAX) and np.allclose(S.fold(S.fold(y)), S.fold(y))


def test_beatability_bench_runs(capsys):
    from purerl import cli
    cli.main(["bench", "pong_policies", "--games", "2", "--points-to-win", "1", "--max-steps", "300"])
    out = capsys.readouterr().out
    for name in S.POLICIES:
        assert f"| {name}" in out
    assert "python -m purerl bench pong_policies --games 2" in out


def test_updown_tracker_uses_two_actions_and_following_the_ball_pays(capsys):
    obs = envs.make_vec("Pong-v0", 8, seed=0, obs_type="state").reset()[0]
    rng = np.random.default_rng(0)
    assert set(S.updown_tracker(0.5)(obs, rng)) <= {1, 2}
    follower, coin = S.updown_tracker(1.0)(obs, rng), S.updown_tracker(0.0)
    assert np.array_equal(follower, np.where(np.where(obs[:, 6] > 0, 0.0, obs[:, 1]) * P.BALL_Y_MAX
                                             < obs[:, 4] * P.PADDLE_Y_MAX, 1, 2))
    diffs = {}
    for q, policy in ((1.0, S.updown_tracker(1.0)), (0.0, coin)):
        a, o, _ = S.play_match(policy, games=20, seed=0, points_to_win=5)
        diffs[q] = (a - o).mean()
    assert diffs[1.0] > diffs[0.0] + 1.0, diffs
    from purerl import cli
    cli.main(["bench", "pong_policies", "--games", "2", "--points-to-win", "1", "--trackers", "1", "0.5"])
    out = capsys.readouterr().out
    assert "| updown tracker, q=1 " in out and "| updown tracker, q=0.5 " in out and "--trackers 1 0.5" in out


def test_a_slower_serve_makes_longer_games_and_the_bench_passes_it_on(capsys):
    """serve_speed reaches play_match: every point takes at least the serve
    delay plus the 79 px from the centre line to a goal at serve_speed px per
    frame, so random play's games to 3 last longer with a slower ball."""
    steps = {}
    for v in (1.0, 3.0):
        _, o, steps[v] = S.play_match(S.random_policy, games=10, seed=0, points_to_win=3, serve_speed=v)
        assert np.all(o == 3)
        assert steps[v].min() >= 3 * (P.SERVE_DELAY + P.BALL_X_MAX / v), (v, steps[v])
    assert steps[1.0].mean() > steps[3.0].mean(), steps
    from purerl import cli
    cli.main(["bench", "pong_policies", "--games", "2", "--points-to-win", "1", "--serve-speed", "1.5"])
    assert "--serve-speed 1.5" in capsys.readouterr().out


def test_frameskip_in_play_match_holds_each_decision_for_k_frames(capsys):
    """A fixed action stream played with frameskip k gives the same scores as
    the stream with each action repeated k times at frameskip 1, and each
    game lasts ceil(frames / k) decisions."""
    k, games, horizon = 4, 6, 4000
    stream = np.random.default_rng(1).integers(0, 3, size=(horizon, games))

    def replay(hold):
        t = iter(range(horizon))
        return lambda obs, rng: stream[next(t) // hold]

    a_k, o_k, steps_k = S.play_match(replay(1), games=games, seed=0, points_to_win=3, frameskip=k)
    a_1, o_1, frames = S.play_match(replay(k), games=games, seed=0, points_to_win=3)
    assert np.all(np.maximum(o_1, a_1) == 3)
    assert np.array_equal(a_k, a_1) and np.array_equal(o_k, o_1)
    assert np.array_equal(steps_k, -(-frames // k))
    from purerl import cli
    cli.main(["bench", "pong_policies", "--games", "2", "--points-to-win", "1", "--frameskip", "4", "--trackers", "1"])
    assert "--frameskip 4 --trackers 1" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--games", "0", "--trackers", "1.5"], r"--games must be >= 1, got 0; --trackers must be probabilities"),
    # the env's settings are judged by Pong-v0's own validation, which names the accepted range
    (["--frameskip", "20", "--opp-speed", "3", "-1"],
     r"--frameskip: frameskip must be an int in \[1, 16\].*, got 20; --opp-speed: opp_speed must be .* > 0, got -1.0$"),
    # --ale plays ALE's own game: it needs --trackers, and Pong's options would be silently ignored there
    (["--ale"], r"--ale must be used with --trackers"),
    (["--ale", "--trackers", "1", "--frameskip", "4"],
     r"--ale must be used without --points-to-win, .* \(ALE's are fixed\), got --frameskip 4"),
])
def test_beatability_bench_names_bad_settings(argv, message):
    from purerl.bench import pong_policies
    from purerl.cli import build_parser
    args = build_parser().parse_args(["bench", "pong_policies", *argv])
    with pytest.raises(SystemExit, match=message):
        pong_policies.check(args)
