"""A stateful loopback Databricks REST API (2.0/2.1) for the e2e tests.

One workspace per `workspaceUrl` that the fake ARM holds: a request names its workspace by its
Host header, and a workspace that ARM no longer has answers 404 and loses its clusters and
secrets, as a deleted workspace's data plane does. Served beside ARM by tests/fakecloud/serve.py.

What it enforces, each from the REST API reference (docs.databricks.com/api/azure/workspace):
- secret scope names: unique in the workspace (RESOURCE_ALREADY_EXISTS), at most 128 characters
  of letters, digits, `-`, `_`, `.` and `@` (Secrets API, "Create a secret scope");
- secret keys: the same characters, at most 128 (Secrets API, "Add a secret"); a secret lives
  in an existing scope (RESOURCE_DOES_NOT_EXIST);
- clusters: `spark_version` and `node_type_id` required, `autotermination_minutes` 0 or
  10..10000, `num_workers` or `autoscale` with 0 < min <= max (Clusters API, "Create new
  cluster"); permanent-delete removes the cluster for good;
- a request without a bearer token is 401 (Authentication for Azure Databricks automation).
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None


def error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"error_code": code, "message": message})


@dataclass
class Workspace:
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    libraries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class FakeDatabricks:
    """`workspace_exists(host)` tells whether ARM has a workspace with that URL."""

    def __init__(self, workspace_exists: Callable[[str], bool]) -> None:
        self._exists = workspace_exists
        self.workspaces: dict[str, Workspace] = {}
        self._lock = threading.RLock()

    def handle(
        self, method: str, host: str, path: str, query: dict[str, str], body: Any, token: str
    ) -> Answer:
        host = host.split(":", 1)[0].lower()
        with self._lock:
            if not self._exists(host):
                self.workspaces.pop(host, None)  # the workspace is gone, and its data with it
                return error(404, "WORKSPACE_NOT_FOUND", f"no workspace at {host}")
            if not token:
                return error(401, "UNAUTHENTICATED", "a bearer token is required")
            ws = self.workspaces.setdefault(host, Workspace())
            route = _ROUTES.get((method, re.sub(r"^/api/2\.[01]/", "/", path)))
            if route is not None:
                return route(ws, {**query, **(body or {})})
            match = re.fullmatch(r"/api/2\.0/permissions/clusters/([^/]+)", path)
            if match:
                return _cluster_permissions(ws, method, match.group(1), body or {})
            return error(501, "NOT_IMPLEMENTED", f"the fake does not serve {method} {path}")

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                host: {
                    "scopes": sorted(ws.scopes),
                    "secrets": sorted(f"{s}/{k}" for s, k in ws.secrets),
                    "clusters": copy.deepcopy(ws.clusters),
                    "permissions": copy.deepcopy(ws.permissions),
                }
                for host, ws in self.workspaces.items()
            }


def _name_error(kind: str, value: Any) -> Answer | None:
    if not isinstance(value, str) or not NAME.match(value):
        return error(
            400,
            "INVALID_PARAMETER_VALUE",
            f"{kind} {value!r} must be 1-128 letters, digits, '-', '_', '.' or '@'",
        )
    return None


def _create_scope(ws: Workspace, args: dict[str, Any]) -> Answer:
    name = args.get("scope")
    if (bad := _name_error("scope", name)) is not None:
        return bad
    if name in ws.scopes:
        return error(400, "RESOURCE_ALREADY_EXISTS", f"Scope {name} already exists!")
    backend = args.get("scope_backend_type", "DATABRICKS")
    ws.scopes[name] = {"name": name, "backend_type": backend}
    return Answer(200, {})


def _list_scopes(ws: Workspace, _args: dict[str, Any]) -> Answer:
    return Answer(200, {"scopes": list(ws.scopes.values())})


def _delete_scope(ws: Workspace, args: dict[str, Any]) -> Answer:
    name = args.get("scope")
    if ws.scopes.pop(name, None) is None:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Scope {name} does not exist!")
    for key in [k for k in ws.secrets if k[0] == name]:
        del ws.secrets[key]
    return Answer(200, {})


def _put_secret(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope, key = args.get("scope"), args.get("key")
    if (bad := _name_error("key", key)) is not None:
        return bad
    if scope not in ws.scopes:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Scope {scope} does not exist!")
    ws.secrets[(scope, key)] = str(args.get("string_value", ""))
    return Answer(200, {})


def _list_secrets(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope = args.get("scope")
    if scope not in ws.scopes:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Scope {scope} does not exist!")
    keys = [{"key": k, "last_updated_timestamp": 0} for s, k in ws.secrets if s == scope]
    return Answer(200, {"secrets": keys})


def _delete_secret(ws: Workspace, args: dict[str, Any]) -> Answer:
    if ws.secrets.pop((args.get("scope"), args.get("key")), None) is None:
        return error(404, "RESOURCE_DOES_NOT_EXIST", "Secret does not exist")
    return Answer(200, {})


def _cluster_error(spec: dict[str, Any]) -> Answer | None:
    for required in ("spark_version", "node_type_id"):
        if not spec.get(required):
            return error(400, "INVALID_PARAMETER_VALUE", f"Missing required field: {required}")
    minutes = int(spec.get("autotermination_minutes", 120))
    if minutes != 0 and not 10 <= minutes <= 10000:
        return error(
            400,
            "INVALID_PARAMETER_VALUE",
            "Auto-termination minutes must be 0 or between 10 and 10000",
        )
    autoscale = spec.get("autoscale")
    if autoscale:
        low, high = int(autoscale.get("min_workers", 0)), int(autoscale.get("max_workers", 0))
        if not 0 < low <= high:
            return error(400, "INVALID_PARAMETER_VALUE", "autoscale needs 0 < min <= max")
    elif int(spec.get("num_workers", 0)) < 0:
        return error(400, "INVALID_PARAMETER_VALUE", "num_workers must not be negative")
    return None


def _create_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    if (bad := _cluster_error(args)) is not None:
        return bad
    cluster_id = f"{uuid.uuid4().hex[:4]}-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:8]}"
    ws.clusters[cluster_id] = {**copy.deepcopy(args), "cluster_id": cluster_id, "state": "RUNNING"}
    return Answer(200, {"cluster_id": cluster_id})


def _edit_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    if (bad := _cluster_error(args)) is not None:
        return bad
    state = ws.clusters[cluster_id]["state"]
    ws.clusters[cluster_id] = {**copy.deepcopy(args), "cluster_id": cluster_id, "state": state}
    return Answer(200, {})


def _get_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    return Answer(200, copy.deepcopy(ws.clusters[cluster_id]))


def _delete_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if ws.clusters.pop(cluster_id, None) is None:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    ws.permissions.pop(cluster_id, None)
    ws.libraries.pop(cluster_id, None)
    return Answer(200, {})


def _install_libraries(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    ws.libraries.setdefault(cluster_id, []).extend(args.get("libraries") or [])
    return Answer(200, {})


def _cluster_permissions(ws: Workspace, method: str, cluster_id: str, body: Any) -> Answer:
    if cluster_id not in ws.clusters:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Cluster {cluster_id} does not exist")
    if method == "PUT":  # replaces every direct grant
        ws.permissions[cluster_id] = copy.deepcopy(body.get("access_control_list") or [])
    elif method == "PATCH":
        ws.permissions.setdefault(cluster_id, []).extend(body.get("access_control_list") or [])
    elif method != "GET":
        return error(405, "METHOD_NOT_ALLOWED", method)
    return Answer(
        200,
        {
            "object_id": f"/clusters/{cluster_id}",
            "object_type": "cluster",
            "access_control_list": copy.deepcopy(ws.permissions.get(cluster_id, [])),
        },
    )


_ROUTES: dict[tuple[str, str], Callable[[Workspace, dict[str, Any]], Answer]] = {
    ("POST", "/secrets/scopes/create"): _create_scope,
    ("GET", "/secrets/scopes/list"): _list_scopes,
    ("POST", "/secrets/scopes/delete"): _delete_scope,
    ("POST", "/secrets/put"): _put_secret,
    ("GET", "/secrets/list"): _list_secrets,
    ("POST", "/secrets/delete"): _delete_secret,
    ("POST", "/clusters/create"): _create_cluster,
    ("POST", "/clusters/edit"): _edit_cluster,
    ("GET", "/clusters/get"): _get_cluster,
    ("POST", "/clusters/permanent-delete"): _delete_cluster,
    ("POST", "/libraries/install"): _install_libraries,
}
