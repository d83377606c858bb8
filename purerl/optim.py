"""First-order optimizers over flat parameter vectors, and gradient clipping.

Every optimizer updates the flat vector theta IN PLACE (so the per-layer views
of purerl.nn stay valid) from a flat gradient of the same shape. The direction
is explicit: maximize=False descends a loss, maximize=True ascends an objective
(the policy-gradient ascent theta <- theta + alpha g_hat of Chapter 4, 4.2
'(Stochastic) Policy Gradient Ascent'). Write s = -1 for descent, +1 for ascent.

`lr` is a plain attribute that schedules (purerl/schedules.py) set between steps. State lives in
numpy (or CuPy) arrays allocated at the first step; `state_dict()` returns host
numpy arrays only, so a checkpoint can store them with allow_pickle=False.

Each update exists twice: a fused numba kernel (one pass over memory; used for
numpy arrays) and the same equations as whole-array operations (used for CuPy
arrays and under NUMBA_DISABLE_JIT=1, where a Python loop would be slow). The
tests check that the two agree.
"""

import numba
import numpy as np
from numba import njit

from purerl.backend import get_xp, to_device, to_numpy


def _check_range(name, value, low, high, low_open=False, high_open=True):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    ok_low = value > low if low_open else value >= low
    ok_high = value < high if high_open else value <= high
    if not (ok_low and ok_high and np.isfinite(value)):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")


class _Optimizer:
    """Shared machinery: shape checks and the state arrays named in _STATE."""

    _STATE = ()

    def __init__(self, lr, maximize):
        self.lr = lr  # checked by the property below
        self.maximize = bool(maximize)
        self.t = 0  # number of steps taken
        for name in self._STATE:
            setattr(self, name, None)
        self._tmp = None  # scratch vector; not state

    @property
    def lr(self):
        """The step size alpha; schedules set it between steps, and every value set is checked."""
        return self._lr

    @lr.setter
    def lr(self, value):
        _check_range("lr", value, 0.0, np.inf)
        self._lr = value

    def _prepare(self, theta, grad):
        """Check shapes, dtypes and writability, allocate state on the first step; return the array module."""
        dtype = getattr(theta, "dtype", None)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"theta must be a float32 or float64 array (updated in place), got "
                             f"{dtype if dtype is not None else type(theta).__name__}")
        if isinstance(theta, np.ndarray) and not theta.flags.writeable:
            raise ValueError("theta is read-only; the optimizer updates it in place (pass a writeable copy)")
        if getattr(grad, "shape", None) != theta.shape or theta.ndim != 1:
            raise ValueError(
                f"theta and grad must be flat arrays of the same shape; got theta {theta.shape}, "
                f"grad {getattr(grad, 'shape', type(grad).__name__)}")
        xp = get_xp(theta)
        tmp = self._tmp
        if tmp is None or tmp.shape != theta.shape or tmp.dtype != theta.dtype or get_xp(tmp) is not xp:
            for name in self._STATE:
                s = getattr(self, name)
                if s is None:
                    s = xp.zeros_like(theta)
                elif s.shape != theta.shape:
                    raise ValueError(
                        f"optimizer state {name!r} has shape {s.shape} but theta has shape {theta.shape}; "
                        "use a fresh optimizer for a different parameter vector")
                setattr(self, name, to_device(s, xp).astype(theta.dtype, copy=False))
            self._tmp = xp.empty_like(theta)
        return xp

    @staticmethod
    def _fused(xp, grad):
        """Use the numba kernel? Only for numpy arrays, and not when JIT is off."""
        return xp is np and type(grad) is np.ndarray and not numba.config.DISABLE_JIT

    def state_dict(self):
        """{"t", "lr", and each state vector}: host numpy arrays only."""
        d = {"t": np.array(self.t, dtype=np.int64), "lr": np.array(self.lr, dtype=np.float64)}
        for name in self._STATE:
            s = getattr(self, name)
            if s is not None:
                d[name] = to_numpy(s).copy()
        return d

    def load_state_dict(self, d):
        """Restore what state_dict returned (state vectors move to theta's device at the next step)."""
        missing = [k for k in ("t", "lr") if k not in d]
        if missing:
            raise ValueError(f"{type(self).__name__} state dict lacks {missing}; has {sorted(d)}")
        self.t = int(d["t"])
        self.lr = float(d["lr"])
        for name in self._STATE:
            setattr(self, name, None if name not in d else np.array(d[name]))
        self._tmp = None


