"""BatchEndpointDefault: a dynamic resource that makes one deployment the batch endpoint's default.

Why it exists and how it orders a version bump: components/batch_endpoint.py.

Create and update read the endpoint from ARM, set `properties.defaults.deploymentName` and PUT
it back (a read-modify-write, as azure-ai-ml's `az ml batch-endpoint update --set
defaults.deployment_name=...` does), polling the operation. Delete clears the default, so the
deployment can be deleted next; an endpoint already gone is fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components import endpoint_write
from components.endpoint_write import EndpointWriteArgs, writable_body

BATCH_DEFAULT_TYPE = "pulumi-python:dynamic/serving:BatchEndpointDefault"
# Batch Endpoints - Get / Create Or Update: the api-version pulumi-azure-native 3.x declares the
# BatchEndpoint resource with (azure-rest-api-specs machinelearningservices stable/2025-12-01).
BATCH_ENDPOINT_API_VERSION = "2025-12-01"
BATCH_ENDPOINTS = endpoint_write.Endpoints("batchEndpoints", BATCH_ENDPOINT_API_VERSION)


def default_body(endpoint: dict[str, Any], deployment: str | None) -> dict[str, Any]:
    """The endpoint as ARM returned it, minus what only ARM writes, with its default set."""
    body = writable_body(endpoint, user_assigned=False)
    body["properties"]["defaults"] = {"deploymentName": deployment} if deployment else {}
    return body


def set_default(arm: Any, path: str, deployment: str | None) -> None:
    """Make `deployment` the endpoint's default (None: no default). A missing endpoint is fine
    when clearing."""

    def bodies(endpoint: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        current = ((endpoint.get("properties") or {}).get("defaults") or {}).get("deploymentName")
        return default_body(endpoint, current or None), default_body(endpoint, deployment)

    what = f"set the default deployment of {path} to {deployment}"
    endpoint_write.rewrite_endpoint(
        arm, path, BATCH_ENDPOINTS, what=what, clearing=not deployment, bodies=bodies
    )


class BatchEndpointDefaultProvider(endpoint_write.EndpointWriteProvider):
    """Sets `defaults.deploymentName` on create and update, clears it on delete (pickled into
    the state with dill; it imports arm.client when it runs)."""

    inputs = endpoint_write.provider_inputs("endpoint_revision")
    endpoints = BATCH_ENDPOINTS
    id_suffix = "defaults"

    def write(self, props: dict[str, Any], *, clearing: bool) -> None:
        with self.client(props) as client:
            set_default(client, self.path(props), None if clearing else props["deployment_name"])


@dataclass(frozen=True, kw_only=True)
class BatchEndpointDefaultArgs(EndpointWriteArgs):
    endpoint_revision: pulumi.Input[str]  # changes whenever Pulumi rewrites the endpoint


class BatchEndpointDefault(
    endpoint_write.EndpointWrite, module="serving", name="BatchEndpointDefault"
):
    """The batch endpoint's default deployment (see the module docstring); takes
    BatchEndpointDefaultArgs."""

    writer = BatchEndpointDefaultProvider
    own = "endpoint_revision"
