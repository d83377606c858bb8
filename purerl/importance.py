"""Importance weights: reweighting data drawn from one policy to estimate under another.

    E_beta[f] = E_pi[(pi / beta) f]

Handwritten notes, "Importance Sampling"; course notes "Chapter 4", section
4.3 (the likelihood-ratio trick). `ratio` is the per-step ratio of PPO and
TRPO; `importance_weights` the per-decision or whole-trajectory products of
ratios within episodes, on the time-major layout of purerl/estimators.py.
"""

from purerl.backend import get_xp
from purerl.trajectories import (backward_scan, episode_starts, exact_shape, float_array, forward_scan, last_row,
                                 trajectory_inputs)


def ratio(log_probs, old_log_probs):
    """Per-step likelihood ratio r_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t) = exp(log_probs - old_log_probs).

    Handwritten notes, "Importance Sampling" (E_p[f] = E_q[(p/q) f]); the
    ratio of PPO and TRPO (Yamazaki, "PPO-Clip"). Shapes: any, equal; out the same.
    """
    xp = get_xp(log_probs, old_log_probs)
    lp = float_array("log_probs", log_probs, xp)
    return xp.exp(lp - exact_shape("old_log_probs", old_log_probs, lp.shape, xp, dtype=lp.dtype))


def importance_weights(log_probs, behavior_log_probs, terminated=None, truncated=None, *, per_decision=True):
    """Importance weights of off-policy data, products of ratios within each episode.

        per decision:      rho_{0:t} = prod_{k=0}^{t} pi_theta(a_k|s_k) / beta(a_k|s_k)
        whole trajectory:  rho(tau)  = prod_{k=0}^{H-1} pi_theta(a_k|s_k) / beta(a_k|s_k)
                                     = p_theta(tau) / p_beta(tau)   (dynamics cancel)

    k counts from the start of the episode row t belongs to (or row 0).
    Course notes "Chapter 4", section 4.3 (the likelihood-ratio trick,
    E_{tau~rho}[rho_theta(tau)/rho(tau) R(tau)]); handwritten notes,
    "Importance Sampling". E_beta[rho(tau) f(tau)] = E_theta[f(tau)], and a
    reward r_t needs only the weight of the prefix that caused it:
    E_beta[rho_{0:t} f(tau_{0:t})] = E_theta[f(tau_{0:t})], so weighting
    r_t by rho_{0:t} (per decision) is unbiased with lower variance. Computed
    as exp of summed log ratios. Shapes: (T, *B) in and out.
    """
    xp, lr, term, trunc = trajectory_inputs(log_probs, terminated, truncated, behavior_log_probs, name="log_probs")
    lr = lr - exact_shape("behavior_log_probs", behavior_log_probs, lr.shape, xp, dtype=lr.dtype)
    done = term | trunc
    start = episode_starts(xp, done)
    c = forward_scan(lr, xp.where(start, 0.0, 1.0))  # log rho_{0:t}
    if not per_decision:  # spread each episode's total back over its rows
        end = done | last_row(xp, lr.shape)
        c = backward_scan(xp.where(end, c, 0.0), xp.where(end, 0.0, 1.0))
    return xp.exp(c)
