"""The surrogate objectives of TRPO and PPO, each with its gradient.

Every function here takes per-sample quantities of a batch of B steps
(log pi_theta(a_t|s_t) under the current parameters, the log-probabilities
log pi_old(a_t|s_t) stored at collection time, advantages A_hat_t, ...) and
returns the objective together with its derivative in those per-sample
quantities. The chain rule into theta is then one call:
`purerl.policies.eta_gradient` turns d/d log_probs (and d/d entropy, d/d KL)
into a gradient in the distribution's parameters, and `policy.backward`
takes it through the network. So each equation below has one place, and the
gradient tests can check it by finite differences in the per-sample inputs.

Notation: ratio_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t) (importance.ratio),
B = batch size; objectives are means over the batch and are maximised
(losses such as the value loss are minimised).
"""

from purerl.backend import get_xp
from purerl.importance import ratio as likelihood_ratio


def _check_batch(log_probs, old_log_probs, advantages):
    shapes = {x.shape for x in (log_probs, old_log_probs, advantages)}
    if len(shapes) != 1 or log_probs.ndim != 1:
        raise ValueError(
            "log_probs, old_log_probs and advantages must be flat arrays (B,) of one shape; got "
            f"{log_probs.shape}, {old_log_probs.shape}, {advantages.shape}"
        )
    return log_probs.shape[0]


def surrogate(log_probs, old_log_probs, advantages):
    """The importance-sampled surrogate and its gradient in log_probs:

        L(theta) = (1/B) sum_t ratio_t A_hat_t,      dL/d log_probs_t = ratio_t A_hat_t / B

    Handwritten notes "Policy Gradients / Q Learning", "Importance Sampling"
    (J(theta) = E_{tau ~ pi_old}[p_theta / p_old r], per step); the objective
    that TRPO maximises inside its trust region (Schulman et al. 2015, eq. 14).
    At theta = theta_old its gradient is the policy gradient (1/B) sum_t A_hat_t
    grad log pi. Shapes: (B,) in; returns (float, (B,)).
    """
    batch = _check_batch(log_probs, old_log_probs, advantages)
    weighted = likelihood_ratio(log_probs, old_log_probs) * advantages
    return float(weighted.mean()), weighted / batch


def clip_objective(log_probs, old_log_probs, advantages, clip_eps):
    """PPO-Clip objective, its gradient in log_probs, and the clipped fraction:

        L = (1/B) sum_t min(ratio_t A_hat_t, clip(ratio_t, 1 - eps, 1 + eps) A_hat_t)
          = (1/B) sum_t min(ratio_t A_hat_t, g(eps, A_hat_t)),
        g(eps, A) = (1 + eps) A if A >= 0 else (1 - eps) A

    Yamazaki, "Robot Perception and Control: Reinforcement Learning",
    "PPO-Clip" (both forms); Schulman et al. 2017, eq. 7. Where the clipped
    term is the smaller one (A > 0 and ratio > 1 + eps, or A < 0 and
    ratio < 1 - eps) it is constant in theta, so the gradient is exactly 0
    there; elsewhere it is that of the surrogate, ratio_t A_hat_t / B. (At a
    tie both terms are equal and the unclipped gradient is used.)
    Shapes: (B,) in; returns (objective float, d/d log_probs (B,), clip fraction float).
    """
    if not clip_eps > 0:
        raise ValueError(f"clip_eps must be > 0, got {clip_eps!r}")
    batch = _check_batch(log_probs, old_log_probs, advantages)
    xp = get_xp(log_probs)
    r = likelihood_ratio(log_probs, old_log_probs)
    unclipped = r * advantages
    g = xp.where(advantages >= 0, 1.0 + clip_eps, 1.0 - clip_eps) * advantages
    # The min picks the constant, clipped term. Decided by ratio and sign, not by comparing
    # the two products, which can round equal (e.g. a subnormal A) where the math says clipped.
    clipped = ((advantages > 0) & (r > 1.0 + clip_eps)) | ((advantages < 0) & (r < 1.0 - clip_eps))
    objective = float(xp.where(clipped, g, unclipped).sum()) / batch
    grad = xp.where(clipped, 0.0, unclipped / batch).astype(log_probs.dtype, copy=False)
    return objective, grad, int(xp.count_nonzero(clipped)) / batch


