"""Policies and value functions: a network on a flat vector plus a distribution head.

A policy maps observations to a distribution over actions,
pi_theta(a | s) = D(a; eta), eta = f_theta(s), where f_theta is an MLP
(purerl/nn.py) and D a distribution of purerl/distributions.py with its own
parameters eta (the logits, or the Gaussian mean with a state-independent
log-std). Everything the learners need is a chain rule through that map:

    policy_gradient   J^T (weights * score)      the likelihood-ratio gradient
    backward          J^T g_eta                  any loss written in eta
    fvp               mean_s J^T M(eta) J v      the Fisher-vector product

where J = d eta / d theta is the network's Jacobian (applied with `jvp` and
`backward`, never formed) and M(eta) is the Fisher matrix of the distribution
in its own parameters. theta is one flat vector (DESIGN.md principle 3); for a
Gaussian policy its last act_dim entries are the log-std.
"""

import numpy as np

from purerl.backend import get_xp
from purerl.distributions import Bernoulli, Categorical, DiagGaussian
from purerl.nn import MLP


class CategoricalPolicy:
    """pi_theta(a|s) = softmax(f_theta(s))_a over n actions (Discrete action spaces).

    Yamazaki, "Robot Perception and Control: Reinforcement Learning",
    categorical policies; eta = logits, shape (B, n).
    """

    def __init__(self, obs_dim, n_actions, hidden=(64, 64), activation="tanh", dtype=np.float64):
        self.net = MLP((obs_dim, *hidden, n_actions), hidden=activation, dtype=dtype)
        self.n_params = self.net.n_params

    def init(self, rng, xp=np):
        # A small last layer starts the policy near uniform (CleanRL's and
        # SB3's choice of gain 0.01 for the policy head).
        return self.net.init(rng, scheme="orthogonal", gain=np.sqrt(2), out_gain=0.01, xp=xp)

    def distribution(self, theta, obs):
        logits, cache = self.net.forward(theta, obs)
        return Categorical(logits), cache

    def backward(self, theta, cache, g_eta):
        return self.net.backward(theta, cache, g_eta, input_grad=False)[0]

    def eta_tangent(self, theta, cache, v):
        return self.net.jvp(theta, cache, v)

    def act(self, theta, obs, rng=None, greedy=False):
        dist = Categorical(self.net(theta, obs))
        return dist.mode() if greedy else dist.sample(rng)


class BernoulliPolicy:
    """pi_theta(a=1|s) = sigmoid(f_theta(s)), actions {0, 1}.

    Karpathy's Pong network (CMU 10-403, Policy gradients, "Pong from
    pixels"): one output unit, the probability of moving UP. eta = logits (B,).
    """

    def __init__(self, obs_dim, hidden=(200,), activation="relu", bias=True, dtype=np.float64):
        self.net = MLP((obs_dim, *hidden, 1), hidden=activation, bias=bias, dtype=dtype)
        self.n_params = self.net.n_params

    def init(self, rng, xp=np):
        # randn / sqrt(fan_in), as in Karpathy's pg-pong.py.
        return self.net.init(rng, scheme="normal", gain=1.0, out_gain=1.0, xp=xp)

    def distribution(self, theta, obs):
        out, cache = self.net.forward(theta, obs)
        return Bernoulli(out[:, 0]), cache

    def backward(self, theta, cache, g_eta):
        return self.net.backward(theta, cache, g_eta[:, None], input_grad=False)[0]

    def eta_tangent(self, theta, cache, v):
        return self.net.jvp(theta, cache, v)[:, 0]

    def act(self, theta, obs, rng=None, greedy=False):
        dist = Bernoulli(self.net(theta, obs)[:, 0])
        return dist.mode() if greedy else dist.sample(rng)


