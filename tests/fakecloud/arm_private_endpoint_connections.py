"""Private endpoint connections on a target resource (an AzureML workspace, a storage account),
as another party's private endpoint makes them: the fake ARM's side of serverless compute's
private endpoint rules (tests/fakecloud/databricks_account.py creates and removes them).

What it models, each from its source:
- a private endpoint that its target's owner must approve appears on the target as a connection
  in state Pending, named by the provider (`<endpoint name>.<guid>` for storage, as the storage
  spec's examples show: PrivateEndpointConnections_Get "privateEndpointConnectionName":
  "{privateEndpointConnectionName}" of a `.../privateEndpoints/...` id; Learn, "Manage Azure
  private endpoints": "the private-link resource owner can approve, reject, or remove");
- the owner lists them (`GET {target}/privateEndpointConnections`, PrivateEndpointConnections_List)
  and PUTs one's `privateLinkServiceConnectionState` (PrivateEndpointConnections_Put /
  _CreateOrUpdate); a connection is only ever made by an endpoint, so a PUT of one that does
  not exist is refused (404), and a PUT may not change the endpoint it belongs to;
- deleting the endpoint removes its connection.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

CONNECTIONS = "/privateendpointconnections"
STATES = ("Pending", "Approved", "Rejected", "Disconnected")


def add_pending(
    resources: dict[str, dict[str, Any]], target_id: str, endpoint_id: str, group: str
) -> str:
    """A Pending connection from `endpoint_id` on `target_id`; its id."""
    endpoint_name = endpoint_id.rstrip("/").rsplit("/", 1)[-1]
    name = f"{endpoint_name}.{uuid.uuid4()}"
    target = resources[target_id.lower()]
    rid = f"{target['id']}/privateEndpointConnections/{name}"
    resources[rid.lower()] = {
        "id": rid,
        "name": name,
        "type": f"{target['type']}/privateEndpointConnections",
        "properties": {
            "privateEndpoint": {"id": endpoint_id},
            "groupIds": [group],
            "privateLinkServiceConnectionState": {
                "status": "Pending",
                "description": "Requested by Databricks serverless compute",
                "actionsRequired": "None",
            },
            "provisioningState": "Succeeded",
        },
    }
    return rid


def remove_endpoint(resources: dict[str, dict[str, Any]], endpoint_id: str) -> None:
    """The endpoint is deleted: its connections go."""
    for key in [k for k, r in resources.items() if _endpoint(r) == endpoint_id.lower()]:
        del resources[key]


def listing(resources: dict[str, dict[str, Any]], target_id: str) -> tuple[int, Any]:
    """GET {target}/privateEndpointConnections."""
    if target_id.lower() not in resources:
        return 404, _error("ResourceNotFound", f"{target_id} was not found.")
    prefix = target_id.lower() + CONNECTIONS + "/"
    found = [copy.deepcopy(r) for k, r in sorted(resources.items()) if k.startswith(prefix)]
    return 200, {"value": found}


def request(
    resources: dict[str, dict[str, Any]], method: str, rid: str, body: Any
) -> tuple[int, Any]:
    """GET, PUT or DELETE {target}/privateEndpointConnections/{name}."""
    found = resources.get(rid.lower())
    if found is None:
        return 404, _error(
            "PrivateEndpointConnectionNotFound",
            f"Private endpoint connection {rid.rsplit('/', 1)[-1]} does not exist: connections "
            "are made by private endpoints",
        )
    if method == "GET":
        return 200, copy.deepcopy(found)
    if method == "DELETE":
        del resources[rid.lower()]
        return 200, None
    if method != "PUT":
        return 405, _error("MethodNotAllowed", f"{method} is not supported here")
    props = (body or {}).get("properties") or {}
    state = props.get("privateLinkServiceConnectionState") or {}
    if state.get("status") not in STATES:
        return 400, _error(
            "InvalidPrivateLinkServiceConnectionState",
            f"status must be one of {', '.join(STATES)}",
        )
    given = (props.get("privateEndpoint") or {}).get("id")
    if given and given.lower() != _endpoint(found):
        return 400, _error("BadRequest", "the connection's private endpoint cannot change")
    found["properties"]["privateLinkServiceConnectionState"] = {
        "actionsRequired": "None",
        **copy.deepcopy(state),
    }
    return 200, copy.deepcopy(found)


def approved_from(resources: dict[str, dict[str, Any]], target_id: str, endpoint_id: str) -> bool:
    """Whether `endpoint_id` has an Approved connection on `target_id`."""
    prefix = target_id.lower() + CONNECTIONS + "/"
    return any(
        key.startswith(prefix)
        and _endpoint(r) == endpoint_id.lower()
        and r["properties"]["privateLinkServiceConnectionState"].get("status") == "Approved"
        for key, r in resources.items()
    )


def _endpoint(resource: dict[str, Any]) -> str:
    if not resource.get("type", "").lower().endswith(CONNECTIONS):
        return ""
    props = resource.get("properties") or {}
    return str((props.get("privateEndpoint") or {}).get("id", "")).lower()


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
