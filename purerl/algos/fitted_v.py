"""Fitted value functions: Monte Carlo regression and TD fitted-V iteration.

CMU 10-403, Policy gradients, "Estimate V_pi(s_t)". Two ways to fit the
critic V_phi that serves as the baseline b(s_t) = V_phi(s_t) of REINFORCE
and the critic of actor-critic methods (and TRPO's value function):

    MC estimation:   phi <- argmin_phi (1/B) sum_t (V_phi(s_t) - G_t)^2
                     regress on the empirical (reward-to-go) return G_t;

    TD estimation (fitted V iteration), for i = 0, 1, ...:
                     y_i(s, r, s') = r + gamma V_{phi_i}(s')        (targets frozen at phi_i)
                     phi_{i+1} <- argmin_phi (1/B) sum (V_phi(s) - y_i)^2 + lam ||phi - phi_i||^2

The proximal term lam ||phi - phi_i||^2 keeps each iterate near the last,
since the targets themselves move with phi ("Bootstrapping!").

Scale of lam: the notes write the data term as a sum over the batch; here
it is a mean, so the notes' lambda equals B * lam. A mean makes lam (and the
learning rate) independent of the batch size.

"argmin" is approximated by `epochs` passes of minibatch gradient steps with
any optimizer of purerl/optim.py (maximize=False). phi is updated in place,
so the network's views stay valid. The array module comes from phi (numpy or
CuPy); `obs` and targets must live on the same device.

API (used by REINFORCE, A2C, A3C here and by TRPO's critic):

    value_loss(value_fn, phi, obs, targets)                       -> (loss, grad)
    proximal_value_loss(value_fn, phi, obs, targets, phi_anchor, lam) -> (loss, grad)
    fit_values(value_fn, phi, obs, targets, optimizer, rng, ...)  -> mean loss   (MC regression)
    td_fitted_targets(value_fn, phi, rewards, next_obs, terminated, gamma) -> y
    fitted_v_iteration(value_fn, phi, obs, rewards, next_obs, terminated, optimizer, rng, ...) -> losses
"""

import numpy as np

from purerl.backend import get_xp, to_device
from purerl.estimators import td_targets
from purerl.losses import mse
from purerl.optim import clip_grad_norm


def value_loss(value_fn, phi, obs, targets):
    """L(phi) = (1/B) sum_b (V_phi(s_b) - y_b)^2 and its gradient dL/dphi (n_params,).

    CMU 10-403, Policy gradients, "Estimate V_pi(s_t)" (MC estimation; also
    Algorithm 1, "Re-fit the baseline, by minimizing ||b(s_t) - R_t||^2").
    value_fn: a purerl.policies.ValueFunction; obs (B, obs_dim); targets (B,).
    Returns (loss as a 0-d array, flat gradient in phi's dtype).
    """
    values, cache = value_fn.forward(phi, obs)
    loss, g_values = mse(values, targets)
    return loss, value_fn.backward(phi, cache, g_values)


def proximal_value_loss(value_fn, phi, obs, targets, phi_anchor, lam):
    """The fitted-V iteration objective with its proximal term, and its gradient:

        L(phi) = (1/B) sum_b (V_phi(s_b) - y_b)^2 + lam ||phi - phi_i||^2
        dL/dphi = (value_loss gradient) + 2 lam (phi - phi_i)

    CMU 10-403, Policy gradients, "Estimate V_pi(s_t)" (TD estimation, fitted
    V iteration), with phi_anchor = phi_i. lam >= 0 (0: plain regression).
    """
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0 (weight of ||phi - phi_i||^2), got {lam!r}")
    loss, grad = value_loss(value_fn, phi, obs, targets)
    if lam == 0:
        return loss, grad
    xp = get_xp(phi)
    diff = phi - phi_anchor
    return loss + lam * xp.vdot(diff, diff), grad + (2.0 * lam) * diff


def _minibatches(batch, batch_size, rng):
    """Index arrays (host numpy) of a random partition of range(batch) into minibatches.

    The last minibatch is smaller when batch_size does not divide batch.
    batch_size None means one minibatch of the whole batch (no shuffle).
    """
    if batch_size is None or batch_size >= batch:
        return [np.arange(batch)]
    order = rng.permutation(batch)
    return [order[k : k + batch_size] for k in range(0, batch, batch_size)]