class SGD(_Optimizer):
    """Stochastic gradient descent / ascent with heavy-ball momentum mu:

        u <- mu u + g,     theta <- theta + s lr u

    (PyTorch's form; mu = 0 is plain SGD, theta <- theta + s lr g, as in
    Stuttgart RL Lecture 10, 'Recap: Stochastic Gradient Descent (SGD)').
    """

    _STATE = ("u",)

    def __init__(self, lr, momentum=0.0, maximize=False):
        super().__init__(lr, maximize)
        _check_range("momentum", momentum, 0.0, 1.0)
        self.momentum = momentum

    def step(self, theta, grad):
        xp = self._prepare(theta, grad)
        self.t += 1
        sign = 1.0 if self.maximize else -1.0
        if self._fused(xp, grad):
            _sgd_kernel(theta, grad, self.u, self.lr, self.momentum, sign)
        else:
            _sgd_arrays(xp, theta, grad, self.u, self._tmp, self.lr, self.momentum, sign)


class RMSProp(_Optimizer):
    """RMSProp in the form of Karpathy's Pong code (CMU 10-403, Policy gradients,
    'Pong from Pixels'), with r the running mean of squared gradients:

        r <- decay r + (1 - decay) g^2,     theta <- theta + s lr g / (sqrt(r) + eps)
    """

    _STATE = ("r",)

    def __init__(self, lr, decay=0.99, eps=1e-5, maximize=False):
        super().__init__(lr, maximize)
        _check_range("decay", decay, 0.0, 1.0)
        _check_range("eps", eps, 0.0, np.inf, low_open=True)
        self.decay, self.eps = decay, eps

    def step(self, theta, grad):
        xp = self._prepare(theta, grad)
        self.t += 1
        sign = 1.0 if self.maximize else -1.0
        if self._fused(xp, grad):
            _rmsprop_kernel(theta, grad, self.r, self.lr, self.decay, self.eps, sign)
        else:
            _rmsprop_arrays(xp, theta, grad, self.r, self._tmp, self.lr, self.decay, self.eps, sign)


class Adam(_Optimizer):
    """Adam (Kingma and Ba 2015, Algorithm 1), step t = 1, 2, ...:

        m <- beta1 m + (1 - beta1) g,        v <- beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - beta1^t),           v_hat = v / (1 - beta2^t)
        theta <- theta + s lr m_hat / (sqrt(v_hat) + eps)

    computed in the paper's cheaper order (end of its Section 2) as
    theta <- theta + s lr_t m / (sqrt(v) + eps_t) with
    lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t) and eps_t = eps sqrt(1 - beta2^t),
    which is the same update (PyTorch's definition of eps) in fewer passes.

    Moments smaller than the dtype's smallest normal number are set to 0
    (flush-to-zero): a weight whose gradient stays 0 (a dead ReLU) decays m
    into subnormal floats, which the CPU handles ~6x slower, and their
    contribution to the step (below 1e-38 lr / eps) is nil anyway.
    """

    _STATE = ("m", "v")

    def __init__(self, lr=3e-4, beta1=0.9, beta2=0.999, eps=1e-8, maximize=False):
        super().__init__(lr, maximize)
        _check_range("beta1", beta1, 0.0, 1.0)
        _check_range("beta2", beta2, 0.0, 1.0)
        _check_range("eps", eps, 0.0, np.inf, low_open=True)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def step(self, theta, grad):
        xp = self._prepare(theta, grad)
        self.t += 1
        c2 = np.sqrt(1.0 - self.beta2 ** self.t)
        lr_t = self.lr * c2 / (1.0 - self.beta1 ** self.t)
        eps_t = self.eps * c2
        sign = 1.0 if self.maximize else -1.0
        tiny = float(np.finfo(theta.dtype).tiny)
        args = (theta, grad, self.m, self.v, self.beta1, self.beta2, lr_t, eps_t, sign, tiny)
        if self._fused(xp, grad):
            _adam_kernel(*args)
        else:
            _adam_arrays(xp, *args, self._tmp)


