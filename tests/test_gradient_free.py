"""Gradient-free estimators against the exact gradient of an exact objective:
the finite-difference error shrinks at the rate Taylor's theorem predicts
(O(eps) forward, O(eps^2) central, with the forward leading term
(eps / 2) d^2 J / d theta_k^2), and the AIBO average difference is exact for
quadratics under the full factorial design."""

import numpy as np
import pytest

from purerl import exact
from purerl import gradient_free as gf
from purerl.tabular_policies import TabularSoftmax

rng = np.random.default_rng(11)
MDP = exact.random_mdp(rng, n_states=2, n_actions=2, horizon=3, gamma=0.9, integer_rewards=False)
POLICY = TabularSoftmax(2, 2)
THETA = rng.uniform(-1.0, 1.0, size=4)
GRAD = exact.policy_gradient(MDP, POLICY, THETA)


def J(theta):
    return exact.objective(MDP, POLICY, theta)


def _slope(eps, errors):
    """Least-squares slope of log error against log eps."""
    return np.polyfit(np.log(eps), np.log(errors), 1)[0]


EPS = 0.2 * 0.5 ** np.arange(6)  # 0.2 ... 0.00625: well above float rounding


def test_forward_differences_converge_at_first_order_with_the_predicted_constant():
    errors = [np.linalg.norm(gf.finite_difference_gradient(J, THETA, e) - GRAD) for e in EPS]
    assert 0.9 < _slope(EPS, errors) < 1.1
    # leading term: (fd - grad) / eps -> (1/2) d^2 J / d theta_k^2
    h = 1e-4
    curvature = np.array([(J(THETA + h * u) - 2 * J(THETA) + J(THETA - h * u)) / h**2 for u in np.eye(4)])
    eps = 1e-4
    leading = (gf.finite_difference_gradient(J, THETA, eps) - GRAD) / eps
    np.testing.assert_allclose(leading, curvature / 2, rtol=0, atol=1e-3 * (1 + np.abs(curvature).max()))


def test_central_differences_converge_at_second_order():
    errors = [np.linalg.norm(gf.finite_difference_gradient(J, THETA, e, scheme="central") - GRAD)
              for e in EPS]
    assert 1.85 < _slope(EPS, errors) < 2.15
    assert errors[-1] < errors[0] / 500  # 32x smaller eps, about 1000x smaller error


def test_aibo_difference_is_exact_for_a_quadratic_under_the_full_design():
    A = rng.normal(size=(3, 3))
    A = A + A.T
    b, theta = rng.normal(size=3), rng.normal(size=3)

    def quadratic(x):
        return 0.5 * x @ A @ x + b @ x + 2.0

    for eps in (1.0, 0.1):
        est = gf.random_perturbation_gradient(quadratic, theta, gf.all_perturbations(3, eps))
        np.testing.assert_allclose(est, A @ theta + b, rtol=0, atol=1e-12)


def test_aibo_difference_converges_at_second_order_on_a_smooth_objective():
    errors = [np.linalg.norm(gf.random_perturbation_gradient(J, THETA, gf.all_perturbations(4, e)) - GRAD)
              for e in EPS]
    assert 1.85 < _slope(EPS, errors) < 2.15


def test_aibo_difference_with_random_perturbations():
    """With t random perturbations the estimate's noise has standard deviation about
    |grad U| / sqrt(t) per coordinate (the other coordinates' perturbations do not
    cancel exactly); at t = 20000 a 10% error would be about 14 standard deviations."""
    A, b = np.diag([1.0, -2.0, 0.5, 3.0]), np.array([1.0, -1.0, 2.0, 0.5])

    def quadratic(x):
        return 0.5 * x @ A @ x + b @ x

    deltas = gf.random_perturbations(np.random.default_rng(5), 20_000, 4, 0.1)
    assert set(np.unique(deltas)) == {-0.1, 0.0, 0.1}
    grad = A @ THETA + b
    est = gf.random_perturbation_gradient(quadratic, THETA, deltas)
    assert np.linalg.norm(est - grad) < 0.1 * np.linalg.norm(grad)


def test_aibo_step_zeroes_dimensions_where_no_move_beats_standing_still():
    def peaked(x):  # a maximum at x_0 = 0; increasing with slope 3 in x_1
        return -x[0] ** 2 + 3.0 * x[1]

    theta = np.zeros(2)
    new, A = gf.random_perturbation_step(peaked, theta, gf.all_perturbations(2, 0.5), eta=0.25)
    # dimension 0: Avg_0 = 0 beats Avg_+ = Avg_- = -1/4, so A_0 = 0; dimension 1: A_1 = 3 (+1/2 - -1/2)
    assert A.tolist() == [0.0, 3.0]
    assert new.tolist() == [0.0, 0.25]  # theta + eta A / |A|
    assert theta.tolist() == [0.0, 0.0]  # the input is untouched


@pytest.mark.parametrize("call, match", [
    (lambda: gf.finite_difference_gradient(J, THETA, 0.0), "eps must be > 0"),
    (lambda: gf.finite_difference_gradient(J, THETA, 0.1, scheme="backward"), "scheme must be one of"),
    (lambda: gf.finite_difference_gradient(J, THETA.reshape(2, 2), 0.1), "theta must be a flat array"),
    (lambda: gf.random_perturbation_gradient(J, THETA, np.ones((5, 3))),
     r"perturbations must have shape \(t, 4\)"),
    (lambda: gf.random_perturbations(rng, 0, 4, 0.1), "n_perturbations must be >= 1"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
