"""databricks-azureml: Azure Databricks experiments tracked with MLflow in Azure Machine Learning.

Config in, components in dependency order, outputs out.
"""

import pulumi
from pulumi_azure_native import authorization

from components.azureml_workspace import AzureMLWorkspace, AzureMLWorkspaceArgs, PrivateLinkArgs
from components.databricks_provider import workspace_provider
from components.databricks_workspace import DatabricksWorkspace, DatabricksWorkspaceArgs
from components.linkage import Linkage, LinkageArgs
from components.network import Network, NetworkArgs
from components.online_endpoint import OnlineEndpoint, OnlineEndpointArgs
from components.resource_group import ResourceGroup, ResourceGroupArgs
from components.tracking_cluster import TrackingCluster, TrackingClusterArgs
from core import naming
from core.config import ModelRegistry, TrackingMode, endpoint_name, load_config
from core.errors import ConfigError
from core.tagging import register_stack_tagging, stack_tags

try:
    config = load_config()
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

register_stack_tagging(stack_tags(config.stack, config.tags))
client = authorization.get_client_config_output()
names = naming.resource_names(config.prefix, config.stack)
unique = client.subscription_id.apply(  # worldwide-unique names carry a subscription-derived suffix
    lambda sub: naming.global_names(
        config.prefix, config.stack, naming.unique_suffix(sub, names.resource_group, config.stack)
    )
)

group = ResourceGroup(
    "main",
    ResourceGroupArgs(name=names.resource_group, location=config.location, protect=config.protect),
)
network = Network(
    "network",
    NetworkArgs(group.name, config.location, names, config.network),
)
aml = AzureMLWorkspace(
    "azureml",
    AzureMLWorkspaceArgs(
        resource_group_name=group.name,
        location=config.location,
        workspace_name=names.aml_workspace,
        storage_account_name=unique.storage_account,
        key_vault_name=unique.key_vault,
        container_registry_name=unique.container_registry if config.container_registry else None,
        log_analytics_name=names.log_analytics,
        application_insights_name=names.application_insights,
        tenant_id=client.tenant_id,
        subscription_id=client.subscription_id,
        purge_on_destroy=config.purge_on_destroy,
        private_link=PrivateLinkArgs(network.vnet_id, network.endpoint_subnet_id)
        if config.private_link and network.endpoint_subnet_id is not None
        else None,
        protect=config.protect,
    ),
)
dual = config.tracking_mode is TrackingMode.DUAL
databricks_ws = DatabricksWorkspace(
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
        aml_workspace_id=aml.id if dual else None,
        protect=config.protect,
    ),
)
if config.service_principal is not None:
    Linkage(
        "linkage",
        LinkageArgs(client.subscription_id, aml.id, config.service_principal.object_id),
    )
provider = workspace_provider("databricks-workspace", databricks_ws.url, databricks_ws.id)
secret = config.service_principal_secret
cluster = TrackingCluster(
    "tracking",
    TrackingClusterArgs(
        cluster_name=f"{config.prefix}-{naming.stack_slug(config.stack)}-mlflow",
        secret_scope_name=f"{config.prefix}-{naming.stack_slug(config.stack)}-azureml",
        spec=config.cluster,
        tracking_mode=config.tracking_mode,
        model_registry=config.model_registry,
        mlflow_tracking_uri=aml.mlflow_tracking_uri,
        tenant_id=client.tenant_id,
        service_principal=config.service_principal,
        service_principal_secret=pulumi.Output.secret(secret) if secret else None,
    ),
    pulumi.ResourceOptions(providers={"databricks": provider}),
)
serving = None
if config.endpoint is not None:  # a model registered in AzureML, served online
    spec = config.endpoint
    serving = OnlineEndpoint(
        "serving",
        OnlineEndpointArgs(
            resource_group_name=group.name,
            location=config.location,
            workspace_name=aml.name,
            workspace_id=aml.id,
            subscription_id=client.subscription_id,
            endpoint_name=client.subscription_id.apply(
                lambda sub: endpoint_name(
                    spec,
                    config.prefix,
                    config.stack,
                    naming.unique_suffix(sub, names.resource_group, config.stack),
                )
            ),
            spec=spec,
            private_link=config.private_link,
        ),
    )

pulumi.export("resourceGroupName", group.name)
pulumi.export("location", config.location)
pulumi.export("trackingMode", config.tracking_mode.value)
pulumi.export("modelRegistry", config.model_registry.value)
pulumi.export("privateLink", config.private_link)
pulumi.export("amlWorkspaceName", aml.name)
pulumi.export("amlWorkspaceId", aml.id)
pulumi.export("mlflowTrackingUri", aml.mlflow_tracking_uri)
pulumi.export(
    "mlflowRegistryUri",
    aml.mlflow_tracking_uri if config.model_registry is ModelRegistry.AZUREML else "databricks",
)
pulumi.export("databricksWorkspaceUrl", databricks_ws.url)
pulumi.export("databricksWorkspaceId", databricks_ws.id)
pulumi.export("clusterId", cluster.cluster_id)
pulumi.export("secretScope", cluster.secret_scope)
pulumi.export("endpointName", serving.endpoint_name if serving else None)
pulumi.export("endpointScoringUri", serving.scoring_uri if serving else None)
