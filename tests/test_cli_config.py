"""Config fields as the command line sees them: --set parsing by type, help, JSON round trip."""

import typing

import pytest

from cli_fakes import Config
from purerl.configs import (config_from_json, config_to_json, describe_type, field_docs,
                            format_value, parse_assignments, parse_value)


@pytest.mark.parametrize("text, tp, value", [
    ("3", int, 3), ("1_000_000", int, 1_000_000), ("1e6", int, 10**6), ("-2", int, -2),
    ("3e-4", float, 3e-4), ("2", float, 2.0), ("inf", float, float("inf")),
    ("true", bool, True), ("No", bool, False), ("1", bool, True), ("off", bool, False),
    ("hello", str, "hello"),
    ("64,64", tuple[int, ...], (64, 64)), ("(64, 32)", tuple[int, ...], (64, 32)),
    ("[8]", tuple[int, ...], (8,)), ("8,", tuple[int, ...], (8,)), ("", tuple[int, ...], ()),
    ("0.5,2", tuple[float, float], (0.5, 2.0)),
    ("relu", typing.Literal["tanh", "relu"], "relu"),
    ("none", float | None, None), ("None", typing.Optional[int], None), ("0.2", float | None, 0.2),
])
def test_parse_value_by_type(text, tp, value):
    got = parse_value(text, tp)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("text, tp", [
    ("2.5", int), ("1e-3", int), ("abc", float), ("maybe", bool), ("gelu", typing.Literal["tanh", "relu"]),
    ("1,x", tuple[int, ...]), ("1,2,3", tuple[float, float]), ("nan?", float | None),
])
def test_parse_value_rejects(text, tp):
    with pytest.raises(ValueError):
        parse_value(text, tp)


def test_describe_type():
    assert describe_type(int) == "int" and describe_type(bool) == "bool (true/false)"
    assert describe_type(tuple[int, ...]) == "comma-separated ints"
    assert describe_type(float | None) == "float or none"
    assert describe_type(typing.Literal["a", "b"]) == "one of a, b"


def test_every_default_round_trips_through_the_command_line():
    for name, _, default_text, _ in field_docs(Config):
        tp = typing.get_type_hints(Config)[name]
        assert parse_value(default_text, tp) == getattr(Config(), name)


def test_field_docs_give_type_default_and_help():
    docs = {name: (kind, default, doc) for name, kind, default, doc in field_docs(Config)}
    assert docs["lr"] == ("float", "0.1", "step size of the fake update")
    assert docs["hidden_sizes"][:2] == ("comma-separated ints", "4,4")
    assert docs["clip"][1] == "none" and docs["normalize"][1] == "false"


def test_assignments_name_the_bad_field_and_the_accepted_values():
    assert parse_assignments(Config, ["lr=0.5", "hidden_sizes=3", "clip=1"]) == \
        {"lr": 0.5, "hidden_sizes": (3,), "clip": 1.0}
    with pytest.raises(ValueError, match="unknown fake config field 'lrr'; accepted: total_steps, num_envs"):
        parse_assignments(Config, ["lrr=1"], "fake")
    with pytest.raises(ValueError, match="invalid value 'x' for hidden_sizes; accepted: comma-separated ints"):
        parse_assignments(Config, ["hidden_sizes=x"])
    with pytest.raises(ValueError, match="--set expects KEY=VALUE"):
        parse_assignments(Config, ["=3"])


def test_json_round_trip_restores_tuples_and_types():
    cfg = Config(hidden_sizes=(7, 5), clip=2.0, lr=1.0)
    back = config_from_json(Config, config_to_json(cfg))
    assert back == cfg and isinstance(back.hidden_sizes, tuple) and isinstance(back.lr, float)
    assert format_value((1, 2)) == "1,2" and format_value(None) == "none" and format_value(True) == "true"
    with pytest.raises(ValueError, match="invalid lr=-1.0; accepted: a number > 0"):
        config_from_json(Config, '{"lr": -1.0}')
