"""The on-policy collector: shapes, bootstrapping at truncation, whole episodes."""

import numpy as np

import envs
from purerl.algos.base import EpisodeStats
from purerl.policies import ValueFunction, make_policy
from purerl.rollout import RolloutCollector


def collector(num_envs=3, max_episode_steps=7, seed=0):
    env = envs.make_vec("CartPole-v1", num_envs, max_episode_steps=max_episode_steps)
    policy = make_policy(env.single_observation_space, env.single_action_space, hidden=(8,))
    vf = ValueFunction(4, hidden=(8,))
    rng = np.random.default_rng(seed)
    theta, phi = policy.init(rng), vf.init(rng)
    c = RolloutCollector(env, policy, rng, EpisodeStats(), vf)
    c.reset(seed=seed)
    return c, theta, phi


def test_shapes_and_log_probs_match_the_policy():
    c, theta, phi = collector()
    r = c.collect(theta, 20, phi)
    assert r.obs.shape == (20, 3, 4) and r.actions.shape == (20, 3)
    assert r.rewards.shape == r.terminated.shape == r.truncated.shape == r.values.shape == (20, 3)
    dist, _ = c.policy.distribution(theta, r.flat("obs"))
    np.testing.assert_allclose(dist.log_prob(r.flat("actions")), r.flat("log_probs").ravel(), rtol=1e-12)
    np.testing.assert_allclose(c.value_fn(phi, r.flat("obs")), r.flat("values"), rtol=1e-12)


def test_next_values_bootstrap_from_the_final_observation_at_truncation():
    # A 7-step limit truncates every game that survives 7 steps, which the
    # untrained policy on CartPole usually does.
    c, theta, phi = collector(max_episode_steps=7)
    env, vf = c.env, c.value_fn
    obs_before = []
    final = {}
    original_step = env.step

    def spy(actions):
        out = original_step(actions)
        info = out[4]
        for i in np.flatnonzero(info["_final_obs"]):
            final[(len(obs_before), i)] = info["final_obs"][i].copy()
        obs_before.append(out[0].copy())
        return out

    env.step = spy
    r = c.collect(theta, 30, phi)

    def value(o):  # one row at a time: equal to the batched value up to summation order
        return vf(phi, o[None].astype(np.float64))[0]

    assert r.truncated.any() and not (r.truncated & r.terminated).any()
    for t in range(30):
        for i in range(3):
            if r.terminated[t, i]:
                assert r.next_values[t, i] == 0.0
            elif r.truncated[t, i]:
                assert np.isclose(r.next_values[t, i], value(final[(t, i)]), rtol=1e-12, atol=0)
                # and not the value of the new episode's first observation
                assert not np.isclose(r.next_values[t, i], value(obs_before[t][i]), rtol=1e-6)
            else:
                assert np.isclose(r.next_values[t, i], value(obs_before[t][i]), rtol=1e-12, atol=0)


def test_collect_episodes_counts_each_games_first_episodes_only():
    c, theta, phi = collector(num_envs=4, max_episode_steps=500)
    r = c.collect_episodes(theta, episodes_per_env=2, phi=phi)
    done = (r.terminated | r.truncated) & r.valid
    np.testing.assert_array_equal(done.sum(axis=0), [2, 2, 2, 2])
    # each game's valid steps are a prefix that ends exactly at its 2nd episode's end
    for i in range(4):
        last_valid = np.flatnonzero(r.valid[:, i]).max()
        assert np.flatnonzero(done[:, i]).max() == last_valid
        assert r.valid[: last_valid + 1, i].all()
    assert r.flat("rewards").shape == (r.valid.sum(),)


def test_same_seed_same_rollout():
    a = collector(seed=5)
    b = collector(seed=5)
    ra, rb = a[0].collect(a[1], 25, a[2]), b[0].collect(b[1], 25, b[2])
    np.testing.assert_array_equal(ra.actions, rb.actions)
    np.testing.assert_array_equal(ra.obs, rb.obs)
