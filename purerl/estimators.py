"""Returns, TD errors, n-step and lambda-returns, GAE: one function per equation.

Every function is pure (inputs are never written to) and takes its array
module from its inputs (purerl.backend.get_xp), so it runs on numpy or CuPy.

Layout, shared by all functions here:

- Arrays are time-major, shape (T,) for one trajectory or (T, *B) for a batch
  (usually (T, N): N games side by side). Row t holds step t of every game.
- rewards[t] = r_t, the reward received for taking a_t in s_t.
- terminated[t]: the MDP ended after step t (no future, no bootstrap).
- truncated[t]: a time limit cut the episode after step t; its future is
  estimated by bootstrapping. Either flag True means row t + 1 (if any)
  starts a new episode. None means all False.
- next_values[t]: the value of the state that follows s_t in the same
  episode, V(s_{t+1}) or V(final_obs_t) after a truncation; its entries at
  terminated steps are ignored. It is the one bootstrap input, used where an
  episode was truncated and at the last row when the episode goes on beyond
  the array (a rollout cut at T steps). `next_state_values` builds it.
  Monte Carlo functions accept next_values=None, meaning every trajectory in
  the array is complete: the last row ends it and there is nothing to
  bootstrap (then a truncated step is an error).
- gamma, lam, n are keyword-only so call sites read like the equations.

Every recursion over time here is one linear recurrence,
y_t = a_t + c_t y_{t+1} (or y_{t-1}), with the equation in how a and c are
built; `backward_scan` (purerl/trajectories.py, with the input checks) runs it.

Baselines (constant, time-dependent, state-dependent, leave-one-out,
variance-optimal) and per-episode standardisation live in purerl/baselines.py.
"""

from purerl.backend import get_xp
from purerl.trajectories import (backward_scan, bootstrap_values, check_unit, done_mask, episode_starts, exact_shape,
                                 float_array, forward_scan, last_row, trajectory_inputs)

# ----------------------------------------------------------------------------
# Monte Carlo returns
# ----------------------------------------------------------------------------


def discounted_returns(rewards, terminated=None, truncated=None, *, gamma, next_values=None,
                       reset_at_nonzero_reward=False):
    """Discounted return from each step to the end of its episode.

        G_t = r_t + gamma G_{t+1},  restarted at each episode's end:
        G_t = r_t                            if terminated[t]
        G_t = r_t + gamma next_values[t]     if truncated[t], or t = T-1 and the episode goes on

    Yamazaki, "Reward and Return" (G_t = r_{t+1} + gamma G_{t+1}, with the
    reward index shifted by one there); CMU 10-403, Policy gradients,
    "REINFORCE" (the return R_t of Algorithm 1). With next_values at a
    rollout cut this is A3C's target, R <- r_i + gamma R started from
    R = V(s_t) unless s_t is terminal (CMU 10-403, "Asynchronous Deep RL",
    Algorithm S3); it equals nstep_returns with n >= T.

    reset_at_nonzero_reward: also end the sum at every nonzero reward, as in
    Karpathy's pg-pong (CMU 10-403, "Pong from Pixels"): each point of Pong is
    its own episode for credit assignment. Same as terminated | (rewards != 0).

    Shapes: rewards, masks, next_values (T, *B); returns (T, *B), rewards' dtype.
    """
    xp, r, term, trunc = trajectory_inputs(rewards, terminated, truncated, next_values)
    gamma = check_unit("gamma", gamma)
    if reset_at_nonzero_reward:
        term = term | (r != 0)
    boot = bootstrap_values(xp, r, trunc & ~term, next_values)
    cut = (trunc | last_row(xp, r.shape)) & ~term  # the episode goes on beyond what we hold
    a = r + gamma * xp.where(cut, boot, 0.0)
    return backward_scan(a, gamma * ~(term | cut))


def episode_steps(terminated=None, truncated=None, *, shape=None, start_steps=None):
    """k_t, the number of steps since the episode of row t began (int64, (T, *B)).

        k_0 = start_steps (default 0);  k_{t+1} = 0 if row t ended an episode, else k_t + 1

    start_steps (B,) says how far into its episode each game already was at
    row 0 (rollouts that continue earlier ones). Give `shape` when both
    masks are None.
    """
    src = terminated if terminated is not None else truncated
    if src is None and shape is None:
        raise ValueError("episode_steps needs a mask or shape=(T, *B)")
    xp = get_xp(*[x for x in (terminated, truncated, start_steps) if x is not None])
    shape = tuple(xp.asarray(src).shape) if shape is None else tuple(shape)
    done = done_mask("terminated", terminated, shape, xp) | done_mask("truncated", truncated, shape, xp)
    start = episode_starts(xp, done)
    a = xp.where(start, 0.0, 1.0)  # k_t = 0 at a start, else k_{t-1} + 1
    if start_steps is not None:
        k0 = exact_shape("start_steps", start_steps, shape[1:], xp, dtype=xp.float64)
        if not bool(xp.all((k0 >= 0) & (k0 == xp.floor(k0)))):  # also false for nan
            raise ValueError(f"start_steps must be whole numbers >= 0 (steps already taken), got {start_steps!r}")
        a[0] = k0
    return xp.rint(forward_scan(a, xp.where(start, 0.0, 1.0))).astype(xp.int64)


