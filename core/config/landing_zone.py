"""Deploying into a landing zone: the platform's DNS zones, its resource group, and the names
its conventions want. What the stack borrows is only read, never written or deleted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import core.config.schema as schema
from core import naming
from core.config.enums import PrivateDnsMode
from core.config.readers import _enum, _object, _reject_unknown, arm_id
from core.errors import ConfigError

PRIVATE_DNS_FIELDS = schema.keys(schema.PrivateDns)
NAMES_FIELDS = schema.keys(schema.Names)
# names.<key> -> the naming rule it is checked against (core/naming.py, Azure's rules)
NAME_RULES = {
    "databricksWorkspace": "databricks_workspace",
    "amlWorkspace": "aml_workspace",
    "storageAccount": "storage_account",
    "keyVault": "key_vault",
}
_ZONE_ID = arm_id("Microsoft.Network/privateDnsZones")


@dataclass(frozen=True)
class PrivateDnsSpec:
    mode: PrivateDnsMode = PrivateDnsMode.STACK
    zone_ids: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class NameOverrides:
    """Names given in config; None: the derived name."""

    databricks_workspace: str | None = None
    aml_workspace: str | None = None
    storage_account: str | None = None
    key_vault: str | None = None


def _private_dns(ours: Mapping[str, Any]) -> PrivateDnsSpec:
    given = _object(ours, "privateDns") or {}
    _reject_unknown("privateDns.", given, PRIVATE_DNS_FIELDS)
    mode = _enum(given, "zones", PrivateDnsMode, PrivateDnsMode.STACK, "privateDns.")
    raw_ids = given.get("zoneIds", {})
    if not isinstance(raw_ids, dict):
        raise ConfigError("privateDns.zoneIds", raw_ids, "is not an object of zone name to ARM id")
    if raw_ids and mode is not PrivateDnsMode.EXISTING:
        raise ConfigError(
            "privateDns.zoneIds", None, f"is only used with privateDns.zones existing, not {mode}"
        )
    ids: dict[str, str] = {}
    for zone, zone_id in raw_ids.items():
        key = f"privateDns.zoneIds.{zone}"
        match = _ZONE_ID.fullmatch(zone_id) if isinstance(zone_id, str) else None
        if match is None:
            raise ConfigError(
                key,
                zone_id,
                "is not a private DNS zone's ARM id: /subscriptions/<guid>/resourceGroups/"
                "<group>/providers/Microsoft.Network/privateDnsZones/<zone>",
            )
        if match["name"].lower() != zone.lower():
            raise ConfigError(key, zone_id, f"names zone {match['name']!r}, not {zone!r}")
        ids[zone.lower()] = zone_id
    return PrivateDnsSpec(mode, MappingProxyType(ids))


def _resource_group_name(ours: Mapping[str, Any]) -> str | None:
    value = ours.get("resourceGroupName")
    if value is None:
        return None
    problem = naming.RULES["resource_group"].problem(value) if isinstance(value, str) else None
    if not isinstance(value, str) or problem:
        raise ConfigError("resourceGroupName", value, f"is not allowed: {problem or 'a string'}")
    # The stack creates nothing at the level of a group it borrows.
    access = _object(ours, "access") or {}
    if "budget" in ours or access.get("readers"):
        key = "budget" if "budget" in ours else "access.readers"
        raise ConfigError(
            key, None, "is set with resourceGroupName: both act on the borrowed resource group"
        )
    return value


def _names(ours: Mapping[str, Any]) -> NameOverrides:
    given = _object(ours, "names") or {}
    _reject_unknown("names.", given, NAMES_FIELDS)
    for key, value in given.items():
        rule = naming.RULES[NAME_RULES[key]]
        problem = rule.problem(value) if isinstance(value, str) else "is not a string"
        if problem:
            raise ConfigError(f"names.{key}", value, f"is not allowed: {problem}")
    return NameOverrides(
        databricks_workspace=given.get("databricksWorkspace"),
        aml_workspace=given.get("amlWorkspace"),
        storage_account=given.get("storageAccount"),
        key_vault=given.get("keyVault"),
    )


def check_zone_ids(spec: PrivateDnsSpec, needed: tuple[str, ...]) -> None:
    """Refuses `existing` zones that lack one the private endpoints need, or name a stray one."""
    if spec.mode is not PrivateDnsMode.EXISTING or not needed:
        return
    missing = [zone for zone in needed if zone not in spec.zone_ids]
    if missing:
        raise ConfigError(
            "privateDns.zoneIds",
            None,
            f"lacks {', '.join(missing)}: the private endpoints need an existing zone for each",
        )
