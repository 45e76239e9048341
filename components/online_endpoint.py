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

    endpoint (created by azure-native) <- deployment <- EndpointTraffic {deployment: 100}

One writer of the live endpoint. azure-native's Read (what `pulumi refresh` runs) copies into
the endpoint's recorded inputs every property that changed in Azure since the last write, the
traffic included, and `ignore_changes` replays recorded inputs on the next update: after a
refresh and a version bump that deleted the deployment the refresh saw, any update of the
endpoint by azure-native (a tag, `authMode`, `publicNetworkAccess`) would PUT traffic naming
a deployment that no longer exists. So azure-native only creates, replaces and deletes the
endpoint (a replacement is created from the program's values, never replayed ones: the engine
checks the new inputs again, pulumi step_generator.go); every later write is EndpointTraffic's
(components/endpoint_traffic.py): it reads the live endpoint, sets the settings the program
declares (tags, auth mode, public network access, description) and the traffic, and writes
it back, so it never writes traffic it did not read or decide. Pulumi ignores changes to the
endpoint's tags and properties; a preview shows such a change on EndpointTraffic.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from components.endpoint_traffic import EndpointTraffic, EndpointTrafficArgs
from components.serving import (
    ServingArgs,
    deployment_name,
    deployment_options,
    model_reference,
)
from components.workspace_scope import child_inside
from core.config import EndpointSpec

# azure-native writes the endpoint only to create it; EndpointTraffic writes these afterwards.
ENDPOINT_IGNORED = ["tags", "properties"]


@dataclass(frozen=True, kw_only=True)
class OnlineEndpointArgs(ServingArgs):
    spec: EndpointSpec
    private_link: bool  # public network access Disabled: scoring only via the workspace PE
    tags: Mapping[str, str] = field(default_factory=dict)  # the stack's tags (core/tagging.py)


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
        child = child_inside(self, args.inside_workspace)
        settings = endpoint_settings(spec, args.private_link, args.tags)
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
                auth_mode=settings["authMode"],
                public_network_access=settings["publicNetworkAccess"],
                description=settings["description"],
            ),
            opts=child.merge(pulumi.ResourceOptions(ignore_changes=ENDPOINT_IGNORED)),
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
                model=model_reference(args, spec),
                instance_type=spec.instance_type,
                scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
                description=f"{spec.model} version {spec.version}",
            ),
            sku=ml.SkuArgs(name="Default", capacity=spec.instance_count),
            opts=deployment_options(child, args),
        )
        EndpointTraffic(
            f"{name}-traffic",
            EndpointTrafficArgs(
                subscription_id=args.subscription_id,
                resource_group_name=args.resource_group_name,
                workspace_name=args.workspace_name,
                endpoint_name=endpoint.name,
                deployment_name=deployment.name,
                settings=settings,
            ),
            child,
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


def endpoint_settings(
    spec: EndpointSpec, private_link: bool, tags: Mapping[str, str]
) -> dict[str, Any]:
    """What the program declares on the endpoint besides its traffic (ARM property names)."""
    return {
        "tags": dict(tags),
        "authMode": spec.auth_mode.value,
        "publicNetworkAccess": "Disabled" if private_link else "Enabled",
        "description": f"Serves {spec.model} from the AzureML registry",
    }
