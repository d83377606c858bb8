"""Karpathy's pg-pong replica (purerl/algos/pong_pg.py): gradient, update, returns, config, learning.

References are written here from the equations of Karpathy's pg-pong.py
(the design note PONG.md, section 1), independently of purerl's pieces: his
`discount_rewards` loop, his per-episode standardisation, his
policy_forward / policy_backward in his (H, D) layout and his RMSProp step.
"""

import numpy as np
import pytest

import envs
from purerl.algos import pong_pg
from purerl.policies import BernoulliPolicy
from purerl.pong_eval import play_pong
from purerl.sparse import sparse_rows


def difference_frames(rng, batch, dim, density=0.1):
    x = np.zeros((batch, dim))
    mask = rng.random((batch, dim)) < density
    x[mask] = rng.choice([-1.0, 1.0], size=mask.sum())
    return x


def test_gradient_matches_finite_differences_on_a_tiny_network():
    rng = np.random.default_rng(0)
    policy = pong_pg.pong_policy(obs_dim=30, hidden=5)
    dense = BernoulliPolicy(30, (5,), activation="relu", bias=False)  # the reference: the same theta, read densely
    theta = policy.init(rng) * 3.0  # far from p = 1/2 everywhere
    x = difference_frames(rng, 12, 30, density=0.3)
    actions = rng.integers(0, 2, size=12)
    weights = rng.standard_normal(12)

    def surrogate(th):  # sum_t weights_t log pi_th(a_t | x_t), through the dense reference network
        dist, _ = dense.distribution(th, x)
        return float(weights @ dist.log_prob(actions))

    grad, _ = pong_pg.summed_policy_gradient(policy, theta, sparse_rows(x), actions, weights)
    h = 1e-6
    fd = np.array([(surrogate(theta + h * e) - surrogate(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    assert np.count_nonzero(np.abs(fd) > 1e-3) > theta.size // 4  # the check is not vacuous


def karpathy_discount_rewards(r, gamma):
    """pg-pong.py's discount_rewards: the running sum restarts at every nonzero reward."""
    out, running = np.zeros_like(r), 0.0
    for t in reversed(range(r.size)):
        if r[t] != 0:
            running = 0.0
        running = running * gamma + r[t]
        out[t] = running
    return out


def test_point_returns_are_karpathys_discounted_and_standardised_returns():
    rng = np.random.default_rng(1)
    T, N = 40, 3
    rewards = rng.choice([0.0, 0.0, 0.0, 1.0, -1.0], size=(T, N))
    terminated = np.zeros((T, N), dtype=bool)
    terminated[[11, 39], 0] = terminated[[25, 39], 1] = terminated[39, 2] = True
    got = pong_pg.point_returns(rewards, terminated, np.zeros_like(terminated), pong_pg.Config(gamma=0.5))
    for n in range(N):
        ends = np.flatnonzero(terminated[:, n]) + 1
        for start, stop in zip(np.r_[0, ends[:-1]], ends):
            g = karpathy_discount_rewards(rewards[start:stop, n], 0.5)
            g = (g - g.mean()) / (g.std() + 1e-8)
            np.testing.assert_allclose(got[start:stop, n], g, rtol=1e-12, atol=1e-12)


def karpathy_update(W1, W2, batch, cache, lr=1e-4, decay=0.99):
    """pg-pong.py's RMSProp step after a batch, in his layout (W1 (H, D), W2 (H,)); returns new (W1, W2, cache)."""
    rewards, terminated, truncated, valid = batch.arrays()
    frames = np.concatenate([f.dense() for f in batch.frames])
    actions = np.concatenate([a[v] for a, v in zip(batch.actions, valid)])
    columns = np.flatnonzero(valid.any(axis=0))
    # valid steps are stored time-major; regroup them into each game's episode
    game = np.concatenate([np.flatnonzero(v) for v in valid])
    g1, g2 = np.zeros_like(W1), np.zeros_like(W2)
    for n in columns:
        rows = np.flatnonzero(game == n)
        epx = frames[rows]
        eph = np.maximum(epx @ W1.T, 0.0)
        p = 1.0 / (1.0 + np.exp(-(eph @ W2)))
        y = actions[rows]  # "fake label": 1 for UP
        epr = rewards[valid[:, n], n]
        g = karpathy_discount_rewards(epr, 0.99)
        g = (g - g.mean()) / (g.std() + 1e-8)
        epdlogp = (y - p) * g
        g2 += eph.T @ epdlogp
        dh = np.outer(epdlogp, W2)
        dh[eph <= 0] = 0.0
        g1 += dh.T @ epx
    new = []
    for w, g, c in ((W1, g1, cache[0]), (W2, g2, cache[1])):
        c = decay * c + (1 - decay) * g ** 2
        new.append((w + lr * g / (np.sqrt(c) + 1e-5), c))
    return new[0][0], new[1][0], (new[0][1], new[1][1])


def test_one_update_equals_karpathys_script_on_the_same_episodes():
    env = envs.make_vec("PongDiff-v0", 3, seed=4, points_to_win=1)
    cfg = pong_pg.Config(num_envs=3, hidden=6)
    learner = pong_pg.Learner(env, cfg, np.random.default_rng(4))
    D, H = 6400, 6
    W1 = learner.theta[: D * H].reshape(D, H).T.copy()
    W2 = learner.theta[D * H:].copy()
    cache = (np.zeros_like(W1), np.zeros_like(W2))
    for _ in range(2):
        batch = learner.collect()
        W1, W2, cache = karpathy_update(W1, W2, batch, cache)
        learner.collect = lambda batch=batch: batch
        learner.step()
        del learner.collect
        np.testing.assert_allclose(learner.theta[: D * H].reshape(D, H).T, W1, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(learner.theta[D * H:], W2, rtol=1e-9, atol=1e-12)
    assert len(batch.episode_returns) == 3 and learner.stats.episodes == 6


def test_batch_holds_exactly_one_episode_per_game_and_the_running_reward_is_karpathys():
    env = envs.make_vec("PongDiff-v0", 4, seed=0, points_to_win=2)
    learner = pong_pg.Learner(env, pong_pg.Config(num_envs=4, hidden=4), np.random.default_rng(0))
    batches, collect = [], learner.collect
    learner.collect = lambda: batches.append(collect()) or batches[-1]
    rows = [learner.step() for _ in range(3)]
    running = None
    for batch in batches:
        rewards, terminated, truncated, valid = batch.arrays()
        done = (terminated | truncated) & valid
        assert done.sum(axis=0).tolist() == [1, 1, 1, 1]  # one episode per game...
        last = valid.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
        assert done[last, np.arange(4)].all()  # ...ending at its last valid step
        np.testing.assert_array_equal(np.sort(batch.episode_returns), np.sort((rewards * valid).sum(axis=0)))
        for ret in batch.episode_returns:  # pg-pong: R = first return, then R <- 0.99 R + 0.01 r
            running = ret if running is None else 0.99 * running + 0.01 * ret
    assert rows[-1]["running_reward"] == pytest.approx(running, abs=1e-12)
    assert rows[-1]["episodes"] == 12 and rows[-1]["env_steps"] == sum(b.env_steps for b in batches)


def test_act_plays_only_up_or_down():
    env = envs.make_vec("PongDiff-v0", 5, seed=0)
    learner = pong_pg.Learner(env, pong_pg.Config(num_envs=5, hidden=4), np.random.default_rng(0))
    obs = difference_frames(np.random.default_rng(1), 64, 6400, 0.005).astype(np.float32)
    for greedy in (True, False):
        assert set(np.unique(learner.act(obs, greedy)).tolist()) <= {pong_pg.UP, pong_pg.DOWN}


@pytest.mark.parametrize("field, value, match", [
    ("lr", 0.0, "lr=0.0"), ("num_envs", 0, "num_envs=0"), ("gamma", 1.5, "gamma=1.5"),
    ("decay", 1.0, r"decay=1.0; accepted: a number in \[0, 1\)"), ("standardize", "both", "standardize='both'"),
    ("hidden", -3, "hidden=-3"), ("rms_eps", 0.0, "rms_eps"), ("running_decay", 1.0, "running_decay"),
])
def test_config_validation_names_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        pong_pg.Config(**{field: value}).validate()


def test_learner_refuses_the_state_vector():
    env = envs.make_vec("Pong-v0", 2, seed=0, obs_type="state")
    with pytest.raises(ValueError, match="PongDiff-v0"):
        pong_pg.Learner(env, pong_pg.Config(num_envs=2), np.random.default_rng(0))


def test_ppo_pong_from_the_state_vector_learns_a_game_to_3_points():
    """A fixed-seed run of 409,600 steps (about 35 s on 2 busy cores) raises the greedy policy's mean
    point difference over the same 100 games (seeds 1000-1099) by at least 0.75 point (from -2.79).

    Measured at seeds 0, 1, 2: +1.11, +2.06, +1.81. The run is deterministic, but a change in
    floating-point summation order (a BLAS or numpy upgrade) gives another trajectory: seed 0, the
    closest to the margin, fell to +0.70 under one such change, so the test runs seed 1. The
    100-game mean's standard error is about 0.1 point. ent_coef is
    0.05 here: with ppo-pong's 0.01, 2 of 4 seeds collapsed early to a deterministic policy that
    loses every point of these short games (the 21-point game learns with 0.01, README).
    """
    from purerl.algos import ppo_pong
    from purerl.pong_eval import play_pong

    cfg = ppo_pong.Config(sparse_input=False, hidden_sizes=(64, 64), ent_coef=0.05, total_steps=409_600)
    env = envs.make_vec("Pong-v0", cfg.num_envs, seed=1, points_to_win=3, obs_type="state")
    learner = ppo_pong.Learner(env, cfg, np.random.default_rng(1))
    games = envs.make_vec("Pong-v0", 100, points_to_win=3, obs_type="state")
    before = play_pong(learner.act, games, seed=1000).point_difference.mean()
    while learner.env_steps < cfg.total_steps:
        learner.step()
    after = play_pong(learner.act, games, seed=1000)
    assert before < -2.5
    assert after.point_difference.mean() >= before + 0.75, (before, after.summary())


def test_play_pong_scores_wins_and_point_differences():
    rng = np.random.default_rng(0)
    env = envs.make_vec("Pong-v0", 30, points_to_win=2, obs_type="state")
    result = play_pong(lambda obs, greedy: rng.integers(0, 3, size=len(obs)), env, games=25, seed=5)
    assert result.games == 25 and not result.truncated.any()
    np.testing.assert_array_equal(result.point_difference, result.returns)  # +-1 per point, no hit reward
    assert np.all(np.maximum(result.agent, result.opponent) == 2)
    assert result.wins == int(np.sum(result.agent == 2)) and result.win_rate == result.wins / 25
    assert "win rate" in result.summary()
    with pytest.raises(ValueError, match="games=31"):
        play_pong(lambda obs, greedy: np.zeros(len(obs), int), env, games=31)


def test_train_and_eval_commands_print_the_win_rate(tmp_path, monkeypatch, capsys):
    from purerl.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "reinforce-pong", "--steps", "1500", "--set", "hidden=4", "--num-envs", "2",
                 "--env-arg", "points_to_win=1", "--eval-episodes", "3"]) == 0
    out = capsys.readouterr().out
    assert "evaluation, 3 episodes with greedy actions" in out
    assert "of 3 games against the built-in opponent (win rate" in out
    run_dir = next((tmp_path / "runs").iterdir())
    assert main(["eval", str(run_dir), "--episodes", "4"]) == 0
    out = capsys.readouterr().out
    assert "of 4 games against the built-in opponent (win rate" in out


def test_replica_plays_the_two_action_variant_with_the_same_numbers():
    """With actions="updown" the env's actions are 0 = UP, 1 = DOWN; the replica maps a = 1 to UP either way."""
    rows = []
    for actions in ("all", "updown"):
        env = envs.make_vec("PongDiff-v0", 2, seed=3, points_to_win=1, actions=actions)
        learner = pong_pg.Learner(env, pong_pg.Config(num_envs=2, hidden=4), np.random.default_rng(3))
        rows.append([learner.step() for _ in range(2)])
    assert rows[0] == rows[1]


def test_bench_pong_runs_counts_frames_as_steps_times_frameskip(tmp_path):
    from purerl import runs
    from purerl.bench.pong import crossing_rows
    from purerl.logger import MetricsWriter

    run_dir = str(tmp_path)
    runs.write_config(run_dir, {"algo": "ppo-pong", "env": "PongDiff-v0", "env_kwargs": {"frameskip": 4},
                                "seed": 0})
    log = MetricsWriter(tmp_path / runs.METRICS)
    for it, (ret, episodes) in enumerate([(-19.0, 10), (-9.0, 30), (-2.0, 50)], start=1):
        log.write({"iteration": it, "env_steps": 1000 * it, "wall_time": 10.0 * it, "episodes": episodes,
                   "mean_return": ret})
    (above_minus_10, above_0) = crossing_rows([run_dir], [-10.0, 0.0])
    assert above_minus_10[3:] == ("-9.00", "30", "2,000", "8,000", "2", "0:20", "400")
    assert above_0[3:] == ("not reached", "(50)", "(3,000)", "(12,000)", "(3)", "(0:30)", "400")


def test_bench_pong_runs_counts_ale_frames_at_their_mean_frameskip():
    """ALE's Pong-v0 holds each action 2-4 frames at random: its frames are counted as 3 per step."""
    from purerl.algos.pong_pg import ALE_ENV
    from purerl.bench.pong import frameskip_of

    assert frameskip_of({"env": ALE_ENV, "env_kwargs": {}}) == 3
    assert frameskip_of({"env": "PongDiff-v0", "env_kwargs": {}}) == 1
    assert frameskip_of({"env": ALE_ENV, "env_kwargs": {"frameskip": 4}}) == 4  # an env argument fixes it


def test_bench_pong_runs_label_names_env_arguments_and_changed_settings():
    """Two runs that differ only in --set lr=... must not share a row label in the tables."""
    from purerl.bench.pong import run_label

    config = {"total_steps": 5, "lr": 1e-3, "hidden": 200, "gamma": 0.99}  # only lr departs from Config()
    info = {"algo": "reinforce-pong", "env": "PongDiff-v0", "env_kwargs": {"frameskip": 3}, "seed": 2,
            "config": config}
    assert run_label(info) == "reinforce-pong on PongDiff-v0 (frameskip=3) [lr=0.001], seed 2"
    assert run_label(dict(info, env_kwargs={}, config=dict(config, lr=1e-4))) == "reinforce-pong on PongDiff-v0, seed 2"


def test_ppo_pong_compresses_each_batch_once_with_the_same_numbers():
    """ppo_pong.Learner.update shuffles and slices the batch's frames compressed once; the plain
    ppo.Learner.update, which compresses each minibatch in the forward pass, gives the same bits."""
    import types

    from purerl.algos import ppo, ppo_pong

    cfg = ppo_pong.Config(num_envs=4, num_steps=64, minibatch_size=64, epochs=2, hidden_sizes=(16,))
    learners = []
    for plain in (False, True):
        env = envs.make_vec("PongDiff-v0", cfg.num_envs, seed=3, frameskip=2)
        learner = ppo_pong.Learner(env, cfg, np.random.default_rng(3))
        if plain:
            learner.update = types.MethodType(ppo.Learner.update, learner)
        for _ in range(2):
            learner.step()
        learners.append(learner)
    compressed_once, per_minibatch = learners
    assert np.array_equal(compressed_once.params, per_minibatch.params)
    assert not np.array_equal(compressed_once.params, ppo_pong.Learner(
        envs.make_vec("PongDiff-v0", cfg.num_envs, seed=3), cfg, np.random.default_rng(3)).params)


def imitation_args(**kw):
    import argparse

    from purerl.bench import pong_imitation
    parser = argparse.ArgumentParser()
    pong_imitation.add_arguments(parser)
    args = parser.parse_args([])
    for k, v in kw.items():
        setattr(args, k, v)
    return args


def test_imitation_labels_every_frame_with_the_follower_and_keeps_the_two_copies_in_step():
    from envs.pong_scripted import toward_ball
    from purerl.bench import pong_imitation as I
    args = imitation_args(episodes=3)
    pixels_env, state_env = I.make_envs(3, args)
    seen = []

    def follow(rows, y):
        seen.append(y)
        return y

    frames, labels, in_play = I.play(pixels_env, state_env, 5, follow)
    assert frames.n_rows == labels.size == in_play.size > 3 * 21
    s, _ = state_env.reset(seed=5)
    assert np.array_equal(seen[0], (toward_ball(s) == 1).astype(np.int64))
    assert 0.5 < in_play.mean() < 1.0  # the frames with the ball hidden between points are flagged
    # a copy that plays a different game (a slower opponent) is caught
    _, other = I.make_envs(3, imitation_args(opp_speed=1.0))
    with pytest.raises(RuntimeError, match="diverged"):
        I.play(pixels_env, other, 5, follow)
    with pytest.raises(SystemExit, match=r"--q must be in \[0, 1\], got 2.0"):
        I.check(imitation_args(q=2.0))
    # the first difference frame of each game is blank; with --input frame both paddles (8x2 px each) always show
    assert np.all(np.diff(frames.indptr)[:3] == 0)
    for input_, actions in (("difference", 2), ("frame", 3)):
        pixels, state = I.make_envs(2, imitation_args(input=input_))
        assert pixels.single_action_space.n == actions
    rows, frame_labels, _ = I.play(pixels, state, 5, follow)
    assert np.diff(rows.indptr).min() >= 2 * 16


def test_imitation_raises_the_networks_agreement_with_the_follower():
    """At a 10x learning rate, 40 updates of 5 episodes raise the agreement on
    held-out frames by more than 5 points from about 0.55 (seed 0: 0.566 ->
    0.644; the full measurement is `bench pong_imitation`, in README)."""
    from purerl.bench import pong_imitation as I
    rows = I.measure(imitation_args(lr=1e-3, episodes=5, report_at=[1, 40], eval_games=2))
    assert [r[0] for r in rows] == ["follower (scripted)", "network, imitating", "network, imitating"]
    first, last = float(rows[1][3]), float(rows[2][3])
    assert last > first + 0.05, (first, last)
