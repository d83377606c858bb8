"""envs.make / make_vec / names: names, errors, keyword arguments, cheap import."""

import subprocess
import sys

import pytest

import envs


def test_names_lists_the_contract_names():
    names = envs.names()
    assert names == sorted(names)
    assert {"CartPole-v1", "CartPoleContinuous-v1", "Pendulum-v1"} <= set(names)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown environment 'CartPole-v0'.*CartPole-v1.*Pendulum-v1"):
        envs.make("CartPole-v0")
    with pytest.raises(ValueError, match="valid names"):
        envs.make_vec("Nope", 2)


def test_keyword_arguments_reach_the_simulator():
    env = envs.make("CartPole-v1", max_episode_steps=7)
    assert env.spec.max_episode_steps == 7
    assert envs.make_vec("Pendulum-v1", 2, g=9.81).spec.kwargs == {"g": 9.81}
    with pytest.raises(ValueError, match="CartPole-v1.*bogus"):
        envs.make("CartPole-v1", bogus=1)
    with pytest.raises(ValueError, match="max_episode_steps"):
        envs.make("CartPole-v1", max_episode_steps=0)


@pytest.mark.parametrize("name", envs.names())
def test_an_unknown_keyword_names_itself_and_every_accepted_one(name):
    from envs.registry import keywords

    accepted = keywords(name)
    with pytest.raises(ValueError, match=f"{name} has no option 'bogus'; it accepts: " + ", ".join(accepted) + "$"):
        envs.make(name, bogus=1)
    assert "max_episode_steps" in accepted


@pytest.mark.parametrize("name", envs.names())
def test_render_mode_says_what_render_returns(name):
    """"ansi" means text and "rgb_array" an (H, W, 3) uint8 array, for the single and the vector env."""
    import numpy as np

    for env, frame in ((e := envs.make(name), lambda: e.render()), (v := envs.make_vec(name, 2), lambda: v.render(1))):
        env.reset(seed=0)
        image = frame()
        if env.render_mode == "ansi":
            assert isinstance(image, str) and image
        else:
            assert env.render_mode == "rgb_array"
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert envs.make(name).render_mode == ("rgb_array" if name.startswith("Pong") else "ansi")


def test_keywords_follow_forwarded_arguments():
    from envs.registry import keywords

    assert {"gravity", "force_mag"} <= set(keywords("CartPole-v1"))
    assert "continuous" not in keywords("CartPoleContinuous-v1")  # the factory sets it
    assert {"actions", "opp_speed", "hit_reward"} <= set(keywords("PongDiff-v0"))
    assert envs.make("CartPoleContinuous-v1", gravity=9.81).spec.kwargs == {"gravity": 9.81}
    assert envs.make("PongDiff-v0", opp_speed=2.0).spec.max_episode_steps == 27_000


def test_make_returns_fresh_independent_environments():
    a, b = envs.make("CartPole-v1"), envs.make("CartPole-v1")
    a.reset(seed=0)
    b.reset(seed=1)
    assert not (a.step(1)[0] == b.step(1)[0]).all()


def test_importing_envs_compiles_nothing_and_imports_no_algorithms():
    code = (
        "import sys, envs\n"
        "from envs import cartpole, pendulum, pcg64\n"
        "kernels = [cartpole.step_games, cartpole.reset_games, pendulum.step_games, pcg64.draw_doubles]\n"
        "assert all(not getattr(k, 'signatures', ()) for k in kernels), 'a kernel compiled at import'\n"
        "assert not [m for m in sys.modules if m.startswith('purerl')], 'envs imported purerl'\n"
        "assert 'gymnasium' not in sys.modules, 'envs imported gymnasium'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