def reward_to_go(rewards, terminated=None, truncated=None, *, gamma, next_values=None, start_steps=None):
    """Reward-to-go: the rewards step t can still cause, discounted from the episode start.

        sum_{t'=t}^{H-1} gamma^{t'} r_{t'}  =  gamma^{k_t} G_t     (k_t: episode_steps)

    CMU 10-403, Policy gradients, "Temporal structure" (the return from t
    onwards, "causality"); course notes "Chapter 4", eq. (4.3) and its remark
    that in the discounted case the Q term carries gamma^t; Yamazaki, "Does
    past Reward matter?". With gamma = 1 it is G_t itself. The factor
    gamma^{k_t} keeps sum_t grad log pi(a_t|s_t) * reward_to_go_t an unbiased
    estimate of grad E[sum_t gamma^t r_t]; dropping it (the common practice)
    biases the estimator when gamma < 1.

    Shapes: as discounted_returns; start_steps (B,) as in episode_steps.
    """
    G = discounted_returns(rewards, terminated, truncated, gamma=gamma, next_values=next_values)
    k = episode_steps(terminated, truncated, shape=G.shape, start_steps=start_steps)
    return float(gamma) ** k * G


def total_return(rewards, terminated=None, truncated=None, *, gamma=1.0, next_values=None):
    """R(tau), the whole (discounted) return of the episode row t belongs to, at every row.

        R(tau) = sum_{k=0}^{H-1} gamma^k r_k  (= G at the episode's first row)

    CMU 10-403, Policy gradients, "Policy objective" (R(tau) = sum_t R(s_t, a_t))
    and "Likelihood ratio gradient estimator": every action of tau is weighted
    by the same R(tau). Rows before the first episode start of a column are
    treated as starting at row 0. Shapes: (T, *B) in and out.
    """
    G = discounted_returns(rewards, terminated, truncated, gamma=gamma, next_values=next_values)
    xp = get_xp(G)
    done = done_mask("terminated", terminated, G.shape, xp) | done_mask("truncated", truncated, G.shape, xp)
    start = episode_starts(xp, done)  # R_t = G_t at an episode's first row, else R_{t-1}
    return forward_scan(xp.where(start, G, 0.0), xp.where(start, 0.0, 1.0))


# ----------------------------------------------------------------------------
# bootstrapped targets: TD, n-step, lambda-returns, GAE
# ----------------------------------------------------------------------------


def next_state_values(values, last_values, truncated=None, final_values=None, terminated=None):
    """Build next_values from per-step values: the value of the state after s_t.

        next_values[t] = values[t+1]      for t < T-1
                       = last_values      for t = T-1 (V of the observation after the rollout)
                       = final_values[t]  where truncated[t] (V(final_obs_t): with same-step
                                          autoreset, values[t+1] belongs to the next episode)
                       = 0                where terminated[t]

    Shapes: values (T, *B), last_values (*B), final_values and masks (T, *B).
    """
    xp = get_xp(values, last_values, *[x for x in (final_values, truncated, terminated) if x is not None])
    v = float_array("values", values, xp)
    last = exact_shape("last_values", last_values, v.shape[1:], xp, dtype=v.dtype)
    nv = xp.concatenate([v[1:], last[None]], axis=0)
    trunc = done_mask("truncated", truncated, v.shape, xp)
    if final_values is not None:
        nv = xp.where(trunc, exact_shape("final_values", final_values, v.shape, xp, dtype=v.dtype), nv)
    elif bool(trunc.any()):
        raise ValueError(
            "truncated steps need final_values, the value of each truncated game's final observation"
        )
    return xp.where(done_mask("terminated", terminated, v.shape, xp), 0.0, nv)


def td_targets(rewards, next_values, terminated=None, *, gamma):
    """One-step TD target y_t = r_t + gamma V(s_{t+1}), without the bootstrap after termination.

        y_t = r_t + gamma (1 - terminated_t) next_values_t

    Yamazaki, "Temporal Difference (TD) Learning" (TD target; SARSA and
    Q-learning pass Q(s', a') or max_a Q(s', a) as next_values, DQN its target
    network's). Truncation needs no flag: next_values already holds
    V(final_obs). Shapes: (T, *B) in and out (any leading batch works).
    """
    xp, r, term, _ = trajectory_inputs(rewards, terminated, None, next_values)
    gamma = check_unit("gamma", gamma)
    nv = exact_shape("next_values", next_values, r.shape, xp, dtype=r.dtype)
    return r + gamma * xp.where(term, 0.0, nv)


def td_errors(rewards, values, next_values, terminated=None, *, gamma):
    """TD(0) error delta_t = r_t + gamma V(s_{t+1}) (1 - terminated_t) - V(s_t).

    Yamazaki, "Temporal Difference (TD) Learning" (TD error delta_t = y_t - V);
    CMU 10-403, Policy gradients, "Actor-Critic" (Q = r_0 + gamma V(s_1), the
    one-step critic). Shapes: (T, *B) in and out.
    """
    y = td_targets(rewards, next_values, terminated, gamma=gamma)
    return y - exact_shape("values", values, y.shape, get_xp(y), dtype=y.dtype)


