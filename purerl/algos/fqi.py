"""Fitted Q-iteration: batch, offline Q-learning on a fixed dataset of transitions.

(Stuttgart RL Lecture 10, 'Fitted Q-iteration and Q-learning'.) Given a
dataset D = {(s_i, a_i, r_i, s'_i, terminated_i)} that is never added to:

    repeat K times:
        w' <- w                                              (freeze the target)
        y_i = r_i + gamma (1 - terminated_i) max_a' Q_w'(s'_i, a')   for all i in D
        w  <- argmin_w (1/|D|) sum_i l(Q_w(s_i, a_i) - y_i)  (regression, approximately:
                                                              gradient_steps minibatch Adam steps)

Process 3 (the regression) runs inside process 2 (the target refresh) and
there is no process 1 (data collection). Online Q-learning and DQN are the
same loop with a growing buffer, one minibatch per target, and the target
refreshed every C steps (DQN: N = 1, K = 1 in the lecture's pseudocode).

With a one-hot (tabular) state encoding and an exact fit, each iteration is
one Bellman optimality backup of the empirical MDP (P_hat from the counts in
D), so FQI is value iteration on the model the data implies; tests check
exactly that.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from purerl.algos.base import (check_finite, config_field, require, require_choice, require_positive,
                               require_unit_interval)
from purerl.algos.qlearning import q_learning_target, td_regression_grad
from purerl.nn import MLP
from purerl.optim import Adam, clip_grad_norm


@dataclass(frozen=True)
class Config:
    iterations: int = config_field(30, "K: target refreshes (outer iterations)")
    gradient_steps: int = config_field(300, "minibatch Adam steps per regression (inner loop)")
    batch_size: int = config_field(256, "transitions per minibatch")
    lr: float = config_field(1e-3, "Adam step size alpha")
    gamma: float = config_field(0.99, "discount gamma in y = r + gamma max_a' Q_w'(s', a')")
    hidden_sizes: tuple[int, ...] = config_field((64, 64), "widths of the ReLU hidden layers of Q_w")
    loss: Literal["huber", "mse"] = config_field("mse", "regression loss l")
    max_grad_norm: float | None = config_field(10.0, "clip each gradient's L2 norm (none: no clipping)")

    def validate(self):
        for name in ("iterations", "gradient_steps", "batch_size", "lr"):
            require_positive(name, getattr(self, name))
        require_unit_interval("gamma", self.gamma)
        require(all(int(h) >= 1 for h in self.hidden_sizes), "hidden_sizes", self.hidden_sizes, "positive integers")
        require_choice("loss", self.loss, ("huber", "mse"))
        require(self.max_grad_norm is None or self.max_grad_norm > 0, "max_grad_norm", self.max_grad_norm,
                "a number > 0 or none")


def check_dataset(data):
    """Shapes of a dataset (a ReplayBuffer's Batch or any object with the fields)."""
    n = len(data.rewards)
    for name in ("obs", "actions", "next_obs", "terminated"):
        value = getattr(data, name)
        if len(value) != n:
            raise ValueError(f"dataset {name} has {len(value)} rows but rewards has {n}; they must match")
    if data.obs.ndim != 2 or data.next_obs.shape != data.obs.shape:
        raise ValueError(f"dataset obs must be (N, obs_dim) like next_obs; got {data.obs.shape}, {data.next_obs.shape}")
    return n


class AdamRegression:
    """The default fit: gradient_steps minibatch Adam steps on the TD regression loss.

    The optimizer's moments persist across FQI iterations (the targets move,
    the network and its curvature do not change much between them).
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.opt = Adam(cfg.lr)

    def __call__(self, net, w, obs, actions, targets, rng):
        cfg = self.cfg
        losses = np.empty(cfg.gradient_steps)
        for j in range(cfg.gradient_steps):
            idx = rng.integers(0, len(targets), size=min(cfg.batch_size, len(targets)))
            losses[j], grad, _ = td_regression_grad(net, w, obs[idx], actions[idx], targets[idx], loss=cfg.loss)
            check_finite("FQI regression loss", losses[j], j)
            if cfg.max_grad_norm is not None:
                grad, _ = clip_grad_norm(grad, cfg.max_grad_norm)
            self.opt.step(w, grad)
        return float(losses.mean())


def fitted_q_iteration(data, n_actions, cfg, rng, net=None, w=None, fit=None, callback=None):
    """Run FQI on `data`; returns (net, w, history of per-iteration rows).

    data: fields obs (N, d), actions (N,), rewards (N,), next_obs (N, d),
    terminated (N,) (a purerl.buffers.Batch, e.g. `buffer.get(np.arange(len(buffer)))`).
    net, w: the Q-network and its initial parameters (default: an MLP with
    cfg.hidden_sizes, float64, orthogonal init from rng). fit(net, w, obs,
    actions, targets, rng) -> loss updates w in place (default AdamRegression).
    callback(k, net, w) after each iteration; returning True stops early.
    """
    cfg.validate()
    check_dataset(data)
    obs = np.asarray(data.obs, dtype=np.float64)
    next_obs = np.asarray(data.next_obs, dtype=np.float64)
    if net is None:
        net = MLP((obs.shape[1], *cfg.hidden_sizes, n_actions), hidden="relu", output="identity")
    if w is None:
        w = net.init(rng)
    obs, next_obs = obs.astype(net.dtype), next_obs.astype(net.dtype)
    fit = AdamRegression(cfg) if fit is None else fit
    history = []
    for k in range(cfg.iterations):
        w_target = w.copy()  # freeze Q_w' for this iteration's targets
        y = q_learning_target(data.rewards, net(w_target, next_obs).astype(np.float64), data.terminated, cfg.gamma)
        loss = fit(net, w, obs, data.actions, y, rng)
        history.append({"iteration": k + 1, "loss": loss, "mean_target": float(y.mean())})
        if callback is not None and callback(k, net, w):
            break
    return net, w, history