class GaussianPolicy:
    """pi_theta(a|s) = N(a; mu_theta(s), diag(exp(2 log_std))) (Box action spaces).

    Yamazaki, "Robot Perception and Control: Reinforcement Learning",
    diagonal Gaussian policies. theta = [network parameters, log_std (act_dim,)];
    eta = (mean (B, act_dim), log_std).
    """

    def __init__(self, obs_dim, act_dim, hidden=(64, 64), activation="tanh", init_log_std=0.0, dtype=np.float64):
        self.net = MLP((obs_dim, *hidden, act_dim), hidden=activation, dtype=dtype)
        self.act_dim = act_dim
        self.init_log_std = init_log_std
        self.n_params = self.net.n_params + act_dim

    def split(self, theta):
        """Views (network parameters, log_std) of the flat theta."""
        return theta[: self.net.n_params], theta[self.net.n_params :]

    def init(self, rng, xp=np):
        w = self.net.init(rng, scheme="orthogonal", gain=np.sqrt(2), out_gain=0.01, xp=xp)
        log_std = xp.full(self.act_dim, self.init_log_std, dtype=w.dtype)
        return xp.concatenate([w, log_std])

    def distribution(self, theta, obs):
        w, log_std = self.split(theta)
        mean, cache = self.net.forward(w, obs)
        return DiagGaussian(mean, log_std), cache

    def backward(self, theta, cache, g_eta):
        g_mean, g_log_std = g_eta
        w, _ = self.split(theta)
        g_w = self.net.backward(w, cache, g_mean, input_grad=False)[0]
        # log_std is shared by every sample, so its gradient sums over the batch.
        return get_xp(g_w).concatenate([g_w, g_log_std.sum(axis=0)])

    def eta_tangent(self, theta, cache, v):
        w, _ = self.split(theta)
        v_w, v_log_std = self.split(v)
        mean_dot = self.net.jvp(w, cache, v_w)
        return mean_dot, get_xp(mean_dot).broadcast_to(v_log_std, mean_dot.shape)

    def act(self, theta, obs, rng=None, greedy=False):
        w, log_std = self.split(theta)
        dist = DiagGaussian(self.net(w, obs), log_std)
        return dist.mode() if greedy else dist.sample(rng)


def make_policy(observation_space, action_space, hidden=(64, 64), activation="tanh", dtype=np.float64):
    """The policy class that fits an environment's spaces (Discrete or Box)."""
    if len(observation_space.shape) != 1:
        raise ValueError(
            f"policies take flat observations; got observation shape {observation_space.shape}, "
            "accepted: (obs_dim,)"
        )
    obs_dim = observation_space.shape[0]
    if hasattr(action_space, "n"):
        return CategoricalPolicy(obs_dim, int(action_space.n), hidden, activation, dtype)
    if len(action_space.shape) == 1:
        return GaussianPolicy(obs_dim, action_space.shape[0], hidden, activation, dtype=dtype)
    raise ValueError(f"unsupported action space {action_space!r}; accepted: Discrete(n) or a 1-D Box")


def policy_gradient(policy, theta, obs, actions, weights):
    """The likelihood-ratio gradient (1/B) sum_t grad log pi_theta(a_t|s_t) * weights_t.

    CMU 10-403, Policy gradients, "Likelihood ratio gradient": with weights
    the (reward-to-go) returns, advantages or returns minus a baseline, this
    is the gradient of the surrogate (1/B) sum_t weights_t log pi_theta(a_t|s_t).
    obs (B, obs_dim), actions (B, ...), weights (B,). Returns (gradient (n_params,), dist).
    """
    dist, cache = policy.distribution(theta, obs)
    return policy.backward(theta, cache, _weighted_score(dist, actions, weights)), dist


def _scale(g, weights):
    """g * weights per sample: g (B,), (B, K) or a tuple of (B, D) arrays."""
    if isinstance(g, tuple):
        return tuple(x * weights[:, None] for x in g)
    return g * (weights[:, None] if g.ndim == 2 else weights)


def _weighted_score(dist, actions, weights):
    """d/d eta of (1/B) sum_t weights_t log pi(a_t|s_t), per sample (eta: the distribution's parameters)."""
    return _scale(dist.score(actions), weights / weights.shape[0])


