"""A Databricks access connector: a system-assigned managed identity Databricks acts as. The
workspace reaches its own storage through one when that storage's firewall is on; the stack's
Unity Catalog service credential names another (components/service_credential.py).

Learn, "Enable firewall support for your workspace storage account": the workspace storage
account (DBFS root, in the managed resource group) only accepts the workspace's access
connector (a system-assigned managed identity) and private endpoints; the workspace names the
connector (`accessConnector`) and turns the firewall on (`defaultStorageFirewall` Enabled),
and classic compute reaches the account through `blob` and `dfs` private endpoints in the VNet
(Microsoft's quickstart "AzureDatabricks Template for Default Storage Firewall" builds the same;
AVM's Terraform module: `default_storage_firewall_enabled`). Serverless compute would also need
a network connectivity configuration, an account-level object this stack does not manage.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import databricks


@dataclass(frozen=True)
class AccessConnectorArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    connector_name: str


class AccessConnector(pulumi.ComponentResource):
    """Exposes the connector's ARM id and its identity's principal id."""

    id: pulumi.Output[str]
    system_assigned_mi_principal_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: AccessConnectorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:databricks:AccessConnector", name, None, opts)
        connector = databricks.AccessConnector(
            f"{name}-connector",
            resource_group_name=args.resource_group_name,
            location=args.location,
            connector_name=args.connector_name,
            identity=databricks.ManagedServiceIdentityArgs(
                type=databricks.ManagedServiceIdentityType.SYSTEM_ASSIGNED
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.id = connector.id
        self.system_assigned_mi_principal_id = connector.identity.apply(
            lambda identity: identity.principal_id if identity else ""
        )
        self.register_outputs(
            {"id": self.id, "system_assigned_mi_principal_id": self.system_assigned_mi_principal_id}
        )
