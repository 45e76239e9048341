"""Team access: Azure roles for the people who use the stack, every one by its built-in id.

- data scientists: "AzureML Data Scientist" on the AzureML workspace (runs, models, endpoints;
  it includes `workspaces/datastores/listsecrets/action`, which reading the workspace's
  credential-based system datastores needs), and "Storage Blob Data Reader" on the workspace's
  storage account, so they can read run artifacts with their own Entra identity (studio preview,
  Storage Explorer, azcopy) (Learn, "Data administration" for Azure Machine Learning);
- readers: "Reader" on the resource group: they see every resource and its settings, no data,
  no secrets, and are not made Databricks workspace admins (Azure Databricks makes the
  workspace resource's Contributors and Owners admins, who can read every secret scope, the
  service principal's included; this component never grants those).

Databricks workspace membership is not granted here: in an identity-federated workspace (every
new workspace whose account has a Unity Catalog metastore) Entra groups are assigned to a
workspace from the Databricks account (account admin rights, `databricks.MwsPermissionAssignment`
on an account-level provider) or join on first login with automatic identity management.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from components.roles import assign_role
from core.config import Principal

# Built-in role definition ids (Learn, "Azure built-in roles", the General, Storage and AI +
# machine learning sections); tests/test_team_access.py checks them against the same list.
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
AZUREML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"


@dataclass(frozen=True)
class TeamAccessArgs:
    subscription_id: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    aml_workspace_id: pulumi.Input[str]
    aml_storage_account_id: pulumi.Input[str]
    data_scientists: Sequence[Principal]
    readers: Sequence[Principal]


class TeamAccess(pulumi.ComponentResource):
    """Role assignments only; no outputs."""

    def __init__(
        self, name: str, args: TeamAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:access:TeamAccess", name, None, opts)
        self._name, self._args = name, args
        for principal in args.data_scientists:
            self._assign("data-scientist", principal, AZUREML_DATA_SCIENTIST, args.aml_workspace_id)
            self._assign(
                "artifact-reader", principal, STORAGE_BLOB_DATA_READER, args.aml_storage_account_id
            )
        for principal in args.readers:
            self._assign("reader", principal, READER, args.resource_group_id)
        self.register_outputs({})

    def _assign(
        self, label: str, principal: Principal, role: str, scope: pulumi.Input[str]
    ) -> authorization.RoleAssignment:
        return assign_role(
            f"{self._name}-{label}-{principal.object_id}",
            subscription_id=self._args.subscription_id,
            role=role,
            scope=scope,
            principal_id=principal.object_id,
            principal_type=principal.type.value,
            opts=pulumi.ResourceOptions(parent=self),
        )
