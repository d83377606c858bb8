"""Exploration noise: exact one-step equations, stationary statistics, reset and checkpoints."""

import numpy as np
import pytest

from purerl.noise import GaussianNoise, OrnsteinUhlenbeckNoise, make_noise

# Two-sided standard-normal quantile for a false-alarm rate of 1e-3.
Z_1E3 = 3.2905


def test_gaussian_is_sigma_times_standard_normal_draws():
    noise = GaussianNoise(0.3, (4, 2))
    got = noise.sample(np.random.default_rng(5))
    want = 0.3 * np.random.default_rng(5).standard_normal((4, 2))
    np.testing.assert_array_equal(got, want)
    assert got.shape == (4, 2)


def test_ou_step_is_the_euler_maruyama_equation():
    sigma, ou_theta, dt = 0.2, 0.15, 0.01
    noise = OrnsteinUhlenbeckNoise(sigma, (3, 2), ou_theta=ou_theta, dt=dt)
    rng, twin = np.random.default_rng(1), np.random.default_rng(1)
    x = np.zeros((3, 2))
    for _ in range(5):
        got = noise.sample(rng)
        z = twin.standard_normal((3, 2))
        x = x + ou_theta * (0.0 - x) * dt + sigma * np.sqrt(dt) * z
        np.testing.assert_allclose(got, x, rtol=0, atol=1e-15)


def test_ou_stationary_variance_formula_limits():
    # Exact algebra: s^2 = sigma^2 dt / (1 - phi^2) with phi = 1 - theta dt, and the
    # continuous-time value sigma^2 / (2 theta) as dt -> 0.
    for sigma, ou_theta, dt in [(0.2, 0.15, 0.01), (1.0, 0.5, 0.1), (0.3, 1.5, 1.0)]:
        noise = OrnsteinUhlenbeckNoise(sigma, (1, 1), ou_theta=ou_theta, dt=dt)
        phi = 1 - ou_theta * dt
        assert noise.stationary_variance() == pytest.approx(sigma**2 * dt / (1 - phi**2), rel=1e-12)
    tiny = OrnsteinUhlenbeckNoise(0.2, (1, 1), ou_theta=0.15, dt=1e-9)
    assert tiny.stationary_variance() == pytest.approx(0.2**2 / (2 * 0.15), rel=1e-8)


def test_ou_reaches_its_stationary_distribution():
    """Mean, variance and lag-1 correlation over n independent processes.

    Started at x_0 = 0, after t = 400 steps the variance is s^2 (1 - phi^{2t})
    with phi^800 ~ 1e-18, so the end point is stationary to float precision.
    Each of the three checks is two-sided at a 1e-3 false-alarm rate (normal
    approximations with n = 20000: the sample mean has sd s / sqrt(n); the
    sample variance of a normal sample, s^2 sqrt(2 / (n - 1)); the sample
    correlation, (1 - phi^2) / sqrt(n)), so the test fails by chance with
    probability <= 3e-3 at most, and at seed 0 it is fixed.
    """
    n, sigma, ou_theta, dt = 20_000, 0.3, 0.5, 0.1
    noise = OrnsteinUhlenbeckNoise(sigma, (n, 1), ou_theta=ou_theta, dt=dt)
    rng = np.random.default_rng(0)
    for _ in range(400):
        noise.sample(rng)
    x0 = noise.sample(rng)[:, 0]
    x1 = noise.sample(rng)[:, 0]
    var, phi = noise.stationary_variance(), 1 - ou_theta * dt
    assert abs(x0.mean()) <= Z_1E3 * np.sqrt(var / n)
    assert abs(x0.var(ddof=1) / var - 1) <= Z_1E3 * np.sqrt(2 / (n - 1))
    assert abs(np.corrcoef(x0, x1)[0, 1] - phi) <= Z_1E3 * (1 - phi**2) / np.sqrt(n)


def test_ou_reset_only_touches_masked_games():
    noise = OrnsteinUhlenbeckNoise(0.5, (3, 1))
    noise.sample(np.random.default_rng(0))
    before = noise.x.copy()
    noise.reset(np.array([False, True, False]))
    np.testing.assert_array_equal(noise.x[[0, 2]], before[[0, 2]])
    assert noise.x[1, 0] == 0.0
    noise.reset()
    np.testing.assert_array_equal(noise.x, 0.0)


def test_ou_state_dict_resumes_the_same_path():
    a = OrnsteinUhlenbeckNoise(0.2, (2, 2))
    rng_a = np.random.default_rng(3)
    for _ in range(10):
        a.sample(rng_a)
    b = OrnsteinUhlenbeckNoise(0.2, (2, 2))
    b.load_state_dict(a.state_dict())
    rng_b = np.random.default_rng(0)
    rng_b.bit_generator.state = rng_a.bit_generator.state
    np.testing.assert_array_equal(a.sample(rng_a), b.sample(rng_b))
    with pytest.raises(ValueError, match="shape"):
        OrnsteinUhlenbeckNoise(0.2, (3, 2)).load_state_dict(a.state_dict())


def test_gaussian_has_no_state():
    noise = GaussianNoise(0.1, (1, 1))
    assert noise.state_dict() == {}
    noise.load_state_dict({})
    with pytest.raises(ValueError, match="no state"):
        noise.load_state_dict({"x": np.zeros(1)})


@pytest.mark.parametrize("make, match", [
    (lambda: GaussianNoise(-0.1, (1, 1)), "sigma"),
    (lambda: GaussianNoise(0.1, (0, 1)), "shape"),
    (lambda: GaussianNoise(0.1, (2,)), "shape"),
    (lambda: OrnsteinUhlenbeckNoise(0.1, (1, 1), ou_theta=0.0), "ou_theta"),
    (lambda: OrnsteinUhlenbeckNoise(0.1, (1, 1), ou_theta=30.0, dt=0.1), "ou_theta"),
    (lambda: OrnsteinUhlenbeckNoise(0.1, (1, 1), dt=0.0), "dt"),
    (lambda: OrnsteinUhlenbeckNoise(float("nan"), (1, 1)), "sigma"),
    (lambda: make_noise("uniform", 0.1, (1, 1)), "uniform"),
])
def test_invalid_settings_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_make_noise_kinds():
    assert isinstance(make_noise("gaussian", 0.1, (2, 1)), GaussianNoise)
    ou = make_noise("ou", 0.1, (2, 1), ou_theta=0.3, dt=0.05)
    assert isinstance(ou, OrnsteinUhlenbeckNoise) and (ou.ou_theta, ou.dt) == (0.3, 0.05)
