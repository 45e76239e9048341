"""The resource group lock: a protected resource group carries a CanNotDelete (or ReadOnly)
management lock, so nothing deletes it from outside Pulumi either (Learn, "Lock your
resources to protect your infrastructure")."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .common import UNKNOWN, Declared, StackViolation, lookup

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
GROUP_LOCK = "azure-native:authorization:ManagementLockAtResourceGroupLevel"
LOCK_LEVELS = ("CanNotDelete", "ReadOnly")


def _group_name(resource: Declared) -> object:
    """The resource group's name (a group's own, or the group a lock is on): the
    `resourceGroupName` input, else from the ARM id in the outputs (a group's `name`)."""
    value = lookup(resource.props, "resourceGroupName")
    if isinstance(value, str) or value is UNKNOWN:
        return value
    rid = lookup(resource.props, "id")
    found = (
        re.search(r"/resourcegroups/([^/]+)", rid, re.IGNORECASE) if isinstance(rid, str) else None
    )
    if found:
        return found.group(1)
    name = lookup(resource.props, "name")
    return name if isinstance(name, str) and resource.resource_type == RESOURCE_GROUP else UNKNOWN


def protected_group_locked(resources: Sequence[Declared]) -> list[StackViolation]:
    """Every resource group declared with `protect` has a CanNotDelete or ReadOnly lock."""
    locks = [r for r in resources if r.resource_type == GROUP_LOCK]
    violations = []
    for group in resources:
        if group.resource_type != RESOURCE_GROUP or not group.protect:
            continue
        name = _group_name(group)
        covering = []
        for lock in locks:
            target = _group_name(lock)
            same = (
                target.lower() == name.lower()
                if isinstance(target, str) and isinstance(name, str)
                else (bool(group.urn) and group.urn in lock.dependencies)
            )
            if same:
                covering.append(lock)
        levels = [lookup(lock.props, "level") for lock in covering]
        if any(level is UNKNOWN or level in LOCK_LEVELS for level in levels):
            continue
        violations.append(
            StackViolation(
                f"resource group {group.name!r} is protected, but "
                + (
                    f"its lock has level {levels[0]!r}"
                    if covering
                    else "no management lock covers it"
                )
                + "; expected a CanNotDelete lock (ManagementLockAtResourceGroupLevel), so "
                "the portal, the CLI or another tool cannot delete it either",
                group.urn or None,
            )
        )
    return violations
