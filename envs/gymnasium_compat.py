"""Gymnasium interop (the `gym` extra), both ways.

purerl's environments inside Gymnasium: importing this module registers each
of them as "purerl/NAME", so

    import envs.gymnasium_compat
    env = gymnasium.make("purerl/CartPole-v1")
    # or, without the import: gymnasium.make("envs.gymnasium_compat:purerl/CartPole-v1")

gives a `gymnasium.Env` (GymnasiumEnv) with Gymnasium's spaces; it passes
`gymnasium.utils.env_checker.check_env`.

Gymnasium's environments inside purerl: `make_vec("Acrobot-v1", num_envs, seed)`
steps `num_envs` copies of a Gymnasium environment (one after another, in
Python) behind purerl's vector API (envs/vector.py): observations float32
(N, *obs_shape), same-step autoreset with info["final_obs"] / ["_final_obs"],
info["episode_return"] / ["episode_length"], and get_state / set_state. This
is what `python -m purerl train ALGO --env gym:Acrobot-v1` uses. Action
spaces: Discrete or Box. Observation spaces: Box (as float32) or Discrete
(one-hot). get_state captures each game's plain attributes (arrays and
numbers, e.g. classic control's `state`), its RNG and its time limit, which
makes a resume exact for classic-control games; a game whose state lives
elsewhere can save it itself (`emulator_state`, as envs/ale_pong.py does for
ALE's emulator), and otherwise continues from that snapshot only approximately.
"""

import json

import numpy as np

try:
    import gymnasium
    from gymnasium import spaces as gym_spaces
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'Gymnasium interop needs gymnasium: python -m pip install "purerl[gym]"'
    ) from err

import envs
from envs import ale_pong, spaces

NAMESPACE = "purerl"


# ----- spaces --------------------------------------------------------------

def to_gym_space(space):
    """A purerl Discrete / Box as the equal Gymnasium space."""
    if isinstance(space, spaces.Discrete):
        return gym_spaces.Discrete(space.n, start=space.start)
    return gym_spaces.Box(space.low, space.high, shape=space.shape, dtype=space.dtype)


def from_gym_action_space(space):
    """A Gymnasium Discrete / Box action space as purerl's; ValueError for others."""
    if isinstance(space, gym_spaces.Discrete):
        return spaces.Discrete(int(space.n), start=int(space.start))
    if isinstance(space, gym_spaces.Box):
        return spaces.Box(space.low, space.high, shape=space.shape, dtype=space.dtype)
    raise ValueError(f"unsupported Gymnasium action space {space}; accepted: Discrete, Box")


def observation_encoder(space):
    """(purerl Box of float32 observations, function obs -> float32 array) for a Gymnasium space."""
    if isinstance(space, gym_spaces.Box):
        low = np.asarray(space.low, dtype=np.float32)
        high = np.asarray(space.high, dtype=np.float32)
        return spaces.Box(low, high, shape=space.shape), lambda obs: np.asarray(obs, dtype=np.float32)
    if isinstance(space, gym_spaces.Discrete):
        n, start = int(space.n), int(space.start)
        return spaces.Box(0.0, 1.0, shape=(n,)), lambda obs: np.eye(n, dtype=np.float32)[int(obs) - start]
    raise ValueError(f"unsupported Gymnasium observation space {space}; accepted: Box, Discrete")


# ----- purerl environments as Gymnasium environments -----------------------

