"""Storage account and key vault rules: TLS 1.2, no public blobs, RBAC, soft delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import MISSING, UNKNOWN, describe, flag_is, lookup

ACCEPTED_TLS_VERSIONS = ("TLS1_2", "TLS1_3")


def storage_account_minimum_tls(props: Mapping[str, Any]) -> list[str]:
    """The storage account refuses TLS below 1.2."""
    value = lookup(props, "minimumTlsVersion")
    if value is UNKNOWN or value in ACCEPTED_TLS_VERSIONS:
        return []
    default = " (the API then defaults to TLS1_0)" if value is MISSING else ""
    return [f"minimumTlsVersion is {describe(value)}{default}; expected 'TLS1_2'"]


def storage_account_no_public_blob_access(props: Mapping[str, Any]) -> list[str]:
    """No container of the storage account can be made public."""
    return flag_is(
        props,
        ("allowBlobPublicAccess",),
        False,
        why=", set explicitly, so no blob container can allow anonymous public read access",
    )


def key_vault_rbac_authorization(props: Mapping[str, Any]) -> list[str]:
    """The key vault authorizes data actions with Azure RBAC, not access policies."""
    return flag_is(
        props,
        ("properties", "enableRbacAuthorization"),
        True,
        if_unset="the API then defaults to false: access policies",
    )


def key_vault_soft_delete(props: Mapping[str, Any]) -> list[str]:
    """Soft delete stays on.

    Unset is accepted: Azure turns soft delete on for every new vault when the property is absent,
    and it cannot be turned off afterwards. Only an explicit false is a violation.
    """
    value = lookup(props, "properties", "enableSoftDelete")
    if value is False:
        return [
            "properties.enableSoftDelete is False; expected true (or unset, which Azure "
            "treats as true), so a deleted vault and its secrets can be recovered"
        ]
    return []
