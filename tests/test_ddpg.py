"""DDPG: gradients against finite differences, targets, truncation, repeatability, config, learning."""

from dataclasses import replace

import numpy as np
import pytest

import envs
from purerl.algos import ddpg
from purerl.algos.ddpg import (critic_grad, critic_input, ddpg_targets, deterministic_policy_gradient,
                               scale_action)
from purerl.evaluate import evaluate
from purerl.nn import MLP

# A non-symmetric box, so that the scaling (high - low) / 2 and the offset are exercised.
LOW, HIGH = np.array([-2.0, 0.0]), np.array([2.0, 0.5])


def tiny_nets(rng, hidden="tanh"):
    """Actor (3 -> 4 -> 2, tanh out) and critic (5 -> 6 -> 1), float64, random parameters.

    tanh hidden layers make J smooth, so central differences converge; the
    ReLU case is checked separately away from its kinks.
    """
    actor = MLP((3, 4, 2), hidden=hidden, output="tanh")
    critic = MLP((5, 6, 1), hidden=hidden)
    return actor, critic, actor.init(rng, gain=1.0, out_gain=1.0), critic.init(rng, gain=1.0, out_gain=1.0)


def central_differences(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def mean_q(actor, critic, theta, w, obs):
    """J(theta) = mean_s Q_w(s, mu_theta(s)), written out without the code under test."""
    u = actor(theta, obs)
    a = LOW + (u + 1) * (HIGH - LOW) / 2
    return critic(w, np.concatenate([obs, a], axis=1)).mean()


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_actor_gradient_equals_finite_differences_of_mean_q(hidden):
    rng = np.random.default_rng(0)
    actor, critic, theta, w = tiny_nets(rng, hidden)
    obs = rng.normal(size=(9, 3))
    objective, g = deterministic_policy_gradient(actor, critic, theta, w, obs, LOW, HIGH)
    assert objective == pytest.approx(mean_q(actor, critic, theta, w, obs), rel=1e-14)
    fd = central_differences(lambda t: mean_q(actor, critic, t, w, obs), theta.copy())
    assert np.abs(g).max() > 1e-3  # a gradient that is not trivially zero
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_critic_gradient_equals_finite_differences_of_the_td_loss(loss):
    rng = np.random.default_rng(1)
    _, critic, _, w = tiny_nets(rng)
    obs, actions = rng.normal(size=(8, 3)), rng.uniform(LOW, HIGH, size=(8, 2))
    y = rng.normal(size=8) * 2  # residuals beyond Huber's delta = 1 too

    def td_loss(w_):
        d = critic(w_, np.concatenate([obs, actions], axis=1))[:, 0] - y
        if loss == "mse":
            return np.mean(d**2)
        return np.mean(np.where(np.abs(d) <= 1, d**2 / 2, np.abs(d) - 0.5))

    value, g = critic_grad(critic, w, obs, actions, y, loss)
    assert value == pytest.approx(td_loss(w), rel=1e-12)
    np.testing.assert_allclose(g, central_differences(td_loss, w.copy()), rtol=1e-6, atol=1e-9)


def test_targets_follow_the_equation():
    rng = np.random.default_rng(2)
    actor, critic, theta_t, w_t = tiny_nets(rng)
    next_obs, r = rng.normal(size=(6, 3)), rng.normal(size=6)
    terminated = np.array([False, True, False, False, True, False])
    gamma = 0.9
    y = ddpg_targets(actor, critic, theta_t, w_t, r, next_obs, terminated, gamma, LOW, HIGH)
    for i in range(6):
        # Q_w'(s', mu_theta'(s')) one transition at a time, with the action scaled by hand.
        a = LOW + (actor(theta_t, next_obs[i:i + 1])[0] + 1) * (HIGH - LOW) / 2
        q = critic(w_t, np.concatenate([next_obs[i], a])[None])[0, 0]
        want = r[i] if terminated[i] else r[i] + gamma * q
        assert y[i] == pytest.approx(want, rel=1e-14, abs=1e-14)


def test_scale_action_maps_the_tanh_range_onto_the_box():
    u = np.array([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(scale_action(u, LOW, HIGH), [LOW, (LOW + HIGH) / 2, HIGH])
    np.testing.assert_array_equal(critic_input(np.ones((3, 3)), u)[:, 3:], u)


# ---- the learner -------------------------------------------------------------------------


def make_learner(env="Pendulum-v1", seed=0, num_envs=1, **overrides):
    cfg = replace(ddpg.Config(), **{**ddpg.QUICK_CONFIG, "dtype": "float64", "num_envs": num_envs, **overrides})
    return ddpg.Learner(envs.make_vec(env, num_envs, seed=seed), cfg, np.random.default_rng(seed))


def test_one_update_moves_targets_by_polyak_averaging():
    learner = make_learner(tau=0.25)
    while learner.env_steps < learner.cfg.learning_starts:
        learner._collect()
    learner.theta_target += 0.1  # targets apart from the online networks, so the check can fail
    old = {k: getattr(learner, k).copy() for k in ("theta", "theta_target", "w", "w_target")}
    learner._gradient_step()
    assert not np.array_equal(learner.theta, old["theta"]) and not np.array_equal(learner.w, old["w"])
    for online, target in (("theta", "theta_target"), ("w", "w_target")):
        # theta' <- tau theta + (1 - tau) theta', with the online parameters after their own step
        want = 0.25 * getattr(learner, online) + 0.75 * old[target]
        np.testing.assert_allclose(getattr(learner, target), want, rtol=1e-15, atol=1e-15)


def test_stored_next_obs_is_final_obs_at_truncation_and_targets_bootstrap():
    """Pendulum-v1 never terminates and truncates at 200 steps: the stored s' of
    step 200 must be the true last observation (from a twin env replaying the
    stored actions), not the next game's first one, and its target bootstraps."""
    learner = make_learner(num_envs=2, learning_starts=10_000, buffer_size=1_000, train_freq=1)
    for _ in range(205):
        learner._collect()
    buf = learner.buffer
    idx = lambda t, game: 2 * t + game  # two games add two transitions per env step
    twin = envs.make_vec("Pendulum-v1", 2, seed=0)
    twin.reset()
    for t in range(205):
        rows = [idx(t, 0), idx(t, 1)]
        _, _, _, truncated, info = twin.step(buf.actions[rows].astype(np.float32))
        np.testing.assert_array_equal(buf.truncated[rows], truncated)
        assert not buf.terminated[rows].any()
        if t == 199:
            assert truncated.all()
            np.testing.assert_array_equal(buf.next_obs[rows], info["final_obs"])
            assert not np.allclose(buf.next_obs[rows], buf.obs[[idx(200, 0), idx(200, 1)]])
        elif t < 204:
            np.testing.assert_array_equal(buf.next_obs[rows], buf.obs[[idx(t + 1, 0), idx(t + 1, 1)]])
    rows = [idx(199, 0), idx(199, 1)]
    y = ddpg_targets(learner.actor, learner.critic, learner.theta_target, learner.w_target, buf.rewards[rows],
                     buf.next_obs[rows], buf.terminated[rows], learner.cfg.gamma, learner.low, learner.high)
    assert np.all(y != buf.rewards[rows])  # gamma Q_w'(final_obs, mu'(final_obs)) was added


def test_terminated_transitions_are_stored_as_terminal():
    learner = make_learner("CartPoleContinuous-v1", learning_starts=10_000, buffer_size=1_000, train_freq=1)
    for _ in range(300):  # random pushes end a cart-pole game within a few dozen steps
        learner._collect()
    buf = learner.buffer
    ends = np.flatnonzero(buf.terminated[:buf.size])
    assert ends.size > 0 and not buf.truncated[ends].any()
    # the stored s' of a terminal step is the failed state, beyond a threshold (12 deg or 2.4 m)
    assert np.all((np.abs(buf.next_obs[ends, 2]) > 0.2094) | (np.abs(buf.next_obs[ends, 0]) > 2.4))


@pytest.mark.parametrize("noise", ["gaussian", "ou"])
def test_runs_repeat_bit_for_bit_and_resume_from_a_state_dict(noise):
    def run(learner, iterations):
        return [learner.step() for _ in range(iterations)]

    a, b = make_learner(noise=noise, num_envs=2), make_learner(noise=noise, num_envs=2)
    rows_a, rows_b = run(a, 6), run(b, 6)
    table = lambda rows: np.array([[float(v) for v in row.values()] for row in rows])
    np.testing.assert_array_equal(table(rows_a), table(rows_b))  # nan (no update yet) equals nan here
    assert a.updates > 0
    resumed = make_learner(noise=noise, num_envs=2)
    resumed.load_state_dict(a.state_dict())
    run(a, 3), run(resumed, 3)
    sa, sr = a.state_dict(), resumed.state_dict()
    for key in ("theta", "theta_target", "w", "w_target", "obs"):
        np.testing.assert_array_equal(sa[key], sr[key])
    np.testing.assert_array_equal(sa["replay"]["next_obs"], sr["replay"]["next_obs"])
    if noise == "ou":
        np.testing.assert_array_equal(sa["noise"]["x"], sr["noise"]["x"])
        assert np.any(sa["noise"]["x"] != 0)


def test_act_is_greedy_and_within_the_box():
    learner = make_learner("CartPoleContinuous-v1")
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    greedy = learner.act(obs)
    np.testing.assert_array_equal(greedy, learner.act(obs))
    assert greedy.dtype == np.float32 and greedy.shape == (5, 1)
    noisy = learner.act(obs, greedy=False)
    assert not np.array_equal(noisy, greedy) and np.all(np.abs(noisy) <= 1)


@pytest.mark.parametrize("field, value", [
    ("gamma", 1.5), ("tau", 0.0), ("tau", 1.1), ("actor_lr", 0.0), ("critic_lr", -1e-3),
    ("batch_size", 0), ("batch_size", 10**6), ("learning_starts", -1), ("hidden_sizes", ()),
    ("hidden_sizes", (0, 4)), ("noise", "uniform"), ("noise_sigma", -0.1), ("ou_theta", 0.0),
    ("ou_theta", 300.0), ("loss", "l1"), ("dtype", "float16"), ("max_grad_norm", 0.0),
    ("train_freq", 0), ("gradient_steps", 0), ("num_envs", 0),
])
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        replace(ddpg.Config(), **{field: value}).validate()


def test_discrete_action_spaces_are_rejected():
    with pytest.raises(ValueError, match="Box"):
        ddpg.Learner(envs.make_vec("CartPole-v1", 1, seed=0), ddpg.Config(), np.random.default_rng(0))


def test_learns_pendulum():
    """Default config, seed 0: a greedy 20-episode mean >= -250 on Pendulum-v1
    within 30k env steps (evaluated every 1000 steps on fresh games, seeds
    1000...). About 2k steps and 5 s on 2 cores."""
    cfg = ddpg.Config()
    learner = ddpg.Learner(envs.make_vec("Pendulum-v1", cfg.num_envs, seed=0), cfg, np.random.default_rng(0))
    best = -np.inf
    while learner.env_steps < 30_000 and best < -250:
        for _ in range(1000 // cfg.train_freq):
            learner.step()
        best = max(best, evaluate(learner.act, "Pendulum-v1", episodes=20, seed=1000).mean())
    assert best >= -250, f"greedy mean return {best:.1f} < -250 after {learner.env_steps} env steps"
