"""Pong: how fast Karpathy's network learns to follow the ball from difference frames when told the answer.

A diagnostic for the replica of "Pong from pixels" (CMU 10-403, Policy
gradients; README, "What holds the replica back"). Following the ball is the
first skill the replica must learn, and the scripted UP/DOWN follower
(envs.pong_scripted.toward_ball) shows what it is worth. Here the same
network, p = sigmoid(w_2 . relu(W_1 x)) on 6,400 difference-frame pixels
with no biases (algos.pong_pg.pong_policy), is trained by supervised
imitation instead of REINFORCE: every frame is labelled with the follower's
action y_t, and each update takes one step of Karpathy's RMSProp (decay
0.99, eps 1e-5, --lr) on the summed log-likelihood

    g = sum_t grad_theta log pi_theta(y_t | x_t),

which is the replica's gradient sum_t A_hat_t grad log pi_theta(a_t | x_t)
(algos.pong_pg.summed_policy_gradient) with every A_hat_t = 1 and the label
in place of the sampled action: the cleanest signal a learner of this network
could get. Each update plays --episodes games (one episode each, as a
replica batch) with a behaviour policy that takes the follower's action with
probability --q, else UP or DOWN at random.

With --input frame the network sees the frame f_t itself (Pong-v0's
pixels, where both paddles always show) instead of the difference
f_t - f_{t-1}, which measures what the differencing costs.

Reported at each --report-at update: the agreement of the greedy network with
the follower on the frames of --eval-games held-out games played by the
follower (frames where the ball is in play), and the greedy network's mean
point difference and wins in --eval-games games against the built-in
opponent (purerl.pong_eval.play_pong). The follower's own score is the first
row, for reference.
"""

import time

import numpy as np

from purerl.bench import markdown_table, require_settings

COLUMNS = ("player", "updates", "episodes", "agreement with the follower", "point difference", "wins")


def add_arguments(parser):
    parser.add_argument("--frameskip", type=int, default=4, help="frames each decision is held (default 4)")
    parser.add_argument("--opp-speed", type=float, default=3.0, help="the built-in opponent's speed (default 3)")
    parser.add_argument("--lr", type=float, default=1e-4, help="RMSProp step size (default 1e-4, Karpathy's)")
    parser.add_argument("--hidden", type=int, default=200, help="hidden ReLU units (default 200, Karpathy's)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per update (default 10, Karpathy's)")
    parser.add_argument("--q", type=float, default=0.5,
                        help="behaviour: probability of the follower's action, else a coin (default 0.5)")
    parser.add_argument("--report-at", type=int, nargs="+", default=[25, 100, 200, 400, 800], metavar="U",
                        help="updates after which to measure (default 25 100 200 400 800; 800 updates of "
                             "10 episodes are Karpathy's 8,000 episodes)")
    parser.add_argument("--input", choices=("difference", "frame"), default="difference",
                        help="what the network sees: Karpathy's difference frame x_t = f_t - f_{t-1} (default), "
                             "or the frame f_t itself (Pong-v0's pixels), to ask what the differencing costs")
    parser.add_argument("--eval-games", type=int, default=20, help="games to 21 per measurement (default 20)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed S of the network; evaluation games are seeded S..S+eval_games-1 and training "
                             "games from S+1001 on (default 0)")


def make_envs(games, args):
    """The same games twice, in lockstep: pixels for the network (difference frames from PongDiff-v0
    with actions 0 UP / 1 DOWN, or with --input frame Pong-v0's frames) and the 7-value state for
    the follower's labels (Pong-v0). The dynamics draw
    from each game's own stream only at serves, whatever the observation, so equal seeds and
    equal actions give equal games."""
    import envs

    kw = {"frameskip": args.frameskip, "opp_speed": args.opp_speed}
    if args.input == "frame":
        pixels = envs.make_vec("Pong-v0", games, **kw)
    else:
        pixels = envs.make_vec("PongDiff-v0", games, actions="updown", **kw)
    return pixels, envs.make_vec("Pong-v0", games, obs_type="state", **kw)


def env_actions(env, a):
    """The Bernoulli outcome a (1 UP, 0 DOWN) as env's action: Pong-v0 1 UP / 2 DOWN, or
    PongDiff-v0 with actions="updown" 0 UP / 1 DOWN."""
    return 2 - a if env.single_action_space.n == 3 else 1 - a


