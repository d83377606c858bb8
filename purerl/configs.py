"""Config dataclasses as the command line and run directories see them.

Each algorithm's `Config` is a frozen dataclass whose fields carry their
documentation in `metadata["help"]` (see `config_field` in
purerl/algos/base.py). From the annotations alone this module

- describes every field for `train ALGO --help` (type, default, help),
- parses `--set key=value` strings by the field's type, and
- round-trips a config through JSON (config.json, checkpoints), turning JSON
  lists back into tuples so the rebuilt config compares equal.

Supported field types: bool, int, float, str, tuple[T, ...], tuple[T1, T2],
Literal[...], and any of these `| None`.
"""

import json
import types
import typing
from dataclasses import MISSING, asdict, fields

from purerl.algos.base import config_from_dict

_NONE_WORDS = ("none", "null")
_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def field_types(config_cls):
    """Resolved annotations {field name: type} (works with postponed annotations)."""
    hints = typing.get_type_hints(config_cls)
    return {f.name: hints[f.name] for f in fields(config_cls)}


def _optional_inner(tp):
    """X for `X | None` / Optional[X], else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def describe_type(tp):
    """A short human description of what a field accepts, e.g. 'tuple of int'."""
    inner = _optional_inner(tp)
    if inner is not None:
        return f"{describe_type(inner)} or none"
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(str(c) for c in typing.get_args(tp))
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"comma-separated {describe_type(args[0])}s"
        return "comma-separated (" + ", ".join(describe_type(a) for a in args) + ")"
    if tp is bool:
        return "bool (true/false)"
    return getattr(tp, "__name__", str(tp))


def _parse_scalar(text, tp):
    text = text.strip()
    if tp is bool:
        low = text.lower()
        if low in _TRUE_WORDS:
            return True
        if low in _FALSE_WORDS:
            return False
        raise ValueError(text)
    if tp is int:
        try:
            return int(text, 0) if text.lower().startswith(("0x", "0o", "0b")) else int(text)
        except ValueError:
            # Accept scientific notation for integers ("1e6"), only when exact.
            value = float(text)
            if not value.is_integer():
                raise
            return int(value)
    if tp is float:
        return float(text)
    if tp is str:
        return text
    raise TypeError(f"unsupported config field type {tp!r}")


def parse_value(text, tp):
    """Parse a command-line string as a value of type `tp`; ValueError if it is not one."""
    inner = _optional_inner(tp)
    if inner is not None:
        return None if text.strip().lower() in _NONE_WORDS else parse_value(text, inner)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        for choice in choices:
            if text.strip() == str(choice):
                return choice
        raise ValueError(text)
    if origin is tuple:
        args = typing.get_args(tp)
        body = text.strip().strip("()[]").strip()
        parts = [p for p in body.split(",")] if body else []
        if parts and parts[-1].strip() == "":
            parts = parts[:-1]  # a trailing comma, as in "(64,)"
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse_value(p, args[0]) for p in parts)
        if len(parts) != len(args):
            raise ValueError(text)
        return tuple(parse_value(p, a) for p, a in zip(parts, args))
    return _parse_scalar(text, tp)


def format_value(value):
    """A value as it would be typed after `--set key=`."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(format_value(v) for v in value)
    return str(value)


def field_docs(config_cls):
    """[(name, type description, default as typed on the command line, help)], in field order."""
    types_ = field_types(config_cls)
    docs = []
    for f in fields(config_cls):
        if f.default is not MISSING:
            default = format_value(f.default)
        elif f.default_factory is not MISSING:
            default = format_value(f.default_factory())
        else:
            default = "(required)"
        docs.append((f.name, describe_type(types_[f.name]), default, f.metadata.get("help", "")))
    return docs


def parse_assignments(config_cls, assignments, algo="the"):
    """{field: value} from ["key=value", ...]; ValueError naming the bad field or value."""
    types_ = field_types(config_cls)
    values = {}
    for item in assignments:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        if key not in types_:
            raise ValueError(
                f"unknown {algo} config field {key!r}; accepted: {', '.join(types_)}"
            )
        try:
            values[key] = parse_value(text, types_[key])
        except ValueError:
            raise ValueError(
                f"invalid value {text!r} for {key}; accepted: {describe_type(types_[key])}"
            ) from None
    return values


def _from_json(value, tp):
    inner = _optional_inner(tp)
    if inner is not None:
        return None if value is None else _from_json(value, inner)
    origin = typing.get_origin(tp)
    if origin is tuple and isinstance(value, list):
        args = typing.get_args(tp)
        item_types = [args[0]] * len(value) if args[-1] is Ellipsis else list(args)
        return tuple(_from_json(v, t) for v, t in zip(value, item_types))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def config_to_json(cfg):
    """The config's fields as a JSON object string (tuples become lists)."""
    return json.dumps(asdict(cfg), sort_keys=False)


def config_from_values(config_cls, values):
    """Rebuild and validate a config from JSON-decoded values (lists -> tuples)."""
    types_ = field_types(config_cls)
    converted = {k: _from_json(v, types_[k]) if k in types_ else v for k, v in values.items()}
    return config_from_dict(config_cls, converted)


def config_from_json(config_cls, text):
    return config_from_values(config_cls, json.loads(text))
