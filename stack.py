"""The stack from validated config: every component in dependency order, and its outputs.

`__main__.py` calls `build_stack`; so do the tests, through the same program.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pulumi
import pulumi_databricks as databricks
from pulumi_azure_native import authorization, resources

from components import borrowed as landing_zone
from components.access_connector import AccessConnector, AccessConnectorArgs
from components.azureml_workspace import (
    AzureMLWorkspace,
    AzureMLWorkspaceArgs,
    private_link_groups,
)
from components.batch_endpoint import BatchEndpoint, BatchEndpointArgs, compute_name
from components.budget import Budget, BudgetArgs, month_start
from components.databricks_workspace import (
    PRIVATE_LINK_GROUPS,
    STORAGE_FIREWALL_GROUPS,
    DatabricksWorkspace,
    DatabricksWorkspaceArgs,
)
from components.diagnostics import Diagnostics, diagnostic_targets
from components.encryption_guard import EncryptionGuard, guarded_settings
from components.encryption_plan import azureml_inputs, databricks_inputs, databricks_key_access
from components.managed_network import (
    ManagedNetworkGuard,
    ManagedNetworkProvision,
    ManagedNetworkProvisionArgs,
    managed_network_settings,
    storage_subresources,
)
from components.network import BorrowedVnet, Network, NetworkArgs
from components.online_endpoint import OnlineEndpoint, OnlineEndpointArgs
from components.private_dns import PrivateDnsZones, PrivateDnsZonesArgs, dns_zone_names
from components.private_endpoint import EndpointPlacement
from components.published_outputs import PublishedOutputs, PublishedOutputsArgs
from components.resource_lock import (
    ProtectGuard,
    ResourceLocks,
    ResourceLocksArgs,
    lock_aml_workspace,
)
from components.serverless_connectivity import (
    ServerlessConnectivity,
    ServerlessConnectivityArgs,
    ncc_name,
    rule_targets,
)
from components.service_credential import ServiceCredential, ServiceCredentialArgs
from components.team_access import TeamAccess, TeamAccessArgs
from components.tracking_cluster import TrackingCluster, TrackingClusterArgs
from core import naming
from core.config import (
    ISOLATION_MODES,
    ONE_WAY_NOTE,
    DatabricksPrivateLink,
    ManagedNetworkMode,
    StackConfig,
    batch_endpoint_name,
    endpoint_name,
)
from core.config.enums import PrivateDnsMode
from core.serverless import serverless_blocked
from core.tagging import register_stack_tagging, stack_tags
from mlflow_setup.contract import (
    MODEL_SCHEMA_OUTPUT,
    SERVICE_CREDENTIAL_OUTPUT,
    TrackingMode,
    TrackingSettings,
    databricks_registry_uri,
    serving_env,
    stack_env,
    tracking_settings,
)

PROJECT = "databricks-azureml"


def _former(name: str, type_: str) -> pulumi.Output[str]:
    """The URN of a component an earlier version of the stack declared (for aliases)."""
    return pulumi.create_urn(name, f"{PROJECT}:{type_}")


@dataclass(frozen=True)
class _Context:
    """What every part of the stack is built from."""

    config: StackConfig
    names: naming.ResourceNames
    suffix: pulumi.Output[str]  # the stack's unique suffix, from subscription, group and stack
    unique: pulumi.Output[naming.GlobalNames]  # worldwide-unique names, with that suffix
    client: pulumi.Output[authorization.GetClientConfigResult]  # the deployer's ids
    group: resources.ResourceGroup | landing_zone.BorrowedGroup


def build_stack(config: StackConfig) -> dict[str, Any]:
    """Declare every resource for `config`, in dependency order; returns the stack outputs."""
    register_stack_tagging(stack_tags(config.stack, config.tags))
    ctx = _context(config)
    network = _network(ctx)
    endpoints = _private_dns(ctx, network)
    aml = _azureml(ctx, endpoints if config.private_link else None)
    workspace = _databricks(ctx, network, endpoints, aml)
    if config.databricks_account is not None:
        _serverless_connectivity(ctx, workspace, aml)
    elif config.private_link:
        pulumi.log.warn(serverless_blocked(config.location))
    settings = aml.mlflow_tracking_uri.apply(
        lambda uri: tracking_settings(config.tracking_mode, config.model_registry, uri)
    )
    provisioned = _managed_network(ctx, aml)
    batch = _batch_serving(ctx, aml, provisioned) if config.batch_endpoint is not None else None
    # An online deployment's image is built on the batch cluster when that is the workspace's
    # image-build compute: the cluster exists first.
    builder = [batch] if batch is not None and _image_build_compute(config) else []
    serving = _serving(ctx, aml, [*provisioned, *builder]) if config.endpoint is not None else None
    credential_name = (
        ctx.unique.apply(lambda names: names.service_credential)
        if config.service_credential
        else None
    )
    cluster = _tracking_cluster(
        ctx, workspace, settings, _serving_outputs(config, serving, batch), credential_name
    )
    credential = (
        _service_credential(ctx, workspace, aml, cluster, credential_name)
        if credential_name is not None
        else None
    )
    _enterprise_controls(ctx, aml, workspace, serving)
    if config.protect:
        _locks(ctx, aml, workspace)
    outputs = {
        "resourceGroupName": ctx.group.name,
        "location": config.location,
        "trackingMode": config.tracking_mode.value,
        "modelRegistry": config.model_registry.value,
        "privateLink": config.private_link,
        "amlWorkspaceName": aml.name,
        "amlWorkspaceId": aml.id,
        "mlflowTrackingUri": aml.mlflow_tracking_uri,
        # "databricks-uc" and "databricks" are known before deployment: the preview shows them
        "mlflowRegistryUri": (
            databricks_registry_uri(config.model_registry)
            or settings.apply(lambda s: s.registry_uri)
        ),
        MODEL_SCHEMA_OUTPUT: _model_schema(config),
        "databricksWorkspaceUrl": workspace.url,
        "databricksWorkspaceId": workspace.id,
        "clusterId": cluster.cluster_id,
        "secretScope": cluster.secret_scope,
        **_serving_outputs(config, serving, batch),
        SERVICE_CREDENTIAL_OUTPUT: credential.credential_name if credential else None,
    }
    _publish_outputs(ctx, workspace, cluster, outputs)
    return outputs


def _publish_outputs(
    ctx: _Context,
    workspace: DatabricksWorkspace,
    cluster: TrackingCluster,
    outputs: Mapping[str, Any],
) -> PublishedOutputs:
    """The outputs as a workspace file, through the cluster's Databricks provider, so the
    notebook helper finds them on any compute of the workspace (components/published_outputs.py)."""
    principal = ctx.config.service_principal
    return PublishedOutputs(
        "published-outputs",
        PublishedOutputsArgs(
            stack=ctx.config.stack,
            outputs=outputs,
            readers=ctx.config.cluster.principals,
            secret_scope=cluster.secret_scope,
            tenant_id=(principal.tenant_id or ctx.client.tenant_id) if principal else None,
            client_id=principal.client_id
            if principal and ctx.config.service_principal_secret
            else None,
            inside_workspace=workspace.inside_workspace,
        ),
        pulumi.ResourceOptions(
            providers={"databricks": cluster.get_provider("databricks:index:Cluster")}
        ),
    )


def _serving_outputs(
    config: StackConfig, serving: OnlineEndpoint | None, batch: BatchEndpoint | None
) -> dict[str, pulumi.Input[str] | None]:
    """The endpoints' names and URIs by stack output name; None without that endpoint. A name
    given in config is the name, known before deployment (the preview shows it)."""
    given = config.endpoint.name if config.endpoint else None
    given_batch = config.batch_endpoint.name if config.batch_endpoint else None
    return {
        "endpointName": (given or serving.endpoint_name) if serving else None,
        "endpointScoringUri": serving.scoring_uri if serving else None,
        "batchEndpointName": (given_batch or batch.endpoint_name) if batch else None,
        "batchEndpointUri": batch.invocation_uri if batch else None,
    }


def _context(config: StackConfig) -> _Context:
    client = authorization.get_client_config_output()
    names = landing_zone.resource_names(config)
    suffix = client.subscription_id.apply(
        lambda sub: naming.unique_suffix(sub, names.resource_group, config.stack)
    )
    unique = suffix.apply(lambda s: landing_zone.global_names(config, s))
    # Before every resource: refuses turning the AzureML managed network off again.
    guard = ManagedNetworkGuard("aml-managed-network-guard", config.aml_managed_network)
    # Before every resource too: refuses changing what Azure takes at creation only.
    encryption_guard = EncryptionGuard(
        "encryption-guard",
        guarded_settings(
            config.databricks_compliance,
            config.require_infrastructure_encryption,
            config.customer_managed_key,
        ),
    )
    # Before every resource too: refuses deleting what `protect`'s locks cover.
    protect_guard = ProtectGuard("protect-guard", config)
    if config.resource_group_name is not None:
        borrowed = landing_zone.borrowed_group(config.resource_group_name, client)
        return _Context(config, names, suffix, unique, client, borrowed)
    group = resources.ResourceGroup(
        "main-rg",
        resource_group_name=names.resource_group,
        location=config.location,
        opts=pulumi.ResourceOptions(
            protect=config.protect,
            depends_on=[guard, protect_guard, encryption_guard],
            aliases=[pulumi.Alias(parent=_former("main", "resources:ResourceGroup"))],
        ),
    )
    return _Context(config, names, suffix, unique, client, group)


def _network(ctx: _Context) -> Network:
    names, plan = ctx.names, ctx.config.network
    return Network(
        "network",
        NetworkArgs(
            resource_group_name=ctx.group.name,
            location=ctx.config.location,
            vnet_name=names.virtual_network,
            nsg_name=names.network_security_group,
            nat_gateway_name=names.nat_gateway,
            public_ip_name=names.public_ip,
            address_space=str(plan.address_space),
            host_subnet=str(plan.host_subnet),
            container_subnet=str(plan.container_subnet),
            endpoint_subnet=str(plan.endpoint_subnet) if plan.endpoint_subnet else None,
            existing_vnet=_borrowed_vnet(ctx),
            firewall_private_ip=plan.firewall_private_ip,
            route_table_name=names.route_table,
            endpoint_nsg_name=names.endpoint_network_security_group,
        ),
    )


def _borrowed_vnet(ctx: _Context) -> BorrowedVnet | None:
    """`network.virtualNetworkId`: its id, known once the deploy-time checks pass."""
    vnet = ctx.config.network.existing_vnet
    if vnet is None:
        return None
    checked = ctx.client.subscription_id.apply(
        lambda sub: landing_zone.check_vnet_subscription(vnet.id, vnet.subscription_id, sub)
    )
    return BorrowedVnet(checked, vnet.resource_group, vnet.name)


def _private_dns(ctx: _Context, network: Network) -> EndpointPlacement | None:
    """The zones every private endpoint of both workspaces needs, once, in the endpoint subnet."""
    config = ctx.config
    groups = (
        *(private_link_groups(config.container_registry) if config.private_link else ()),
        *PRIVATE_LINK_GROUPS[config.databricks_private_link.value],
        *(STORAGE_FIREWALL_GROUPS if config.databricks_storage_firewall else ()),
    )
    if not groups or network.endpoint_subnet_id is None:
        return None
    borrowed = landing_zone.borrowed_zones(config.private_dns, dns_zone_names(groups))
    if borrowed is not None:  # existing zones, or none at all (policy)
        policy = config.private_dns.mode is PrivateDnsMode.POLICY
        return EndpointPlacement(network.endpoint_subnet_id, borrowed, zone_groups=not policy)
    zones = PrivateDnsZones(
        "private-dns",
        PrivateDnsZonesArgs(
            resource_group_name=ctx.group.name,
            vnet_id=network.vnet_id,
            zone_names=dns_zone_names(groups),
            link_name=f"{ctx.names.aml_workspace}-link",
        ),
        # Declared inside the AzureML component as "azureml-dns" before.
        pulumi.ResourceOptions(
            aliases=[
                pulumi.Alias(name="azureml-dns", parent=_former("azureml", "azureml:Workspace"))
            ]
        ),
    )
    return EndpointPlacement(network.endpoint_subnet_id, zones.ids)


def _azureml(ctx: _Context, endpoints: EndpointPlacement | None) -> AzureMLWorkspace:
    config, names, unique, principal = (
        ctx.config,
        ctx.names,
        ctx.unique,
        ctx.config.service_principal,
    )
    key = azureml_inputs(
        config.customer_managed_key,
        ctx.group.name,
        config.location,
        f"{names.aml_workspace}-key-id",
    )
    return AzureMLWorkspace(
        "azureml",
        AzureMLWorkspaceArgs(
            resource_group_name=ctx.group.name,
            location=config.location,
            workspace_name=names.aml_workspace,
            storage_account_name=unique.storage_account,
            key_vault_name=unique.key_vault,
            container_registry_name=(
                unique.container_registry if config.container_registry else None
            ),
            log_analytics_name=names.log_analytics,
            application_insights_name=names.application_insights,
            tenant_id=ctx.client.tenant_id,
            subscription_id=ctx.client.subscription_id,
            purge_on_destroy=config.purge_on_destroy,
            private_endpoints=endpoints,
            data_scientist=principal.object_id if principal else None,
            protect=config.protect,
            managed_network=managed_network_settings(config.aml_managed_network),
            image_build_compute=_image_build_compute(config),
            storage_outbound=storage_subresources(
                config.aml_managed_network,
                private_link=config.private_link,
                batch=config.batch_endpoint is not None,
            ),
            log_retention_days=config.diagnostics.retention_days,
            encryption=key.encryption,
            encryption_after=key.after,
        ),
    )


def _image_build_compute(config: StackConfig) -> str | None:
    """The batch cluster, where the private registry denies AzureML's own image builds
    (core/config/controls.py check_image_build refuses the case with no cluster)."""
    if config.private_link and config.container_registry and config.batch_endpoint is not None:
        return compute_name(config.batch_endpoint)
    return None


def _databricks(
    ctx: _Context,
    network: Network,
    endpoints: EndpointPlacement | None,
    aml: AzureMLWorkspace,
) -> DatabricksWorkspace:
    config = ctx.config
    if config.databricks_private_link is DatabricksPrivateLink.FULL:
        pulumi.log.warn(
            "databricksPrivateLink full: the workspace's public network access is off, so "
            "`pulumi up` must run from a network that reaches its private endpoint (a runner "
            "in or peered with the VNet) to create the cluster and secret scope"
        )
    encryption, services = databricks_inputs(
        config.customer_managed_key,
        config.databricks_compliance,
        config.require_infrastructure_encryption,
    )
    workspace = DatabricksWorkspace(
        "databricks",
        DatabricksWorkspaceArgs(
            resource_group_name=ctx.group.name,
            location=config.location,
            workspace_name=ctx.names.databricks_workspace,
            managed_resource_group_name=ctx.names.managed_resource_group,
            subscription_id=ctx.client.subscription_id,
            vnet_id=network.vnet_id,
            host_subnet_name=network.host_subnet_name,
            container_subnet_name=network.container_subnet_name,
            # dual tracking's link (Microsoft's article: "Link Azure Machine Learning workspace")
            aml_workspace_id=aml.id if config.tracking_mode is TrackingMode.DUAL else None,
            private_link=config.databricks_private_link.value,
            private_endpoints=endpoints,
            protect=config.protect,
            access_connector_id=_access_connector(ctx)
            if config.databricks_storage_firewall
            else None,
            default_catalog=config.unity_catalog.catalog if config.unity_catalog else None,
            **encryption,
        ),
    )
    if config.customer_managed_key is not None and services is not None:
        databricks_key_access(
            config.customer_managed_key,
            services,
            workspace.id,
            workspace.storage_principal_id,
            workspace.disk_principal_id,
            ctx.client.subscription_id,
        )
    return workspace


def _access_connector(ctx: _Context) -> pulumi.Output[str]:
    """The workspace storage firewall's access connector (created before the workspace)."""
    return AccessConnector(
        "databricks-storage",
        AccessConnectorArgs(
            resource_group_name=ctx.group.name,
            location=ctx.config.location,
            connector_name=f"{ctx.names.databricks_workspace}-storage-ac",
        ),
    ).id


