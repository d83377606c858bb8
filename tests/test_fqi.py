"""Fitted Q-iteration: exact on a tabular dataset, approximate with the default Adam fit."""

from dataclasses import replace

import numpy as np
import pytest

from purerl import exact
from purerl.algos import fqi
from purerl.algos import tabular as tb
from purerl.buffers import Batch
from purerl.nn import MLP


def tabular_dataset(mdp, n, rng, terminal_state=None):
    """n transitions from a generative model: s, a uniform; s' ~ P(.|s, a); one-hot obs."""
    S, A = mdp.n_states, mdp.n_actions
    s, a = rng.integers(0, S, n), rng.integers(0, A, n)
    s2 = (np.cumsum(mdp.P[s, a], axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    term = np.zeros(n, bool) if terminal_state is None else s2 == terminal_state
    eye = np.eye(S)
    return Batch(eye[s], a, mdp.R[s, a], eye[s2], term, np.zeros(n, bool), np.arange(n), np.ones(n)), (s, a, s2, term)


def empirical_backups(mdp, s, a, s2, term, gamma, K):
    """K Bellman optimality backups of the empirical MDP: counts -> P_hat, terminal -> no bootstrap."""
    S, A = mdp.n_states, mdp.n_actions
    n_sa = np.zeros((S, A))
    np.add.at(n_sa, (s, a), 1)
    Q = np.zeros((S, A))
    for _ in range(K):
        boot = np.where(term, 0.0, Q.max(axis=1)[s2])
        total = np.zeros((S, A))
        np.add.at(total, (s, a), mdp.R[s, a] + gamma * boot)
        Q = np.where(n_sa > 0, total / np.maximum(n_sa, 1), 0.0)
    return Q


def exact_table_fit(net, w, obs, actions, targets, rng):
    """The least-squares fit of a one-hot linear Q: each Q(s, a) = mean of its targets."""
    S, A = net.in_dim, net.out_dim
    x = obs.argmax(axis=1) * A + actions
    total = np.bincount(x, weights=targets, minlength=S * A)
    count = np.bincount(x, minlength=S * A)
    w[:] = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return 0.0


@pytest.mark.parametrize("terminal_state", [None, 0])
def test_fqi_with_exact_fit_is_value_iteration_on_the_empirical_mdp(terminal_state):
    rng = np.random.default_rng(0)
    mdp = exact.random_mdp(rng, n_states=4, n_actions=3, horizon=None, gamma=0.9)
    data, (s, a, s2, term) = tabular_dataset(mdp, 2000, rng, terminal_state)
    cfg = fqi.Config(iterations=25, gamma=0.9)
    net = MLP((4, 3), output="identity", bias=False)  # Q_w(s, .) = W[s]: a table
    _, w, history = fqi.fitted_q_iteration(data, 3, cfg, rng, net=net, w=np.zeros(net.n_params), fit=exact_table_fit)
    assert len(history) == 25
    np.testing.assert_allclose(w.reshape(4, 3), empirical_backups(mdp, s, a, s2, term, 0.9, 25), rtol=0, atol=1e-12)


def test_fqi_on_a_large_dataset_approaches_q_star():
    rng = np.random.default_rng(1)
    mdp = exact.random_mdp(rng, n_states=4, n_actions=3, horizon=None, gamma=0.9)
    data, _ = tabular_dataset(mdp, 20_000, rng)
    net = MLP((4, 3), output="identity", bias=False)
    _, w, _ = fqi.fitted_q_iteration(data, 3, fqi.Config(iterations=120, gamma=0.9), rng, net=net,
                                     w=np.zeros(net.n_params), fit=exact_table_fit)
    Q_star = tb.value_iteration(mdp)[0]
    # Sampling error of P_hat (~1.7k samples per pair) moves the fixed point by
    # 0.011 relative at this seed; the bound leaves a margin of 2.3x.
    assert np.abs(w.reshape(4, 3) - Q_star).max() / np.abs(Q_star).max() < 0.025


def test_fqi_default_adam_fit_tracks_the_exact_fit():
    # The default regression (minibatch Adam on a small MLP) lands near the exact answer.
    rng = np.random.default_rng(2)
    mdp = exact.random_mdp(rng, n_states=4, n_actions=3, horizon=None, gamma=0.5)
    data, (s, a, s2, term) = tabular_dataset(mdp, 4000, rng)
    cfg = fqi.Config(iterations=12, gradient_steps=200, batch_size=128, lr=3e-3, gamma=0.5, hidden_sizes=(32,))
    _, w_fit, _ = fqi.fitted_q_iteration(data, 3, cfg, np.random.default_rng(3))
    net = MLP((4, 32, 3), hidden="relu")
    Q = net(w_fit, np.eye(4))
    Q_ref = empirical_backups(mdp, s, a, s2, term, 0.5, 12)
    assert np.abs(Q - Q_ref).max() / np.abs(Q_ref).max() < 0.05


def test_fqi_config_and_dataset_errors():
    with pytest.raises(ValueError, match="gamma"):
        replace(fqi.Config(), gamma=2.0).validate()
    rng = np.random.default_rng(0)
    mdp = exact.random_mdp(rng, n_states=3, n_actions=2, horizon=None)
    data, _ = tabular_dataset(mdp, 10, rng)
    bad = Batch(data.obs, data.actions[:5], data.rewards, data.next_obs, data.terminated, data.truncated,
                data.indices, data.weights)
    with pytest.raises(ValueError, match="actions"):
        fqi.fitted_q_iteration(bad, 2, fqi.Config(), rng)
