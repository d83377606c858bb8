"""Tabular value methods on a TabularMDP (purerl/exact.py): exact Q* and Q^pi,
and the TD learners Q-learning, SARSA, expected SARSA, n-step TD and
lambda-return TD (forward view, or backward view with eligibility traces).

Action values are tables Q[k, s, a] of shape (K, S, A): K = H for a
finite-horizon MDP (Q depends on the step k of the episode, and Q_H = 0), K = 1
for an infinite-horizon discounted one. Every function works for both.

The learners share one loop (`td_learn`): sample a segment of experience with
the current behavior policy (a numba kernel), build the targets y_t with the
estimators of purerl/estimators.py (TD, n-step or lambda-return) from the
bootstrap values next_values[t] = V(s_{t+1}) of the chosen method, and move
each visited Q(s, a) toward the mean of its targets with a visit-count step
size. Within a segment Q is held fixed, so the forward view (lambda-returns)
and the backward view (eligibility traces) make identical updates.
"""

import numpy as np
from numba import njit

from purerl import estimators, exact
from purerl.algos.exploration import epsilon_greedy_probs

TARGETS = ("max", "sample", "expected")
VIEWS = ("forward", "backward")


def q_shape(mdp):
    """(K, S, A): K = horizon for finite-horizon MDPs, 1 for infinite-horizon ones."""
    return (mdp.horizon or 1, mdp.n_states, mdp.n_actions)


def _backup(mdp, next_v):
    """R(s,a) + gamma sum_s' P(s'|s,a) V(s') for V of shape (S,) -> (S, A)."""
    return mdp.R + mdp.gamma * mdp.P @ next_v


def value_iteration(mdp, tol=1e-12, max_iters=1_000_000):
    """Q*, the fixed point of the Bellman optimality operator.

        Q*(s, a) = R(s, a) + gamma sum_s' P(s'|s, a) max_a' Q*(s', a')

    ("Robot Perception and Control: Reinforcement Learning", 'Bellman
    Equation', optimal value functions). Finite horizon: backward induction
    from Q_H = 0, exact after H backups. Infinite horizon: repeat the backup
    (a gamma-contraction in the sup norm) until it moves Q by at most `tol`;
    the Bellman residual is then at most gamma * tol.
    Returns (K, S, A) float64.
    """
    K, S, A = q_shape(mdp)
    Q = np.zeros((K, S, A))
    if mdp.horizon:
        next_v = np.zeros(S)
        for k in range(K - 1, -1, -1):
            Q[k] = _backup(mdp, next_v)
            next_v = Q[k].max(axis=1)
        return Q
    if not mdp.gamma < 1:
        raise ValueError(f"infinite-horizon value iteration needs gamma < 1, got gamma={mdp.gamma!r}")
    for _ in range(max_iters):
        new = _backup(mdp, Q[0].max(axis=1))
        change = np.abs(new - Q[0]).max()
        Q[0] = new
        if change <= tol:
            return Q
    raise RuntimeError(f"value iteration did not reach tol={tol} in {max_iters} iterations")


def bellman_optimality_residual(mdp, Q):
    """max |T*Q - Q|, T* the Bellman optimality operator (0 exactly at Q*)."""
    K = Q.shape[0]
    worst = 0.0
    for k in range(K):
        next_v = Q[k + 1].max(axis=1) if k + 1 < K else (np.zeros(mdp.n_states) if mdp.horizon else Q[0].max(axis=1))
        worst = max(worst, float(np.abs(_backup(mdp, next_v) - Q[k]).max()))
    return worst


def policy_q_values(mdp, pi):
    """Q^pi (K, S, A) of a stationary policy pi (S, A): exact.evaluate, reshaped to
    this module's layout (the Bellman expectation equation is solved there)."""
    _, Q = exact.evaluate(mdp, pi)
    return Q.reshape(q_shape(mdp))


@njit(cache=True)
def _draw(cum, u):
    """Index j with cum[j-1] <= u * cum[-1] < cum[j] (inverse CDF; skips zero-probability j)."""
    x = u * cum[cum.shape[0] - 1]
    for j in range(cum.shape[0]):
        if x < cum[j]:
            return j
    return cum.shape[0] - 1