def play(pixels_env, state_env, seed, choose):
    """One episode in each game; choose(frames, labels) picks every game's move as a Bernoulli
    outcome (1 UP, 0 DOWN, the replica's encoding; env_actions translates it for each env).
    Returns (frames SparseRows, labels (B,) in the same encoding, ball_in_play (B,) bool) over the
    frames of games still in their first episode. Frames with the ball hidden between points are
    labelled too (toward the court centre) and used for training; agreement counts only
    ball_in_play frames."""
    from envs.pong_render import STATE_COLUMNS
    from envs.pong_scripted import toward_ball
    from purerl.sparse import concat_rows, select_rows, sparse_rows

    countdown = STATE_COLUMNS.index("countdown")
    x, _ = pixels_env.reset(seed=seed)
    s, _ = state_env.reset(seed=seed)
    n = pixels_env.num_envs
    frames, labels, in_play = [], [], []
    counting = np.ones(n, dtype=bool)
    while counting.any():
        x_rows = sparse_rows(x, np.float64)
        y = (toward_ball(s) == 1).astype(np.int64)  # the Bernoulli outcome 1 is UP, as in the replica
        frames.append(select_rows(x_rows, counting))
        labels.append(y[counting])
        in_play.append(s[counting, countdown] == 0)
        a = choose(x_rows, y)
        x, r_pixels, term, trunc, _ = pixels_env.step(env_actions(pixels_env, a))
        s, r_state, *_ = state_env.step(env_actions(state_env, a))
        if not np.array_equal(r_pixels, r_state):
            raise RuntimeError("the pixel and state copies of the games diverged")
        counting &= ~(term | trunc)
    return concat_rows(frames), np.concatenate(labels), np.concatenate(in_play)


def imitate(args, report):
    """Train by imitation; after each update in args.report_at call report(update, policy, theta)."""
    from purerl.algos.pong_pg import Config, pong_policy, summed_policy_gradient
    from purerl.optim import RMSProp

    rng = np.random.default_rng(args.seed)
    pixels_env, state_env = make_envs(args.episodes, args)
    policy = pong_policy(pixels_env.single_observation_space.shape[0], args.hidden)
    theta = policy.init(rng)
    replica = Config()
    opt = RMSProp(args.lr, decay=replica.decay, eps=replica.rms_eps, maximize=True)  # Karpathy's 0.99 and 1e-5

    def behaviour(frames, y):
        return np.where(rng.random(y.size) < args.q, y, rng.integers(0, 2, y.size))

    for update in range(1, max(args.report_at) + 1):
        frames, labels, _ = play(pixels_env, state_env, args.seed + 1_000 + update * args.episodes, behaviour)
        grad, _ = summed_policy_gradient(policy, theta, frames, labels, np.ones(labels.size))
        opt.step(theta, grad)
        if update in args.report_at:
            report(update, policy, theta)


def measure(args):
    """Rows of COLUMNS: the follower, then the imitating network at each report."""
    from envs.pong_scripted import toward_ball
    from purerl.pong_eval import play_pong
    from purerl.sparse import sparse_rows

    pixels_env, state_env = make_envs(args.eval_games, args)
    # held-out frames: the follower's own games, at seeds the training games do not use
    frames, labels, in_play = play(pixels_env, state_env, args.seed, lambda frames, y: y)

    def scores(act, env):
        result = play_pong(act, env, seed=args.seed)
        return f"{result.point_difference.mean():+.2f}", result.wins

    rows = [("follower (scripted)", "-", "-", "1.000", *scores(lambda obs, greedy: toward_ball(obs), state_env))]

    def report(update, policy, theta):
        def act(obs, greedy):  # always greedy, as the table reports
            dist, _ = policy.distribution(theta, sparse_rows(obs, np.float64))
            return env_actions(pixels_env, dist.mode())

        dist, _ = policy.distribution(theta, frames)
        agreement = f"{np.mean((dist.mode() == labels)[in_play]):.3f}"
        rows.append(("network, imitating", update, f"{update * args.episodes:,}", agreement,
                     *scores(act, pixels_env)))
        print(f"  update {update}: agreement {agreement}", flush=True)

    imitate(args, report)
    return rows


def check(args):
    """Clear errors for settings that cannot run (SystemExit: the command line prints them)."""
    from envs.pong_physics import make_params

    require_settings("pong_imitation", (
        ("--report-at", min(args.report_at), min(args.report_at) >= 1, "updates >= 1"),
        ("--episodes", args.episodes, 1 <= args.episodes <= 1_000, "in 1..1000"),
        ("--eval-games", args.eval_games, 1 <= args.eval_games <= 1_000,
         "in 1..1000 (its seeds stay apart from the training games')"),
        ("--q", args.q, 0.0 <= args.q <= 1.0, "in [0, 1]"),
        ("--lr", args.lr, args.lr > 0.0, "> 0"),
        ("--hidden", args.hidden, args.hidden >= 1, ">= 1")),
        env_settings=[("--frameskip", "frameskip", args.frameskip),
                      ("--opp-speed", "opp_speed", args.opp_speed)],
        make_params=make_params)


def main(args):
    check(args)
    t0 = time.perf_counter()
    rows = measure(args)
    print(markdown_table(COLUMNS, rows))
    at = " ".join(str(u) for u in args.report_at)
    print(f"\n({time.perf_counter() - t0:.0f} s; python -m purerl bench pong_imitation --frameskip {args.frameskip} "
          f"--opp-speed {args.opp_speed:g} --lr {args.lr:g} --hidden {args.hidden} --episodes {args.episodes} "
          f"--q {args.q:g} --input {args.input} --report-at {at} --eval-games {args.eval_games} --seed {args.seed})")
