"""BatchEndpointDefault: a dynamic resource that makes one deployment the batch endpoint's default.

Why it exists and how it orders a version bump: components/batch_endpoint.py.

Create and update read the endpoint from ARM, set `properties.defaults.deploymentName` and PUT
it back (a read-modify-write, as azure-ai-ml's `az ml batch-endpoint update --set
defaults.deployment_name=...` does), polling the operation. Delete clears the default, so the
deployment can be deleted next; an endpoint already gone is fine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import dynamic

from arm.cloud import CloudConfig, read_cloud_config
from arm.provider import ArmProvider

BATCH_DEFAULT_TYPE = "pulumi-python:dynamic/serving:BatchEndpointDefault"
# Batch Endpoints - Get / Create Or Update: the api-version pulumi-azure-native 3.x declares the
# BatchEndpoint resource with (azure-rest-api-specs machinelearningservices stable/2025-12-01).
BATCH_ENDPOINT_API_VERSION = "2025-12-01"
ENDPOINT_READ = "Microsoft.MachineLearningServices/workspaces/batchEndpoints/read"
ENDPOINT_WRITE = "Microsoft.MachineLearningServices/workspaces/batchEndpoints/write"
_READ_ONLY_PROPERTIES = ("provisioningState", "scoringUri", "swaggerUri")
_IDENTITY = ("subscription_id", "resource_group_name", "workspace_name", "endpoint_name")
_INPUTS = (*_IDENTITY, "deployment_name", "endpoint_revision", "environment", "metadata_host")


def batch_endpoint_path(
    subscription_id: str, resource_group: str, workspace: str, name: str
) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}"
        f"/batchEndpoints/{name}"
    )


def default_body(endpoint: dict[str, Any], deployment: str | None) -> dict[str, Any]:
    """The endpoint as ARM returned it, minus what only ARM writes, with its default set."""
    body = {key: endpoint[key] for key in ("location", "tags", "kind", "sku") if key in endpoint}
    identity = endpoint.get("identity") or {}
    if identity.get("type"):
        body["identity"] = {"type": identity["type"]}
    properties = {
        key: value
        for key, value in (endpoint.get("properties") or {}).items()
        if key not in _READ_ONLY_PROPERTIES
    }
    properties["defaults"] = {"deploymentName": deployment} if deployment else {}
    body["properties"] = properties
    return body


def set_default(arm: Any, path: str, deployment: str | None) -> None:
    """Make `deployment` the endpoint's default (None: no default). A missing endpoint is fine
    when clearing."""
    from arm.client import ArmError, get_by_id, put_by_id

    what = f"set the default deployment of {path} to {deployment}"
    endpoint = get_by_id(arm, path, BATCH_ENDPOINT_API_VERSION, what=what, permission=ENDPOINT_READ)
    if endpoint is None:
        if deployment:
            raise ArmError(f"{what}: the endpoint does not exist (404)", status=404)
        return
    current = ((endpoint.get("properties") or {}).get("defaults") or {}).get("deploymentName")
    if (current or None) == deployment:
        return
    put_by_id(
        arm,
        path,
        BATCH_ENDPOINT_API_VERSION,
        default_body(endpoint, deployment),
        what=what,
        permission=ENDPOINT_WRITE,
    )


class BatchEndpointDefaultProvider(ArmProvider):
    """Sets `defaults.deploymentName` on create and update, clears it on delete (pickled into
    the state with dill; it imports arm.client when it runs)."""

    inputs = _INPUTS
    identity = _IDENTITY

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = {key: props[key] for key in _INPUTS}
        self._apply(outs, outs["deployment_name"])
        return dynamic.CreateResult(id_=f"{_path(outs)}/defaults", outs=outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        outs = {key: news[key] for key in _INPUTS}
        self._apply(outs, outs["deployment_name"])
        return dynamic.UpdateResult(outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._apply(props, None)

    def _apply(self, props: dict[str, Any], deployment: str | None) -> None:
        with self.client(props) as client:
            set_default(client, _path(props), deployment)


def _path(props: dict[str, Any]) -> str:
    return batch_endpoint_path(*(props[key] for key in _IDENTITY))


@dataclass(frozen=True)
class BatchEndpointDefaultArgs:
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    workspace_name: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]  # the endpoint's Output: orders this after it
    deployment_name: pulumi.Input[str]  # the deployment's Output: likewise
    endpoint_revision: pulumi.Input[str]  # changes whenever Pulumi rewrites the endpoint
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class BatchEndpointDefault(dynamic.Resource, module="serving", name="BatchEndpointDefault"):
    """The batch endpoint's default deployment (see the module docstring)."""

    def __init__(
        self, name: str, args: BatchEndpointDefaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            BatchEndpointDefaultProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "resource_group_name": args.resource_group_name,
                "workspace_name": args.workspace_name,
                "endpoint_name": args.endpoint_name,
                "deployment_name": args.deployment_name,
                "endpoint_revision": args.endpoint_revision,
                "environment": args.cloud.environment,
                "metadata_host": args.cloud.metadata_host,
            },
            opts,
        )
