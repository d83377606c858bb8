"""Replay buffers: ring storage, uniform and prioritized sampling, checkpoints."""

from statistics import NormalDist

import numpy as np
import pytest

from purerl.buffers import PrioritizedReplayBuffer, ReplayBuffer


def chi2_critical(dof, false_alarm):
    """Upper quantile of chi^2(dof) by the Wilson-Hilferty cube-root approximation."""
    z = NormalDist().inv_cdf(1 - false_alarm)
    return dof * (1 - 2 / (9 * dof) + z * np.sqrt(2 / (9 * dof))) ** 3


def fill(buf, n_total, n_envs=3, obs_dim=2, offset=0):
    """Add transitions numbered offset.. in batches of n_envs; obs[i] = (i, -i)."""
    for start in range(offset, offset + n_total, n_envs):
        i = np.arange(start, start + n_envs)
        obs = np.stack([i, -i], axis=1).astype(np.float32)[:, :obs_dim]
        buf.add(obs, i % 2, i * 1.0, obs + 0.5, i % 3 == 0, i % 5 == 0)


def test_ring_buffer_keeps_the_last_capacity_transitions_in_slots():
    buf = ReplayBuffer(7, obs_shape=(2,))
    fill(buf, 12)  # transitions 0..11 in batches of 3
    assert len(buf) == 7 and buf.pos == 12 % 7
    ids = buf.rewards.astype(int)
    assert sorted(ids.tolist()) == list(range(5, 12))
    for slot, i in enumerate(ids):
        assert buf.obs[slot].tolist() == [i, -i]
        assert buf.next_obs[slot].tolist() == [i + 0.5, -i + 0.5]
        assert buf.actions[slot] == i % 2
        assert buf.terminated[slot] == (i % 3 == 0) and buf.truncated[slot] == (i % 5 == 0)
        assert slot == i % 7  # transition i lives in slot i mod capacity


def test_uniform_sample_is_reproducible_and_covers_only_filled_slots():
    buf = ReplayBuffer(100, obs_shape=(2,))
    fill(buf, 30)
    a = buf.sample(1000, np.random.default_rng(5))
    b = buf.sample(1000, np.random.default_rng(5))
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.obs, b.obs)
    assert a.indices.min() >= 0 and a.indices.max() < 30
    assert np.array_equal(a.rewards, buf.rewards[a.indices]) and np.all(a.weights == 1.0)
    assert a.obs.dtype == np.float32 and a.terminated.dtype == bool


def test_uniform_sample_frequencies_chi_square():
    # False-alarm rate 1e-3 at this fixed seed.
    buf = ReplayBuffer(50, obs_shape=(2,))
    fill(buf, 20, n_envs=4)
    m = 40_000
    counts = np.bincount(buf.sample(m, np.random.default_rng(11)).indices, minlength=20)
    expected = m / 20
    assert ((counts - expected) ** 2 / expected).sum() < chi2_critical(19, 1e-3)


def test_shape_errors_name_the_field():
    buf = ReplayBuffer(10, obs_shape=(2,))
    obs = np.zeros((3, 2))
    with pytest.raises(ValueError, match="rewards"):
        buf.add(obs, np.zeros(3), np.zeros(4), obs, np.zeros(3, bool), np.zeros(3, bool))
    with pytest.raises(ValueError, match="obs"):
        buf.add(np.zeros((3, 4)), np.zeros(3), np.zeros(3), obs, np.zeros(3, bool), np.zeros(3, bool))
    with pytest.raises(ValueError, match="empty"):
        buf.sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, obs_shape=(2,))


@pytest.mark.parametrize("cls", [ReplayBuffer, PrioritizedReplayBuffer])
def test_state_dict_round_trip_resumes_identically(cls):
    buf = cls(16, obs_shape=(2,))
    fill(buf, 21)
    if cls is PrioritizedReplayBuffer:
        buf.update_priorities(np.arange(10), np.linspace(-3, 3, 10))
    other = cls(16, obs_shape=(2,))
    other.load_state_dict(buf.state_dict())
    fill(buf, 6, offset=100)
    fill(other, 6, offset=100)
    x, y = buf.sample(64, np.random.default_rng(3)), other.sample(64, np.random.default_rng(3))
    for name in ("indices", "obs", "actions", "rewards", "next_obs", "terminated", "truncated", "weights"):
        assert np.array_equal(getattr(x, name), getattr(y, name)), name
    with pytest.raises(ValueError, match="capacity"):
        cls(8, obs_shape=(2,)).load_state_dict(buf.state_dict())


def make_prioritized(alpha, n=30, seed=0):
    buf = PrioritizedReplayBuffer(64, obs_shape=(2,), alpha=alpha, eps=1e-3)
    fill(buf, n, n_envs=5)
    td_errors = np.random.default_rng(seed).normal(0, 2, n)
    buf.update_priorities(np.arange(n), td_errors)
    return buf, np.abs(td_errors) + 1e-3


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
def test_prioritized_frequencies_match_p_alpha_chi_square(alpha):
    # H0: counts ~ Multinomial(m, P), P_i = p_i^alpha / sum_j p_j^alpha.
    # Pearson's statistic vs the chi^2(n-1) quantile: false-alarm rate 1e-3 at this fixed seed.
    n, m = 30, 100_000
    buf, p = make_prioritized(alpha, n)
    P = p**alpha / (p**alpha).sum()
    np.testing.assert_allclose(buf.probabilities(np.arange(n)), P, rtol=1e-12)
    counts = np.bincount(buf.sample(m, np.random.default_rng(7), beta=0.4).indices, minlength=n)
    assert counts.shape == (n,)  # nothing outside the filled slots
    expected = m * P
    assert ((counts - expected) ** 2 / expected).sum() < chi2_critical(n - 1, 1e-3)


def test_prioritized_frequencies_detect_wrong_probabilities():
    # The same test must reject the uniform distribution (it has power).
    n, m = 30, 100_000
    buf, _ = make_prioritized(1.0, n)
    counts = np.bincount(buf.sample(m, np.random.default_rng(7)).indices, minlength=n)
    expected = np.full(n, m / n)
    assert ((counts - expected) ** 2 / expected).sum() > chi2_critical(n - 1, 1e-3)


@pytest.mark.parametrize("beta", [0.0, 0.4, 1.0])
def test_importance_weights_match_formula(beta):
    n = 30
    buf, p = make_prioritized(0.6, n)
    P = p**0.6 / (p**0.6).sum()
    w = (n * P) ** (-beta)
    w = w / w.max()
    np.testing.assert_allclose(buf.weights(np.arange(n), beta), w, rtol=1e-12)
    batch = buf.sample(256, np.random.default_rng(1), beta=beta)
    np.testing.assert_allclose(batch.weights, w[batch.indices], rtol=1e-12)
    assert batch.weights.max() <= 1.0


def test_new_transitions_get_the_max_priority():
    buf, p = make_prioritized(0.5, n=10)
    fill(buf, 5, n_envs=5, offset=10)
    np.testing.assert_allclose(buf.tree.leaves(np.arange(10, 15)), p.max() ** 0.5, rtol=1e-12)
    with pytest.raises(ValueError, match="beta"):
        buf.sample(4, np.random.default_rng(0), beta=1.5)
