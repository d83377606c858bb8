"""Exploration noise for deterministic policies: Gaussian and Ornstein-Uhlenbeck.

A deterministic actor mu_theta(s) never explores by itself; DDPG acts with
a = mu_theta(s) + N, where N is a noise process ("Stuttgart RL Lecture 10",
'Q-learning with continuous actions', DDPG; Lillicrap et al. 2016, Section 3:
"we constructed an exploration policy mu' by adding noise sampled from a
noise process N to our actor policy").

Both processes here produce one noise vector per game, shape (N, D) for N
games and a D-dimensional action, in units of the action's half-range (the
learner multiplies by (high - low) / 2), and draw every random number from a
passed `numpy.random.Generator`. The Ornstein-Uhlenbeck process has a state
(its last value per game), which `state_dict` returns so that a resumed run
continues the same noise path; `reset(mask)` starts the games in `mask`
afresh at the end of their episodes.
"""

import numpy as np


def _check_shape(shape):
    shape = tuple(int(n) for n in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"noise shape must be (num_envs, act_dim) with both >= 1, got {shape!r}")
    return shape


class GaussianNoise:
    """Independent N_t ~ Normal(0, sigma^2 I) at every step (Fujimoto et al. 2018,
    TD3, Section 6.1: uncorrelated Gaussian noise works as well as OU; the
    default of Spinning Up's DDPG and of rl-baselines3-zoo's tuned DDPG)."""

    def __init__(self, sigma, shape):
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"invalid sigma={sigma!r}; accepted: a finite number >= 0")
        self.sigma = float(sigma)
        self.shape = _check_shape(shape)

    def sample(self, rng):
        """sigma * z, z ~ Normal(0, I), shape (N, D), float64."""
        return self.sigma * rng.standard_normal(self.shape)

    def reset(self, mask=None):
        """Nothing to reset: the draws are independent."""

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        if state:
            raise ValueError(f"Gaussian noise has no state; got keys {sorted(state)}")


class OrnsteinUhlenbeckNoise:
    """Temporally correlated noise: the Euler-Maruyama step of the OU process

        dx = ou_theta (mu - x) dt + sigma dW
        x_{t+1} = x_t + ou_theta (mu - x_t) dt + sigma sqrt(dt) z_t,   z_t ~ Normal(0, I)

    (Uhlenbeck and Ornstein 1930; used by Lillicrap et al. 2016, Section 7,
    with ou_theta = 0.15, sigma = 0.2; dt = 0.01 and x_0 = 0 as in
    Stable-Baselines3's OrnsteinUhlenbeckActionNoise). `sample` returns x_{t+1}.

    The discrete process is AR(1), x_{t+1} - mu = phi (x_t - mu) + sigma sqrt(dt) z_t
    with phi = 1 - ou_theta dt, so for |phi| < 1 its stationary distribution is
    Normal(mu, s^2) with

        s^2 = sigma^2 dt / (1 - phi^2) = sigma^2 / (ou_theta (2 - ou_theta dt)),

    which tends to the continuous process's sigma^2 / (2 ou_theta) as dt -> 0
    (`stationary_variance`). ou_theta is named apart from theta, the policy
    parameters of the glossary.
    """

    def __init__(self, sigma, shape, ou_theta=0.15, dt=1e-2, mu=0.0):
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"invalid sigma={sigma!r}; accepted: a finite number >= 0")
        if not (np.isfinite(dt) and dt > 0):
            raise ValueError(f"invalid dt={dt!r}; accepted: a finite number > 0")
        if not (np.isfinite(ou_theta) and 0 < ou_theta * dt < 2):
            raise ValueError(f"invalid ou_theta={ou_theta!r}; accepted: 0 < ou_theta * dt < 2 "
                             f"(dt={dt!r}), so that the process is stationary")
        if not np.isfinite(mu):
            raise ValueError(f"invalid mu={mu!r}; accepted: a finite number")
        self.sigma, self.ou_theta, self.dt, self.mu = float(sigma), float(ou_theta), float(dt), float(mu)
        self.shape = _check_shape(shape)
        self.x = np.full(self.shape, self.mu)  # x_0 = mu for every game

    def stationary_variance(self):
        """s^2 = sigma^2 / (ou_theta (2 - ou_theta dt)) of the discrete process (class docstring)."""
        return self.sigma**2 / (self.ou_theta * (2.0 - self.ou_theta * self.dt))

    def sample(self, rng):
        """x_{t+1} = x_t + ou_theta (mu - x_t) dt + sigma sqrt(dt) z_t; (N, D), a copy."""
        z = rng.standard_normal(self.shape)
        self.x += self.ou_theta * (self.mu - self.x) * self.dt + self.sigma * np.sqrt(self.dt) * z
        return self.x.copy()

    def reset(self, mask=None):
        """x <- mu for the games where mask (N,) is True (all games if mask is None)."""
        if mask is None:
            self.x[:] = self.mu
        else:
            self.x[np.asarray(mask, dtype=bool)] = self.mu

    def state_dict(self):
        return {"x": self.x.copy()}

    def load_state_dict(self, state):
        x = np.asarray(state["x"], dtype=np.float64)
        if x.shape != self.shape:
            raise ValueError(f"OU noise state has shape {x.shape}; this process needs {self.shape}")
        self.x[:] = x


NOISES = ("gaussian", "ou")


def make_noise(kind, sigma, shape, ou_theta=0.15, dt=1e-2):
    """The noise process named `kind` ("gaussian" or "ou")."""
    if kind == "gaussian":
        return GaussianNoise(sigma, shape)
    if kind == "ou":
        return OrnsteinUhlenbeckNoise(sigma, shape, ou_theta=ou_theta, dt=dt)
    raise ValueError(f"unknown noise {kind!r}; accepted: {', '.join(map(repr, NOISES))}")