@njit(cache=True)
def rollout_kernel(probs_cum, P_cum, R, mu0_cum, horizon, k0, s0, a0, u):
    """L = u.shape[0] steps from (step k0, state s0, action a0) under fixed probs.

    probs_cum (K, S, A), P_cum (S, A, S), mu0_cum (S,): cumulative sums over
    the last axis. horizon 0 means infinite. u (L, 3) uniforms: next state,
    next action, reset state. Returns per-step arrays k, s, a, r, s_next,
    a_next, terminated and the carry (k, s, a) to continue from.
    """
    L = u.shape[0]
    ks = np.empty(L, np.int64)
    s = np.empty(L, np.int64)
    a = np.empty(L, np.int64)
    s2 = np.empty(L, np.int64)
    a2 = np.empty(L, np.int64)
    r = np.empty(L)
    term = np.zeros(L, np.bool_)
    k, st, at = k0, s0, a0
    for i in range(L):
        ks[i], s[i], a[i], r[i] = k, st, at, R[st, at]
        s2[i] = _draw(P_cum[st, at], u[i, 0])
        if horizon > 0 and k + 1 == horizon:  # the finite-horizon episode ends: Q_H = 0
            term[i] = True
            k, st = 0, _draw(mu0_cum, u[i, 2])
        else:
            k, st = (k + 1 if horizon > 0 else 0), s2[i]
        at = _draw(probs_cum[k, st], u[i, 1])
        a2[i] = at
    return ks, s, a, r, s2, a2, term, k, st, at


@njit(cache=True)
def trace_kernel(flat_idx, td_errors, done, decay, size):
    """Backward view: sum_t delta_t e_t with accumulating eligibility traces.

        e_t = gamma lam e_{t-1} + 1[(k,s,a) = (k_t,s_t,a_t)],   e = 0 after an episode ends

    ("Robot Perception and Control: Reinforcement Learning", 'TD(lambda)',
    backward view). With Q fixed, sum_t delta_t e_t(x) = sum_{t: x_t = x}
    (y^lam_t - Q(x_t)) whenever next_values[t] = Q(x_{t+1}): the forward view.
    flat_idx (L,) int into the flattened table; returns (size,) float64.
    """
    e = np.zeros(size)
    out = np.zeros(size)
    for t in range(flat_idx.shape[0]):
        e *= decay
        e[flat_idx[t]] += 1.0
        out += td_errors[t] * e
        if done[t]:
            e[:] = 0.0
    return out


def _cum(p):
    c = np.cumsum(p, axis=-1)
    return np.ascontiguousarray(c)


def bootstrap_values(Q, ks, s2, a2, terminated, target, target_probs, horizon):
    """next_values[t] = V(s_{t+1}) at step k_t + 1 for the chosen target.

    "max": max_a Q(s', a) (Q-learning); "sample": Q(s', a') with a' the action
    taken next (SARSA); "expected": sum_a pi(a|s') Q(s', a) (expected SARSA).
    ("Robot Perception and Control: Reinforcement Learning", 'Temporal
    Difference (TD) Learning', TD targets.) Entries at terminated steps are 0.
    """
    k2 = np.where(terminated, 0, ks + 1) if horizon else ks
    rows = Q[k2, s2]  # (L, A)
    if target == "max":
        v = rows.max(axis=1)
    elif target == "sample":
        v = rows[np.arange(len(a2)), a2]
    else:
        v = (target_probs[k2, s2] * rows).sum(axis=1)
    return np.where(terminated, 0.0, v)


