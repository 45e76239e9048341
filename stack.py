"""The stack from validated config: every component in dependency order, and its outputs.

`__main__.py` calls `build_stack`; so do the tests, through the same program.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_databricks as databricks
from pulumi_azure_native import authorization, resources

from components.azureml_workspace import (
    AzureMLWorkspace,
    AzureMLWorkspaceArgs,
    private_link_groups,
)
from components.databricks_workspace import (
    PRIVATE_LINK_GROUPS,
    DatabricksWorkspace,
    DatabricksWorkspaceArgs,
)
from components.network import Network, NetworkArgs
from components.private_dns import PrivateDnsZones, PrivateDnsZonesArgs, dns_zone_names
from components.private_endpoint import EndpointPlacement
from components.tracking_cluster import TrackingCluster, TrackingClusterArgs
from core import naming
from core.config import DatabricksPrivateLink, StackConfig
from core.tagging import register_stack_tagging, stack_tags
from mlflow_setup.contract import DATABRICKS, ModelRegistry, TrackingMode, tracking_settings

PROJECT = "databricks-azureml"


def _former(name: str, type_: str) -> pulumi.Output[str]:
    """The URN of a component an earlier version of the stack declared (for aliases)."""
    return pulumi.create_urn(name, f"{PROJECT}:{type_}")


def build_stack(config: StackConfig) -> dict[str, Any]:
    """Declare every resource for `config`; returns the stack outputs by name."""
    register_stack_tagging(stack_tags(config.stack, config.tags))
    client = authorization.get_client_config_output()
    names = naming.resource_names(config.prefix, config.stack)
    unique = client.subscription_id.apply(  # worldwide-unique names carry a subscription suffix
        lambda sub: naming.global_names(
            config.prefix,
            config.stack,
            naming.unique_suffix(sub, names.resource_group, config.stack),
        )
    )

    group = resources.ResourceGroup(
        "main-rg",
        resource_group_name=names.resource_group,
        location=config.location,
        opts=pulumi.ResourceOptions(
            protect=config.protect,
            aliases=[pulumi.Alias(parent=_former("main", "resources:ResourceGroup"))],
        ),
    )
    plan = config.network
    network = Network(
        "network",
        NetworkArgs(
            resource_group_name=group.name,
            location=config.location,
            vnet_name=names.virtual_network,
            nsg_name=names.network_security_group,
            nat_gateway_name=names.nat_gateway,
            public_ip_name=names.public_ip,
            address_space=str(plan.address_space),
            host_subnet=str(plan.host_subnet),
            container_subnet=str(plan.container_subnet),
            endpoint_subnet=str(plan.endpoint_subnet) if plan.endpoint_subnet else None,
        ),
    )
    # Private endpoints of both workspaces share the endpoint subnet and one set of zones.
    groups = (
        *(private_link_groups(config.container_registry) if config.private_link else ()),
        *PRIVATE_LINK_GROUPS[config.databricks_private_link.value],
    )
    endpoints = None
    if groups and network.endpoint_subnet_id is not None:
        zones = PrivateDnsZones(
            "private-dns",
            PrivateDnsZonesArgs(
                resource_group_name=group.name,
                vnet_id=network.vnet_id,
                zone_names=dns_zone_names(groups),
                link_name=f"{names.aml_workspace}-link",
            ),
            # Declared inside the AzureML component as "azureml-dns" before.
            pulumi.ResourceOptions(
                aliases=[
                    pulumi.Alias(name="azureml-dns", parent=_former("azureml", "azureml:Workspace"))
                ]
            ),
        )
        endpoints = EndpointPlacement(network.endpoint_subnet_id, zones.ids)

    principal = config.service_principal
    aml = AzureMLWorkspace(
        "azureml",
        AzureMLWorkspaceArgs(
            resource_group_name=group.name,
            location=config.location,
            workspace_name=names.aml_workspace,
            storage_account_name=unique.storage_account,
            key_vault_name=unique.key_vault,
            container_registry_name=unique.container_registry
            if config.container_registry
            else None,
            log_analytics_name=names.log_analytics,
            application_insights_name=names.application_insights,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            purge_on_destroy=config.purge_on_destroy,
            private_endpoints=endpoints if config.private_link else None,
            data_scientist=principal.object_id if principal else None,
            protect=config.protect,
        ),
    )
    dual = config.tracking_mode is TrackingMode.DUAL
    workspace = DatabricksWorkspace(
        "databricks",
        DatabricksWorkspaceArgs(
            resource_group_name=group.name,
            location=config.location,
            workspace_name=names.databricks_workspace,
            managed_resource_group_name=names.managed_resource_group,
            subscription_id=client.subscription_id,
            vnet_id=network.vnet_id,
            host_subnet_name=network.host_subnet_name,
            container_subnet_name=network.container_subnet_name,
            aml_workspace_id=aml.id if dual else None,  # dual tracking's link (seed)
            private_link=config.databricks_private_link.value,
            private_endpoints=endpoints,
            protect=config.protect,
        ),
    )
    if config.databricks_private_link is DatabricksPrivateLink.FULL:
        pulumi.log.warn(
            "databricksPrivateLink full: the workspace's public network access is off, so "
            "`pulumi up` must run from a network that reaches its private endpoint (a runner "
            "in or peered with the VNet) to create the cluster and secret scope"
        )
    # Reaches the new workspace with the deployer's Azure login: its URL and its ARM id.
    provider = databricks.Provider(
        "databricks-workspace", host=workspace.url, azure_workspace_resource_id=workspace.id
    )

    settings = aml.mlflow_tracking_uri.apply(
        lambda uri: tracking_settings(config.tracking_mode, config.model_registry, uri)
    )
    spec, secret = config.cluster, config.service_principal_secret
    cluster = TrackingCluster(
        "tracking",
        TrackingClusterArgs(
            cluster_name=names.cluster,
            secret_scope_name=names.secret_scope,
            spark_version=spec.spark_version,
            node_type=spec.node_type,
            min_workers=spec.min_workers,
            max_workers=spec.max_workers,
            autotermination_minutes=spec.autotermination_minutes,
            wait_for_running=spec.wait_for_running,
            access_mode=spec.access_mode.value,
            single_user=spec.single_user,
            users=spec.users,
            mlflow_env=settings.apply(lambda s: dict(s.cluster_env)),
            tenant_id=(principal.tenant_id or client.tenant_id) if principal else None,
            client_id=principal.client_id if principal else None,
            client_secret=pulumi.Output.secret(secret) if secret else None,
        ),
        pulumi.ResourceOptions(providers={"databricks": provider}),
    )

    return {
        "resourceGroupName": group.name,
        "location": config.location,
        "trackingMode": config.tracking_mode.value,
        "modelRegistry": config.model_registry.value,
        "privateLink": config.private_link,
        "amlWorkspaceName": aml.name,
        "amlWorkspaceId": aml.id,
        "mlflowTrackingUri": aml.mlflow_tracking_uri,
        # "databricks" is known before deployment, so the preview shows it
        "mlflowRegistryUri": (
            settings.apply(lambda s: s.registry_uri)
            if config.model_registry is ModelRegistry.AZUREML
            else DATABRICKS
        ),
        "databricksWorkspaceUrl": workspace.url,
        "databricksWorkspaceId": workspace.id,
        "clusterId": cluster.cluster_id,
        "secretScope": cluster.secret_scope,
    }