def fit_values(value_fn, phi, obs, targets, optimizer, rng, *, epochs=1, batch_size=None,
               phi_anchor=None, lam=0.0, max_grad_norm=None):
    """Regress V_phi on fixed targets by minibatch gradient steps; phi updated in place.

    For each of `epochs` passes over a fresh random partition of the B samples
    into minibatches of `batch_size` (rng draws the partition): one optimizer
    step on proximal_value_loss of the minibatch (value_loss when lam = 0),
    the gradient clipped to global norm max_grad_norm if given.

    With targets G_t (reward-to-go returns) this is MC estimation; with the
    frozen TD targets of td_fitted_targets and phi_anchor = phi_i, one
    iteration of fitted V iteration. obs (B, obs_dim); targets (B,).
    Returns the mean minibatch loss of the last epoch (a float).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs!r}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size!r}")
    if lam > 0 and phi_anchor is None:
        raise ValueError("lam > 0 needs phi_anchor, the phi_i of ||phi - phi_i||^2")
    xp = get_xp(phi)
    batch = targets.shape[0]
    if obs.shape[0] != batch:
        raise ValueError(f"obs has {obs.shape[0]} rows but targets has {batch}; they must match")
    losses = []
    for _ in range(epochs):
        losses = []
        for idx in _minibatches(batch, batch_size, rng):
            if len(idx) < batch:
                idx = to_device(idx, xp)
                o, y = obs[idx], targets[idx]
            else:
                o, y = obs, targets
            loss, grad = proximal_value_loss(value_fn, phi, o, y, phi_anchor, lam)
            if max_grad_norm is not None:
                grad, _ = clip_grad_norm(grad, max_grad_norm)
            optimizer.step(phi, grad)
            losses.append(float(loss))
    return float(np.mean(losses))


def td_fitted_targets(value_fn, phi, rewards, next_obs, terminated, gamma):
    """Frozen TD targets y = r + gamma (1 - terminated) V_phi(s'), shape (B,).

    CMU 10-403, Policy gradients, "Estimate V_pi(s_t)": the target
    r + V_{phi_i}(s') of fitted V iteration (with a discount gamma; the
    notes' version is gamma = 1). The equation is estimators.td_targets; here
    only V_phi(s') is evaluated. next_obs (B, obs_dim) is s', the observation
    that followed s in the same episode (the final observation where a time
    limit truncated it, so truncation bootstraps; terminated steps ignore it).
    """
    return td_targets(rewards, value_fn(phi, next_obs), terminated, gamma=gamma)


def fitted_v_iteration(value_fn, phi, obs, rewards, next_obs, terminated, optimizer, rng, *,
                       gamma, lam, iterations=1, epochs=1, batch_size=None, max_grad_norm=None):
    """TD fitted V iteration with the proximal term; phi updated in place.

        for i = 0 .. iterations-1:
            phi_i = phi                                        (frozen copy)
            y_i   = r + gamma (1 - terminated) V_{phi_i}(s')   (td_fitted_targets)
            phi   <- approx argmin (1/B) sum (V_phi(s) - y_i)^2 + lam ||phi - phi_i||^2
                     (fit_values: `epochs` minibatch passes from phi_i)

    CMU 10-403, Policy gradients, "Estimate V_pi(s_t)" (TD estimation).
    Samples (s, r, s', terminated) are rows of obs, rewards, next_obs,
    terminated, all with leading shape (B,). Returns the list of the last-epoch
    mean losses, one per iteration.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations!r}")
    losses = []
    for _ in range(iterations):
        phi_i = phi.copy()
        y = td_fitted_targets(value_fn, phi_i, rewards, next_obs, terminated, gamma)
        losses.append(fit_values(value_fn, phi, obs, y, optimizer, rng, epochs=epochs,
                                 batch_size=batch_size, phi_anchor=phi_i, lam=lam,
                                 max_grad_norm=max_grad_norm))
    return losses
