"""Customer-managed keys, infrastructure encryption and Databricks' compliance profile.

Sources:
- Learn, "Customer-managed keys for Azure Databricks" (managed services, managed disks, DBFS
  root): the vault needs soft delete and purge protection; RSA keys.
- Learn, "Configure enhanced security and compliance settings" (Azure Databricks): enabling the
  compliance security profile or adding a standard "is intended to be a permanent change"; the
  profile turns on enhanced security monitoring and automatic cluster update; Gen2 and Arm64
  VMs are refused, and classic compute must use the VM families the page lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_snake

import core.config.schema as schema
from core.config.readers import _object, arm_id, read_fields
from core.errors import NAMESPACE, ConfigError

_VAULT_ID = arm_id("Microsoft.KeyVault/vaults", r"[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]")
# Key Vault object names: 1-127 letters, digits and '-'; a version is 32 hex digits.
_KEY_NAME = re.compile(r"[a-zA-Z0-9-]{1,127}")
_KEY_VERSION = re.compile(r"[0-9a-fA-F]{32}")
# databricks ComplianceStandard (azure-rest-api-specs databricks 2025-03-01-preview and later),
# without NONE: the stack turns the profile on by listing standards.
COMPLIANCE_STANDARDS = (
    "HIPAA",
    "PCI_DSS",
    "CYBER_ESSENTIAL_PLUS",
    "FEDRAMP_HIGH",
    "CANADA_PROTECTED_B",
    "IRAP_PROTECTED",
    "ISMAP",
    "HITRUST",
    "K_FSI",
)
# Learn, "Configure enhanced security and compliance settings", Compliance security profile
# requirements, general purpose: Dv5, Dsv5, Ddv5, Ddsv5, Dlsv5, Dldsv5, Dasv5, Dadsv5, Dasv6,
# Dadsv6, Dalsv6, Daldsv6, Dsv6 (the size's name: Standard_D<vCPUs><features>_v<generation>).
COMPLIANCE_VM_FAMILIES = (
    ("", "v5"),
    ("s", "v5"),
    ("d", "v5"),
    ("ds", "v5"),
    ("ls", "v5"),
    ("lds", "v5"),
    ("as", "v5"),
    ("ads", "v5"),
    ("as", "v6"),
    ("ads", "v6"),
    ("als", "v6"),
    ("alds", "v6"),
    ("s", "v6"),
)
_D_SIZE = re.compile(r"Standard_D\d+([a-z]*)_(v\d)", re.IGNORECASE)
# What the tracking cluster gets under the profile when nodeType is left at its default:
# 4 vCPUs and 16 GiB, as close as the allowed families come to Standard_DS3_v2.
COMPLIANCE_NODE_TYPE = "Standard_D4ds_v5"


@dataclass(frozen=True)
class CustomerManagedKeySpec:
    key_vault_id: str
    key_vault_resource_group: str
    key_vault_name: str
    key_name: str
    key_version: str | None = None  # None: the latest version, picked up on every `up`
    managed_disk_key_name: str | None = None  # None: key_name
    azureml: bool = True

    @property
    def disk_key_name(self) -> str:
        return self.managed_disk_key_name or self.key_name


@dataclass(frozen=True)
class ComplianceSpec:
    standards: tuple[str, ...] = ()
    enhanced_security_monitoring: bool = False
    automatic_cluster_update: bool = False

    @property
    def profile(self) -> bool:
        """Whether the compliance security profile is on."""
        return bool(self.standards)


def _customer_managed_key(ours: Mapping[str, Any]) -> CustomerManagedKeySpec | None:
    given = _object(ours, "customerManagedKey")
    if given is None:
        return None
    values = read_fields(schema.CustomerManagedKey, given, "customerManagedKey.")
    vault_id = given.get("keyVaultId")
    match = _VAULT_ID.fullmatch(vault_id) if isinstance(vault_id, str) else None
    if match is None:
        raise ConfigError(
            "customerManagedKey.keyVaultId",
            vault_id,
            "is not a key vault's ARM id (/subscriptions/<id>/resourceGroups/<group>/providers/"
            "Microsoft.KeyVault/vaults/<name>): an existing vault with soft delete and purge "
            "protection",
        )
    names = {}
    for key in ("keyName", "managedDiskKeyName"):
        value = given.get(key)
        if value is None and key == "managedDiskKeyName":
            continue
        if not isinstance(value, str) or not _KEY_NAME.fullmatch(value):
            what = "is required" if value is None else "is not a key name"
            raise ConfigError(
                f"customerManagedKey.{key}", value, f"{what}: 1-127 letters, digits and '-'"
            )
        names[key] = value
    version = given.get("keyVersion")
    if version is not None and (
        not isinstance(version, str) or not _KEY_VERSION.fullmatch(version)
    ):
        raise ConfigError(
            "customerManagedKey.keyVersion",
            version,
            "is not a key version (32 hex digits); leave it unset to follow the latest version",
        )
    return CustomerManagedKeySpec(
        key_vault_id=vault_id,
        key_vault_resource_group=match["group"],
        key_vault_name=match["name"],
        key_name=names["keyName"],
        key_version=version.lower() if version else None,
        managed_disk_key_name=names.get("managedDiskKeyName"),
        azureml=values["azureml"],
    )


def _compliance(ours: Mapping[str, Any]) -> ComplianceSpec | None:
    given = _object(ours, "databricksCompliance")
    if given is None:
        return None
    values = read_fields(schema.DatabricksCompliance, given, "databricksCompliance.")
    standards = values["standards"]
    if not isinstance(standards, list) or not all(s in COMPLIANCE_STANDARDS for s in standards):
        raise ConfigError(
            "databricksCompliance.standards",
            standards,
            f"is not a list of compliance standards; allowed: {', '.join(COMPLIANCE_STANDARDS)}",
        )
    profile = bool(standards)
    switches = {}
    for key in ("enhancedSecurityMonitoring", "automaticClusterUpdate"):
        on = profile if (given_on := values[to_snake(key)]) is None else given_on
        if profile and not on:
            raise ConfigError(
                f"databricksCompliance.{key}",
                False,
                "cannot be false with the compliance security profile (standards set): "
                "Databricks turns enhanced security monitoring and automatic cluster update "
                "on with it (Learn, Compliance security profile)",
            )
        switches[key] = on
    return ComplianceSpec(
        standards=tuple(dict.fromkeys(standards)),
        enhanced_security_monitoring=switches["enhancedSecurityMonitoring"],
        automatic_cluster_update=switches["automaticClusterUpdate"],
    )


def compliance_node_type(node_type: str) -> bool:
    """Whether the compliance security profile lets classic compute start on `node_type`."""
    match = _D_SIZE.fullmatch(node_type)
    return bool(match) and (match.group(1).lower(), match.group(2).lower()) in (
        COMPLIANCE_VM_FAMILIES
    )


def _check_cluster_node(node_type: str, given: bool, compliance: ComplianceSpec | None) -> str:
    """The tracking cluster's VM size under the profile: the default adapts, a size the
    profile refuses is refused here."""
    if compliance is None or not compliance.profile or compliance_node_type(node_type):
        return node_type
    if not given:
        return COMPLIANCE_NODE_TYPE
    raise ConfigError(
        "cluster.nodeType",
        node_type,
        "cannot start under the compliance security profile (databricksCompliance.standards): "
        "Databricks allows the general-purpose Dv5/Dsv5/Ddv5/Ddsv5/Dlsv5/Dldsv5/Dasv5/Dadsv5 and "
        f"Dasv6/Dadsv6/Dalsv6/Daldsv6/Dsv6 families, such as {COMPLIANCE_NODE_TYPE} "
        f"(pulumi config set --path {NAMESPACE}:cluster.nodeType {COMPLIANCE_NODE_TYPE})",
    )
