"""A multilayer perceptron on one flat parameter vector, with hand-written backprop.

Layout (DESIGN.md principle 3): all parameters live in one 1-D array `theta`;
layer l owns the slice [W_l (fan_in, fan_out) row-major, then b_l (fan_out,)],
and `unflatten` returns reshaped views of it. Gradients are flat vectors of the
same layout, so optimizers, conjugate gradient, Polyak averaging and
checkpoints never need to know about layers.

With h_0 = x (B, in_dim) and L layers, the network computes

    z_l = h_{l-1} W_l + b_l,    h_l = sigma_l(z_l),    y = h_L,

where sigma_l is the hidden activation for l < L and the output activation for
l = L. Karpathy's Pong policy (CMU 10-403, Policy gradients, 'Pong from
Pixels') is `MLP((6400, 200, 1), "relu", "sigmoid", bias=False)`, and the
value network of the handwritten notes ("Policy Gradients / Q Learning",
y = w_3 sigma(w_2 sigma(w_1 x + b_1) + b_2) + b_3) is a two-hidden-layer MLP
with an identity output.

Activation derivatives are written in terms of the layer's output h = sigma(z),
which is what the cache keeps:

    tanh'(z) = 1 - h^2,   sigmoid'(z) = h (1 - h),   relu'(z) = [h > 0],   identity'(z) = 1.

relu'(0) is taken as 0. The array module comes from `theta`
(purerl.backend.get_xp), so the same code runs on CuPy arrays.
"""

import numpy as np

from purerl import nn_ops as ops
from purerl.backend import get_xp, to_device
from purerl.probability import check_rng

ACTIVATIONS = ("tanh", "relu", "identity", "sigmoid")
INIT_SCHEMES = ("orthogonal", "normal")
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

# Views of up to this many parameter vectors are remembered (keyed by object
# identity), so the hot path does not re-slice theta on every call. The cache
# holds references to those vectors, which keeps them alive.
_VIEW_CACHE_SIZE = 4


