"""A stack with Databricks' compliance security profile has customer-managed keys on every
target: Databricks managed services and managed disks, the DBFS root (prepared, then keyed by
the stack's DBFS step) and every AzureML workspace. Regulated data is what the profile is for,
and the stack's keys are how its owners keep control of that data at rest (Learn, "Customer-
managed keys for encryption", Azure Databricks; "Customer-managed keys for Azure Machine
Learning")."""

from __future__ import annotations

from collections.abc import Sequence

from .common import (
    AML_WORKSPACE,
    DATABRICKS_WORKSPACE,
    UNKNOWN,
    Declared,
    StackViolation,
    is_set,
    lookup,
)

DBFS_ENCRYPTION = "pulumi-python:dynamic/encryption:DbfsEncryption"


def _profile_on(workspace: Declared) -> bool:
    value = lookup(
        workspace.props, "enhancedSecurityCompliance", "complianceSecurityProfile", "value"
    )
    return isinstance(value, str) and value.lower() == "enabled"


def _databricks_gaps(workspace: Declared, resources: Sequence[Declared]) -> list[str]:
    gaps = [
        f"no {entity} key (encryption.entities.{entity}.keyVaultProperties)"
        for entity in ("managedServices", "managedDisk")
        if not is_set(
            lookup(workspace.props, "encryption", "entities", entity, "keyVaultProperties")
        )
    ]
    prepared = lookup(workspace.props, "parameters", "prepareEncryption", "value")
    dbfs_step = any(
        r.resource_type == DBFS_ENCRYPTION
        and (lookup(r.props, "workspace_id") in (workspace.props.get("id"), UNKNOWN)
             or workspace.urn in r.dependencies)
        for r in resources
    )  # fmt: skip
    if prepared is not True or not dbfs_step:
        gaps.append("no DBFS root key (parameters.prepareEncryption and the DBFS key step)")
    return gaps


def compliance_has_customer_managed_keys(resources: Sequence[Declared]) -> list[StackViolation]:
    """With the compliance security profile on any Databricks workspace, every key target of
    every workspace of the stack is encrypted with a customer-managed key."""
    workspaces = [r for r in resources if r.resource_type == DATABRICKS_WORKSPACE]
    if not any(_profile_on(w) for w in workspaces):
        return []
    violations = []
    for workspace in workspaces:
        gaps = _databricks_gaps(workspace, resources)
        if gaps:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} is in a stack with the compliance "
                    f"security profile but has {'; '.join(gaps)}; expected customerManagedKey "
                    "on every target",
                    workspace.urn or None,
                )
            )
    for workspace in resources:
        if workspace.resource_type != AML_WORKSPACE:
            continue
        status = lookup(workspace.props, "encryption", "status")
        key = lookup(workspace.props, "encryption", "keyVaultProperties", "keyIdentifier")
        if status is UNKNOWN or (
            isinstance(status, str) and status.lower() == "enabled" and is_set(key)
        ):
            continue
        violations.append(
            StackViolation(
                f"AzureML workspace {workspace.name!r} is in a stack with the compliance "
                "security profile but has no customer-managed key (encryption.status Enabled "
                "with keyVaultProperties.keyIdentifier); expected customerManagedKey with "
                "azureml true",
                workspace.urn or None,
            )
        )
    return violations
