"""Settings Azure takes at creation only, or one way: refused in the preview, before any write.

- Databricks' compliance security profile and its standards: "Enabling the compliance security
  profile or adding compliance standards to a workspace is intended to be a permanent change"
  (Learn, "Configure enhanced security and compliance settings"); turning the profile off or
  removing a standard needs a new workspace.
- `requireInfrastructureEncryption`: set when the workspace is created (databricks
  WorkspaceCustomParameters.requireInfrastructureEncryption; Learn, "Configure double
  encryption for DBFS root").
- The AzureML workspace's `encryption`: set at creation (Learn, "Customer-managed keys for
  Azure Machine Learning"); only the key within the same vault may change later.

EncryptionGuard keeps what the stack was created with in its state; its `check` compares the
new config with it, as components/managed_network.py's guard does for the managed network. The
resource group depends on it, so a refused change touches nothing.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi import dynamic

from core.config.encryption import ComplianceSpec, CustomerManagedKeySpec
from core.errors import NAMESPACE

GUARD_TYPE = "pulumi-python:dynamic/encryption:EncryptionGuard"


def guarded_settings(
    compliance: ComplianceSpec | None,
    infrastructure_encryption: bool,
    key: CustomerManagedKeySpec | None,
) -> dict[str, Any]:
    """What the guard remembers (plain values)."""
    return {
        "standards": list(compliance.standards) if compliance else [],
        "infrastructure_encryption": infrastructure_encryption,
        "aml_key_vault": key.key_vault_id.lower() if key and key.azureml else "",
    }


def encryption_problems(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    """Why going from `olds` to `news` is refused; [] when it may go on."""
    if not olds:
        return []
    problems = []
    before, after = olds.get("standards") or [], news.get("standards") or []
    if before and not after:
        problems.append(
            f"{NAMESPACE}:databricksCompliance.standards: [] is refused: the compliance security "
            f"profile is on with {', '.join(before)}, and Databricks cannot turn it off on a "
            "workspace (a new workspace is needed); set the standards back"
        )
    elif removed := [s for s in before if s not in after]:
        problems.append(
            f"{NAMESPACE}:databricksCompliance.standards: removing {', '.join(removed)} is "
            "refused: a compliance standard cannot be removed from a workspace (a new workspace "
            "is needed); add it back"
        )
    if bool(olds.get("infrastructure_encryption")) != bool(news.get("infrastructure_encryption")):
        problems.append(
            f"{NAMESPACE}:requireInfrastructureEncryption: "
            f"{str(news.get('infrastructure_encryption')).lower()} is refused: infrastructure "
            "encryption is set when the Databricks workspace is created; set it back to "
            f"{str(olds.get('infrastructure_encryption')).lower()}"
        )
    old_vault, new_vault = olds.get("aml_key_vault", ""), news.get("aml_key_vault", "")
    if old_vault != new_vault:
        problems.append(
            f"{NAMESPACE}:customerManagedKey: changing the AzureML workspace's key vault "
            f"({old_vault or 'none'} to {new_vault or 'none'}) is refused: AzureML encryption "
            "is set at creation, and only a key in the same vault may follow"
        )
    return problems


class EncryptionGuardProvider(dynamic.ResourceProvider):
    """Remembers the creation-only settings; `check` refuses changing them."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        failures = [
            dynamic.CheckFailure("settings", problem) for problem in encryption_problems(olds, news)
        ]
        return dynamic.CheckResult(inputs=news, failures=failures)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(id_="encryption-guard", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        keys = ("standards", "infrastructure_encryption", "aml_key_vault")
        return dynamic.DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=news)


class EncryptionGuard(dynamic.Resource, module="encryption", name="EncryptionGuard"):
    """The creation-only settings, kept in the stack's state (see the module docstring)."""

    def __init__(
        self, name: str, settings: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(EncryptionGuardProvider(), name, settings, opts)
