"""Readers shared by every concern: each turns one raw value into a typed one or raises
ConfigError, whose message names the key and what is allowed (core/errors.py)."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel

import core.config.schema as schema
from core.errors import NAMESPACE, ConfigError

E = TypeVar("E", bound=StrEnum)
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def arm_id(resource_type: str, name: str = r"[-\w.]+") -> re.Pattern[str]:
    """An ARM resource id of `resource_type` (e.g. `Microsoft.Network/virtualNetworks`), its
    parts as groups `subscription`, `group` and `name`; compared case-insensitively, as ARM
    does. Resource group names: letters, digits, '_', '(', ')', '-', '.' (Learn, "Naming rules
    and restrictions for Azure resources")."""
    provider = re.escape(resource_type)
    return re.compile(
        r"/subscriptions/(?P<subscription>[0-9a-fA-F-]{36})/resourceGroups/(?P<group>[-\w._()]+)"
        rf"/providers/{provider}/(?P<name>{name})",
        re.IGNORECASE,
    )


def _reject_unknown(path: str, given: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {path}{close[0]}?" if close else ""
            raise ConfigError(
                f"{path}{key}",
                given[key],
                f"is set for an unknown key; known keys: {', '.join(known)}{hint}",
                known=False,
            )


def _string(ours: Mapping[str, Any], key: str, default: str) -> str:
    value = ours.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, value, "is not a non-empty string")
    return value


def _bool(ours: Mapping[str, Any], key: str, default: bool, path: str = "") -> bool:
    value = ours.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{path}{key}", value, "is not a boolean; allowed: true, false")


def _enum(ours: Mapping[str, Any], key: str, kind: type[E], default: E, path: str = "") -> E:
    value = ours.get(key, default)
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ConfigError(f"{path}{key}", value, f"is not allowed; allowed: {allowed}") from None


def _object(ours: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = ours.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(key, value, "is not an object (set fields with --path)") from None
    if not isinstance(value, dict):
        raise ConfigError(key, value, "is not an object (set fields with --path)")
    return value


def _section(ours: Mapping[str, Any], key: str, known: tuple[str, ...]) -> dict[str, Any] | None:
    """`_object`, with every field checked against `known`; None when unset."""
    given = _object(ours, key)
    if given is not None:
        _reject_unknown(f"{key}.", given, known)
    return given


def _int(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, value, "is not a whole number")
    if not low <= value <= high:
        raise ConfigError(key, value, f"is outside {low}..{high}")
    return value


def _positive(key: str, value: Any, high: int) -> int:
    """A whole number from 1 to `high`, given as a number or a string of digits."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if value is None:
        raise ConfigError(key, None, "is required: a whole number from 1")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, value, f"is not a whole number; allowed: 1..{high}")
    if value < 1:
        hint = (
            ": a managed deployment serves from at least one instance; to stop serving, remove "
            f"the endpoint (pulumi config rm {NAMESPACE}:endpoint)"
            if key == "endpoint.instanceCount"
            else ""
        )
        raise ConfigError(key, value, f"is below 1; allowed: 1..{high}{hint}")
    if value > high:
        raise ConfigError(key, value, f"is above {high}; allowed: 1..{high}")
    return value


def _required_match(key: str, value: Any, pattern: re.Pattern[str], noun: str, what: str) -> str:
    """`value` if it is a string `pattern` matches whole; else "is required" (None) or "is not
    <noun>", followed by what the key holds."""
    if isinstance(value, str) and pattern.fullmatch(value):
        return value
    refusal = "is required" if value is None else f"is not {noun}"
    raise ConfigError(key, value, f"{refusal}: {what}")


def read_fields(model: type[BaseModel], given: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Every field of a schema section, by its Python name, from `given` with the schema's
    defaults; a key not in the section is refused. Booleans, enums and bounded whole numbers
    are read and checked here from the field's declared type and `ge`/`le`, so such a key needs
    no reader of its own; other values come as given, for the concern's checks."""
    _reject_unknown(path, given, schema.keys(model))
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        value = given.get(key, default)
        kind = _declared(info.annotation)
        if kind is None or (value is None and not (kind is int and info.is_required())):
            values[name] = value
        elif kind is bool:
            values[name] = _bool({key: value}, key, default, path)
        elif issubclass(kind, StrEnum):
            values[name] = _enum({key: value}, key, kind, default, path)
        elif (low := schema.limit(model, key, "ge")) == 1:
            values[name] = _positive(f"{path}{key}", value, schema.limit(model, key, "le"))
        else:
            values[name] = _int(f"{path}{key}", value, low, schema.limit(model, key, "le"))
    return values


def _declared(annotation: Any) -> type | None:
    """bool, int or a StrEnum, also as `X | None`; None for any other type."""
    kind = schema.without_none(annotation)
    if kind is bool or kind is int or (isinstance(kind, type) and issubclass(kind, StrEnum)):
        return kind
    return None