def _serverless_connectivity(
    ctx: _Context, workspace: DatabricksWorkspace, aml: AzureMLWorkspace
) -> ServerlessConnectivity:
    """`databricksAccount`: serverless compute's NCC, bound to the workspace; under privateLink
    with private endpoint rules to AzureML (components/serverless_connectivity.py)."""
    config, account = ctx.config, ctx.config.databricks_account
    assert account is not None
    provider = databricks.Provider(
        "databricks-account", host=account.host, account_id=account.account_id
    )
    return ServerlessConnectivity(
        "serverless",
        ServerlessConnectivityArgs(
            name=ctx.suffix.apply(lambda s: ncc_name(config.prefix, config.stack, s)),
            region=config.location,
            workspace_id=workspace.workspace_id,
            subscription_id=ctx.client.subscription_id,
            targets=rule_targets(aml.id, aml.storage_account_id) if config.private_link else {},
        ),
        pulumi.ResourceOptions(providers={"databricks": provider}),
    )


def _service_credential(
    ctx: _Context,
    workspace: DatabricksWorkspace,
    aml: AzureMLWorkspace,
    cluster: TrackingCluster,
    name: pulumi.Output[str],
) -> ServiceCredential:
    """The Unity Catalog service credential notebooks sign in to AzureML with, through the
    cluster's Databricks provider (components/service_credential.py)."""
    return ServiceCredential(
        "service-credential",
        ServiceCredentialArgs(
            resource_group_name=ctx.group.name,
            location=ctx.config.location,
            connector_name=ctx.names.service_credential_connector,
            credential_name=name,
            subscription_id=ctx.client.subscription_id,
            aml_workspace_id=aml.id,
            users=ctx.config.cluster.principals,
            inside_workspace=workspace.inside_workspace,
        ),
        pulumi.ResourceOptions(
            providers={"databricks": cluster.get_provider("databricks:index:Cluster")}
        ),
    )