def nstep_returns(rewards, next_values, terminated=None, truncated=None, *, gamma, n):
    """n-step bootstrapped return, cut short at the episode's end or the rollout's.

        y_{t:t+m} = r_t + gamma r_{t+1} + ... + gamma^{m-1} r_{t+m-1} + gamma^m V(s_{t+m})

    with m = min(n, steps left in the episode or the array) and no V term if
    the episode terminated inside the window; V(s_{t+m}) = next_values[t+m-1].
    Yamazaki, "TD(lambda)" (n-step truncated return, indices shifted by one);
    CMU 10-403, Policy gradients, "Actor-Critic" (k-step lookahead for A3C).
    n = 1 gives td_targets; n >= T gives discounted_returns (Monte Carlo,
    bootstrapping only at the cut). Shapes: (T, *B) in and out.
    """
    xp, r, term, trunc = trajectory_inputs(rewards, terminated, truncated, next_values)
    gamma = check_unit("gamma", gamma)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    nv = exact_shape("next_values", next_values, r.shape, xp, dtype=r.dtype)
    T = r.shape[0]
    col = (T,) + (1,) * (r.ndim - 1)  # broadcast a per-row flag over the batch axes
    acc = xp.zeros_like(r)
    alive = xp.ones(r.shape, dtype=bool)  # the window of row t has not ended yet
    disc = 1.0
    for k in range(int(min(n, T))):
        rows = xp.arange(T) + k
        inside = (rows < T).reshape(col)
        j = xp.minimum(rows, T - 1)  # row t + k, clamped; masked out by `inside`
        live = alive & inside
        acc = acc + xp.where(live, disc * r[j], 0.0)
        stop = term[j] | trunc[j] | (rows == T - 1).reshape(col) | (k == n - 1)
        acc = acc + xp.where(live & stop & ~term[j], disc * gamma * nv[j], 0.0)
        alive = live & ~stop
        disc *= gamma
    return acc


def lambda_returns(rewards, next_values, terminated=None, truncated=None, *, gamma, lam):
    """lambda-return, the (1 - lam) lam^{n-1}-weighted average of the n-step returns.

        y^lam_t = (1 - lam) sum_{n=1}^{m-1} lam^{n-1} y_{t:t+n} + lam^{m-1} y_{t:t+m}

    (Yamazaki, "TD(lambda)"; the last weight takes the tail so the weights sum
    to 1), computed by the equivalent backward recursion

        y^lam_t = r_t + gamma (1 - terminated_t) [(1 - lam) V(s_{t+1}) + lam y^lam_{t+1}]

    with y^lam_{t+1} replaced by V(s_{t+1}) = next_values[t] where the episode
    was truncated or the array ends. lam = 0: TD(0) target; lam = 1: Monte
    Carlo return. Equals gae(...) + values. Shapes: (T, *B) in and out.
    """
    xp, r, term, trunc = trajectory_inputs(rewards, terminated, truncated, next_values)
    gamma, lam = check_unit("gamma", gamma), check_unit("lam", lam)
    nv = exact_shape("next_values", next_values, r.shape, xp, dtype=r.dtype)
    cut = trunc | last_row(xp, r.shape)
    # y_t = r_t + gamma (1 - lam) V + gamma lam (V at a cut, else y_{t+1}); nothing after termination
    a = r + gamma * xp.where(term, 0.0, xp.where(cut, nv, (1.0 - lam) * nv))
    return backward_scan(a, gamma * lam * ~(term | cut))


def gae(rewards, values, next_values, terminated=None, truncated=None, *, gamma, lam):
    """Generalized advantage estimation (Schulman et al. 2016, "High-Dimensional
    Continuous Control Using Generalized Advantage Estimation").

        delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t)       (td_errors)
        A_hat_t = delta_t + gamma lam (1 - done_t) A_hat_{t+1},   A_hat_T = 0

    done_t = terminated_t or truncated_t: the advantage sum stops at every
    episode end, while a truncated step's delta still bootstraps from
    V(final_obs) through next_values. lam = 1 gives discounted_returns(...,
    next_values) - values (CMU 10-403, "REINFORCE": A_hat_t = R_t - b(s_t));
    lam = 0 gives td_errors. It is the advantage estimate of PPO's step 5
    (Yamazaki, "PPO-Clip") and A3C's A_i = R - V(s_i) when lam = 1.

    Shapes: rewards, values, next_values, masks (T, *B); returns (T, *B).
    """
    delta = td_errors(rewards, values, next_values, terminated, gamma=gamma)
    xp, _, _, trunc = trajectory_inputs(rewards, terminated, truncated)
    lam = check_unit("lam", lam)
    done = done_mask("terminated", terminated, delta.shape, xp) | trunc
    return backward_scan(delta, float(gamma) * lam * ~done)