class GymnasiumEnv(gymnasium.Env):
    """A purerl environment (envs.make(name)) as a `gymnasium.Env`.

    render_mode "ansi" (CartPole, Pendulum: text) or "rgb_array" (Pong),
    whichever the game's render() produces: the class lists both (Gymnasium
    reads the class before making an instance); an instance lists its own.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 50}

    def __init__(self, name, render_mode=None, **kwargs):
        self._env = envs.make(name, **kwargs)
        self.observation_space = to_gym_space(self._env.observation_space)
        self.action_space = to_gym_space(self._env.action_space)
        mode = self._env.render_mode
        self.metadata = {"render_modes": [mode], "render_fps": 50}
        if render_mode is not None and render_mode != mode:
            raise ValueError(f"{name} renders in mode {mode!r}; got render_mode={render_mode!r}")
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)  # seeds self.np_random, as Gymnasium expects
        # Gymnasium passes options={} to mean "no options"; games without options reject any dict.
        return self._env.reset(seed=seed, options=options or None)

    def step(self, action):
        return self._env.step(action)

    def render(self):
        return None if self.render_mode is None else self._env.render()

    def close(self):
        self._env.close()


def _spec_of(name):
    try:
        return envs.make(name).spec
    except Exception:  # noqa: BLE001 - a broken game must not break the others' registration;
        return None    # gymnasium.make("purerl/NAME") will raise its error


def register():
    """Register every purerl environment as "purerl/NAME" (idempotent).

    The game's own time limit is the spec's max_episode_steps, so Gymnasium's
    TimeLimit wrapper truncates at the same step as the game does.
    """
    for name in envs.names():
        gym_id = f"{NAMESPACE}/{name}"
        if gym_id not in gymnasium.registry:
            spec = _spec_of(name)
            gymnasium.register(id=gym_id, entry_point=f"{__name__}:GymnasiumEnv", kwargs={"name": name},
                               max_episode_steps=getattr(spec, "max_episode_steps", None),
                               reward_threshold=getattr(spec, "reward_threshold", None))
    if ale_pong.GYM_ID not in gymnasium.registry:  # ALE's Pong as pg-pong saw it; needs ale-py at make()
        gymnasium.register(id=ale_pong.GYM_ID, entry_point=f"{ale_pong.__name__}:AlePongDifference")


register()


# ----- Gymnasium environments as a purerl vector environment ---------------

def _time_limit(env):
    """The TimeLimit wrapper around `env`, if any."""
    while env is not None:
        if isinstance(env, gymnasium.wrappers.TimeLimit):
            return env
        env = getattr(env, "env", None)
    return None


def _plain(value):
    """A JSON-able tagged copy of an array or number attribute; None if it is neither."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": value.tolist(), "dtype": value.dtype.str}
    if value is None or isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return {"value": value.item() if isinstance(value, np.generic) else value}
    return None


def snapshot(env):
    """One game's state as a JSON string: plain public attributes of the
    unwrapped env, its np_random state, the TimeLimit's step count, and the
    emulator's state where the game gives one (`emulator_state()`)."""
    game = env.unwrapped
    attrs = {}
    for key, value in vars(game).items():
        tagged = None if key.startswith("_") else _plain(value)
        if tagged is not None:
            attrs[key] = tagged
    limit = _time_limit(env)
    return json.dumps({
        "attrs": attrs,
        "rng": game.np_random.bit_generator.state,
        "elapsed": None if limit is None else limit._elapsed_steps,
        # a game whose state lives outside Python (ALE's emulator) can save it as text itself
        "emulator": game.emulator_state() if hasattr(game, "emulator_state") else None,
    })


def restore(env, text):
    """Inverse of `snapshot` (the env must have been reset once)."""
    saved = json.loads(text)
    game = env.unwrapped
    for key, tagged in saved["attrs"].items():
        value = np.array(tagged["array"], dtype=tagged["dtype"]) if "array" in tagged else tagged["value"]
        setattr(game, key, value)
    game.np_random.bit_generator.state = saved["rng"]
    limit = _time_limit(env)
    if limit is not None and saved["elapsed"] is not None:
        limit._elapsed_steps = saved["elapsed"]
    if saved.get("emulator") is not None:
        game.restore_emulator_state(saved["emulator"])


