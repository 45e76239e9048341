"""The Azure Databricks workspace: premium, VNet-injected, secure cluster connectivity.

`managedResourceGroupId` names a resource group that does not exist yet: Azure creates it with the
workspace. This component never declares that group. A plain delete does not reliably remove it,
so on destroy teardown.purge deletes the workspace with forceDeletion=true.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import databricks

from teardown.purge import (
    DatabricksWorkspaceForceDelete,
    DatabricksWorkspaceForceDeleteArgs,
    purged_workspace_options,
)


@dataclass(frozen=True)
class DatabricksWorkspaceArgs:
    """Inputs of the workspace.

    `vnet_id`, `host_subnet_name` and `container_subnet_name` are meant to be the `Network`
    component's outputs: read from the VNet and Subnet resources, they make the workspace wait
    for both subnets with their NSG (and its rules) and NAT gateway associations.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: str
    managed_resource_group_name: str
    subscription_id: pulumi.Input[str]  # the deployer's (authorization.get_client_config_output())
    vnet_id: pulumi.Input[str]
    host_subnet_name: pulumi.Input[str]
    container_subnet_name: pulumi.Input[str]
    aml_workspace_id: pulumi.Input[str] | None = None  # dual tracking: parameters.amlWorkspaceId
    protect: bool = False  # protect=True on the workspace resource


def _string(value: pulumi.Input[str]) -> databricks.WorkspaceCustomStringParameterArgs:
    return databricks.WorkspaceCustomStringParameterArgs(value=value)


class DatabricksWorkspace(pulumi.ComponentResource):
    """Exposes the workspace's ARM id, name and URL (with `https://`), nothing else."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: DatabricksWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:databricks:Workspace", name, None, opts)

        managed_resource_group_id = pulumi.Output.concat(
            "/subscriptions/",
            args.subscription_id,
            "/resourceGroups/",
            args.managed_resource_group_name,
        )
        parameters = databricks.WorkspaceCustomParametersArgs(
            custom_virtual_network_id=_string(args.vnet_id),
            custom_public_subnet_name=_string(args.host_subnet_name),
            custom_private_subnet_name=_string(args.container_subnet_name),
            enable_no_public_ip=databricks.WorkspaceNoPublicIPBooleanParameterArgs(value=True),
            aml_workspace_id=(
                _string(args.aml_workspace_id) if args.aml_workspace_id is not None else None
            ),
        )

        # Deletes the workspace on destroy (see teardown/purge.py for the order this gives).
        force_delete = DatabricksWorkspaceForceDelete(
            f"{name}-force-delete",
            DatabricksWorkspaceForceDeleteArgs(
                subscription_id=args.subscription_id,
                resource_group_name=args.resource_group_name,
                workspace_name=args.workspace_name,
                managed_resource_group_name=args.managed_resource_group_name,
                workspace_inputs=[
                    args.vnet_id,
                    args.host_subnet_name,
                    args.container_subnet_name,
                    *([args.aml_workspace_id] if args.aml_workspace_id is not None else []),
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        # No explicit depends_on: the subnet names are outputs of the Subnet resources, which
        # carry the NSG and NAT gateway associations (the NSG's rules are inline, created in the
        # NSG's own PUT), so the inputs already order the workspace after everything Databricks
        # validates. On destroy the same edges delete the workspace before the subnets.
        workspace = databricks.Workspace(
            f"{name}-dbw",
            resource_group_name=args.resource_group_name,
            location=args.location,
            workspace_name=args.workspace_name,
            sku=databricks.SkuArgs(name="premium"),
            # Classic compute in our VNet; required on create by current API versions, immutable.
            compute_mode="Hybrid",
            managed_resource_group_id=managed_resource_group_id,
            parameters=parameters,
            # Clusters reach the control plane through the NSG's AzureDatabricks rule (no
            # back-end private link), so Databricks keeps all its rules.
            required_nsg_rules="AllRules",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect).merge(
                purged_workspace_options(force_delete)
            ),
        )

        self.id = workspace.id
        self.name = workspace.name
        self.url = pulumi.Output.concat("https://", workspace.workspace_url)
        self.register_outputs({"id": self.id, "name": self.name, "url": self.url})
