"""Schedules: functions step -> value, for learning rates, clip ranges and exploration.

A learner calls `schedule(env_steps)` before each update and sets the result
(e.g. `optimizer.lr = self.lr(self.env_steps)`).
"""


def constant(value):
    """The schedule step -> value for every step."""
    value = float(value)
    return lambda step: value


def linear_schedule(start, end, duration):
    """step -> start + (end - start) * min(step / duration, 1): linear, then flat at `end`.

    Used for learning-rate decay and for epsilon-greedy exploration. Steps
    before 0 give start.
    """
    if not duration > 0:
        raise ValueError(f"duration must be > 0 steps, got {duration!r}")
    start, end = float(start), float(end)

    def schedule(step):
        frac = min(max(step, 0) / duration, 1.0)
        return start + (end - start) * frac

    return schedule


def decay(kind, start, duration):
    """A Config's "constant" (always start) or "linear" (start -> 0 at duration) schedule."""
    if kind not in ("constant", "linear"):
        raise ValueError(f"schedule kind must be 'constant' or 'linear', got {kind!r}")
    return linear_schedule(start, 0.0 if kind == "linear" else start, duration)