class MLP:
    """Fully connected network: sizes (in_dim, hidden..., out_dim).

    hidden / output: activation names from ACTIVATIONS for the hidden layers and
    for the last layer. bias=False drops every b_l (Karpathy's Pong net has
    none). dtype: float64 (exact gradient checks) or float32 (speed); inputs,
    parameters and upstream gradients must all have this dtype.
    """

    def __init__(self, sizes, hidden="tanh", output="identity", bias=True, dtype=np.float64):
        sizes = tuple(sizes)
        if len(sizes) < 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                                     for n in sizes):
            raise ValueError(f"sizes must be at least two positive integers (in_dim, ..., out_dim), got {sizes!r}")
        for what, name in (("hidden", hidden), ("output", output)):
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown {what} activation {name!r}; accepted: {', '.join(ACTIVATIONS)}")
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = np.dtype(object)  # rejected just below
        if not any(dt == accepted for accepted in DTYPES):
            raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
        self.sizes = tuple(int(n) for n in sizes)
        self.hidden, self.output, self.bias, self.dtype = hidden, output, bool(bias), dt
        self.in_dim, self.out_dim = self.sizes[0], self.sizes[-1]
        n_layers = len(self.sizes) - 1
        self.activations = (hidden,) * (n_layers - 1) + (output,)
        # (offset of W, offset of b or None, fan_in, fan_out) per layer
        self._layout, offset = [], 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            w_at, offset = offset, offset + fan_in * fan_out
            b_at = None
            if self.bias:
                b_at, offset = offset, offset + fan_out
            self._layout.append((w_at, b_at, fan_in, fan_out))
        self.n_params = offset
        self._views = []  # [(theta, layers)], most recent first

    def __repr__(self):
        return (f"MLP({self.sizes}, hidden={self.hidden!r}, output={self.output!r}, "
                f"bias={self.bias}, dtype={self.dtype.name})")

    # ---- parameters -------------------------------------------------------------

    def init(self, rng, scheme="orthogonal", gain=np.sqrt(2), out_gain=1.0, xp=np):
        """A fresh parameter vector (n_params,), drawn from `rng`; biases are zero.

        scheme "orthogonal": W_l = gain * Q with Q the orthonormal factor of a
        standard-normal matrix, sign-fixed by diag(R) so Q is Haar-distributed
        (Saxe et al. 2014; the CleanRL / Stable-Baselines3 default for policy
        networks, with gain sqrt(2) for hidden layers and a small out_gain such
        as 0.01 for a policy head). Columns (fan_in >= fan_out) or rows are
        orthonormal, times gain.
        scheme "normal": W_l = randn(fan_in, fan_out) / sqrt(fan_in) * gain,
        the scaled normal of Karpathy's Pong code (gain = out_gain = 1 there;
        the default gain sqrt(2) is He's scaling for ReLU).
        The last layer uses out_gain instead of gain. Numbers are drawn in
        float64 on the host and cast, so a seed gives the same network in
        float32 and float64 up to rounding.
        """
        check_rng("MLP.init", rng)
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"unknown init scheme {scheme!r}; accepted: {', '.join(INIT_SCHEMES)}")
        if not all(isinstance(g, (int, float, np.number)) and np.isfinite(g) for g in (gain, out_gain)):
            raise ValueError(f"gain and out_gain must be finite numbers, got gain={gain!r}, out_gain={out_gain!r}")
        theta = np.zeros(self.n_params, dtype=np.float64)
        last = len(self._layout) - 1
        for l, (w_at, _, fan_in, fan_out) in enumerate(self._layout):
            g = out_gain if l == last else gain
            if scheme == "orthogonal":
                w = g * _orthogonal(rng, fan_in, fan_out)
            else:
                w = rng.standard_normal((fan_in, fan_out)) * (g / np.sqrt(fan_in))
            theta[w_at:w_at + fan_in * fan_out] = w.ravel()
        return to_device(theta.astype(self.dtype), xp)

    def unflatten(self, theta):
        """Per-layer (W, b) views into theta: W (fan_in, fan_out), b (fan_out,) or None.

        Writing into a view writes into theta.
        """
        return list(self._layers(theta))

    def _layers(self, theta):
        return self._lookup(theta)[1]

    def _lookup(self, theta):
        """The cache entry (theta, layers, plan), plan = ((W_l, b_l, sigma_l), ...)."""
        for entry in self._views:
            if entry[0] is theta:
                return entry
        self._check_theta(theta, "theta")
        layers = self._make_views(theta)
        entry = (theta, layers, tuple((W, b, act) for (W, b), act in zip(layers, self.activations)))
        self._views.insert(0, entry)
        del self._views[_VIEW_CACHE_SIZE:]
        return entry

    def _make_views(self, vec):
        return tuple(
            (vec[w_at:w_at + fi * fo].reshape(fi, fo), None if b_at is None else vec[b_at:b_at + fo])
            for w_at, b_at, fi, fo in self._layout
        )

    def _check_theta(self, theta, name):
        shape = getattr(theta, "shape", None)
        if shape != (self.n_params,):
            raise ValueError(
                f"{name} has shape {shape} but {self!r} has {self.n_params} parameters: "
                f"expected a flat array of shape ({self.n_params},)")
        if theta.dtype != self.dtype:
            raise ValueError(f"{name} has dtype {theta.dtype} but this MLP is {self.dtype.name}")

    def _check(self, a, name, width):
        """Cheap check that `a` is (B, width) of the network's dtype."""
        if getattr(a, "ndim", None) != 2 or a.shape[1] != width or a.dtype != self.dtype:
            shape = getattr(a, "shape", type(a).__name__)
            dtype = getattr(a, "dtype", None)
            raise ValueError(
                f"{name} must be a 2-D {self.dtype.name} array of shape (B, {width}) for {self!r}; "
                f"got shape {shape}, dtype {dtype} (add a batch axis with x[None] for one sample, "
                f"cast with .astype(np.{self.dtype.name}))")

    # ---- forward, backward, jvp -------------------------------------------------

    def __call__(self, theta, x):
        """y = h_L (B, out_dim) without a cache: the cheap path for choosing actions."""
        return self._forward(theta, x, None)

    def forward(self, theta, x):
        """(y, cache) for x (B, in_dim): y = h_L (B, out_dim); cache = [h_0, ..., h_L].

        The cache holds every layer's output (the input x itself, not a copy),
        which is all backward and jvp need. Treat it as read-only.
        """
        cache = [x]
        return self._forward(theta, x, cache), cache

    def _forward(self, theta, x, cache):
        # The hot path of action selection: checks and dispatch are inlined,
        # and each layer allocates only its output z_l, activated in place.
        try:
            ok = x.ndim == 2 and x.shape[1] == self.in_dim and x.dtype == self.dtype
        except AttributeError:
            ok = False
        if not ok:
            self._check(x, "x", self.in_dim)
        xp = get_xp(theta)
        entry = self._views[0] if self._views else None
        if entry is None or entry[0] is not theta:
            entry = self._lookup(theta)
        h = x
        for W, b, act in entry[2]:
            h = h @ W
            if b is not None:
                ops.add_rows(xp, h, b)
            if act == "tanh":
                xp.tanh(h, out=h)
            elif act != "identity":
                ops.activate(xp, act, h)
            if cache is not None:
                cache.append(h)
        return h

    def _check_cache(self, cache):
        """cache must be what this network's forward returned: h_0..h_L, (B, sizes[l]) each."""
        widths = tuple(getattr(h, "shape", (None, None))[-1] for h in cache) if isinstance(cache, list) else None
        if widths != self.sizes:
            raise ValueError(f"cache must be the list returned by forward of {self!r}"
                             f"{'' if widths is None else f'; its layer widths are {widths}'}")

    def backward(self, theta, cache, gy, input_grad=True):
        """Vector-Jacobian product: (g_theta (n_params,), g_x (B, in_dim) or None).

        For upstream gy = dL/dy (B, out_dim), returns the gradient of
        L = sum_b <gy_b, y_b> (summed over the batch, no mean), by the chain
        rule from the last layer down, with hbar_L = gy:

            delta_l = hbar_l * sigma_l'(z_l)            (B, fan_out)
            dL/dW_l = h_{l-1}^T delta_l                 (fan_in, fan_out)
            dL/db_l = sum_b delta_l[b]                  (fan_out,)
            hbar_{l-1} = delta_l W_l^T                  (B, fan_in)

        and g_x = hbar_0. A pure function of its arguments: nothing is stored,
        cache and gy are not modified. With gy = d log pi / d y this is the
        score of CMU 10-403, Policy gradients, 'Pong from Pixels'
        (Chapter 4, 4.5.2 'Neural policies': grad f_theta(s, a)).
        """
        layers = self._layers(theta)
        self._check_cache(cache)
        self._check(gy, "gy", self.out_dim)
        if gy.shape[0] != cache[0].shape[0]:
            raise ValueError(f"gy has batch size {gy.shape[0]} but the cache has {cache[0].shape[0]}")
        xp = get_xp(theta)
        g_theta = xp.empty(self.n_params, dtype=self.dtype)
        grads = self._make_views(g_theta)
        g, owned, g_x = gy, False, None
        for l in range(len(layers) - 1, -1, -1):
            W = layers[l][0]
            gW, gb = grads[l]
            delta = ops.times_derivative(xp, self.activations[l], cache[l + 1], g, owned)
            if delta.shape[0] == 1:  # an outer product: gemm with k = 1 is about 2x slower
                xp.multiply(cache[l].T, delta, out=gW)
            else:
                xp.matmul(cache[l].T, delta, out=gW)
            if gb is not None:
                ops.sum_rows(xp, delta, gb)
            if l > 0:
                g, owned = ops.times_transpose(delta, W), True
            elif input_grad:
                g_x = ops.times_transpose(delta, W)
        return g_theta, g_x

    def jvp(self, theta, cache, v):
        """Jacobian-vector product in parameter space: ydot = (dy/dtheta) v, (B, out_dim).

        Forward-mode chain rule with hdot_0 = 0 (x does not depend on theta)
        and (Wdot_l, bdot_l) the layer-l views of v:

            zdot_l = hdot_{l-1} W_l + h_{l-1} Wdot_l + bdot_l
            hdot_l = sigma_l'(z_l) * zdot_l

        Exact, so backward(theta, cache, M jvp(theta, cache, v)) is the
        Gauss-Newton / Fisher-vector product J^T M J v used by TRPO
        ("Policy Gradients / Q Learning", 'Fisher info matrix = Natural Gradient').
        """
        layers = self._layers(theta)
        self._check_cache(cache)
        self._check_theta(v, "v")
        xp = get_xp(theta)
        hdot = None
        for l, ((W, _), (Wd, bd)) in enumerate(zip(layers, self._make_views(v))):
            zdot = cache[l] @ Wd
            if hdot is not None:
                zdot += hdot @ W
            if bd is not None:
                ops.add_rows(xp, zdot, bd)
            hdot = ops.times_derivative(xp, self.activations[l], cache[l + 1], zdot, True)
        return hdot


def _orthogonal(rng, fan_in, fan_out):
    """A (fan_in, fan_out) matrix with orthonormal columns (or rows if fan_in < fan_out)."""
    a = rng.standard_normal((max(fan_in, fan_out), min(fan_in, fan_out)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # makes the factorization unique, so q is Haar-distributed
    return q if fan_in >= fan_out else q.T
