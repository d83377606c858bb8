"""The natural-gradient step and TRPO's backtracking line search, on flat vectors.

Handwritten notes "Policy Gradients / Q Learning": the policy update

    theta' = argmax_theta' grad J^T (theta' - theta)   s.t.  D_KL(pi_theta' || pi_theta) <= eps

with the KL expanded to second order, D_KL ~ 1/2 (theta' - theta)^T F (theta' - theta),
is theta' = theta + alpha F^{-1} grad J ("Fisher info matrix = 'Natural
Gradient'"), and the KL bound fixes the step length ("Trust Region Policy
Opt TRPO"):

    alpha = sqrt(2 eps / (g^T F^{-1} g))       (the notes write g^T F g; with
                                                s = F^{-1} g, s^T F s = g^T F^{-1} g)

Stuttgart RL Lecture 10, "Natural Gradient Descent", derives the same step.
Here eps is `max_kl`. `natural_step` computes s by conjugate gradient and
scales it; `backtracking_line_search` is TRPO's safeguard for the quadratic
approximation (Schulman et al. 2015, appendix C): shrink the step until the
surrogate improves and the exact mean KL is at most max_kl. Both take
callables, so each is testable on its own.
"""

from dataclasses import dataclass

import numpy as np

from purerl.backend import get_xp
from purerl.cg import conjugate_gradient


@dataclass(frozen=True)
class NaturalStep:
    """The full natural-gradient step and how it was found.

    step: alpha * s, flat (n,) (zeros when the curvature guard refused it).
    step_size: alpha = sqrt(2 max_kl / s^T A s) (0 when refused).
    curvature: s^T A s, with A = F + damping I the matrix CG inverted.
    expected_improvement: g^T step, the first-order gain of the surrogate.
    ok: False when s^T A s <= 0 or not finite (A is not positive definite
    along s, or CG broke down), so no step is taken.
    cg: the CGInfo of the solve.
    """

    step: object
    step_size: float
    curvature: float
    expected_improvement: float
    ok: bool
    cg: object


def natural_step(fvp, g, max_kl, cg_iters=10, damping=0.0, cg_tol=1e-10):
    """The natural-gradient step that fills the quadratic trust region:

        A v = F v + damping v                       (damping keeps A positive definite)
        s = A^{-1} g                                (conjugate_gradient, cg_iters iterations)
        alpha = sqrt(2 max_kl / s^T A s),  step = alpha s

    so that 1/2 step^T A step = max_kl. fvp(v) -> F v (flat vectors shaped
    like g); g is the gradient of the objective to increase. Guard: when
    s^T A s <= 0 or is not finite, the step is refused (zeros, ok=False)
    instead of dividing by it. Returns a NaturalStep.
    """
    if not max_kl > 0:
        raise ValueError(f"max_kl must be > 0, got {max_kl!r}")
    if not damping >= 0:
        raise ValueError(f"damping must be >= 0, got {damping!r}")
    xp = get_xp(g)

    def damped(v):
        return fvp(v) + damping * v

    s, info = conjugate_gradient(damped, g, iters=cg_iters, tol=cg_tol)
    curvature = float(xp.vdot(s, damped(s)))
    if not (curvature > 0 and np.isfinite(curvature)):
        return NaturalStep(xp.zeros_like(g), 0.0, curvature, 0.0, False, info)
    alpha = float(np.sqrt(2.0 * max_kl / curvature))
    step = alpha * s
    return NaturalStep(step, alpha, curvature, float(xp.vdot(g, step)), True, info)


@dataclass(frozen=True)
class LineSearchResult:
    """accepted: a step was taken; fraction: the accepted multiple of the full step
    (0 if none); backtracks: candidates rejected; surrogate, kl: at the final theta."""

    accepted: bool
    fraction: float
    backtracks: int
    surrogate: float
    kl: float


def backtracking_line_search(evaluate, theta, full_step, surrogate_old, max_kl,
                             backtrack_ratio=0.8, max_backtracks=10):
    """TRPO's line search; updates theta IN PLACE (its views stay valid).

    Tries theta_old + ratio^j full_step for j = 0 .. max_backtracks - 1 and
    keeps the first candidate with

        surrogate(candidate) > surrogate_old    and    mean KL(pi_old || pi_candidate) <= max_kl

    where (surrogate, kl) = evaluate(theta) is computed exactly on the batch.
    If no candidate passes, theta is restored to theta_old exactly.
    Schulman et al. 2015, appendix C ("we perform a line search ... the
    nonlinear constraint is satisfied and the surrogate objective improves").
    Returns a LineSearchResult.
    """
    if not 0 < backtrack_ratio < 1:
        raise ValueError(f"backtrack_ratio must be in (0, 1), got {backtrack_ratio!r}")
    if isinstance(max_backtracks, bool) or int(max_backtracks) != max_backtracks or max_backtracks < 1:
        raise ValueError(f"max_backtracks must be an integer >= 1, got {max_backtracks!r}")
    theta_old = theta.copy()
    fraction = 1.0
    for j in range(int(max_backtracks)):
        theta[...] = theta_old + fraction * full_step
        surrogate, kl = evaluate(theta)
        if surrogate > surrogate_old and kl <= max_kl and np.isfinite(surrogate) and np.isfinite(kl):
            return LineSearchResult(True, fraction, j, surrogate, kl)
        fraction *= backtrack_ratio
    theta[...] = theta_old
    return LineSearchResult(False, 0.0, int(max_backtracks), surrogate_old, 0.0)
