"""Time an MLP training step (forward, backward, Adam) against bare numpy and PyTorch."""

import importlib.util

import numpy as np

from purerl.bench import (CLOCKS, Timing, add_timing_arguments, format_timing, markdown_table, require_settings,
                          time_call, timing_checks)

# (name, sizes, hidden, output, bias, batch, what)
CASES = (
    ("4-64-64-2 tanh", (4, 64, 64, 2), "tanh", "identity", True, 64, "step"),
    ("4-64-64-2 tanh", (4, 64, 64, 2), "tanh", "identity", True, 2048, "step"),
    ("6400-200-1 Pong", (6400, 200, 1), "relu", "sigmoid", False, 1, "step"),
    ("6400-200-1 Pong", (6400, 200, 1), "relu", "sigmoid", False, 1000, "step"),
    ("4-64-64-2 tanh", (4, 64, 64, 2), "tanh", "identity", True, 1, "forward"),
)
LR, BETA1, BETA2, EPS = 1e-9, 0.9, 0.999, 1e-8


def add_arguments(parser):
    add_timing_arguments(parser)
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is importable")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, which a busy shared "
                             "machine inflates much less (run with OPENBLAS_NUM_THREADS=1: it adds up threads)")


def main(args):
    """Print the table. Each case is timed three ways in the same run, so the
    ratios cancel the machine's speed and load:

    - purerl: MLP.forward, MLP.backward(input_grad=False), Adam.step on the flat theta;
    - bare:   minimal hand-written numpy, separate W / b arrays, no checks,
              Adam per array in the same arithmetic;
    - torch:  nn.Sequential and torch.optim.Adam with torch.set_num_threads(1),
              only when PyTorch is importable (it is never a dependency).

    The "forward" case is one batch-1 forward pass, the cost of choosing an
    action (MLP.__call__, the bare expression, the torch module under no_grad).
    The learning rate is 1e-9 so thousands of repeated steps leave the values,
    and so the arithmetic's speed (no denormals, no saturation), as they were.
    numpy's BLAS uses its own thread count (set OPENBLAS_NUM_THREADS=1 before
    starting Python to compare one thread with one thread).
    """
    require_settings("nn", timing_checks(args))
    torch = None
    if not args.no_torch and importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)
    dtypes = ("float32", "float64") if args.dtype == "both" else (args.dtype,)
    columns = ["network", "batch", "dtype", "timed", "purerl", "bare numpy", "purerl/bare"]
    if torch is not None:
        columns += ["torch (1 thread)", "torch/purerl"]
    rows = []
    for name, sizes, hidden, output, bias, batch, what in CASES:
        for dtype in dtypes:
            fns = _make_case(sizes, hidden, output, bias, batch, what, np.dtype(dtype), torch)
            t = _time_interleaved(fns, args.repeat, args.min_seconds, args.clock)
            row = [name, batch, dtype, what, format_timing(t["purerl"]), format_timing(t["bare"]),
                   f"{t['purerl'].median / t['bare'].median:.2f}"]
            if torch is not None:
                row += [format_timing(t["torch"]), f"{t['torch'].median / t['purerl'].median:.2f}"]
            rows.append(row)
            print(f"  done: {name}, batch {batch}, {dtype}, {what}", flush=True)
    versions = f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else "")
    clock = "wall-clock" if args.clock == "wall" else "process CPU time"
    print(f"\nSeconds per call ({clock}), median (min-max) over {args.repeat} repeats; {versions}.\n")
    print(markdown_table(columns, rows))
    return 0


def _time_interleaved(fns, repeat, min_seconds, clock="wall"):
    """{name: Timing}, the implementations' repeats taken in turn (A B C A B C ...),
    so a change in the machine's load hits all of them alike. Each repeat is
    purerl.bench.time_call's, by the chosen clock ("cpu" adds up all threads:
    use it with one BLAS thread).
    """
    c = CLOCKS[clock]
    numbers = {k: time_call(fn, repeat=1, min_seconds=min_seconds, clock=c).number for k, fn in fns.items()}
    samples = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            samples[k].append(time_call(fn, repeat=1, number=numbers[k], warmup=0, clock=c).median)
    return {k: Timing(float(np.median(v)), min(v), max(v), repeat, numbers[k]) for k, v in samples.items()}


