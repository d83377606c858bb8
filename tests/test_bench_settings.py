"""The benchmarks' shared pieces: settings checked before any work, and the clocks of time_call."""

import pytest

from purerl import cli
from purerl.bench import time_call


@pytest.mark.parametrize("argv, message", [
    (["nn", "--repeat", "0", "--min-seconds", "0"],
     "bench nn: --repeat must be >= 1, got 0; --min-seconds must be > 0, got 0.0"),
    (["estimators", "--min-seconds", "-1"], "bench estimators: --min-seconds must be > 0, got -1.0"),
    (["envs", "--names", "CartPole-v1", "Foo-v0", "--batches", "64", "0"],
     r"bench envs: --names must be among CartPole-v1, .*, got \['Foo-v0'\]; --batches must be sizes >= 1, got \[64, 0\]"),
    (["learn", "--algos", "ppo,foo", "--seeds", "0", "--steps", "0"],
     r"bench learn: --algos must be among a2c, .*, got \['foo'\]; --seeds must be >= 1, got 0; --steps must be >= 1"),
    (["learn", "--algos", "reinforce", "--sb3", "a2c", "--no-sb3"], "--sb3: no SB3 zoo baseline for a2c"),
    (["pong", "--updates", "0", "--update-batch", "5"],
     "bench pong: --updates must be >= 1, got 0; --update-batch must be >= 10"),
    (["pong", "--runs", "no-such-run-dir", "--curve-episodes", "-1", "10"],
     r"bench pong: --runs must be existing run directories, got \['no-such-run-dir'\]; --curve-episodes must be"),
])
def test_bad_settings_stop_before_any_work_with_a_message_naming_them(argv, message):
    with pytest.raises(SystemExit, match=message):
        cli.main(["bench", *argv])


def test_time_call_autoranges_and_measures_by_the_clock_it_is_given():
    """A fake clock that advances 0.25 s per call of fn (exact in binary): one repeat
    must reach min_seconds = 1, so 1, 2, then 4 calls per repeat, each timed at 0.25 s."""
    now = [0.0]

    def fn():
        now[0] += 0.25

    t = time_call(fn, repeat=3, min_seconds=1.0, clock=lambda: now[0])
    assert t.number == 4 and t.repeat == 3
    assert t.median == t.min == t.max == 0.25