def _tracking_cluster(
    ctx: _Context,
    workspace: DatabricksWorkspace,
    settings: pulumi.Output[TrackingSettings],
    serving: Mapping[str, pulumi.Input[str] | None],
    service_credential: pulumi.Output[str] | None = None,
) -> TrackingCluster:
    # Reaches the new workspace with the deployer's Azure login: its URL and its ARM id.
    # Replaced with the workspace, so the old cluster is deleted through a provider that still
    # reaches the old workspace (components/workspace_scope.py).
    provider = databricks.Provider(
        "databricks-workspace",
        host=workspace.url,
        azure_workspace_resource_id=workspace.id,
        opts=workspace.inside_workspace,
    )
    spec, principal = ctx.config.cluster, ctx.config.service_principal
    secret = ctx.config.service_principal_secret
    return TrackingCluster(
        "tracking",
        TrackingClusterArgs(
            cluster_name=ctx.names.cluster,
            secret_scope_name=ctx.names.secret_scope,
            spark_version=spec.spark_version,
            node_type=spec.node_type,
            min_workers=spec.min_workers,
            max_workers=spec.max_workers,
            autotermination_minutes=spec.autotermination_minutes,
            wait_for_running=spec.wait_for_running,
            access_mode=spec.access_mode.value,
            single_user=spec.single_user,
            users=spec.users,
            # the serving outputs too, so the notebook helper knows them on this cluster
            mlflow_env=pulumi.Output.all(
                settings, pulumi.Output.all(**serving), service_credential
            ).apply(
                lambda values: {
                    **values[0].cluster_env,
                    **stack_env(ctx.config.stack, _model_schema(ctx.config), values[2]),
                    **serving_env(values[1]),
                }
            ),
            tenant_id=(principal.tenant_id or ctx.client.tenant_id) if principal else None,
            client_id=principal.client_id if principal else None,
            client_secret=pulumi.Output.secret(secret) if secret else None,
            # under the storage firewall, the first start needs DBFS's private endpoints
            inside_workspace=workspace.inside_workspace.merge(
                pulumi.ResourceOptions(depends_on=workspace.storage_endpoints)
            ),
        ),
        pulumi.ResourceOptions(providers={"databricks": provider}),
    )