# ---- the updates: fused kernels (numpy) and whole-array twins (CuPy, no JIT) -------


# The kernels do their arithmetic in theta's dtype (scalars cast once), as the
# whole-array twins do under numpy's promotion rules; float32 then runs in
# float32 SIMD lanes, twice as wide as float64.


@njit(cache=True)
def _sgd_kernel(theta, grad, u, lr, momentum, sign):
    cast = theta.dtype.type
    mu, step = cast(momentum), cast(sign * lr)
    for i in range(theta.shape[0]):
        ui = mu * u[i] + grad[i]
        u[i] = ui
        theta[i] += step * ui


def _sgd_arrays(xp, theta, grad, u, tmp, lr, momentum, sign):
    u *= momentum
    u += grad
    xp.multiply(u, sign * lr, out=tmp)
    theta += tmp


@njit(cache=True)
def _rmsprop_kernel(theta, grad, r, lr, decay, eps, sign):
    cast = theta.dtype.type
    rho, one_minus_rho, step, e = cast(decay), cast(1.0 - decay), cast(sign * lr), cast(eps)
    for i in range(theta.shape[0]):
        g = grad[i]
        ri = rho * r[i] + one_minus_rho * g * g
        r[i] = ri
        theta[i] += step * g / (np.sqrt(ri) + e)


def _rmsprop_arrays(xp, theta, grad, r, tmp, lr, decay, eps, sign):
    r *= decay
    xp.multiply(grad, grad, out=tmp)
    tmp *= 1.0 - decay
    r += tmp
    xp.sqrt(r, out=tmp)
    tmp += eps
    xp.divide(grad, tmp, out=tmp)
    tmp *= sign * lr
    theta += tmp


@njit(cache=True)
def _adam_kernel(theta, grad, m, v, beta1, beta2, lr_t, eps_t, sign, tiny):
    cast = theta.dtype.type
    b1, c1, b2, c2 = cast(beta1), cast(1.0 - beta1), cast(beta2), cast(1.0 - beta2)
    step, e, small = cast(sign * lr_t), cast(eps_t), cast(tiny)
    zero = cast(0.0)
    for i in range(theta.shape[0]):
        g = grad[i]
        mi = b1 * m[i] + c1 * g
        vi = b2 * v[i] + c2 * g * g
        if abs(mi) < small:  # flush subnormals (class docstring)
            mi = zero
        if vi < small:
            vi = zero
        m[i] = mi
        v[i] = vi
        theta[i] += step * mi / (np.sqrt(vi) + e)


def _adam_arrays(xp, theta, grad, m, v, beta1, beta2, lr_t, eps_t, sign, tiny, tmp):
    m *= beta1
    xp.multiply(grad, 1.0 - beta1, out=tmp)
    m += tmp
    m[xp.abs(m) < tiny] = 0.0
    v *= beta2
    xp.multiply(grad, grad, out=tmp)
    tmp *= 1.0 - beta2
    v += tmp
    v[v < tiny] = 0.0
    xp.sqrt(v, out=tmp)
    tmp += eps_t
    xp.divide(m, tmp, out=tmp)
    tmp *= sign * lr_t
    theta += tmp


def clip_grad_norm(grad, max_norm):
    """Rescale grad to global L2 norm at most max_norm: (grad_clipped, norm).

        norm = ||g||_2,    g_clipped = g * min(1, max_norm / norm)

    Returns grad itself (not a copy) when norm <= max_norm, else a new scaled
    array; grad is never modified. norm is the norm before clipping (a float).
    A non-finite norm raises, since no rescaling makes such a step meaningful.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}")
    xp = get_xp(grad)
    flat = grad.reshape(-1)
    norm = float(xp.sqrt(xp.dot(flat, flat)))
    if not np.isfinite(norm):
        raise ValueError(f"gradient norm is {norm}: the gradient has non-finite entries")
    if norm <= max_norm:
        return grad, norm
    return grad * (max_norm / norm), norm
