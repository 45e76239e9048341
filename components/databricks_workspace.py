"""The Azure Databricks workspace: premium, VNet-injected, secure cluster connectivity.

`managedResourceGroupId` names a resource group that does not exist yet: Azure creates it with the
workspace. This component never declares that group. A plain delete does not reliably remove it,
so on destroy components.purge deletes the workspace with forceDeletion=true.

Private link (Learn: "Enable Azure Private Link back-end and front-end connections"; quickstart
databricks-all-in-one-template-for-vnet-injection-privateendpoint; ARM spec
Microsoft.Databricks/workspaces `requiredNsgRules`, `publicNetworkAccess`):
- backend: a `databricks_ui_api` private endpoint in the VNet carries cluster-to-control-plane
  traffic, so `requiredNsgRules` is NoAzureDatabricksRules (no AzureDatabricks outbound rule);
  public network access stays Enabled: users and `pulumi up` reach the workspace as before;
- full: also public network access Disabled and a `browser_authentication` endpoint for web
  login (Azure needs one per region and private DNS zone, shared by every workspace there).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import databricks

from components.private_endpoint import EndpointPlacement, PrivateEndpoint, workspace_endpoint
from components.purge import (
    DatabricksWorkspaceForceDelete,
    DatabricksWorkspaceForceDeleteArgs,
    purged_workspace_options,
)
from components.workspace_scope import inside

# The workspace storage account's private endpoints under its firewall.
STORAGE_FIREWALL_GROUPS = ("blob", "dfs")
# Private link setting -> the endpoints' group ids (private link sub-resources).
PRIVATE_LINK_GROUPS = {
    "none": (),
    "backend": ("databricks_ui_api",),
    "full": ("databricks_ui_api", "browser_authentication"),
}


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
    private_link: str = "none"  # "none", "backend" or "full"
    private_endpoints: EndpointPlacement | None = None  # required unless private_link is "none"
    protect: bool = False  # protect=True on the workspace resource
    # The workspace storage firewall (components/access_connector.py): the connector's id turns
    # it on, with blob and dfs private endpoints to the storage (needs `private_endpoints`).
    access_connector_id: pulumi.Input[str] | None = None
    # unity-catalog: the workspace catalog's name, pinned at creation (`defaultCatalog`).
    default_catalog: str | None = None
    # Customer-managed keys (components/customer_managed_keys.py): managed services and disks;
    # `prepare_encryption` gives the DBFS storage account the identity its key needs.
    encryption: databricks.WorkspacePropertiesEncryptionArgs | None = None
    prepare_encryption: bool = False
    require_infrastructure_encryption: bool = False  # at creation only
    enhanced_security_compliance: databricks.EnhancedSecurityComplianceDefinitionArgs | None = None


def _flag(on: bool) -> databricks.WorkspaceCustomBooleanParameterArgs | None:
    """A boolean parameter, declared only when on (as before, for workspaces without it)."""
    return databricks.WorkspaceCustomBooleanParameterArgs(value=True) if on else None


def _string(value: pulumi.Input[str]) -> databricks.WorkspaceCustomStringParameterArgs:
    return databricks.WorkspaceCustomStringParameterArgs(value=value)


def _default_catalog(name: str | None) -> databricks.DefaultCatalogPropertiesArgs | None:
    """The workspace catalog named `name`, in Unity Catalog. ARM WorkspaceProperties
    `defaultCatalog` (api-version 2026-01-01, azure-native's): "default catalog properties during
    workspace creation"; without `initialName` Azure names it after the workspace. Azure refuses
    a change on a live workspace, so `pulumi up` fails rather than renaming it."""
    if name is None:
        return None
    return databricks.DefaultCatalogPropertiesArgs(initial_name=name, initial_type="UnityCatalog")


def _custom_parameters(args: DatabricksWorkspaceArgs) -> databricks.WorkspaceCustomParametersArgs:
    """VNet injection without public IPs, the AzureML link and the DBFS encryption flags."""
    return databricks.WorkspaceCustomParametersArgs(
        custom_virtual_network_id=_string(args.vnet_id),
        custom_public_subnet_name=_string(args.host_subnet_name),
        custom_private_subnet_name=_string(args.container_subnet_name),
        enable_no_public_ip=databricks.WorkspaceNoPublicIPBooleanParameterArgs(value=True),
        aml_workspace_id=(
            _string(args.aml_workspace_id) if args.aml_workspace_id is not None else None
        ),
        prepare_encryption=_flag(args.prepare_encryption),
        require_infrastructure_encryption=_flag(args.require_infrastructure_encryption),
    )


class DatabricksWorkspace(pulumi.ComponentResource):
    """Exposes the workspace's ARM id, name and URL (with `https://`), and `inside_workspace`:
    the options of every resource that lives inside it (components/workspace_scope.py)."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]
    url: pulumi.Output[str]
    inside_workspace: pulumi.ResourceOptions
    storage_principal_id: pulumi.Output[str | None]
    disk_principal_id: pulumi.Output[str | None]

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
        force_delete = self._force_delete(name, args)

        # No explicit depends_on: the subnet names are outputs of the Subnet resources, which
        # carry the NSG and NAT gateway associations, so the inputs already order the workspace
        # after everything Databricks validates. On destroy the same edges delete the workspace
        # before the subnets.
        workspace = databricks.Workspace(
            f"{name}-dbw",
            resource_group_name=args.resource_group_name,
            location=args.location,
            workspace_name=args.workspace_name,
            sku=databricks.SkuArgs(name="premium"),
            # Classic compute in our VNet; required on create by current API versions, immutable.
            compute_mode="Hybrid",
            managed_resource_group_id=managed_resource_group_id,
            parameters=_custom_parameters(args),
            # Without back-end private link clusters reach the control plane through the NSG's
            # AzureDatabricks rule, so Databricks keeps all its rules.
            required_nsg_rules="AllRules"
            if args.private_link == "none"
            else "NoAzureDatabricksRules",
            public_network_access="Disabled" if args.private_link == "full" else "Enabled",
            default_storage_firewall="Enabled" if args.access_connector_id is not None else None,
            access_connector=(
                databricks.WorkspacePropertiesAccessConnectorArgs(
                    id=args.access_connector_id,
                    identity_type=databricks.IdentityType.SYSTEM_ASSIGNED,
                )
                if args.access_connector_id is not None
                else None
            ),
            default_catalog=_default_catalog(args.default_catalog),
            encryption=args.encryption,
            enhanced_security_compliance=args.enhanced_security_compliance,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect).merge(
                purged_workspace_options(force_delete)
            ),
        )
        self.inside_workspace = inside(workspace)
        self._private_endpoints(name, args, workspace)
        # What a cluster's first start needs under the storage firewall: DBFS is reachable
        # only through these endpoints (and their DNS zone groups).
        self.storage_endpoints: list[pulumi.Resource] = []
        if args.access_connector_id is not None:
            self.storage_endpoints = self._storage_endpoints(
                name, args, workspace, managed_resource_group_id
            )

        self.id = workspace.id
        self.name = workspace.name
        self.url = pulumi.Output.concat("https://", workspace.workspace_url)
        self.workspace_id = workspace.workspace_id  # the numeric id the account API names
        # The identities Azure gives the DBFS storage account (with prepare_encryption) and the
        # managed disk encryption set (with a disk key): each needs the key's role.
        self.storage_principal_id = workspace.storage_account_identity.apply(
            lambda i: i.principal_id if i else None
        )
        self.disk_principal_id = workspace.managed_disk_identity.apply(
            lambda i: i.principal_id if i else None
        )
        self.register_outputs({"id": self.id, "name": self.name, "url": self.url})

    def _force_delete(
        self, name: str, args: DatabricksWorkspaceArgs
    ) -> DatabricksWorkspaceForceDelete:
        """Deletes the workspace on destroy (see components/purge.py for the order this gives)."""
        return DatabricksWorkspaceForceDelete(
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
                    # the workspace is deleted while its access connector still exists
                    *([args.access_connector_id] if args.access_connector_id is not None else []),
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _private_endpoints(
        self, name: str, args: DatabricksWorkspaceArgs, workspace: databricks.Workspace
    ) -> None:
        """The workspace's private endpoints for its private link setting, one at a time.

        Each endpoint's connection is a write to the workspace, and Azure answers a second one
        made while the first runs with 409 ConcurrentUpdateError ("Workspace update could not be
        completed because it has been updated by another process":
        databricks/terraform-databricks-examples#177, hashicorp/terraform-provider-azurerm#26373);
        Azure Verified Modules create them with `@batchSize(1)`. So each waits for the one before.
        """
        previous: PrivateEndpoint | None = None
        for group in PRIVATE_LINK_GROUPS[args.private_link]:
            if args.private_endpoints is None:
                raise ValueError(
                    f"{name}: private link {args.private_link} needs an endpoint subnet"
                )
            after = pulumi.ResourceOptions(depends_on=[previous] if previous else None)
            previous = workspace_endpoint(
                name,
                group.replace("_", "-"),
                args,
                workspace.id,
                group,
                pulumi.ResourceOptions(parent=self),
                self.inside_workspace.merge(after),
            )

    def _storage_endpoints(
        self,
        name: str,
        args: DatabricksWorkspaceArgs,
        workspace: databricks.Workspace,
        managed_resource_group_id: pulumi.Output[str],
    ) -> list[pulumi.Resource]:
        """blob and dfs endpoints to the workspace storage account, whose name Azure picks
        (`parameters.storageAccountName`, read back from the workspace)."""
        if args.private_endpoints is None:
            raise ValueError(f"{name}: the workspace storage firewall needs an endpoint subnet")
        account = pulumi.Output.concat(
            managed_resource_group_id,
            "/providers/Microsoft.Storage/storageAccounts/",
            workspace.parameters.apply(lambda p: p.storage_account_name.value),
        )
        child = pulumi.ResourceOptions(parent=self)
        return [
            workspace_endpoint(name, f"storage-{group}", args, account, group, child)
            for group in STORAGE_FIREWALL_GROUPS
        ]