def _model_schema(config: StackConfig) -> str | None:
    """`<catalog>.<schema>` under unity-catalog, else None."""
    return config.unity_catalog.model_schema if config.unity_catalog else None


def _serving(
    ctx: _Context, aml: AzureMLWorkspace, provisioned: list[pulumi.Resource]
) -> OnlineEndpoint:
    """A model registered in AzureML, served from a managed online endpoint."""
    config, spec = ctx.config, ctx.config.endpoint
    assert spec is not None
    return OnlineEndpoint(
        "serving",
        OnlineEndpointArgs(
            **_in_workspace(ctx, aml, provisioned),
            # endpoint names are unique per region: the subscription-derived suffix
            endpoint_name=ctx.suffix.apply(
                lambda s: endpoint_name(spec, config.prefix, config.stack, s)
            ),
            spec=spec,
            private_link=config.private_link,
            # what the stack's tagging transform gives the endpoint, for EndpointTraffic
            tags=stack_tags(config.stack, config.tags),
        ),
    )


def _in_workspace(
    ctx: _Context, aml: AzureMLWorkspace, provisioned: list[pulumi.Resource]
) -> dict[str, Any]:
    """Where an endpoint sits (components/serving.py, ServingArgs): in the AzureML workspace,
    after its managed network is provisioned."""
    return {
        "resource_group_name": ctx.group.name,
        "location": ctx.config.location,
        "workspace_name": aml.name,
        "workspace_id": aml.id,
        "subscription_id": ctx.client.subscription_id,
        "inside_workspace": aml.inside_workspace,
        "after": provisioned,
    }


