"""Pong against the built-in opponent: win rate and mean point difference at a fixed seed.

`play_pong(act, env)` plays one game in each of the vector env's games
(game i seeded with seed + i, as `purerl eval` does) and reads each finished
game's final score from info (agent_score, opponent_score). A game is won
when it ends by termination with the agent ahead (the agent reached
points_to_win); a game cut by the time limit (27,000 steps, an endless rally)
is not a win, and its score difference at the cut counts as it stands.

    win rate              (1/G) sum_g [agent won game g]
    mean point difference (1/G) sum_g (agent_score_g - opponent_score_g)

`python -m purerl eval RUN_DIR --episodes 100` prints both for Pong runs, and
`train` adds them to its closing evaluation (both through evaluate.evaluate_run).
"""

from dataclasses import dataclass

import numpy as np

import envs


@dataclass
class PongResult:
    """Per-game outcomes, each (G,): final scores, whether the time limit cut the game, its length."""

    agent: np.ndarray
    opponent: np.ndarray
    truncated: np.ndarray
    lengths: np.ndarray
    returns: np.ndarray

    @property
    def games(self):
        return self.agent.shape[0]

    @property
    def wins(self):
        return int(np.count_nonzero((self.agent > self.opponent) & ~self.truncated))

    @property
    def win_rate(self):
        return self.wins / self.games

    @property
    def point_difference(self):
        return self.agent - self.opponent

    def summary(self):
        """One line: wins, win rate, mean point difference (with its standard error), truncations."""
        d = self.point_difference
        sem = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("nan")
        line = (f"won {self.wins} of {self.games} games against the built-in opponent "
                f"(win rate {self.win_rate:.2f}); mean point difference {d.mean():+.2f} ± {sem:.2f} (s.e.), "
                f"mean length {self.lengths.mean():,.0f} steps")
        n_cut = int(self.truncated.sum())
        return line + (f"; {n_cut} cut by the time limit" if n_cut else "")


def play_pong(act, env, games=None, seed=0, greedy=True):
    """Play each game of vector env `env` to its end once; returns a PongResult of the first `games`.

    act(obs (N, *obs_shape), greedy) -> Pong actions (N,), e.g. `learner.act`.
    env: a Pong vector env (Pong-v0 or PongDiff-v0, any points_to_win), or a
    name, then made with `games` games. Games that finish early keep playing
    until all have finished; only their first game counts.
    """
    if isinstance(env, str):
        env = envs.make_vec(env, games)
    games = env.num_envs if games is None else games
    if not 1 <= games <= env.num_envs:
        raise ValueError(f"games={games} must be in 1..{env.num_envs} (the vector env's num_envs)")
    obs, _ = env.reset(seed=seed)
    n = env.num_envs
    out = {k: np.zeros(n, dtype=t) for k, t in (("agent", np.int64), ("opponent", np.int64), ("truncated", bool),
                                                 ("lengths", np.int64), ("returns", np.float64))}
    finished = np.zeros(n, dtype=bool)
    while not finished[:games].all():
        obs, _, terminated, truncated, info = env.step(act(obs, greedy))
        done = (terminated | truncated) & ~finished
        for key, value in (("agent", info["agent_score"]), ("opponent", info["opponent_score"]),
                           ("truncated", truncated & ~terminated), ("lengths", info["episode_length"]),
                           ("returns", info["episode_return"])):
            out[key][done] = np.asarray(value)[done]
        finished |= done
    return PongResult(**{k: v[:games] for k, v in out.items()})
