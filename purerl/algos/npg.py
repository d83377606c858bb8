"""The natural policy gradient: TRPO's step without the line search.

Handwritten notes "Policy Gradients / Q Learning", "Fisher info matrix =
'Natural Gradient'": theta <- theta + alpha F^{-1} g with
alpha = sqrt(2 delta / g^T F^{-1} g), the step whose quadratic KL model equals
delta (Kakade 2001; the step-size rule of Schulman et al. 2015). Everything
else (collection, GAE, the fitted V_phi, the exact Fisher-vector product) is
purerl/algos/trpo.py with `line_search=False`; without the line search's
exact-KL check a step may overshoot the trust region.
"""

from dataclasses import dataclass

from purerl.algos import trpo
from purerl.algos.base import new_default

DEFAULT_ENV = "CartPole-v1"
QUICK_CONFIG = dict(trpo.QUICK_CONFIG)
BENCH = dict(trpo.BENCH)


@dataclass(frozen=True)
class Config(trpo.Config):
    line_search: bool = new_default(trpo.Config, "line_search", False)


class Learner(trpo.Learner):
    """NPG on a vector env (purerl/algos/trpo.py with line_search=False by default)."""

    name = "NPG"