def _managed_network(ctx: _Context, aml: AzureMLWorkspace) -> list[pulumi.Resource]:
    """The workspace's managed network, provisioned before any deployment (none when off)."""
    mode = ctx.config.aml_managed_network
    if mode is ManagedNetworkMode.OFF:
        return []
    pulumi.log.warn(
        f"amlManagedNetwork {mode.value}: the AzureML workspace's managed network is one-way, "
        f"{ONE_WAY_NOTE}; enabling it on a live workspace needs its computes and online "
        "endpoints removed first (Learn, Managed virtual network isolation)"
    )
    return [
        ManagedNetworkProvision(
            "aml-managed-network",
            ManagedNetworkProvisionArgs(
                subscription_id=ctx.client.subscription_id,
                workspace_id=aml.network_id,  # after the program's outbound rules
                isolation_mode=ISOLATION_MODES[mode],
            ),
        )
    ]


def _batch_serving(
    ctx: _Context, aml: AzureMLWorkspace, provisioned: list[pulumi.Resource]
) -> BatchEndpoint:
    """A model registered in AzureML, scored in batch on a cluster that scales to zero.

    Who may invoke it: "AzureML Data Scientist" on the workspace, granted to the service
    principal by the AzureML component; a team's principals get the same role where the stack
    grants team access (the workspace-scope role covers batch jobs and datastores).
    """
    config, spec = ctx.config, ctx.config.batch_endpoint
    assert spec is not None
    return BatchEndpoint(
        "batch",
        BatchEndpointArgs(
            **_in_workspace(ctx, aml, provisioned),
            storage_account_id=aml.storage_account_id,
            endpoint_name=ctx.suffix.apply(
                lambda s: batch_endpoint_name(spec, config.prefix, config.stack, s)
            ),
            spec=spec,
            node_public_ip=config.aml_managed_network is ManagedNetworkMode.OFF,
        ),
    )