def _make_case(sizes, hidden, output, bias, batch, what, dtype, torch):
    """Closures timing one case: {"purerl": fn, "bare": fn[, "torch": fn]}, same data."""
    from purerl.nn import MLP
    from purerl.optim import Adam

    rng = np.random.default_rng(0)
    net = MLP(sizes, hidden, output, bias=bias, dtype=dtype)
    theta = net.init(rng)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    gy = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    layers = [(W.copy(), None if b is None else b.copy()) for W, b in net.unflatten(theta)]
    if what == "forward":
        fns = {"purerl": lambda: net(theta, x), "bare": bare_tanh_forward(layers, x)}
    else:
        opt = Adam(LR, BETA1, BETA2, EPS)

        def purerl_step():
            _, cache = net.forward(theta, x)
            g_theta, _ = net.backward(theta, cache, gy, input_grad=False)
            opt.step(theta, g_theta)

        bare_grads = bare_tanh_grads if hidden == "tanh" else bare_pong_grads
        params = [a for W, b in layers for a in (W, b) if a is not None]
        state = bare_adam_state(params)
        fns = {"purerl": purerl_step, "bare": lambda: bare_adam(params, bare_grads(layers, x, gy)[1], state)}
    if torch is not None:
        fns["torch"] = _torch_case(torch, torch_net(torch, layers, hidden, output), x, gy, what)
    return fns


# ---- the bare numpy baseline: what one writes inline without a library ------------


def bare_adam_state(params):
    return {"t": 0, "m": [np.zeros_like(p) for p in params], "v": [np.zeros_like(p) for p in params]}


def bare_adam(params, grads, state, lr=LR):
    """Adam per array, in the same arithmetic as purerl.optim.Adam."""
    state["t"] += 1
    t = state["t"]
    c2 = np.sqrt(1.0 - BETA2 ** t)
    lr_t, eps_t = lr * c2 / (1.0 - BETA1 ** t), EPS * c2
    for p, g, m, v in zip(params, grads, state["m"], state["v"]):
        m *= BETA1
        m += (1.0 - BETA1) * g
        v *= BETA2
        v += (1.0 - BETA2) * (g * g)
        p -= lr_t * m / (np.sqrt(v) + eps_t)


def bare_tanh_forward(layers, x):
    """The closure () -> y of the tanh net, weights bound once as one would inline them."""
    (W1, b1), (W2, b2), (W3, b3) = layers
    return lambda: np.tanh(np.tanh(x @ W1 + b1) @ W2 + b2) @ W3 + b3


def bare_tanh_grads(layers, x, gy):
    """Two tanh layers and a linear output: (y, [dW1, db1, dW2, db2, dW3, db3])."""
    (W1, b1), (W2, b2), (W3, b3) = layers
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    y = h2 @ W3 + b3
    d2 = (gy @ W3.T) * (1 - h2 * h2)
    d1 = (d2 @ W2.T) * (1 - h1 * h1)
    return y, [x.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ gy, gy.sum(0)]


def bare_pong_grads(layers, x, gy):
    """Karpathy's policy_forward / policy_backward (CMU 10-403, 'Pong from Pixels'),
    batched, without biases: (p, [dW1, dW2])."""
    (W1, _), (W2, _) = layers
    h = x @ W1
    h[h < 0] = 0
    p = 1.0 / (1.0 + np.exp(-(h @ W2)))
    dlogit = gy * p * (1 - p)
    dh = dlogit @ W2.T
    dh[h <= 0] = 0
    return p, [x.T @ dh, h.T @ dlogit]


# ---- PyTorch ----------------------------------------------------------------------


def torch_net(torch, layers, hidden, output):
    """nn.Sequential with the same weights (torch stores W^T, shape (fan_out, fan_in))."""
    acts = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "identity": torch.nn.Identity}
    modules = []
    for l, (W, b) in enumerate(layers):
        lin = torch.nn.Linear(W.shape[0], W.shape[1], bias=b is not None, dtype=torch.from_numpy(W).dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            if b is not None:
                lin.bias.copy_(torch.from_numpy(b))
        modules += [lin, acts[output if l == len(layers) - 1 else hidden]()]
    return torch.nn.Sequential(*modules)


def _torch_case(torch, net, x, gy, what):
    xt, gyt = torch.from_numpy(x), torch.from_numpy(gy)
    if what == "forward":
        def forward():
            with torch.no_grad():
                return net(xt)
        return forward
    opt = torch.optim.Adam(net.parameters(), lr=LR, betas=(BETA1, BETA2), eps=EPS)

    def step():
        opt.zero_grad()
        net(xt).backward(gyt)
        opt.step()

    return step
