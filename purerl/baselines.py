"""Baselines: what is subtracted from the return before it weights the score.

    g_hat = sum_t grad log pi_theta(a_t|s_t) (G_t - b_t)

stays unbiased for any b_t that does not depend on a_t or on anything after
it, because E[grad log pi_theta(a|s)] b = b grad sum_a pi_theta(a|s) = 0
(CMU 10-403, Policy gradients, "Likelihood ratio gradient estimator" and
"Baseline choices"; course notes "Chapter 4", section 4.4; Yamazaki,
"Baselines"). A baseline estimated from the same batch breaks that rule
through the batch's other returns unless it leaves the sample's own return
out (leave_one_out_baseline); the exact tests show the O(1/N) bias of the
plain batch mean and its absence with leave-one-out.

Conventions: batch functions reduce over the last axis, the episode axis, so
`returns` is (N,) (one R(tau) per episode) or (T, N) (G_t of N episodes
aligned at t = 0, with a `mask` (T, N) marking the steps that exist); any
leading axes index independent batches (the exact oracle's (H, M, n)).
Results keep that axis with length 1 so that `returns - b` broadcasts.
Pure; the array module comes from the inputs.
"""

from purerl.backend import get_xp
from purerl.trajectories import done_mask, exact_shape, float_array


def _masked(returns, mask):
    xp = get_xp(returns, *([] if mask is None else [mask]))
    x = float_array("returns", returns, xp)
    m = xp.ones(x.shape, dtype=bool) if mask is None else done_mask("mask", mask, x.shape, xp)
    return xp, x, m


def constant_baseline(returns, mask=None):
    """b = (1/N) sum_i R(tau^(i)), the batch's mean return, along the last (episode) axis.

    CMU 10-403, Policy gradients, "Baseline choices" (constant baseline
    b = E[R(tau)] estimated from the batch); handwritten notes, "Baselines"
    (b = (1/N) sum r(tau)). returns (..., N): one R(tau) per episode (leading
    axes index separate batches); mask (..., N) marks valid entries.
    Returns (..., 1), so R - b broadcasts. A slice with no valid entry gets 0.
    Biased by -(1/N) grad J when used on the batch it came from (see the
    module docstring); leave_one_out_baseline is the unbiased version.
    """
    xp, x, m = _masked(returns, mask)
    count = m.sum(axis=-1, keepdims=True)
    total = xp.where(m, x, 0.0).sum(axis=-1, keepdims=True)
    return xp.where(count > 0, total / xp.maximum(count, 1), 0.0)


def time_baseline(returns, mask=None):
    """b_t = (1/N) sum_i G_t^(i): at each step t, the batch's mean return-to-go.

    CMU 10-403, Policy gradients, "Baseline choices" (time-dependent
    baseline b_t = (1/N) sum_i sum_{k=t}^{H} R(s_k^(i), a_k^(i))); course notes
    "Chapter 4", section 4.4 (b_t estimating the average reward-to-go).
    returns (T, ..., N): the N episodes aligned at t = 0; mask (T, ..., N)
    marks the steps that exist (ragged episodes). Returns (T, ..., 1): the
    constant_baseline of every row.
    """
    shape = get_xp(returns).asarray(returns).shape
    if len(shape) < 2:
        raise ValueError(f"time_baseline needs returns of shape (T, ..., N), got {shape}")
    return constant_baseline(returns, mask)


def leave_one_out_baseline(returns, mask=None):
    """b_i = (1/(N-1)) sum_{j != i} R_j: each episode's baseline from the others only.

    Along the last axis, so returns (N,) gives a constant-style baseline per
    episode and (T, N) a time-dependent one per episode. Because b_i is
    independent of episode i, E[grad log p(tau_i) b_i] = 0 and the estimator
    stays exactly unbiased, while the plain batch mean (constant_baseline)
    includes R_i and biases the gradient by -(1/N) grad J. Needs >= 2 valid
    entries along the last axis wherever a step is valid.
    """
    xp, x, m = _masked(returns, mask)
    xm = xp.where(m, x, 0.0)
    others = m.sum(axis=-1, keepdims=True) - m
    if bool(xp.any(m & (others < 1))):
        raise ValueError("leave_one_out_baseline needs at least 2 valid returns along the last axis")
    return (xm.sum(axis=-1, keepdims=True) - xm) / xp.maximum(others, 1)


def state_baseline(value_fn, obs):
    """b(s_t) = V(s_t): any function of the state, such as a fitted value function.

    CMU 10-403, Policy gradients, "Baseline choices" (state-dependent expected
    return b(s_t) = V_pi(s_t)) and "Estimate V_pi(s_t)"; Yamazaki, "Baselines"
    (any function of s, never of a). value_fn maps obs (T, *B, ...) to
    values (T, *B); the result is checked to be finite floats of that shape.
    """
    xp = get_xp(obs)
    values = value_fn(obs)
    if isinstance(values, tuple):
        raise ValueError("value_fn(obs) returned a tuple; it must return the values alone "
                         "(MLP.forward returns (y, cache): call net(phi, obs) instead)")
    b = float_array("value_fn(obs)", values, xp)
    if tuple(b.shape) != tuple(xp.asarray(obs).shape[: b.ndim]):
        raise ValueError(
            f"value_fn(obs) has shape {tuple(b.shape)}; expected a prefix of obs's shape {tuple(obs.shape)}"
        )
    if not bool(xp.all(xp.isfinite(b))):
        raise ValueError("value_fn(obs) returned nan or inf")
    return b