# --- enterprise controls: lock, diagnostics, team access, budget ---------------------------

LOCK_NAME = "protect"  # one per locked resource
BUDGET_NAME = "monthly"  # after the group's name: budgets at subscription scope share names


def _locks(ctx: _Context, aml: AzureMLWorkspace, workspace: DatabricksWorkspace) -> None:
    """`protect: true`: CanNotDelete locks on what cannot be replaced, never on the group
    (components/resource_lock.py says where and why)."""
    targets: dict[str, pulumi.Input[str]] = {
        "databricks": workspace.id,
        "storage": aml.storage_account_id,
        "key-vault": aml.key_vault_id,
    }
    if lock_aml_workspace(ctx.config):
        targets["azureml"] = aml.id
    ResourceLocks("locks", ResourceLocksArgs(targets=targets, lock_name=LOCK_NAME))


def _enterprise_controls(
    ctx: _Context,
    aml: AzureMLWorkspace,
    workspace: DatabricksWorkspace,
    serving: OnlineEndpoint | None,
) -> None:
    config = ctx.config
    if config.diagnostics.enabled:
        Diagnostics(
            "diagnostics",
            diagnostic_targets(
                config.diagnostics.workspace_id or aml.log_analytics_id,
                databricks_workspace_id=workspace.id,
                aml_workspace_id=aml.id,
                key_vault_id=aml.key_vault_id,
                storage_account_id=aml.storage_account_id,
                online_endpoint_id=serving.resource_id if serving else None,
            ),
        )
    access = config.access
    if access.data_scientists or access.readers:
        TeamAccess(
            "team-access",
            TeamAccessArgs(
                subscription_id=ctx.client.subscription_id,
                resource_group_id=ctx.group.id,
                aml_workspace_id=aml.id,
                aml_storage_account_id=aml.storage_account_id,
                data_scientists=access.data_scientists,
                readers=access.readers,
            ),
        )
    if config.budget is not None:
        Budget(
            "cost",
            BudgetArgs(
                scope=ctx.client.subscription_id.apply(lambda sub: f"/subscriptions/{sub}"),
                budget_name=f"{ctx.names.resource_group}-{BUDGET_NAME}",
                spec=config.budget,
                start_date=month_start(date.today()),
                # the cluster VMs and disks bill in the managed group (components/budget.py)
                resource_groups=(ctx.names.resource_group, ctx.names.managed_resource_group),
            ),
        )
