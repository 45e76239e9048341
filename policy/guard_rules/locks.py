"""Locks of a protected stack, so nothing deletes what it protects from outside Pulumi either
(Learn, "Lock your resources to protect your infrastructure"): a group's own CanNotDelete (or
ReadOnly) lock, or, where the group holds an AzureML workspace, locks on its resources."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .common import (
    AML_WORKSPACE,
    DATABRICKS_WORKSPACE,
    KEY_VAULT,
    STORAGE_ACCOUNT,
    UNKNOWN,
    Declared,
    StackViolation,
    lookup,
)

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


SCOPE_LOCK = "azure-native:authorization:ManagementLockByScope"
# What `protect` must lock in a stack with an AzureML workspace: what cannot be replaced.
LOCKED_TYPES = (DATABRICKS_WORKSPACE, STORAGE_ACCOUNT, KEY_VAULT)


def _covers(lock: Declared, target: Declared) -> bool:
    scope, rid = lookup(lock.props, "scope"), lookup(target.props, "id")
    if isinstance(scope, str) and isinstance(rid, str):
        return scope.lower() == rid.lower()
    return bool(target.urn) and target.urn in lock.dependencies


def protected_stack_locked(resources: Sequence[Declared]) -> list[StackViolation]:
    """A protected resource group: where it holds an AzureML workspace, no group lock (Learn,
    "Lock your resources to protect your infrastructure", Considerations: it stops AzureML
    compute clusters from removing unused nodes) and a CanNotDelete lock on every Databricks
    workspace, storage account and key vault; elsewhere, the group's own lock."""
    if not any(r.resource_type == AML_WORKSPACE for r in resources):
        return protected_group_locked(resources)
    if not any(r.resource_type == RESOURCE_GROUP and r.protect for r in resources):
        return []
    violations = [
        StackViolation(
            f"lock {lock.name!r} is on a resource group that holds an AzureML workspace: AzureML "
            "compute clusters under it cannot remove unused nodes; lock the resources instead",
            lock.urn or None,
        )
        for lock in resources
        if lock.resource_type == GROUP_LOCK
    ]
    locks = [
        r
        for r in resources
        if r.resource_type == SCOPE_LOCK and lookup(r.props, "level") in (UNKNOWN, *LOCK_LEVELS)
    ]
    for target in resources:
        if target.resource_type in LOCKED_TYPES and not any(_covers(k, target) for k in locks):
            violations.append(
                StackViolation(
                    f"{target.name!r} is in a protected stack but no CanNotDelete lock covers "
                    "it, so the portal or the CLI can delete it",
                    target.urn or None,
                )
            )
    return violations