def td_learn(mdp, rng, *, steps, behavior, target="max", target_probs=None, n=1, lam=None,
             view="forward", omega=0.8, segment=64, Q=None):
    """Tabular TD control / evaluation; returns (Q (K, S, A), visit counts (K, S, A)).

    behavior(Q) -> probs (K, S, A): the policy that acts, re-evaluated at
    each segment start (a fixed table for evaluation; epsilon_greedy_probs or
    boltzmann_probs of Q for control). target: see bootstrap_values;
    target_probs (K, S, A) for "expected" (default: the behavior). Targets:
    n-step returns y_{t:t+n} (estimators.nstep_returns; n = 1 is the one-step
    TD target) or, with lam, the lambda-return (estimators.lambda_returns) or
    its backward view (view="backward", trace_kernel, "sample" targets only).
    Update, with Q fixed over the segment and k(x) visits of x = (k, s, a) in it:

        Q(x) <- Q(x) + alpha(x) * mean_{t: x_t = x} (y_t - Q(x)),
        alpha(x) = min(1, k(x) / N(x)^omega),  N(x) = visits so far incl. these

    omega in (1/2, 1] meets the Robbins-Monro conditions (omega = 1 averages).
    segment: steps per segment (a multiple of the horizon for finite MDPs).
    """
    _check_td_args(target, n, lam, view, omega, steps, segment)
    K, S, A = shape = q_shape(mdp)
    Q = np.zeros(shape) if Q is None else np.array(Q, dtype=np.float64)
    counts = np.zeros(shape)
    P_cum, mu0_cum = _cum(mdp.P), _cum(mdp.mu0)
    horizon = int(mdp.horizon or 0)
    probs = behavior(Q)
    k0, s0 = 0, _draw(mu0_cum, rng.random())
    a0 = _draw(_cum(probs[0, s0]), rng.random())
    for start in range(0, steps, segment):
        probs = behavior(Q)
        u = rng.random((min(segment, steps - start), 3))
        ks, s, a, r, s2, a2, term, k0, s0, a0 = rollout_kernel(_cum(probs), P_cum, mdp.R, mu0_cum, horizon, k0, s0, a0, u)
        tp = probs if target_probs is None else np.broadcast_to(target_probs, shape)
        next_values = bootstrap_values(Q, ks, s2, a2, term, target, tp, horizon)
        flat = np.ravel_multi_index((ks, s, a), shape)
        if lam is None:
            y = estimators.nstep_returns(r, next_values, term, gamma=mdp.gamma, n=n)
            err = np.bincount(flat, weights=y - Q.reshape(-1)[flat], minlength=Q.size)
        elif view == "forward":
            y = estimators.lambda_returns(r, next_values, term, gamma=mdp.gamma, lam=lam)
            err = np.bincount(flat, weights=y - Q.reshape(-1)[flat], minlength=Q.size)
        else:
            delta = estimators.td_errors(r, Q.reshape(-1)[flat], next_values, term, gamma=mdp.gamma)
            err = trace_kernel(flat, delta, term, mdp.gamma * lam, Q.size)
        visits = np.bincount(flat, minlength=Q.size).reshape(shape)
        counts += visits
        alpha = np.minimum(1.0, visits / np.maximum(counts, 1.0) ** omega)
        Q += alpha * err.reshape(shape) / np.maximum(visits, 1)
    return Q, counts


def _check_td_args(target, n, lam, view, omega, steps, segment):
    if target not in TARGETS:
        raise ValueError(f"invalid target={target!r}; accepted: one of {', '.join(TARGETS)}")
    if view not in VIEWS:
        raise ValueError(f"invalid view={view!r}; accepted: one of {', '.join(VIEWS)}")
    if target == "max" and (n != 1 or lam is not None):
        raise ValueError(
            f"target='max' with n={n}, lam={lam}: multi-step Q-learning without importance "
            "weights is biased; accepted: n=1, lam=None for 'max', or target 'sample'/'expected'"
        )
    if view == "backward" and (lam is None or target != "sample"):
        raise ValueError("view='backward' needs lam and target='sample' (SARSA(lambda)); accepted: view='forward'")
    if not 0.5 < omega <= 1:
        raise ValueError(f"invalid omega={omega!r}; accepted: a number in (0.5, 1]")
    if int(steps) < 1 or int(segment) < 1:
        raise ValueError(f"invalid steps={steps!r} / segment={segment!r}; accepted: integers >= 1")


def q_learning(mdp, rng, *, steps, eps=0.2, **kwargs):
    """Q-learning: y_t = r_t + gamma max_a Q(s_{t+1}, a), acting epsilon-greedily.

    ("Robot Perception and Control: Reinforcement Learning", 'Temporal
    Difference (TD) Learning', Q-learning; Stuttgart RL Lecture 10, 'Naive
    deep Q-learning', the update rule.) Off-policy: converges to Q*.
    """
    return td_learn(mdp, rng, steps=steps, behavior=lambda Q: epsilon_greedy_probs(Q, eps), target="max", **kwargs)


def sarsa(mdp, rng, *, steps, policy=None, eps=0.2, n=1, lam=None, **kwargs):
    """SARSA: y_t = r_t + gamma Q(s_{t+1}, a_{t+1}), on-policy (same note and section).

    With `policy` (a fixed (K, S, A) or (S, A) table) it evaluates that
    policy and converges to Q^pi; without, it acts epsilon-greedily on Q
    (SARSA control). n > 1: n-step SARSA; lam: SARSA(lambda).
    """
    if policy is None:
        behavior = lambda Q: epsilon_greedy_probs(Q, eps)  # noqa: E731
    else:
        fixed = np.broadcast_to(np.asarray(policy, dtype=np.float64), q_shape(mdp))
        behavior = lambda Q: fixed  # noqa: E731
    return td_learn(mdp, rng, steps=steps, behavior=behavior, target="sample", n=n, lam=lam, **kwargs)
