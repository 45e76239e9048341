"""EndpointTraffic: a dynamic resource that gives one deployment 100% of an endpoint's traffic,
and the one writer of the live endpoint after azure-native created it.

Why it exists and how it orders a version bump: components/online_endpoint.py.

Create and update read the endpoint from ARM, set `properties.traffic` to
`{deployment: 100}` and the settings the program declares (tags, authMode,
publicNetworkAccess, description), and write it back with PUT (a read-modify-write, as
azure-ai-ml's begin_create_or_update does for `az ml online-endpoint update --traffic`), then
poll the operation; nothing is written when the endpoint already is so.
Delete sets the traffic to `{}`, so the deployment can be deleted next (ARM refuses to delete a
deployment that has traffic); an endpoint already gone is fine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import dynamic

from arm.cloud import CloudConfig, read_cloud_config
from arm.provider import ArmProvider

ENDPOINT_TRAFFIC_TYPE = "pulumi-python:dynamic/serving:EndpointTraffic"
# Online Endpoints - Get / Create Or Update with the api-version the SDK's OnlineEndpoint
# resource sends (pulumi-azure-native 3.29: machinelearningservices stable/2025-12-01), so the
# read-modify-write keeps every property that resource writes (tests/test_api_versions.py).
ONLINE_ENDPOINT_API_VERSION = "2025-12-01"
ENDPOINT_READ = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read"
ENDPOINT_WRITE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write"
_READ_ONLY_PROPERTIES = ("provisioningState", "scoringUri", "swaggerUri")
_IDENTITY = ("subscription_id", "resource_group_name", "workspace_name", "endpoint_name")
_INPUTS = (*_IDENTITY, "deployment_name", "settings", "environment", "metadata_host")
# Settings are top-level ARM fields or `properties` ones.
_TOP_LEVEL_SETTINGS = ("tags",)


def online_endpoint_path(
    subscription_id: str, resource_group: str, workspace: str, name: str
) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}"
        f"/onlineEndpoints/{name}"
    )


def traffic_body(endpoint: dict[str, Any], traffic: dict[str, int]) -> dict[str, Any]:
    """The endpoint as ARM returned it, minus what only ARM writes, with `traffic`."""
    body = {key: endpoint[key] for key in ("location", "tags", "kind", "sku") if key in endpoint}
    identity = endpoint.get("identity") or {}
    if identity.get("type"):
        body["identity"] = {"type": identity["type"]}
        if identity.get("userAssignedIdentities"):
            body["identity"]["userAssignedIdentities"] = {
                uid: {} for uid in identity["userAssignedIdentities"]
            }
    properties = {
        key: value
        for key, value in (endpoint.get("properties") or {}).items()
        if key not in _READ_ONLY_PROPERTIES
    }
    body["properties"] = {**properties, "traffic": traffic}
    return body


def with_settings(body: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """`body` with the declared `settings` (ARM names) in their places."""
    out = {**body, "properties": dict(body.get("properties") or {})}
    for key, value in settings.items():
        if key in _TOP_LEVEL_SETTINGS:
            out[key] = value
        else:
            out["properties"][key] = value
    return out


def set_traffic(
    arm: Any, path: str, traffic: dict[str, int], settings: dict[str, Any] | None = None
) -> None:
    """Make the endpoint's traffic exactly `traffic` and its `settings` as given, keeping all
    else as ARM has it. Clearing a missing endpoint is a no-op."""
    from arm.client import ArmError, get_by_id, put_by_id

    what = f"set traffic {traffic} on {path}"
    endpoint = get_by_id(
        arm, path, ONLINE_ENDPOINT_API_VERSION, what=what, permission=ENDPOINT_READ
    )
    if endpoint is None:
        if traffic:
            raise ArmError(f"{what}: the endpoint does not exist (404)", status=404)
        return
    live = traffic_body(endpoint, (endpoint.get("properties") or {}).get("traffic") or {})
    wanted = with_settings(traffic_body(endpoint, traffic), settings or {})
    if wanted == live:
        return
    put_by_id(arm, path, ONLINE_ENDPOINT_API_VERSION, wanted, what=what, permission=ENDPOINT_WRITE)


class EndpointTrafficProvider(ArmProvider):
    """Writes `{deployment_name: 100}` on create and update, `{}` on delete.

    Pickled into the state with dill: it holds only an optional client factory (tests inject
    one) and imports arm.client when it runs. It reaches ARM in the cloud the stack deploys
    to, as the purge resources do (arm/cloud.py).
    """

    inputs = _INPUTS
    identity = _IDENTITY

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = {key: props.get(key) for key in _INPUTS}
        self._apply(outs, {outs["deployment_name"]: 100}, outs["settings"])
        return dynamic.CreateResult(id_=f"{_path(outs)}/traffic", outs=outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        outs = {key: news.get(key) for key in _INPUTS}
        self._apply(outs, {outs["deployment_name"]: 100}, outs["settings"])
        return dynamic.UpdateResult(outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._apply(props, {})

    def _apply(
        self,
        props: dict[str, Any],
        traffic: dict[str, int],
        settings: dict[str, Any] | None = None,
    ) -> None:
        with self.client(props) as client:
            set_traffic(client, _path(props), traffic, settings)


def _path(props: dict[str, Any]) -> str:
    return online_endpoint_path(*(props[key] for key in _IDENTITY))


@dataclass(frozen=True)
class EndpointTrafficArgs:
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    workspace_name: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]  # pass the endpoint's Output: it orders the traffic after it
    deployment_name: pulumi.Input[str]  # likewise the deployment's
    # What the program declares on the endpoint besides traffic, by ARM name (tags top-level,
    # the rest under `properties`): written here after create (components/online_endpoint.py).
    settings: pulumi.Input[dict[str, Any]]
    # The cloud the stack deploys to, as azure-native reads it from the stack's config.
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class EndpointTraffic(dynamic.Resource, module="serving", name="EndpointTraffic"):
    """All of the endpoint's traffic to one deployment (see the module docstring)."""

    def __init__(
        self, name: str, args: EndpointTrafficArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            EndpointTrafficProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "resource_group_name": args.resource_group_name,
                "workspace_name": args.workspace_name,
                "endpoint_name": args.endpoint_name,
                "deployment_name": args.deployment_name,
                "settings": args.settings,
                "environment": args.cloud.environment,
                "metadata_host": args.cloud.metadata_host,
            },
            opts,
        )