class GymVecEnv:
    """`num_envs` copies of Gymnasium environment `gym_id` behind purerl's VecEnv API."""

    def __init__(self, gym_id, num_envs, seed=None, **kwargs):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        self.games = [gymnasium.make(gym_id, **kwargs) for _ in range(int(num_envs))]
        self.num_envs = len(self.games)
        first = self.games[0]
        self.single_action_space = from_gym_action_space(first.action_space)
        self.single_observation_space, self._encode = observation_encoder(first.observation_space)
        self.spec = envs.core.EnvSpec(f"gym:{gym_id}", first.spec.max_episode_steps or 0, dict(kwargs))
        self._discrete = isinstance(self.single_action_space, spaces.Discrete)
        self._seeds = None if seed is None else [int(seed) + i for i in range(self.num_envs)]
        self._started = False
        n = self.num_envs
        self._ep_return = np.zeros(n)
        self._ep_length = np.zeros(n, dtype=np.int64)
        self._obs = np.zeros((n,) + self.single_observation_space.shape, dtype=np.float32)

    def __repr__(self):
        return f"GymVecEnv({self.spec.id}, num_envs={self.num_envs})"

    def seed(self, seed):
        """Game i gets seed + i at the next reset()."""
        self._seeds = [int(seed) + i for i in range(self.num_envs)]

    def reset(self, seed=None, options=None):
        """Start every game; returns (obs (N, *obs_shape) float32, info)."""
        if seed is not None:
            self.seed(seed)
        seeds, self._seeds = self._seeds or [None] * self.num_envs, None
        for i, (game, s) in enumerate(zip(self.games, seeds)):
            self._obs[i] = self._encode(game.reset(seed=s, options=options)[0])
        self._ep_return[:] = 0.0
        self._ep_length[:] = 0
        self._started = True
        return self._obs.copy(), {}

    def _action(self, actions, i):
        if self._discrete:
            return int(actions[i])
        a = np.asarray(actions[i], dtype=self.single_action_space.dtype).reshape(self.single_action_space.shape)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{self.spec.id}: non-finite action {a} for game {i}")
        return a

    def step(self, actions):
        """Step every game, autoresetting finished ones in the same step."""
        if not self._started:
            raise ValueError(f"{self.spec.id}: step() called before reset(); call reset() first")
        actions = np.asarray(actions)
        n = self.num_envs
        if actions.shape[:1] != (n,):
            raise ValueError(f"expected {n} actions (one per game), got shape {actions.shape}")
        rewards = np.zeros(n)
        terminated, truncated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        final_obs, has_final = np.zeros_like(self._obs), np.zeros(n, dtype=bool)
        for i, game in enumerate(self.games):
            obs, reward, term, trunc, _ = game.step(self._action(actions, i))
            rewards[i], terminated[i], truncated[i] = float(reward), bool(term), bool(trunc)
            self._ep_return[i] += rewards[i]
            self._ep_length[i] += 1
            self._obs[i] = self._encode(obs)
            if term or trunc:
                final_obs[i], has_final[i] = self._obs[i], True
        info = {"final_obs": final_obs, "_final_obs": has_final,
                "episode_return": self._ep_return.copy(), "episode_length": self._ep_length.copy()}
        for i in np.flatnonzero(has_final):
            self._obs[i] = self._encode(self.games[i].reset()[0])
            self._ep_return[i], self._ep_length[i] = 0.0, 0
        return self._obs.copy(), rewards, terminated, truncated, info

    def sample_actions(self, rng):
        return self.single_action_space.sample_batch(self.num_envs, rng)

    def render(self, i=0):
        return self.games[i].render()

    def close(self):
        for game in self.games:
            game.close()

    def get_state(self):
        """Each game's snapshot (JSON text), the episode accumulators and the observations.

        Games not yet reset are reset first, with the pending seeds, as purerl's
        own vector env has a state from construction on (a learner that resets
        at each iteration, like reinforce-pong, is checkpointed before its first)."""
        if not self._started:
            self.reset()
        return {"games": np.array([snapshot(g) for g in self.games]), "ep_return": self._ep_return.copy(),
                "ep_length": self._ep_length.copy(), "obs": self._obs.copy()}

    def set_state(self, d):
        """Restore get_state(); returns the current observations."""
        if len(d["games"]) != self.num_envs:
            raise ValueError(f"state holds {len(d['games'])} games; this env has {self.num_envs}")
        if not self._started:
            self.reset()
        for game, text in zip(self.games, d["games"]):
            restore(game, str(text))
        self._ep_return[:], self._ep_length[:] = d["ep_return"], d["ep_length"]
        self._obs[:] = d["obs"]
        return self._obs.copy()


def make_vec(gym_id, num_envs, seed=None, **kwargs):
    """A purerl vector env of `num_envs` Gymnasium `gym_id` games (see GymVecEnv)."""
    return GymVecEnv(gym_id, num_envs, seed=seed, **kwargs)