def optimal_baseline_general(h, u, weights=None, per_coordinate=False):
    """Variance-minimising constant b for an estimator of the form g_hat = u - b h with E[h] = 0.

        trace Cov[u - b h] = E|u - b h|^2 - |E u|^2     is minimal at     b* = E[h . u] / E[|h|^2]
        per coordinate:    Var[u_k - b_k h_k]          is minimal at     b*_k = E[h_k u_k] / E[h_k^2]

    (set the derivative in b to zero: handwritten notes, "Baselines",
    dVar/db = 0). h, u: (M, P), one row per trajectory; weights (M,) are
    probabilities (the exact oracle passes trajectory probabilities) or None
    for the sample mean. Returns a 0-d array, or (P,) per coordinate; a
    coordinate with E[h_k^2] = 0 gets 0 (every b is optimal there).
    For the reward-to-go form sum_t gamma^t s_t (G_t - b), take
    u = sum_t gamma^t s_t G_t and h = sum_t gamma^t s_t (s_t the score).
    """
    xp = get_xp(h, u, *([] if weights is None else [weights]))
    h = float_array("h", h, xp)
    if h.ndim != 2:
        raise ValueError(f"h must have shape (M, P), got {tuple(h.shape)}")
    u = exact_shape("u", u, h.shape, xp, dtype=h.dtype)
    if weights is None:
        w = xp.full(h.shape[0], 1.0 / h.shape[0])
    else:
        w = exact_shape("weights", weights, h.shape[:1], xp)
        if not bool(xp.all(xp.isfinite(w) & (w >= 0))):
            raise ValueError("weights must be finite and nonnegative (probabilities of the trajectories)")
    if not bool(xp.all(xp.isfinite(h)) and xp.all(xp.isfinite(u))):
        raise ValueError("h and u must be finite: a nan or inf score would silently give b = 0")
    axis = 0 if per_coordinate else None
    num = (w[:, None] * h * u).sum(axis=axis)
    den = (w[:, None] * h * h).sum(axis=axis)
    return xp.where(den > 0, num / xp.where(den > 0, den, 1.0), 0.0)


def optimal_baseline(g, returns, weights=None, per_coordinate=False):
    """The variance-optimal constant baseline of the full-return estimator g_hat = g (R - b).

        b* = E[|g|^2 R] / E[|g|^2]           (minimises the trace of Cov[g_hat])
        b*_k = E[g_k^2 R] / E[g_k^2]         (per coordinate: minimises each Var[g_hat_k])

    with g = grad log p_theta(tau) = sum_t grad log pi_theta(a_t|s_t) and
    R = R(tau). Handwritten notes, "Baselines" (b* = E[g(tau)^2 r(tau)] /
    E[g(tau)^2]). g: (M, P); returns: (M,); weights (M,) or None as in
    optimal_baseline_general, which this calls with h = g, u = g R.
    """
    xp = get_xp(g, returns)
    g = float_array("g", g, xp)
    R = exact_shape("returns", returns, g.shape[:1], xp, dtype=g.dtype)
    return optimal_baseline_general(g, g * R[:, None], weights, per_coordinate)


# ----------------------------------------------------------------------------
# standardisation (a baseline and a scale)
# ----------------------------------------------------------------------------


def standardize(x, axis=None, eps=1e-8):
    """(x - mean) / (std + eps) over `axis` (all entries by default).

    Karpathy's pg-pong standardises each episode's discounted returns
    (CMU 10-403, Policy gradients, "Pong from Pixels"): the mean acts as a
    constant baseline from the same episode, the scale as a step-size
    normaliser. Karpathy uses eps = 0; eps > 0 keeps a constant x finite.
    """
    xp = get_xp(x)
    x = float_array("x", x, xp)
    centred = x - x.mean(axis=axis, keepdims=True)
    return centred / (xp.sqrt((centred * centred).mean(axis=axis, keepdims=True)) + eps)


def standardize_episodes(x, terminated=None, truncated=None, eps=1e-8):
    """standardize applied separately to every episode segment of each column of x (T, *B).

    An episode ends at a row whose terminated or truncated flag is set; the
    last segment of a column may be unfinished (standardised as it is).
    Shapes: x and masks (T, *B); returns (T, *B) in x's dtype.
    """
    xp = get_xp(x)
    x = float_array("x", x, xp)
    done = done_mask("terminated", terminated, x.shape, xp) | done_mask("truncated", truncated, x.shape, xp)
    T = x.shape[0]
    flat, done = x.reshape(T, -1), done.reshape(T, -1)
    # segment number within each column = episode ends strictly before row t
    seg = xp.cumsum(done, axis=0) - done
    ids = (seg + T * xp.arange(flat.shape[1])[None, :]).ravel()
    size = T * flat.shape[1]
    count = xp.bincount(ids, minlength=size)
    mean = xp.bincount(ids, weights=flat.ravel(), minlength=size) / xp.maximum(count, 1)
    centred = flat.ravel() - mean[ids]
    var = xp.bincount(ids, weights=centred * centred, minlength=size) / xp.maximum(count, 1)
    out = centred / (xp.sqrt(var)[ids] + eps)
    return out.reshape(x.shape).astype(x.dtype)
