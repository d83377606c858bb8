"""Gradient estimates from a black-box objective U(theta): finite differences and
the random-perturbation search of the AIBO running policy.

Both only evaluate U (an expected return, exact or estimated by rollouts), so
they work for any policy, differentiable or not (CMU 10-403, Policy
gradients, "Computing Gradients By Finite Differences": "simple, noisy,
inefficient - but sometimes effective"). `objective(theta) -> float` is
called once per perturbed parameter vector; theta is a flat float array and
is never modified. Randomness comes only from the rng passed in.
"""

import numpy as np

SCHEMES = ("forward", "central")


def _theta(theta):
    theta = np.array(theta, dtype=np.float64)  # a private copy the objective cannot alias
    if theta.ndim != 1 or theta.size < 1:
        raise ValueError(f"theta must be a flat array (n,), got shape {theta.shape}")
    return theta


def _positive(name, value):
    if not float(value) > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def finite_difference_gradient(objective, theta, eps, scheme="forward"):
    """dU/dtheta_k for every k by perturbing theta by eps along the unit vector u_k.

        forward: (U(theta + eps u_k) - U(theta)) / eps                  n + 1 evaluations
        central: (U(theta + eps u_k) - U(theta - eps u_k)) / (2 eps)    2n evaluations

    CMU 10-403, Policy gradients, "Computing Gradients By Finite Differences"
    (the forward form). Taylor's theorem gives the error for a smooth U:
    forward (eps/2) d^2U/dtheta_k^2 + O(eps^2), central (eps^2/6)
    d^3U/dtheta_k^3 + O(eps^4). If U is estimated with noise of standard
    deviation sigma per evaluation, the estimate adds noise of order
    sigma / eps: small eps trades bias for variance. Returns (n,) float64.
    """
    theta, eps = _theta(theta), _positive("eps", eps)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    grad = np.empty_like(theta)
    base = float(objective(theta.copy())) if scheme == "forward" else None
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = eps
        up = float(objective(theta + step))
        if scheme == "forward":
            grad[k] = (up - base) / eps
        else:
            grad[k] = (up - float(objective(theta - step))) / (2.0 * eps)
    return grad


def random_perturbations(rng, n_perturbations, n_params, eps):
    """t random perturbations of theta, each coordinate independently -eps, 0 or +eps
    with probability 1/3 each (CMU 10-403, "Learning an AIBO running policy"). (t, n)."""
    eps = _positive("eps", eps)
    if int(n_perturbations) < 1:
        raise ValueError(f"n_perturbations must be >= 1, got {n_perturbations!r}")
    return eps * rng.integers(-1, 2, size=(int(n_perturbations), int(n_params))).astype(np.float64)


def all_perturbations(n_params, eps):
    """The full factorial design: all 3^n patterns in {-eps, 0, +eps}^n, shape (3^n, n).

    Averaging over it instead of random draws removes the sampling noise:
    the AIBO difference is then exact for a quadratic U (random_perturbation_gradient).
    """
    grid = np.stack(np.meshgrid(*[np.array([-1.0, 0.0, 1.0])] * int(n_params), indexing="ij"), axis=-1)
    return _positive("eps", eps) * grid.reshape(-1, int(n_params))


def _group_averages(objective, theta, deltas):
    """Avg_{+eps,k}, Avg_{+0,k}, Avg_{-eps,k} (each (n,), nan where a group is empty)."""
    scores = np.array([float(objective(theta + d)) for d in deltas])
    avg = []
    for sign in (1.0, 0.0, -1.0):
        member = np.sign(deltas) == sign  # (t, n): perturbation i has this sign in dimension k
        count = member.sum(axis=0)
        with np.errstate(invalid="ignore"):
            avg.append(np.where(count > 0, (member * scores[:, None]).sum(axis=0) / count, np.nan))
    return avg


def _deltas(theta, deltas):
    deltas = np.asarray(deltas, dtype=np.float64)
    if deltas.ndim != 2 or deltas.shape[1] != theta.size:
        raise ValueError(f"perturbations must have shape (t, {theta.size}), got {deltas.shape}")
    return deltas


def random_perturbation_gradient(objective, theta, perturbations):
    """The AIBO average difference read as a gradient estimate:

        g_hat_k = (Avg_{+eps,k} - Avg_{-eps,k}) / (2 eps)

    where Avg_{+eps,k} averages U(theta + delta_i) over the perturbations with
    delta_ik = +eps (likewise -eps). With the other coordinates symmetric and
    uncorrelated, E[U | delta_k = +eps] - E[U | delta_k = -eps] = 2 eps
    dU/dtheta_k + O(eps^3): exact for a quadratic U under all_perturbations,
    O(eps^2) for a smooth U, plus sampling noise of order |grad U| / sqrt(t)
    under t random_perturbations. eps is read from the perturbations (their
    largest magnitude). nan where a dimension had no + or no - perturbation.
    """
    theta = _theta(theta)
    deltas = _deltas(theta, perturbations)
    eps = _positive("largest perturbation", np.abs(deltas).max())
    plus, _, minus = _group_averages(objective, theta, deltas)
    return (plus - minus) / (2.0 * eps)


def random_perturbation_step(objective, theta, perturbations, eta):
    """One iteration of the AIBO running-policy search; returns (theta_new, A).

        A_k = 0                              if Avg_{+0,k} > Avg_{+eps,k} and Avg_{+0,k} > Avg_{-eps,k}
        A_k = Avg_{+eps,k} - Avg_{-eps,k}    otherwise
        theta_new = theta + eta A / |A|      (no move when A = 0)

    CMU 10-403, Policy gradients, "Learning an AIBO running policy" (Kohl and
    Stone 2004). A dimension whose +, 0 or - group is empty gets A_k = 0.
    """
    theta = _theta(theta)
    deltas = _deltas(theta, perturbations)
    plus, zero, minus = _group_averages(objective, theta, deltas)
    A = np.where((zero > plus) & (zero > minus), 0.0, plus - minus)
    A = np.where(np.isnan(plus) | np.isnan(zero) | np.isnan(minus), 0.0, A)
    norm = np.linalg.norm(A)
    if norm == 0.0:
        return theta, A
    return theta + _positive("eta", eta) * A / norm, A
