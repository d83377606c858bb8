"""Conjugate gradient: solve A x = b for symmetric positive-definite A, given only v -> A v.

Natural-gradient methods need x = F^{-1} g with F the Fisher matrix of the
policy (handwritten notes "Policy Gradients / Q Learning", "Fisher info
matrix = Natural Gradient": theta' = theta + alpha F^{-1} grad J). F has
n_params^2 entries and is never formed; `purerl.policies.fisher_vector_product`
gives F v exactly, and conjugate gradient needs nothing else. Each iteration
costs one matrix-vector product; k iterations minimise the A-norm of the
error over the Krylov space span{b, A b, ..., A^{k-1} b}, so a few iterations
(TRPO uses 10) already give a good direction (Schulman et al. 2015, "Trust
Region Policy Optimization", appendix C).

The recursion is Nocedal and Wright, "Numerical Optimization" (2006),
Algorithm 5.2, started from x_0 (default 0, so r_0 = p_0 = b):

    alpha_k = r_k^T r_k / p_k^T A p_k
    x_{k+1} = x_k + alpha_k p_k
    r_{k+1} = r_k - alpha_k A p_k                  (the residual b - A x_{k+1})
    beta_k  = r_{k+1}^T r_{k+1} / r_k^T r_k
    p_{k+1} = r_{k+1} + beta_k p_k

It stops after `iters` iterations, when ||r|| <= tol ||b||, or when a search
direction has non-positive curvature p^T A p <= 0 (A is not positive definite
along p; the step would go uphill or be infinite), keeping the last good x.
Works on numpy or CuPy vectors (the array module comes from b).
"""

from dataclasses import dataclass

import numpy as np

from purerl.backend import get_xp


@dataclass(frozen=True)
class CGInfo:
    """Diagnostics of one conjugate_gradient call.

    iterations: matrix-vector products used on search directions (<= iters).
    residual_norm: ||r|| = ||b - A x|| of the returned x, from the recursion.
    converged: residual_norm <= tol * ||b||.
    curvature_failure: stopped at a direction p with p^T A p <= 0 (or non-finite).
    """

    iterations: int
    residual_norm: float
    converged: bool
    curvature_failure: bool


def conjugate_gradient(matvec, b, iters=10, tol=1e-10, x0=None):
    """Approximately solve A x = b with A v = matvec(v); returns (x, CGInfo).

    matvec: callable taking and returning flat vectors shaped like b; it must
    be linear and represent a symmetric matrix. b: (n,) float vector. iters:
    the most iterations (>= 1). tol: relative residual tolerance (>= 0).
    x0: the starting point (default zeros). b is not modified.
    """
    if isinstance(iters, bool) or int(iters) != iters or iters < 1:
        raise ValueError(f"iters must be an integer >= 1, got {iters!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    if getattr(b, "ndim", None) != 1:
        raise ValueError(f"b must be a flat vector (n,), got shape {getattr(b, 'shape', None)}")
    xp = get_xp(b)
    if x0 is None:
        x = xp.zeros_like(b)
        r = b.copy()
    else:
        if x0.shape != b.shape:
            raise ValueError(f"x0 has shape {x0.shape} but b has shape {b.shape}; they must match")
        x = x0.astype(b.dtype, copy=True)
        r = b - matvec(x)
    p = r.copy()
    rr = float(xp.vdot(r, r))
    target = tol * float(np.sqrt(float(xp.vdot(b, b))))
    k, failure = 0, False
    while k < iters and np.sqrt(rr) > target:
        Ap = matvec(p)
        pAp = float(xp.vdot(p, Ap))
        if not (pAp > 0 and np.isfinite(pAp)):
            failure = True
            break
        alpha = rr / pAp
        x += alpha * p
        r -= alpha * Ap
        rr_next = float(xp.vdot(r, r))
        p *= rr_next / rr
        p += r
        rr = rr_next
        k += 1
    norm = float(np.sqrt(rr))
    return x, CGInfo(iterations=k, residual_norm=norm, converged=norm <= target, curvature_failure=failure)
