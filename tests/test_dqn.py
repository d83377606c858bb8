"""DQN and the Q-learning pieces: targets, TD gradient, target nets, truncation, resume, learning."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import envs
from purerl.algos import dqn
from purerl.algos.qlearning import double_q_target, polyak_update, q_learning_target, td_regression_grad
from purerl.evaluate import evaluate
from purerl.nn import MLP

finite = st.floats(-100, 100, allow_nan=False, width=64)


@st.composite
def target_inputs(draw):
    B = draw(st.integers(1, 20))
    A = draw(st.integers(1, 6))
    return (draw(arrays(np.float64, B, elements=finite)),
            draw(arrays(np.float64, (B, A), elements=finite)),
            draw(arrays(np.float64, (B, A), elements=finite)),
            draw(arrays(np.bool_, B)),
            draw(st.floats(0, 1)))


@settings(max_examples=100, deadline=None)
@given(target_inputs())
def test_double_q_target_equals_formula(args):
    r, q_online, q_target, term, gamma = args
    y = double_q_target(r, q_online, q_target, term, gamma)
    for i in range(len(r)):
        a_star = int(np.argmax(q_online[i]))  # select with the online network ...
        expect = r[i] + (0.0 if term[i] else gamma * q_target[i, a_star])  # ... evaluate with the target
        assert y[i] == expect
    # When both networks agree, Double DQN is plain Q-learning.
    assert np.array_equal(double_q_target(r, q_target, q_target, term, gamma), q_learning_target(r, q_target, term, gamma))


@settings(max_examples=100, deadline=None)
@given(target_inputs())
def test_q_learning_target_equals_formula(args):
    r, _, q_target, term, gamma = args
    y = q_learning_target(r, q_target, term, gamma)
    expect = [r[i] + (0.0 if term[i] else gamma * max(q_target[i])) for i in range(len(r))]
    assert np.array_equal(y, expect)


@pytest.mark.parametrize("loss", ["mse", "huber"])
@pytest.mark.parametrize("weighted", [False, True])
def test_td_regression_grad_matches_finite_differences(loss, weighted):
    rng = np.random.default_rng(0)
    net = MLP((3, 5, 4), hidden="tanh")
    w = net.init(rng)
    obs, actions = rng.normal(size=(7, 3)), rng.integers(0, 4, size=7)
    y = rng.normal(size=7) * 2  # some residuals beyond Huber's delta = 1
    weights = rng.uniform(0.1, 1, size=7) if weighted else None
    _, g, td = td_regression_grad(net, w, obs, actions, y, weights, loss)
    np.testing.assert_allclose(td, y - net(w, obs)[np.arange(7), actions])

    def weighted_loss(v):
        d = net(v, obs)[np.arange(7), actions] - y
        per = d**2 if loss == "mse" else np.where(np.abs(d) <= 1, 0.5 * d**2, np.abs(d) - 0.5)
        return np.mean(per * (1.0 if weights is None else weights))

    h = 1e-6
    fd = np.array([(weighted_loss(w + h * e) - weighted_loss(w - h * e)) / (2 * h) for e in np.eye(len(w))])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_polyak_update():
    w = np.arange(5.0)
    target = np.ones(5)
    polyak_update(target, w, 0.25)
    np.testing.assert_array_equal(target, 0.25 * w + 0.75)
    polyak_update(target, w, 1.0)
    np.testing.assert_array_equal(target, w)
    assert target is not w


# ---------------------------------------------------------------- the learner

QUICK = dqn.Config(**dqn.QUICK_CONFIG)


def make(cfg=QUICK, seed=0, **env_kwargs):
    env = envs.make_vec("CartPole-v1", cfg.num_envs, seed=seed, **env_kwargs)
    return dqn.Learner(env, cfg, np.random.default_rng(seed))


def test_truncated_transitions_store_the_final_obs_and_are_not_terminal():
    cfg = replace(QUICK, num_envs=3, train_freq=300, total_steps=300)
    learner = make(cfg, max_episode_steps=12)
    learner.step()
    buf = learner.buffer
    n = len(buf)
    assert buf.truncated[:n].any() and buf.terminated[:n].any()
    assert not (buf.truncated & buf.terminated)[:n].any()
    # Slots hold (step k, game i) at 3 k + i. Within an episode s' of step k is s of
    # step k + 1; after an episode's end s' is the final obs, not the next game's start.
    obs, next_obs = buf.obs[:n].reshape(-1, 3, 4), buf.next_obs[:n].reshape(-1, 3, 4)
    ended = (buf.terminated | buf.truncated)[:n].reshape(-1, 3)
    same = np.all(next_obs[:-1] == obs[1:], axis=-1)
    assert np.array_equal(same, ~ended[:-1])
    # A truncated transition bootstraps: its target has the gamma max Q term.
    i = int(np.flatnonzero(buf.truncated[:n])[0])
    batch = buf.get([i])
    y = learner._targets(batch)
    q_next = learner.net(learner.w_target, batch.next_obs).max()
    np.testing.assert_allclose(y, batch.rewards + cfg.gamma * q_next, rtol=1e-6)


def test_reward_clipping_and_random_actions_before_learning_starts():
    cfg = replace(QUICK, reward_clip=0.5, learning_starts=10_000)
    learner = make(cfg)
    learner.step()
    assert np.all(learner.buffer.rewards[: len(learner.buffer)] == 0.5)
    assert learner.updates == 0  # nothing learned before learning_starts


@pytest.mark.parametrize("overrides", [{}, {"double_q": True, "prioritized": True, "tau": 0.5, "loss": "mse"}])
def test_resume_is_bit_identical(overrides):
    cfg = replace(QUICK, **overrides)
    a = make(cfg)
    for _ in range(5):
        a.step()
    assert a.updates > 0
    state = a.state_dict()
    b = make(cfg, seed=123)  # a different seed: everything must come from the state
    b.load_state_dict(state)
    rows_a = [a.step() for _ in range(4)]
    rows_b = [b.step() for _ in range(4)]
    np.testing.assert_equal(rows_a, rows_b)  # exact, NaN == NaN
    np.testing.assert_array_equal(a.w, b.w)
    np.testing.assert_array_equal(a.w_target, b.w_target)
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))


def test_prioritized_replay_updates_priorities_from_td_errors():
    cfg = replace(QUICK, prioritized=True, alpha=0.7)
    learner = make(cfg)
    for _ in range(4):
        learner.step()
    buf, net = learner.buffer, learner.net
    calls = []
    update = buf.update_priorities
    buf.update_priorities = lambda idx, td: (calls.append((idx.copy(), td.copy())), update(idx, td))
    w, w_target = learner.w.copy(), learner.w_target.copy()
    learner._gradient_step()
    (idx, td), = calls
    batch = buf.get(idx)
    y = q_learning_target(batch.rewards, net(w_target, batch.next_obs), batch.terminated, cfg.gamma)
    np.testing.assert_allclose(td, y - net(w, batch.obs)[np.arange(len(idx)), batch.actions], rtol=1e-5)
    # A transition drawn twice keeps its last TD error's priority (the tree's writes run in order); its two TD
    # errors can differ in the last bits, as BLAS may round rows at different batch positions differently.
    last = np.array([np.flatnonzero(idx == i)[-1] for i in idx])
    np.testing.assert_allclose(buf.tree.leaves(idx), (np.abs(td[last]) + cfg.priority_eps) ** 0.7, rtol=1e-12)
    assert buf.max_priority >= np.abs(td).max()


def test_config_validation_names_the_field():
    for field, value in [("gamma", 1.5), ("tau", 0.0), ("batch_size", 0), ("loss", "l1"),
                         ("max_grad_norm", -1.0), ("exploration_fraction", 0.0)]:
        with pytest.raises(ValueError, match=field):
            replace(QUICK, **{field: value}).validate()
    with pytest.raises(ValueError, match="Discrete"):
        dqn.Learner(envs.make_vec("Pendulum-v1", 1, seed=0), QUICK, np.random.default_rng(0))


def test_dqn_solves_cartpole():
    """Greedy 20-episode mean >= 475 within 100k env steps at a fixed seed.

    Budget and settings: dqn.Config defaults (README, "DQN defaults").
    Evaluated every 1024 env steps on 20 fresh games (seeds 1000..1019), as
    `bench learn` does for DQN; stops at the first pass.
    """
    cfg = dqn.Config()
    learner = make(cfg, seed=0)
    best, next_eval = 0.0, 1024
    while learner.env_steps < 100_000 and best < 475:
        learner.step()
        if learner.env_steps >= next_eval:
            next_eval += 1024
            best = max(best, evaluate(learner.act, "CartPole-v1", episodes=20, seed=1000).mean())
    assert best >= 475, f"best greedy mean {best} after {learner.env_steps} env steps"
    print(f"solved after {learner.env_steps} env steps")