def kl_penalty_objective(log_probs, old_log_probs, advantages, kl, beta):
    """PPO-Penalty objective and its gradients in log_probs and in the per-sample KL:

        L = (1/B) sum_t [ratio_t A_hat_t - beta KL(pi_old(.|s_t) || pi_theta(.|s_t))]
        dL/d log_probs_t = ratio_t A_hat_t / B,      dL/d KL_t = -beta / B

    Yamazaki, "Robot Perception and Control: Reinforcement Learning", "Proximal
    Policy Optimization (PPO)"
    (PPO-Penalty "penalizes the KL-divergence in the objective function");
    Schulman et al. 2017, eq. 8. kl (B,) is old_dist.kl(new_dist); beta >= 0
    is adapted between updates by adapt_kl_coef.
    Returns (objective float, d/d log_probs (B,), d/d kl (B,)).
    """
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    value, g_log_probs = surrogate(log_probs, old_log_probs, advantages)
    if kl.shape != log_probs.shape:
        raise ValueError(f"kl must have shape {log_probs.shape}, got {kl.shape}")
    g_kl = get_xp(kl).full(kl.shape, -beta / kl.shape[0], dtype=kl.dtype)
    return value - beta * float(kl.mean()), g_log_probs, g_kl


def adapt_kl_coef(beta, kl, kl_target):
    """The adaptive KL penalty coefficient of PPO-Penalty (Schulman et al. 2017, section 4):

        d = mean KL(pi_old || pi_theta) after the update
        if d < d_targ / 1.5:   beta <- beta / 2
        if d > d_targ * 1.5:   beta <- beta * 2
        otherwise beta is unchanged.

    Yamazaki, "Proximal Policy Optimization (PPO)" ("automatically adjusts the penalty coefficient").
    The factors 1.5 and 2 are the paper's; it reports the algorithm is not
    sensitive to them.
    """
    if not kl_target > 0:
        raise ValueError(f"kl_target must be > 0, got {kl_target!r}")
    if kl < kl_target / 1.5:
        return beta / 2.0
    if kl > kl_target * 1.5:
        return beta * 2.0
    return beta


def approx_kl(log_probs, old_log_probs):
    """Estimate of KL(pi_old || pi_theta) from the sampled actions only:

        KL ~ (1/B) sum_t [(ratio_t - 1) - log ratio_t]

    Unbiased (E_old[ratio - 1] = 0) and never negative (x - 1 >= log x); the
    estimator of Schulman's "Approximating KL Divergence" (2020), used by
    CleanRL and Stable-Baselines3 for PPO's early stop. Shapes (B,) -> float.
    """
    xp = get_xp(log_probs)
    log_ratio = log_probs - old_log_probs
    return float(xp.mean(xp.expm1(log_ratio) - log_ratio))


def clipped_value_loss(values, old_values, returns, clip):
    """PPO's clipped value loss and its gradient in values:

        V_clip = V_old + clip(V - V_old, -c, c)
        L = (1/B) sum_t max((V_t - R_t)^2, (V_clip_t - R_t)^2)
        dL/dV_t = 2 (V_t - R_t) / B       where the unclipped term is the max
                = 2 (V_clip_t - R_t) / B  where the clipped term is larger and |V - V_old| < c
                = 0                       where it is larger and V_clip is at a bound

    The value-function clipping of OpenAI Baselines' PPO2 (also in CleanRL
    and SB3's clip_range_vf): the critic, like the policy, may not move far
    from its values at collection time. With c = inf it is the mse of
    purerl.losses. Shapes: (B,) in; returns (loss float, (B,)).
    """
    if not clip > 0:
        raise ValueError(f"clip must be > 0, got {clip!r}")
    if not values.shape == old_values.shape == returns.shape:
        raise ValueError(
            f"values, old_values, returns must have one shape; got {values.shape}, "
            f"{old_values.shape}, {returns.shape}")
    xp = get_xp(values)
    batch = values.shape[0]
    delta = values - old_values
    v_clip = old_values + xp.clip(delta, -clip, clip)
    err, err_clip = values - returns, v_clip - returns
    use_clip = err_clip * err_clip > err * err
    inside = xp.abs(delta) < clip
    loss = float(xp.maximum(err * err, err_clip * err_clip).mean())
    grad = xp.where(use_clip, xp.where(inside, err_clip, 0.0), err) * (2.0 / batch)
    return loss, grad.astype(values.dtype, copy=False)


def mean_kl(old_dist, new_dist):
    """Mean over the batch of the exact KL(pi_old(.|s_t) || pi_theta(.|s_t)), a float.

    The trust-region constraint of TRPO (handwritten notes "Policy Gradients /
    Q Learning", "s.t. D_KL(...) <= eps"; Schulman et al. 2015, eq. 12 with the
    mean KL of section 5). Both are distributions of one kind and shape.
    """
    return float(old_dist.kl(new_dist).mean())
