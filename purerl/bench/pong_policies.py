"""Pong beatability: scripted players against the built-in opponent and each other, at fixed seeds.

Shared PONG.md section 4 ("Beatability") asks that random play lose almost
every point (<= -19 in a game to 21), that a centre-tracker lose to an
edge-hitter, and that the edge-hitter beat the built-in opponent clearly.
Each row plays --games games (game i seeded with --seed + i) with
envs.pong_scripted.play_match and reports the final score difference
(agent - opponent): mean, min and max, the number of games the agent won,
and the mean game length in steps.
"""

import time

from purerl.bench import markdown_table, require_settings

# The game's settings and their defaults; --ale plays ALE's game, whose own are fixed, so it refuses changes.
PONG_DEFAULTS = {"points_to_win": 21, "max_steps": 27_000, "opp_speed": [3.0], "serve_speed": 3.0, "frameskip": 1}
COLUMNS = ("agent", "opponent", "opp_speed", "games", "score diff mean", "min", "max", "wins", "steps/game")


def add_arguments(parser):
    parser.add_argument("--games", type=int, default=20, help="games per matchup (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="game i is seeded with seed + i (default 0)")
    parser.add_argument("--points-to-win", type=int, default=PONG_DEFAULTS["points_to_win"],
                        help="points that end a game (default 21)")
    parser.add_argument("--max-steps", type=int, default=PONG_DEFAULTS["max_steps"],
                        help="steps after which a game stops (default 27000)")
    parser.add_argument("--opp-speed", type=float, nargs="+", default=PONG_DEFAULTS["opp_speed"],
                        help="the built-in opponent's speed caps to measure, px per step (default 3)")
    parser.add_argument("--serve-speed", type=float, default=PONG_DEFAULTS["serve_speed"],
                        help="the ball's horizontal speed at each serve, px per frame (Pong-v0's serve_speed; default 3)")
    parser.add_argument("--frameskip", type=int, default=PONG_DEFAULTS["frameskip"],
                        help="frames each action is held, as Pong-v0's frameskip; steps/game then counts "
                             "decisions (default 1)")
    parser.add_argument("--trackers", type=float, nargs="*", metavar="Q",
                        help="instead, UP/DOWN ball trackers that follow the ball with each probability Q "
                             "(envs.pong_scripted.updown_tracker; no Q: 1 0.75 0.5 0.25 0)")
    parser.add_argument("--ale", action="store_true",
                        help="with --trackers: play them in ALE's own Pong-v0 instead (envs.ale_pong.play_trackers; "
                             "needs the atari extra; the game's settings are ALE's, so the Pong options above "
                             "must stay at their defaults)")


def run(args):
    """Rows of COLUMNS: each scripted player against the AI at each speed, then head-to-head
    (with --trackers: each UP/DOWN tracker against the AI at each speed)."""
    from envs import pong_scripted as S  # imported here so `purerl --help` stays cheap

    if args.trackers is not None:
        qs = args.trackers or [1.0, 0.75, 0.5, 0.25, 0.0]
        if args.ale:
            return [ale_row(args, q) for q in qs]
        players = {f"updown tracker, q={q:g}": S.updown_tracker(q) for q in qs}
        matchups = [(name, None, speed) for speed in args.opp_speed for name in players]
    else:
        players = S.POLICIES
        matchups = [(name, None, speed) for speed in args.opp_speed
                    for name in ("random", "centre", "predictor", "edge")]
        matchups.append(("edge", "centre", None))
    return [row(args, agent, opponent, speed, players) for agent, opponent, speed in matchups]


def row(args, agent, opponent, speed, players):
    """One row of COLUMNS: players[agent] against players[opponent] (None: the built-in AI at `speed`)."""
    scores = play(args, players[agent], None if opponent is None else players[opponent], speed)
    return (agent, opponent or "built-in AI", "-" if speed is None else f"{speed:g}", *score_cells(args, *scores))


def score_cells(args, a, o, steps):
    """The columns from "games" on: the agent's score difference a - o (mean, min, max), games won, mean steps."""
    d = a - o
    return (args.games, f"{d.mean():+.2f}", f"{d.min():+d}", f"{d.max():+d}", int((d > 0).sum()),
            f"{steps.mean():.0f}")


def ale_row(args, q):
    """One row of COLUMNS: the UP/DOWN tracker q against ALE Pong-v0's computer player."""
    from envs.ale_pong import play_trackers

    return (f"updown tracker, q={q:g}", "ALE Pong-v0 AI", "-",
            *score_cells(args, *play_trackers(q, args.games, args.seed)))


def play(args, agent, opponent, speed):
    """(agent scores, opponent scores, steps) of --games games, envs.pong_scripted.play_match."""
    from envs import pong_scripted as S

    return S.play_match(agent, opponent, games=args.games, seed=args.seed, points_to_win=args.points_to_win,
                        opp_speed=3.0 if speed is None else speed, max_steps=args.max_steps,
                        serve_speed=args.serve_speed, frameskip=args.frameskip)


def check(args):
    """Clear errors for settings that cannot run (SystemExit: the command line prints them)."""
    from envs.ale_pong import missing_extra
    from envs.pong_physics import make_params

    qs = args.trackers or []
    changed = [f"--{k.replace('_', '-')} {getattr(args, k)}" for k, v in PONG_DEFAULTS.items() if getattr(args, k) != v]
    ale_problem = args.ale and missing_extra()
    require_settings("pong_policies", (
        ("--games", args.games, args.games >= 1, ">= 1"),
        ("--max-steps", args.max_steps, args.max_steps >= 1, ">= 1"),
        ("--trackers", qs, all(0 <= q <= 1 for q in qs), "probabilities in [0, 1]"),
        ("--ale", "without --trackers", not args.ale or args.trackers is not None, "used with --trackers"),
        ("--ale", ", ".join(changed), not args.ale or not changed,
         "used without --points-to-win, --max-steps, --opp-speed, --serve-speed or --frameskip (ALE's are fixed)"),
        ("--ale", "without gymnasium and ale-py", not ale_problem,
         'run with the atari extra (python -m pip install "purerl[atari]")')),
        env_settings=[("--points-to-win", "points_to_win", args.points_to_win),
                      ("--frameskip", "frameskip", args.frameskip),
                      ("--serve-speed", "serve_speed", args.serve_speed),
                      *(("--opp-speed", "opp_speed", v) for v in args.opp_speed)],
        make_params=make_params)


def main(args):
    check(args)
    t0 = time.perf_counter()
    print(markdown_table(COLUMNS, run(args)))
    speeds = " ".join(f"{v:g}" for v in args.opp_speed)
    game = (" --ale" if args.ale else  # ALE's game has no settings of ours to repeat
            f" --points-to-win {args.points_to_win} --max-steps {args.max_steps} --opp-speed {speeds} "
            f"--serve-speed {args.serve_speed:g} --frameskip {args.frameskip}")
    print(f"\n({time.perf_counter() - t0:.1f} s; python -m purerl bench pong_policies --games {args.games} "
          f"--seed {args.seed}{game}{trackers_flag(args)})")


def trackers_flag(args):
    if args.trackers is None:
        return ""
    return " --trackers" + "".join(f" {q:g}" for q in args.trackers)
