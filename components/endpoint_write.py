"""What the two dynamic resources that rewrite an AzureML endpoint share: the endpoint's ARM
path and permissions, its body as ARM returned it minus what only ARM writes, the
read-modify-write, the provider's create, update and delete, and the resource's inputs.

EndpointTraffic (components/endpoint_traffic.py) sets an online endpoint's traffic and
settings, BatchEndpointDefault (components/batch_default.py) a batch endpoint's default
deployment. Each reads the live endpoint, changes its own part and PUTs the rest back as read,
and writes nothing when nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import dynamic

from arm.cloud import CloudConfig, read_cloud_config
from arm.provider import ArmProvider, cloud_inputs

# Properties ARM reports but does not take back (Batch/Online Endpoints - Get).
READ_ONLY_PROPERTIES = ("provisioningState", "scoringUri", "swaggerUri")
IDENTITY = ("subscription_id", "resource_group_name", "workspace_name", "endpoint_name")
WORKSPACES = "Microsoft.MachineLearningServices/workspaces"


@dataclass(frozen=True)
class Endpoints:
    """An AzureML workspace's endpoints of one kind: `collection` is onlineEndpoints or
    batchEndpoints, `api_version` what reads and writes of them send."""

    collection: str
    api_version: str

    def path(self, subscription_id: str, resource_group: str, workspace: str, name: str) -> str:
        """An endpoint's ARM path."""
        return (
            f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
            f"/providers/{WORKSPACES}/{workspace}/{self.collection}/{name}"
        )

    def permission(self, action: str) -> str:
        """The Azure RBAC action that reads (`read`) or writes (`write`) these endpoints."""
        return f"{WORKSPACES}/{self.collection}/{action}"


def provider_inputs(own: str) -> tuple[str, ...]:
    """What a provider records: the endpoint, the deployment, its `own` input, the cloud."""
    return (*IDENTITY, "deployment_name", own, "environment", "metadata_host")


def writable_body(endpoint: dict[str, Any], *, user_assigned: bool) -> dict[str, Any]:
    """The endpoint as ARM returned it, minus what only ARM writes; with `user_assigned`, its
    user-assigned identities are kept by id."""
    body = {key: endpoint[key] for key in ("location", "tags", "kind", "sku") if key in endpoint}
    identity = endpoint.get("identity") or {}
    if identity.get("type"):
        body["identity"] = {"type": identity["type"]}
        if user_assigned and identity.get("userAssignedIdentities"):
            body["identity"]["userAssignedIdentities"] = {
                uid: {} for uid in identity["userAssignedIdentities"]
            }
    body["properties"] = {
        key: value
        for key, value in (endpoint.get("properties") or {}).items()
        if key not in READ_ONLY_PROPERTIES
    }
    return body


def rewrite_endpoint(
    arm: Any,
    path: str,
    endpoints: Endpoints,
    *,
    what: str,
    clearing: bool,
    bodies: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """Read the endpoint, PUT the wanted body when it differs from the live one (`bodies` gives
    both from what ARM returned). A missing endpoint is an error unless `clearing`."""
    from arm.client import ArmError, get_by_id, put_by_id

    version = endpoints.api_version
    endpoint = get_by_id(arm, path, version, what=what, permission=endpoints.permission("read"))
    if endpoint is None:
        if not clearing:
            raise ArmError(f"{what}: the endpoint does not exist (404)", status=404)
        return
    live, wanted = bodies(endpoint)
    if wanted != live:
        put_by_id(arm, path, version, wanted, what=what, permission=endpoints.permission("write"))


class EndpointWriteProvider(ArmProvider):
    """Writes on create and update, clears on delete; the id is the endpoint's path and
    `id_suffix`."""

    identity = IDENTITY
    endpoints: Endpoints
    id_suffix = ""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = {key: props.get(key) for key in self.inputs}
        self.write(outs, clearing=False)
        return dynamic.CreateResult(id_=f"{self.path(outs)}/{self.id_suffix}", outs=outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        outs = {key: news.get(key) for key in self.inputs}
        self.write(outs, clearing=False)
        return dynamic.UpdateResult(outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self.write(props, clearing=True)

    def path(self, props: dict[str, Any]) -> str:
        return self.endpoints.path(*(props[key] for key in IDENTITY))

    def write(self, props: dict[str, Any], *, clearing: bool) -> None:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class EndpointWriteArgs:
    """The endpoint a resource writes, and the deployment it points it at."""

    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    workspace_name: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]  # the endpoint's Output: orders the writes after it
    deployment_name: pulumi.Input[str]  # the deployment's Output: likewise
    # The cloud the stack deploys to, as azure-native reads it from the stack's config.
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class EndpointWrite(dynamic.Resource):
    """A resource that writes its part of an endpoint through `writer`; its inputs are the
    endpoint, the deployment, the cloud and the Args' field named `own`."""

    writer: type[EndpointWriteProvider]
    own: str

    def __init__(
        self, name: str, args: EndpointWriteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        inputs = {
            "subscription_id": args.subscription_id,
            "resource_group_name": args.resource_group_name,
            "workspace_name": args.workspace_name,
            "endpoint_name": args.endpoint_name,
            "deployment_name": args.deployment_name,
            **cloud_inputs(args.cloud),
            self.own: getattr(args, self.own),
        }
        super().__init__(self.writer(), name, inputs, opts)
