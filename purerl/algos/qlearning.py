"""What every Q-learning method shares: targets, the TD regression step, target networks.

Fitted Q-iteration (purerl/algos/fqi.py), DQN (purerl/algos/dqn.py) and the
critic of DDPG differ in how they collect data and how often they refit; the
equations below are the same for all of them ("Stuttgart RL Lecture 10",
'Fitted Q-iteration and Q-learning': DQN is the loop with N = 1, K = 1).

Conventions: a batch of B transitions; q arrays (B, A) of action values;
rewards (B,), terminated (B,) bool. A truncated transition is not terminal:
its next_obs is the true final observation (info["final_obs"]), so its
target bootstraps from Q(final_obs) like any other (DESIGN.md, Conventions).
Parameters w (online) and w_target (target network) are flat vectors.
"""

import numpy as np

from purerl import estimators
from purerl.losses import huber, mse

LOSSES = {"huber": huber, "mse": mse}


def q_learning_target(rewards, next_q, terminated, gamma):
    """y = r + gamma (1 - terminated) max_a' Q_w'(s', a'); (B,).

    The Q-learning / DQN target ("Robot Perception and Control:
    Reinforcement Learning", 'DQN': y_t = r_{t+1} + gamma max_a
    Q_theta-(s_{t+1}, a); Stuttgart RL Lecture 10, 'Naive deep Q-learning').
    next_q (B, A) are the target network's values at s'. The bootstrap and
    the termination mask are estimators.td_targets.
    """
    return estimators.td_targets(rewards, next_q.max(axis=1), terminated, gamma=gamma)


def double_q_target(rewards, next_q_online, next_q_target, terminated, gamma):
    """y = r + gamma (1 - terminated) Q_w'(s', argmax_a Q_w(s', a)); (B,).

    Double DQN ("Robot Perception and Control: Reinforcement Learning",
    'Double DQN'; van Hasselt et al. 2016): the online network selects the
    greedy action, the target network evaluates it, which removes the
    maximization bias of max_a Q_w'(s', a). next_q_online, next_q_target (B, A).
    """
    a_star = next_q_online.argmax(axis=1)
    chosen = np.take_along_axis(next_q_target, a_star[:, None], axis=1)[:, 0]
    return estimators.td_targets(rewards, chosen, terminated, gamma=gamma)


def td_regression_grad(net, w, obs, actions, targets, weights=None, loss="huber"):
    """Gradient of the (importance-weighted) TD regression loss in w.

        L(w) = (1/B) sum_i weight_i l(Q_w(s_i, a_i) - y_i),   l = squared error or Huber

    ("Robot Perception and Control: Reinforcement Learning", 'DQN':
    L = E[(y_t - Q_theta(s_t, a_t))^2]; 'Prioritized Experience Replay':
    multiply the loss by w_i). y is held fixed (no gradient through the
    target). Returns (loss without the weights, g_w (n_params,),
    td_errors y - Q_w(s, a) (B,)) - the unweighted loss is what is logged,
    the weighted one is what the gradient descends.
    """
    q, cache = net.forward(w, obs)  # (B, A)
    rows = np.arange(q.shape[0])
    q_sa = q[rows, actions]
    value, g_q_sa = LOSSES[loss](q_sa, targets.astype(q.dtype, copy=False))
    if weights is not None:
        g_q_sa *= weights.astype(q.dtype, copy=False)
    gy = np.zeros_like(q)
    gy[rows, actions] = g_q_sa  # dL/dQ is zero for the actions not taken
    g_w, _ = net.backward(w, cache, gy, input_grad=False)
    return float(value), g_w, targets - q_sa


def polyak_update(w_target, w, tau):
    """Target network update on flat vectors, in place: w' <- tau w + (1 - tau) w'.

    tau = 1 is the hard copy of DQN's periodic synchronization ("Robot
    Perception and Control: Reinforcement Learning", 'DQN', target network;
    Stuttgart RL Lecture 10, 'Another solution: replay buffers', whose
    target network w' <- w is this); tau < 1 is Polyak averaging
    (DDPG, Lillicrap et al. 2016).
    """
    if tau == 1.0:
        w_target[:] = w
    else:
        w_target *= 1.0 - tau
        w_target += tau * w
