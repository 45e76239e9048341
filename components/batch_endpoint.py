"""Batch scoring: an AzureML batch endpoint with one no-code MLflow deployment, on a cluster
that scales to zero.

Resources: an AmlCompute cluster (`minNodeCount` 0: no node, no cost while no job runs; nodes
start when a job arrives and leave after the idle time), a batch endpoint (Microsoft Entra
tokens: batch endpoints take no keys, authMode AADToken), and one deployment of the registered
MLflow model by the ARM id of its version (`<workspace id>/models/<name>/versions/<version>`),
with no scoring script or environment: AzureML runs MLflow models itself (Learn, "Deploy MLflow
models in batch deployments"). `outputAction` AppendRow writes every prediction to one file,
`predictions.csv`, in the job's `score` output.

The default deployment. A batch endpoint's `defaults.deploymentName` must name a deployment of
the endpoint, and a deployment needs its endpoint first, so the endpoint cannot name its
default itself (a cycle). As the online endpoint does with its traffic
(components/online_endpoint.py), three writes in dependency order:

    endpoint (no defaults; Pulumi ignores them) <- deployment <- BatchEndpointDefault

BatchEndpointDefault (components/batch_default.py) sets the default through ARM once the
deployment exists and clears it when it is deleted.

A version bump. The deployment's name comes from model, version and VM size, so a new version
is a new ARM deployment, replaced create-before-delete (Pulumi's default): 1. the new deployment
is created; 2. BatchEndpointDefault moves the default to it in one write; 3. the old deployment
is deleted, after every create and update of the run. A job submitted meanwhile always finds a
default deployment. A new VM size is likewise a new cluster (AmlCompute's vmSize cannot change).

Identity. The cluster has a system-assigned identity with "Storage Blob Data Contributor" on the
workspace's storage account: the job reads inputs and writes `predictions.csv` with it wherever
a datastore holds no credentials (Learn, "Authorization on batch endpoints": jobs access data
with the compute cluster's identity where the invoker's identity or datastore credentials do not
apply). Who invokes needs "AzureML Data Scientist" on the workspace (it covers
batchEndpoints/deployments/jobs/write and the datastores); the stack grants it to the service
principal (components/azureml_workspace.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from components.batch_default import BatchEndpointDefault, BatchEndpointDefaultArgs
from components.roles import assign_role
from components.serving import (
    ServingArgs,
    deployment_name,
    deployment_options,
    model_reference,
)
from components.workspace_scope import child_inside
from core.config import BatchEndpointSpec

# Pulumi owns everything on the endpoint except its default, which BatchEndpointDefault writes.
ENDPOINT_IGNORED = ["properties.defaults"]
# Built-in role "Storage Blob Data Contributor" (Learn, Azure built-in roles, Storage).
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
OUTPUT_FILE = "predictions.csv"
IDLE_BEFORE_SCALE_DOWN = "PT10M"  # nodes stay this long after a job, for the next one


def compute_name(spec: BatchEndpointSpec) -> str:
    """`batch-<hash of the VM size>`: AmlCompute names are 2-16 characters, and a new VM size
    needs a new cluster."""
    return f"batch-{hashlib.sha256(spec.instance_type.encode()).hexdigest()[:6]}"


def endpoint_revision(tags: Any, properties: Any) -> str:
    """Changes whenever Pulumi rewrites the endpoint (its tags or auth mode), which drops the
    default: BatchEndpointDefault then writes it again."""
    return hashlib.sha256(repr((tags, getattr(properties, "auth_mode", None))).encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class BatchEndpointArgs(ServingArgs):
    storage_account_id: pulumi.Input[str]  # the workspace's default datastore lives there
    spec: BatchEndpointSpec
    # Nodes with public IPs: a cluster without them needs a VNet or a managed network to get
    # out at all (Learn, "Compute cluster: no public IP"); the stack has neither without one.
    node_public_ip: bool = False


class BatchEndpoint(pulumi.ComponentResource):
    endpoint_name: pulumi.Output[str]
    resource_id: pulumi.Output[str]
    invocation_uri: pulumi.Output[str]  # https://<name>.<region>.inference.ml.azure.com/jobs
    deployment_name: pulumi.Output[str]
    compute_principal_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: BatchEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:serving:BatchEndpoint", name, None, opts)
        spec = args.spec
        child = child_inside(self, args.inside_workspace)
        compute = _compute(name, args, child)
        principal_id = compute.identity.apply(lambda identity: identity.principal_id)
        _compute_reads_storage(name, args, principal_id, child)
        endpoint = ml.BatchEndpoint(
            f"{name}-endpoint",
            endpoint_name=args.endpoint_name,
            resource_group_name=args.resource_group_name,
            workspace_name=args.workspace_name,
            location=args.location,
            properties=ml.BatchEndpointPropertiesArgs(
                # Batch endpoints take Microsoft Entra tokens only (Learn, "Authorization on
                # batch endpoints").
                auth_mode=ml.EndpointAuthMode.AAD_TOKEN,
                description=f"Batch scoring of {spec.model} from the AzureML registry",
            ),
            opts=child.merge(pulumi.ResourceOptions(ignore_changes=ENDPOINT_IGNORED)),
        )
        deployment = ml.BatchDeployment(
            f"{name}-deployment",
            deployment_name=deployment_name(spec),  # named as online deployments are
            endpoint_name=endpoint.name,
            resource_group_name=args.resource_group_name,
            workspace_name=args.workspace_name,
            location=args.location,
            properties=ml.BatchDeploymentPropertiesArgs(
                compute=compute.id,
                model=ml.IdAssetReferenceArgs(
                    reference_type="Id", asset_id=model_reference(args, spec)
                ),
                resources=ml.DeploymentResourceConfigurationArgs(instance_count=spec.max_instances),
                mini_batch_size=spec.mini_batch_size,
                output_action=spec.output_action.value,
                output_file_name=OUTPUT_FILE,
                description=f"{spec.model} version {spec.version}",
            ),
            opts=deployment_options(child, args),
        )
        BatchEndpointDefault(
            f"{name}-default",
            BatchEndpointDefaultArgs(
                subscription_id=args.subscription_id,
                resource_group_name=args.resource_group_name,
                workspace_name=args.workspace_name,
                endpoint_name=endpoint.name,
                deployment_name=deployment.name,
                endpoint_revision=pulumi.Output.all(endpoint.tags, endpoint.properties).apply(
                    lambda values: endpoint_revision(*values)
                ),
            ),
            child,
        )
        self.endpoint_name = endpoint.name
        self.resource_id = endpoint.id
        self.invocation_uri = endpoint.properties.apply(lambda properties: properties.scoring_uri)
        self.deployment_name = deployment.name
        self.compute_principal_id = principal_id
        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "resource_id": self.resource_id,
                "invocation_uri": self.invocation_uri,
                "deployment_name": self.deployment_name,
                "compute_principal_id": self.compute_principal_id,
            }
        )


def _compute(name: str, args: BatchEndpointArgs, child: pulumi.ResourceOptions) -> ml.Compute:
    """The AmlCompute cluster the jobs run on: no node while no job runs."""
    spec = args.spec
    return ml.Compute(
        f"{name}-compute",
        compute_name=compute_name(spec),
        resource_group_name=args.resource_group_name,
        workspace_name=args.workspace_name,
        location=args.location,
        identity=ml.ManagedServiceIdentityArgs(type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
        properties=ml.AmlComputeArgs(
            compute_type="AmlCompute",
            description=f"Batch scoring of {spec.model}; scales to zero when idle",
            disable_local_auth=True,
            properties=ml.AmlComputePropertiesArgs(
                vm_size=spec.instance_type,
                vm_priority=ml.VmPriority.DEDICATED,
                os_type=ml.OsType.LINUX,
                enable_node_public_ip=args.node_public_ip,
                remote_login_port_public_access=ml.RemoteLoginPortPublicAccess.DISABLED,
                scale_settings=ml.ScaleSettingsArgs(
                    min_node_count=0,
                    max_node_count=spec.max_instances,
                    node_idle_time_before_scale_down=IDLE_BEFORE_SCALE_DOWN,
                ),
            ),
        ),
        opts=child.merge(pulumi.ResourceOptions(depends_on=list(args.after))),
    )


def _compute_reads_storage(
    name: str,
    args: BatchEndpointArgs,
    principal_id: pulumi.Output[str],
    child: pulumi.ResourceOptions,
) -> None:
    """ "Storage Blob Data Contributor" on the workspace's storage for the cluster's identity."""
    assign_role(
        f"{name}-compute-storage",
        subscription_id=args.subscription_id,
        role=STORAGE_BLOB_DATA_CONTRIBUTOR,
        scope=args.storage_account_id,
        principal_id=principal_id,
        description="Lets batch scoring jobs read inputs and write predictions",
        opts=child,
    )
