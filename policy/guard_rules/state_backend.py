"""State backend rules (bootstrap/): recoverable state, Entra-only access, an unpurgeable key."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .common import (
    KEY_VAULT,
    MISSING,
    STORAGE_ACCOUNT,
    UNKNOWN,
    Declared,
    StackViolation,
    describe,
    lookup,
)

# --- State backend (bootstrap/) ----------------------------------------------------------------
# A stack that declares a blob container named `pulumi-state` holds Pulumi state: its account
# must let a lost or overwritten state file be recovered and take Entra ID tokens only, and the
# key vault holding a secrets-provider key must never be purgeable. Names that relate resources
# (account, vault) come from the inputs, or from the ARM id in the outputs; when one is unknown
# (preview before login) the rule checks every candidate rather than none.

STATE_CONTAINER_NAME = "pulumi-state"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE_PROPERTIES = "azure-native:storage:BlobServiceProperties"
KEY_VAULT_KEY = "azure-native:keyvault:Key"
MIN_STATE_SOFT_DELETE_DAYS = 7


def _name_in(props: Any, prop: str, id_segment: str | None = None) -> Any:
    """A resource's or its parent's name: `props[prop]` (inputs), else from the outputs: the
    name after `/<id_segment>/` in the ARM id, or `name` itself without a segment. UNKNOWN if
    neither is known."""
    value = lookup(props, prop)
    if isinstance(value, str):
        return value
    if id_segment is None:
        name = lookup(props, "name")
        return name if isinstance(name, str) else UNKNOWN
    rid = lookup(props, "id")
    match = (
        re.search(rf"/{id_segment}/([^/]+)", rid, re.IGNORECASE) if isinstance(rid, str) else None
    )
    return match.group(1) if match else UNKNOWN


def _same(a: Any, b: Any) -> bool:
    """Whether two names may belong to the same resource (an unknown name may be either)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return True


def state_containers(resources: Iterable[Declared]) -> list[Declared]:
    """The stack's blob containers named `pulumi-state`."""
    return [
        r
        for r in resources
        if r.resource_type == BLOB_CONTAINER
        and _name_in(r.props, "containerName") == STATE_CONTAINER_NAME
    ]


def _in_state_accounts(resources: Sequence[Declared], type_: str) -> list[tuple[Declared, Any]]:
    """(resource, its account's name) for each resource of `type_` (a storage account, or a
    blob service) that may belong to an account holding a `pulumi-state` container."""
    accounts = [
        _name_in(c.props, "accountName", "storageAccounts") for c in state_containers(resources)
    ]
    segment = None if type_ == STORAGE_ACCOUNT else "storageAccounts"
    found = []
    for resource in resources:
        if resource.resource_type != type_:
            continue
        name = _name_in(resource.props, "accountName", segment)
        if any(_same(name, account) for account in accounts):
            found.append((resource, name))
    return found


def _retention_problems(props: Any, prop: str) -> list[str]:
    enabled = lookup(props, prop, "enabled")
    days = lookup(props, prop, "days")
    if enabled is UNKNOWN:
        return []
    if enabled is not True:
        return [f"{prop}.enabled is {describe(enabled)}; expected true"]
    if days is UNKNOWN or (
        isinstance(days, int | float) and not isinstance(days, bool)
        and days >= MIN_STATE_SOFT_DELETE_DAYS
    ):  # fmt: skip
        return []
    shown = (
        f"{days:g}" if isinstance(days, int | float) else describe(days)
    )  # wire numbers are floats
    return [f"{prop}.days is {shown}; expected at least {MIN_STATE_SOFT_DELETE_DAYS}"]


def state_backend_blob_recovery(resources: Sequence[Declared]) -> list[StackViolation]:
    """The account holding `pulumi-state` keeps blob versions and soft-deletes blobs and
    containers for at least 7 days, so a state file can be recovered."""
    if not state_containers(resources):
        return []
    services = _in_state_accounts(resources, BLOB_SERVICE_PROPERTIES)
    violations = []
    for account, name in _in_state_accounts(resources, STORAGE_ACCOUNT):
        mine = [s for s, service_account in services if _same(service_account, name)]
        if not mine:
            violations.append(
                StackViolation(
                    f"storage account {account.name!r} holds the '{STATE_CONTAINER_NAME}' "
                    "container but the stack declares no blob service properties for it; "
                    "expected isVersioningEnabled true and deleteRetentionPolicy and "
                    "containerDeleteRetentionPolicy enabled, so a state file can be recovered",
                    account.urn or None,
                )
            )
    for service, _ in services:
        problems = []
        versioning = lookup(service.props, "isVersioningEnabled")
        if versioning is not UNKNOWN and versioning is not True:
            problems.append(f"isVersioningEnabled is {describe(versioning)}; expected true")
        problems += _retention_problems(service.props, "deleteRetentionPolicy")
        problems += _retention_problems(service.props, "containerDeleteRetentionPolicy")
        if problems:
            violations.append(
                StackViolation(
                    f"blob service {service.name!r} of the account holding Pulumi state: "
                    + "; ".join(problems)
                    + " (a deleted or overwritten state file must stay recoverable)",
                    service.urn or None,
                )
            )
    return violations


def state_backend_entra_only(resources: Sequence[Declared]) -> list[StackViolation]:
    """The account holding `pulumi-state` refuses shared keys and SAS (allowSharedKeyAccess
    false): state is read and written with Entra ID tokens, under RBAC."""
    violations = []
    for account, _ in _in_state_accounts(resources, STORAGE_ACCOUNT):
        value = lookup(account.props, "allowSharedKeyAccess")
        if value is UNKNOWN or value is False:
            continue
        shown = "not set (Azure then allows shared keys)" if value is MISSING else repr(value)
        violations.append(
            StackViolation(
                f"storage account {account.name!r} holds the '{STATE_CONTAINER_NAME}' container "
                f"and has allowSharedKeyAccess {shown}; expected false, so only Entra ID "
                "identities with a role on the container can read or write state",
                account.urn or None,
            )
        )
    return violations


def state_key_vault_purge_protection(resources: Sequence[Declared]) -> list[StackViolation]:
    """In a state backend stack, a key vault holding a key has purge protection on: purging the
    secrets-provider key would make every stack's secrets unreadable."""
    if not state_containers(resources):
        return []
    key_vaults = [
        _name_in(r.props, "vaultName", "vaults")
        for r in resources
        if r.resource_type == KEY_VAULT_KEY
    ]
    violations = []
    for vault in resources:
        if vault.resource_type != KEY_VAULT:
            continue
        name = _name_in(vault.props, "vaultName")
        if not any(_same(name, held) for held in key_vaults):
            continue
        value = lookup(vault.props, "properties", "enablePurgeProtection")
        if value is UNKNOWN or value is True:
            continue
        violations.append(
            StackViolation(
                f"key vault {vault.name!r} holds a key in a Pulumi state backend stack and has "
                f"properties.enablePurgeProtection {describe(value)}; expected true, so the "
                "secrets-provider key can never be purged",
                vault.urn or None,
            )
        )
    return violations
