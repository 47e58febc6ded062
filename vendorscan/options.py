"""Validation of TOML tables against a plugin's typed Options dataclass."""
from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any

from vendorscan.errors import ConfigError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|KIB|MB|MIB|GB|GIB|TB|TIB)?\s*$", re.I)
_UNITS = {None: 1, "B": 1, "KB": 10**3, "KIB": 2**10, "MB": 10**6, "MIB": 2**20,
          "GB": 10**9, "GIB": 2**30, "TB": 10**12, "TIB": 2**40}
# Option names that would carry a secret; only their *_env / *_file forms are allowed.
_SECRET = re.compile(r"(^|_)(password|passphrase|secret|token|secret_key|access_key|api_key|private_key)$")


class ByteSize(int):
    """An int of bytes that the config may write as 104857600 or "100MB"."""


class OptionError(ValueError):
    """An Options dataclass's objection to one of its own keys: the config error names that key."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key  # the option's name, or a path below it: custom[0].name


def parse_size(value: Any, path: str) -> int:
    """Bytes from an int or a string like '64KiB' or '100 MB'."""
    if isinstance(value, bool):
        raise ConfigError(path, f"expected a size such as 100MB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(path, "a size cannot be negative")
        return value
    if isinstance(value, str) and (m := _SIZE.match(value)):
        unit = m.group(2).upper() if m.group(2) else None
        return int(float(m.group(1)) * _UNITS[unit])
    raise ConfigError(path, f"expected a size such as 100MB or 1048576, got {value!r}")


def type_name(tp: Any) -> str:
    """How a type is named in error messages."""
    if tp is ByteSize:
        return "size (e.g. 100MB)"
    if dataclasses.is_dataclass(tp):
        return "table"
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"list of {type_name(typing.get_args(tp)[0])}"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "none"
    return {str: "string", int: "integer", float: "number", bool: "true/false"}.get(tp, getattr(tp, "__name__", str(tp)))


def coerce(value: Any, tp: Any, path: str) -> Any:
    """`value` checked against type `tp`, converted where the config form differs."""
    if tp is Any:
        return value
    if tp is ByteSize:
        return parse_size(value, path)
    if dataclasses.is_dataclass(tp):  # a table of its own ([[checks.identifiers.custom]]), checked key by key
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a table, got {value!r}")
        return build(tp, value, path)
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        for arg in typing.get_args(tp):
            try:
                return coerce(value, arg, path)
            except ConfigError:
                continue
        raise ConfigError(path, f"expected {type_name(tp)}, got {value!r}")
    if origin is typing.Literal:
        if value in typing.get_args(tp):
            return value
        raise ConfigError(path, f"expected {type_name(tp)}, got {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(path, f"expected {type_name(tp)}, got {value!r}")
        (item,) = typing.get_args(tp)
        return [coerce(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(path, "expected nothing")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool):
        raise ConfigError(path, f"expected integer, got {value!r}")
    if isinstance(value, tp):
        return value
    raise ConfigError(path, f"expected {type_name(tp)}, got {value!r}")


def build(cls: type, table: dict[str, Any], path: str, ignore: frozenset[str] = frozenset()) -> Any:
    """An instance of dataclass `cls` from a TOML table; unknown, missing and mistyped keys are errors."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in table.items():
        if key in ignore:
            continue
        if _SECRET.search(key):
            raise ConfigError(f"{path}.{key}", "secrets never go in the config text; put the value in an "
                                               f"environment variable and name it with {key}_env, or in a "
                                               f"file named with {key}_file")
        if key not in fields:
            allowed = ", ".join(sorted(fields)) or "no options"
            raise ConfigError(f"{path}.{key}", f"unknown option (allowed here: {allowed})")
        kwargs[key] = coerce(value, hints[key], f"{path}.{key}")
    for name, f in fields.items():
        if name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{path}.{name}", f"required option is missing ({type_name(hints[name])})")
    try:
        return cls(**kwargs)
    except OptionError as exc:
        raise ConfigError(f"{path}.{exc.key}", str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(path, str(exc)) from None
