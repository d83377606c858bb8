"""Regression losses with their gradients with respect to the prediction.

Each returns (loss, g_pred): loss is the mean over all N elements of pred, and
g_pred = d loss / d pred has pred's shape and dtype, ready to be the upstream
gradient `gy` of purerl.nn.MLP.backward. pred and target must have the same
shape (no broadcasting: a (B, 1) prediction against a (B,) target would
silently become (B, B)).
"""

import numpy as np

from purerl.backend import get_xp


def _residual(pred, target):
    """d = pred - target in pred's dtype, after checking shapes."""
    p_shape, t_shape = getattr(pred, "shape", None), getattr(target, "shape", None)
    if p_shape != t_shape:
        raise ValueError(f"pred has shape {p_shape} but target has shape {t_shape}; they must match")
    if pred.dtype.kind != "f":
        raise ValueError(f"pred must be a floating-point array, got dtype {pred.dtype}")
    if pred.size == 0:
        raise ValueError("pred is empty: the mean of a loss over zero elements is undefined")
    xp = np if type(pred) is np.ndarray else get_xp(pred)
    return xp, xp.subtract(pred, target, dtype=pred.dtype)


def mse(pred, target):
    """Mean squared error and its gradient:

        L = (1/N) sum_i (pred_i - target_i)^2,      dL/dpred_i = 2 (pred_i - target_i) / N

    the squared TD / regression error of "Policy Gradients / Q Learning"
    (L = (Q_theta(s, a) - y)^2, dL/dtheta = 2 (Q_theta(s, a) - y) dQ/dtheta) and
    of Stuttgart RL Lecture 10, 'Naive deep Q-learning'.
    """
    xp, d = _residual(pred, target)
    loss = xp.vdot(d, d) / d.size
    d *= 2.0 / d.size
    return loss, d


def huber(pred, target, delta=1.0):
    """Mean Huber loss and its gradient, with residual d_i = pred_i - target_i:

        l(d) = d^2 / 2                  if |d| <= delta
             = delta (|d| - delta / 2)  otherwise
        L = (1/N) sum_i l(d_i),         dL/dpred_i = clip(d_i, -delta, delta) / N

    Quadratic near zero, linear in the tails, so one large TD error cannot
    produce a huge gradient (the error clipping of DQN, Mnih et al. 2015).
    For |d| <= delta everywhere it is half the mse.
    """
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    xp, d = _residual(pred, target)
    a = xp.abs(d)
    quadratic = xp.minimum(a, delta)  # the part of |d| inside the quadratic zone
    # l = q^2 / 2 + delta (|d| - q) with q = min(|d|, delta) covers both branches.
    loss = (0.5 * xp.vdot(quadratic, quadratic) + delta * xp.sum(a - quadratic)) / d.size
    g = xp.clip(d, -delta, delta)
    g *= 1.0 / d.size
    return loss, g
