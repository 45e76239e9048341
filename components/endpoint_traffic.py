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

from dataclasses import dataclass
from typing import Any

import pulumi

from components import endpoint_write
from components.endpoint_write import EndpointWriteArgs, writable_body

ENDPOINT_TRAFFIC_TYPE = "pulumi-python:dynamic/serving:EndpointTraffic"
# Online Endpoints - Get / Create Or Update with the api-version the SDK's OnlineEndpoint
# resource sends (pulumi-azure-native 3.29: machinelearningservices stable/2025-12-01), so the
# read-modify-write keeps every property that resource writes (tests/test_api_versions.py).
ONLINE_ENDPOINT_API_VERSION = "2025-12-01"
ONLINE_ENDPOINTS = endpoint_write.Endpoints("onlineEndpoints", ONLINE_ENDPOINT_API_VERSION)
# Settings are top-level ARM fields or `properties` ones.
_TOP_LEVEL_SETTINGS = ("tags",)


def traffic_body(endpoint: dict[str, Any], traffic: dict[str, int]) -> dict[str, Any]:
    """The endpoint as ARM returned it, minus what only ARM writes, with `traffic`."""
    body = writable_body(endpoint, user_assigned=True)
    body["properties"]["traffic"] = traffic
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

    def bodies(endpoint: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        live = traffic_body(endpoint, (endpoint.get("properties") or {}).get("traffic") or {})
        return live, with_settings(traffic_body(endpoint, traffic), settings or {})

    what = f"set traffic {traffic} on {path}"
    endpoint_write.rewrite_endpoint(
        arm, path, ONLINE_ENDPOINTS, what=what, clearing=not traffic, bodies=bodies
    )


class EndpointTrafficProvider(endpoint_write.EndpointWriteProvider):
    """Writes `{deployment_name: 100}` on create and update, `{}` on delete.

    Pickled into the state with dill: it holds only an optional client factory (tests inject
    one) and imports arm.client when it runs. It reaches ARM in the cloud the stack deploys
    to, as the purge resources do (arm/cloud.py).
    """

    inputs = endpoint_write.provider_inputs("settings")
    endpoints = ONLINE_ENDPOINTS
    id_suffix = "traffic"

    def write(self, props: dict[str, Any], *, clearing: bool) -> None:
        if clearing:
            traffic, settings = {}, None
        else:
            traffic, settings = {props["deployment_name"]: 100}, props["settings"]
        with self.client(props) as client:
            set_traffic(client, self.path(props), traffic, settings)


@dataclass(frozen=True, kw_only=True)
class EndpointTrafficArgs(EndpointWriteArgs):
    # What the program declares on the endpoint besides traffic, by ARM name (tags top-level,
    # the rest under `properties`): written here after create (components/online_endpoint.py).
    settings: pulumi.Input[dict[str, Any]]


class EndpointTraffic(endpoint_write.EndpointWrite, module="serving", name="EndpointTraffic"):
    """All of the endpoint's traffic to one deployment (see the module docstring); takes
    EndpointTrafficArgs."""

    writer = EndpointTrafficProvider
    own = "settings"