def entropy_regularized_policy_gradient(policy, theta, obs, actions, weights, ent_coef):
    """Gradient of (1/B) sum_t [weights_t log pi_theta(a_t|s_t) + ent_coef H(pi_theta(.|s_t))].

    The actor's ascent direction with an entropy bonus (A3C's "adding the
    entropy of the policy pi to the objective function", Mnih et al. 2016,
    section 4; CMU 10-403, Policy gradients, "Asynchronous Deep RL"). Both
    terms are summed in the distribution's parameters eta and sent through
    the network once. Returns (gradient (n_params,), dist).
    """
    dist, cache = policy.distribution(theta, obs)
    batch = weights.shape[0]
    g_entropy = get_xp(weights).full(batch, ent_coef / batch, dtype=weights.dtype) if ent_coef != 0 else None
    return policy.backward(theta, cache, eta_gradient(dist, actions, weights / batch, g_entropy)), dist


def eta_gradient(dist, actions, g_log_probs, g_entropy=None, old_dist=None, g_kl=None):
    """d/d eta of an objective written in per-sample log-probabilities, entropies and KLs.

    For an objective L(log pi(a_t|s_t), H_t, KL(old_t || pi_t)) with per-sample
    derivatives g_log_probs, g_entropy, g_kl (each (B,)), the chain rule in
    the distribution's parameters eta is

        dL/d eta_t = score_t(a_t) g_log_probs_t + dH_t/d eta_t g_entropy_t
                     + dKL(old_t || pi_t)/d eta_t g_kl_t

    (the objectives of purerl/surrogates.py return exactly these
    derivatives). policy.backward(theta, cache, eta_gradient(...)) is then
    dL/d theta. g_entropy / g_kl None mean the term is absent; g_kl needs
    old_dist, the distribution at collection time.
    """
    g_eta = _scale(dist.score(actions), g_log_probs)
    terms = []
    if g_entropy is not None:
        terms.append(_scale(dist.entropy_grad(), g_entropy))
    if g_kl is not None:
        terms.append(_scale(old_dist.kl_grad(dist), g_kl))
    for term in terms:
        if isinstance(g_eta, tuple):
            g_eta = tuple(a + b for a, b in zip(g_eta, term))
        else:
            g_eta = g_eta + term
    return g_eta


def fisher_vector_product(policy, theta, cache, dist, v):
    """F(theta) v = (1/B) sum_s J_s^T M(eta_s) J_s v, exactly, without forming F.

    Handwritten notes "Policy Gradients / Q Learning", Fisher / natural
    gradient: F = E[grad log pi grad log pi^T]. Because log pi depends on theta
    only through eta = f_theta(s), F = E_s[J^T M(eta) J] with M the
    distribution's Fisher in eta (its `fisher_vp`). J v is the network's jvp
    (forward mode) and J^T u its backward (reverse mode). `cache` and `dist`
    come from `policy.distribution(theta, obs)` on the batch of states.
    """
    eta_dot = policy.eta_tangent(theta, cache, v)
    if isinstance(eta_dot, tuple):
        m_eta_dot = dist.fisher_vp(*eta_dot)
        batch = eta_dot[0].shape[0]
    else:
        m_eta_dot = dist.fisher_vp(eta_dot)
        batch = eta_dot.shape[0]
    return policy.backward(theta, cache, m_eta_dot) / batch


class ValueFunction:
    """V_phi(s) = f_phi(s), a scalar-output MLP on a flat vector phi.

    CMU 10-403, Policy gradients, "Monte Carlo value regression". Shapes:
    obs (B, obs_dim) -> values (B,).
    """

    def __init__(self, obs_dim, hidden=(64, 64), activation="tanh", dtype=np.float64):
        self.net = MLP((obs_dim, *hidden, 1), hidden=activation, dtype=dtype)
        self.n_params = self.net.n_params

    def init(self, rng, xp=np):
        return self.net.init(rng, scheme="orthogonal", gain=np.sqrt(2), out_gain=1.0, xp=xp)

    def __call__(self, phi, obs):
        return self.net(phi, obs)[:, 0]

    def forward(self, phi, obs):
        out, cache = self.net.forward(phi, obs)
        return out[:, 0], cache

    def backward(self, phi, cache, g_values):
        return self.net.backward(phi, cache, g_values[:, None], input_grad=False)[0]
