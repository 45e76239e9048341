"""Serving: an AzureML managed online endpoint with one managed deployment of an MLflow model.

The deployment names the model by the ARM id of its version in the workspace
(`<workspace id>/models/<name>/versions/<version>`): that is what the REST API takes as
`properties.model` (Azure/azureml-examples cli/deploy-rest.sh, the source of Microsoft Learn's
"Deploy models with REST"); `azureml:<name>:<version>` is CLI/SDK shorthand resolved to it on
the client. MLflow models need no scoring script or environment (no-code deployment: Learn,
"Guidelines for deploying MLflow models"). The SKU is what azure-ai-ml sends: name "Default",
capacity = instance count, the VM size in `properties.instanceType`.

Traffic. ARM rejects an endpoint whose `traffic` names a deployment that does not exist yet,
and a deployment needs its endpoint first, so the endpoint cannot carry its traffic itself
(that would be a cycle). Three resources, in dependency order:

    endpoint (no traffic; Pulumi ignores it) <- deployment <- EndpointTraffic {deployment: 100}

EndpointTraffic (components/endpoint_traffic.py) writes the endpoint's traffic through ARM
after the deployment exists, and clears it when it is deleted.

A version bump. The deployment's name comes from model, version and VM size, so a new version
is a new ARM deployment: Pulumi replaces it create-before-delete (its default; Pulumi docs,
resource option deleteBeforeReplace). The engine then runs
  1. create the new deployment (azure-native waits until it is provisioned);
  2. update EndpointTraffic: traffic moves to the new deployment in one write;
  3. delete the old deployment, after every create and update of the run.
So a deployment with traffic serves at every step; if step 1 fails, `pulumi up` stops there
and the old version keeps serving. A changed instance count scales the deployment in place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from components.endpoint_traffic import EndpointTraffic, EndpointTrafficArgs
from core.config import EndpointSpec

# Pulumi owns everything on the endpoint except its traffic, which EndpointTraffic writes.
ENDPOINT_IGNORED = ["properties.traffic", "properties.mirrorTraffic"]


def deployment_name(spec: EndpointSpec) -> str:
    """`v<version>-<hash>`: a new version, model or VM size is a new deployment name."""
    digest = hashlib.sha256(f"{spec.model}|{spec.version}|{spec.instance_type}".encode())
    return f"v{spec.version}-{digest.hexdigest()[:6]}"


def model_asset_id(workspace_id: str, spec: EndpointSpec) -> str:
    """The ARM id of the registered model version in the workspace."""
    return f"{workspace_id}/models/{spec.model}/versions/{spec.version}"


@dataclass(frozen=True)
class OnlineEndpointArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    spec: EndpointSpec
    private_link: bool  # public network access Disabled: scoring only via the workspace PE
    # What must exist before the deployment (the provisioned managed network).
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)


class OnlineEndpoint(pulumi.ComponentResource):
    endpoint_name: pulumi.Output[str]
    resource_id: pulumi.Output[str]
    scoring_uri: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    system_assigned_mi_principal_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: OnlineEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:serving:OnlineEndpoint", name, None, opts)
        spec = args.spec
        endpoint = ml.OnlineEndpoint(
            f"{name}-endpoint",
            endpoint_name=args.endpoint_name,
            resource_group_name=args.resource_group_name,
            workspace_name=args.workspace_name,
            location=args.location,
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED
            ),
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode=spec.auth_mode.value,
                public_network_access="Disabled" if args.private_link else "Enabled",
                description=f"Serves {spec.model} from the AzureML registry",
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ENDPOINT_IGNORED),
        )
        deployment = ml.OnlineDeployment(
            f"{name}-deployment",
            deployment_name=deployment_name(spec),
            endpoint_name=endpoint.name,
            resource_group_name=args.resource_group_name,
            workspace_name=args.workspace_name,
            location=args.location,
            properties=ml.ManagedOnlineDeploymentArgs(
                endpoint_compute_type="Managed",
                model=pulumi.Output.from_input(args.workspace_id).apply(
                    lambda workspace_id: model_asset_id(workspace_id, spec)
                ),
                instance_type=spec.instance_type,
                scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
                description=f"{spec.model} version {spec.version}",
            ),
            sku=ml.SkuArgs(name="Default", capacity=spec.instance_count),
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=False, depends_on=list(args.after)
            ),
        )
        EndpointTraffic(
            f"{name}-traffic",
            EndpointTrafficArgs(
                subscription_id=args.subscription_id,
                resource_group_name=args.resource_group_name,
                workspace_name=args.workspace_name,
                endpoint_name=endpoint.name,
                deployment_name=deployment.name,
                # Pulumi writes the endpoint without traffic: after any such write, set it again.
                endpoint_revision=pulumi.Output.all(endpoint.tags, endpoint.properties).apply(
                    _revision
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.endpoint_name = endpoint.name
        self.resource_id = endpoint.id
        self.scoring_uri = endpoint.properties.apply(lambda properties: properties.scoring_uri)
        self.deployment_name = deployment.name
        self.system_assigned_mi_principal_id = endpoint.identity.apply(
            lambda identity: identity.principal_id
        )
        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "resource_id": self.resource_id,
                "scoring_uri": self.scoring_uri,
                "deployment_name": self.deployment_name,
                "system_assigned_mi_principal_id": self.system_assigned_mi_principal_id,
            }
        )


def _revision(values: list[object]) -> str:
    """A digest of what Pulumi writes to the endpoint (not its traffic)."""
    tags, properties = values
    written = {
        "tags": tags,
        "authMode": getattr(properties, "auth_mode", None),
        "publicNetworkAccess": getattr(properties, "public_network_access", None),
    }
    return hashlib.sha256(json.dumps(written, sort_keys=True, default=str).encode()).hexdigest()
