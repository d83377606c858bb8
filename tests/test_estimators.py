"""Return and advantage estimators: hand-worked cases (gamma = 0.5, integer rewards,
so float equality holds), identities between estimators, and the vectorised
code against plain per-episode reference loops on random shapes and masks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purerl import estimators as E
from purerl import trajectories as T
from purerl.importance import importance_weights, ratio

# ----------------------------------------------------------------------------
# hand-worked cases, exact
# ----------------------------------------------------------------------------

r = np.array([1.0, 2.0, -1.0, 4.0])
v = np.array([4.0, 8.0, 4.0, 2.0])  # V(s_0..s_3); V(s_4) = 2 after the rollout
nv = np.array([8.0, 4.0, 2.0, 2.0])  # V(s_{t+1})
term1 = np.array([False, True, False, False])


def test_discounted_returns_by_hand():
    # G_3 = 4; G_2 = -1 + 4/2 = 1; G_1 = 2 + 1/2 = 2.5; G_0 = 1 + 2.5/2 = 2.25
    assert E.discounted_returns(r, gamma=0.5).tolist() == [2.25, 2.5, 1.0, 4.0]
    # the episode ends at t = 1: G_1 = 2, G_0 = 1 + 1 = 2, and a new one starts at t = 2
    assert E.discounted_returns(r, term1, gamma=0.5).tolist() == [2.0, 2.0, 1.0, 4.0]
    # truncated at t = 1 with V(final obs) = 6: G_1 = 2 + 3 = 5, G_0 = 1 + 2.5 = 3.5
    trunc = term1.copy()
    got = E.discounted_returns(r, None, trunc, gamma=0.5, next_values=[0.0, 6.0, 0.0, 2.0])
    # the last row bootstraps too: G_3 = 4 + 2/2 = 5, G_2 = -1 + 5/2 = 1.5
    assert got.tolist() == [3.5, 5.0, 1.5, 5.0]


def test_reward_to_go_and_total_return_by_hand():
    assert E.reward_to_go(r, gamma=0.5).tolist() == [2.25, 1.25, 0.25, 0.5]  # gamma^t G_t
    assert E.reward_to_go(r, term1, gamma=0.5).tolist() == [2.0, 1.0, 1.0, 2.0]  # t restarts at 2
    assert E.total_return(r, gamma=0.5).tolist() == [2.25] * 4
    assert E.total_return(r, term1, gamma=0.5).tolist() == [2.0, 2.0, 1.0, 1.0]
    assert E.total_return(r).tolist() == [6.0] * 4  # gamma = 1: R(tau) = sum of rewards
    assert E.episode_steps(term1, start_steps=np.array(3)).tolist() == [3, 4, 0, 1]


def test_td_nstep_gae_lambda_by_hand():
    assert E.next_state_values(v, np.array(2.0)).tolist() == nv.tolist()
    assert E.td_targets(r, nv, gamma=0.5).tolist() == [5.0, 4.0, 0.0, 5.0]
    assert E.td_errors(r, v, nv, gamma=0.5).tolist() == [1.0, -4.0, -4.0, 3.0]
    # y_0 = 1 + 2/2 + V(s_2)/4 = 3; y_1 = 2 - 1/2 + 2/4 = 2; y_2 = -1 + 2 + 2/4; y_3 = 4 + 2/2 (cut)
    assert E.nstep_returns(r, nv, gamma=0.5, n=2).tolist() == [3.0, 2.0, 1.5, 5.0]
    # gamma lam = 1/4: A_3 = 3, A_2 = -4 + 3/4, A_1 = -4 - 3.25/4, A_0 = 1 - 4.8125/4
    adv = E.gae(r, v, nv, gamma=0.5, lam=0.5)
    assert adv.tolist() == [-0.203125, -4.8125, -3.25, 3.0]
    assert E.lambda_returns(r, nv, gamma=0.5, lam=0.5).tolist() == (adv + v).tolist()


def test_karpathy_reset_at_nonzero_reward_by_hand():
    pong = np.array([0.0, 0.0, 1.0, 0.0, 0.0, -1.0])
    got = E.discounted_returns(pong, gamma=0.5, reset_at_nonzero_reward=True)
    assert got.tolist() == [0.25, 0.5, 1.0, -0.25, -0.5, -1.0]
    # without the reset the point lost at t = 5 leaks back into t = 2: 1 - 1/8
    assert E.discounted_returns(pong, gamma=0.5)[2] == 0.875
    same = E.discounted_returns(pong, pong != 0, gamma=0.5)
    assert same.tolist() == got.tolist()


def test_importance_weights_by_hand():
    lp, blp = np.log([2.0, 1.0, 0.5, 4.0]), np.zeros(4)  # ratios 2, 1, 1/2, 4
    assert np.allclose(importance_weights(lp, blp), [2, 2, 1, 4], rtol=1e-15)
    assert np.allclose(importance_weights(lp, blp, term1), [2, 2, 0.5, 2], rtol=1e-15)
    assert np.allclose(importance_weights(lp, blp, per_decision=False), [4] * 4, rtol=1e-15)
    assert np.allclose(importance_weights(lp, blp, term1, per_decision=False), [2, 2, 2, 2], rtol=1e-15)
    assert np.allclose(ratio(lp, blp), [2, 1, 0.5, 4], rtol=1e-15)


# ----------------------------------------------------------------------------
# reference loops: one episode at a time, straight from the definitions
# ----------------------------------------------------------------------------


def _episodes(done):
    """(start, end) row ranges of the episode segments of one column."""
    starts = [0] + [t + 1 for t in range(len(done) - 1) if done[t]]
    ends = [t for t in range(len(done) - 1) if done[t]] + [len(done) - 1]
    return list(zip(starts, ends))


def ref_nstep(r, nv, term, trunc, gamma, n):
    """y_{t:t+m} = sum_{k<m} gamma^k r_{t+k} + gamma^m V(s_{t+m}) unless terminated, per column."""
    out = np.zeros_like(r)
    for t in range(len(r)):
        end = next(e for s, e in _episodes(term | trunc) if s <= t <= e)
        last = min(t + n - 1, end)
        out[t] = sum(gamma ** (k - t) * r[k] for k in range(t, last + 1))
        if not term[last]:
            out[t] += gamma ** (last - t + 1) * nv[last]
    return out


def ref_gae(r, v, nv, term, trunc, gamma, lam):
    delta = r + gamma * np.where(term, 0.0, nv) - v
    out = np.zeros_like(r)
    for t in range(len(r)):
        end = next(e for s, e in _episodes(term | trunc) if s <= t <= e)
        out[t] = sum((gamma * lam) ** (k - t) * delta[k] for k in range(t, end + 1))
    return out


@st.composite
def rollouts(draw):
    """Random (T, *B) rewards, values and masks, with gamma and lam, T up to 7."""
    T = draw(st.integers(1, 7))
    batch = draw(st.sampled_from([(), (3,), (2, 2)]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = (T,) + batch
    term = rng.random(shape) < draw(st.sampled_from([0.0, 0.2, 0.5]))
    trunc = (rng.random(shape) < draw(st.sampled_from([0.0, 0.2, 0.5]))) & ~term
    r = rng.integers(-3, 4, shape).astype(float)
    v = rng.integers(-3, 4, shape).astype(float)
    nv = np.where(term, 0.0, rng.integers(-3, 4, shape).astype(float))
    gamma = draw(st.sampled_from([0.0, 0.5, 0.9, 1.0]))
    lam = draw(st.sampled_from([0.0, 0.5, 0.95, 1.0]))
    return r, v, nv, term, trunc, gamma, lam


def _columns(*arrays):
    """Iterate the batch columns of (T, *B) arrays as (T,) slices."""
    T = arrays[0].shape[0]
    flat = [a.reshape(T, -1) for a in arrays]
    for j in range(flat[0].shape[1]):
        yield [f[:, j] for f in flat]


@settings(max_examples=60, deadline=None)
@given(rollouts(), st.integers(1, 9))
def test_vectorised_estimators_match_reference_loops(data, n):
    r, v, nv, term, trunc, gamma, lam = data
    ny = E.nstep_returns(r, nv, term, trunc, gamma=gamma, n=n)
    mc = E.discounted_returns(r, term, trunc, gamma=gamma, next_values=nv)
    adv = E.gae(r, v, nv, term, trunc, gamma=gamma, lam=lam)
    for (rc, vc, nvc, tc, uc), (ny_c, mc_c, adv_c) in zip(_columns(r, v, nv, term, trunc),
                                                           _columns(ny, mc, adv)):
        np.testing.assert_allclose(ny_c, ref_nstep(rc, nvc, tc, uc, gamma, n), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(mc_c, ref_nstep(rc, nvc, tc, uc, gamma, len(rc)), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(adv_c, ref_gae(rc, vc, nvc, tc, uc, gamma, lam), rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(rollouts())
def test_identities_between_estimators(data):
    r, v, nv, term, trunc, gamma, lam = data
    # consistent next values: V(s_{t+1}) is the next row's value inside an episode
    last = np.arange(np.prod(r.shape[1:], dtype=int), dtype=float).reshape(r.shape[1:])
    final = np.where(trunc, nv, 0.0)
    nv = E.next_state_values(v, last, trunc, final, term)
    mc = E.discounted_returns(r, term, trunc, gamma=gamma, next_values=nv)
    T = r.shape[0]
    close = dict(rtol=1e-12, atol=1e-12)
    # GAE(lam = 1) = bootstrapped reward-to-go minus V; GAE(lam = 0) = TD error
    np.testing.assert_allclose(E.gae(r, v, nv, term, trunc, gamma=gamma, lam=1.0), mc - v, **close)
    np.testing.assert_allclose(E.gae(r, v, nv, term, trunc, gamma=gamma, lam=0.0),
                               E.td_errors(r, v, nv, term, gamma=gamma), **close)
    # lambda-return = GAE + V, and its ends are TD(0) and Monte Carlo
    lr = E.lambda_returns(r, nv, term, trunc, gamma=gamma, lam=lam)
    np.testing.assert_allclose(lr, E.gae(r, v, nv, term, trunc, gamma=gamma, lam=lam) + v, **close)
    np.testing.assert_allclose(E.lambda_returns(r, nv, term, trunc, gamma=gamma, lam=1.0), mc, **close)
    np.testing.assert_allclose(E.lambda_returns(r, nv, term, trunc, gamma=gamma, lam=0.0),
                               E.td_targets(r, nv, term, gamma=gamma), **close)
    # n-step: n = 1 is the TD target, n >= T is Monte Carlo
    np.testing.assert_allclose(E.nstep_returns(r, nv, term, trunc, gamma=gamma, n=1),
                               E.td_targets(r, nv, term, gamma=gamma), **close)
    for n in (T, T + 3):
        np.testing.assert_allclose(E.nstep_returns(r, nv, term, trunc, gamma=gamma, n=n), mc, **close)
    # lambda-return = (1 - lam) sum_n lam^(n-1) y_{t:t+n}, the tail weight on the longest window
    forward = sum((1 - lam) * lam ** (n - 1) * E.nstep_returns(r, nv, term, trunc, gamma=gamma, n=n)
                  for n in range(1, T)) + lam ** (T - 1) * mc
    np.testing.assert_allclose(lr, forward, **close)


@settings(max_examples=40, deadline=None)
@given(rollouts())
def test_estimators_do_not_mutate_inputs(data):
    r, v, nv, term, trunc, gamma, lam = data
    inputs = [r, v, nv, term, trunc]
    before = [x.copy() for x in inputs]
    E.discounted_returns(r, term, trunc, gamma=gamma, next_values=nv, reset_at_nonzero_reward=True)
    E.reward_to_go(r, term, trunc, gamma=gamma, next_values=nv)
    E.total_return(r, term, trunc, gamma=gamma, next_values=nv)
    E.gae(r, v, nv, term, trunc, gamma=gamma, lam=lam)
    E.lambda_returns(r, nv, term, trunc, gamma=gamma, lam=lam)
    E.nstep_returns(r, nv, term, trunc, gamma=gamma, n=3)
    importance_weights(r, v, term, trunc, per_decision=False)
    for x, b in zip(inputs, before):
        assert np.array_equal(x, b)


@settings(max_examples=40, deadline=None)
@given(rollouts())
def test_per_episode_quantities_match_reference(data):
    r, v, nv, term, trunc, gamma, _ = data
    done = term | trunc
    R = E.total_return(r, term, trunc, gamma=gamma, next_values=nv)
    rtg = E.reward_to_go(r, term, trunc, gamma=gamma, next_values=nv)
    G = E.discounted_returns(r, term, trunc, gamma=gamma, next_values=nv)
    w = importance_weights(r, v, term, trunc)  # r, v stand in for two log-prob arrays
    for (rc, vc, dc), (Rc, rtgc, Gc, wc) in zip(_columns(r, v, done), _columns(R, rtg, G, w)):
        for s, e in _episodes(dc):
            assert np.allclose(Rc[s:e + 1], Gc[s], rtol=1e-12)
            k = np.arange(e - s + 1)
            assert np.allclose(rtgc[s:e + 1], gamma ** k * Gc[s:e + 1], rtol=1e-12)
            assert np.allclose(wc[s:e + 1], np.exp(np.cumsum(rc[s:e + 1] - vc[s:e + 1])), rtol=1e-12)


# ----------------------------------------------------------------------------
# errors say what to fix
# ----------------------------------------------------------------------------


def test_truncation_without_a_bootstrap_value_is_an_error():
    with pytest.raises(ValueError, match="truncated steps need next_values"):
        E.discounted_returns(r, None, term1, gamma=0.5)


@pytest.mark.parametrize("call, match", [
    (lambda: E.discounted_returns(r, gamma=1.5), "gamma must be in"),
    (lambda: E.gae(r, v, nv, gamma=0.9, lam=-0.1), "lam must be in"),
    (lambda: E.nstep_returns(r, nv, gamma=0.9, n=0), "n must be a positive integer"),
    (lambda: E.gae(r, v, nv[:3], gamma=0.9, lam=0.9), r"next_values must have shape \(4,\)"),
    (lambda: E.discounted_returns(r, term1[:2], gamma=0.9), "terminated must have shape"),
    (lambda: E.discounted_returns(np.float64(1.0), gamma=0.9), "leading time axis"),
    (lambda: E.discounted_returns(r, r, gamma=0.9), "terminated must be a boolean mask"),
    (lambda: E.discounted_returns(np.zeros((0, 3)), gamma=0.9), r"at least one row \(time step\), got shape \(0, 3\)"),
    (lambda: E.gae(np.zeros(0), np.zeros(0), np.zeros(0), gamma=0.9, lam=0.9), "at least one row"),
    (lambda: E.reward_to_go(r, gamma=0.9, start_steps=-3), "start_steps must be whole numbers >= 0"),
    (lambda: E.reward_to_go(r, gamma=0.9, start_steps=1.5), "start_steps must be whole numbers >= 0"),
    (lambda: E.discounted_returns(r.astype(np.float16), gamma=0.9), "float32 or float64 array, got dtype float16"),
    (lambda: E.discounted_returns([[1.0, 2.0], [1.0]], gamma=0.9), "rewards must be a rectangular array"),
    (lambda: E.discounted_returns(r, gamma=None), "gamma must be in .*, got None"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=30, deadline=None)
@given(rollouts())
def test_scan_kernel_and_array_module_loop_agree(data):
    """The numba kernel (numpy) and the loop used for other array modules (CuPy)
    run the same recursion y_t = a_t + c_t y_{t+1}."""
    r, v, _, term, _, gamma, _ = data
    c = gamma * ~term
    np.testing.assert_allclose(T.backward_scan(r, c), T._scan_loop(np, r, c), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(T.forward_scan(v, c), T._scan_loop(np, v[::-1], c[::-1])[::-1],
                               rtol=1e-13, atol=1e-13)


def test_float32_in_float32_out():
    r32 = r.astype(np.float32)
    assert E.discounted_returns(r32, gamma=0.5).dtype == np.float32
    assert E.gae(r32, v.astype(np.float32), nv.astype(np.float32), gamma=0.5, lam=0.5).dtype == np.float32
    assert E.discounted_returns(r32, gamma=0.5).tolist() == [2.25, 2.5, 1.0, 4.0]
