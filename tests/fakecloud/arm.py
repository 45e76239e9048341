"""A stateful loopback Azure Resource Manager for tests: HTTPS on 127.0.0.1, a throwaway CA.

Generic: PUT / PATCH / GET / HEAD / DELETE any resource id under
`/subscriptions/{sub}/resourceGroups/{rg}/providers/...` (any api-version), resource groups
(deleting one deletes what is in it), listings, and `/metadata/endpoints?api-version=2022-09-01`
naming this server as `resourceManager`, the document a custom cloud or Azure Stack serves, so
clients find ARM through their cloud setting. On top, the rules of Azure this stack relies on,
each with its source where it is modelled. Faults can be injected per path.

In-process:

    with FakeArm() as arm:            # arm.base_url, arm.ca_file, arm.metadata_host
        arm.fail("/subscriptions/.../vaults/kv", 429, times=2)
        ...; arm.get(resource_id); arm.deleted_vaults

Standalone (for processes that are not Python, e.g. Pulumi provider plugins):

    python -m tests.fakecloud.arm --info /tmp/arm.json

writes {"url", "ca_file", "metadata_host", "pid"} to --info once it listens, then serves until
SIGTERM. Over HTTP: `GET /_fake/state`, `POST /_fake/faults` ({"path", "status", "method",
"times", "code", "message"}), `POST /_fake/operations/finish`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import signal
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

import trustme

from tests.fakecloud import arm_budget, arm_locks
from tests.fakecloud import arm_cmk_rules as cmk_rules
from tests.fakecloud import arm_landing_zone as landing_zone
from tests.fakecloud import arm_managed_network as managed_network
from tests.fakecloud import arm_network_rules as network_rules
from tests.fakecloud import arm_private_endpoint_connections as endpoint_connections
from tests.fakecloud import arm_workspace_rules as workspace_rules

TOKEN = "fake-arm-token"
SUBSCRIPTION = "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"
TENANT = "8d1f3b2a-6c4e-4f7a-9b0d-2e5c7a9f1b3d"

AML_WORKSPACE = "microsoft.machinelearningservices/workspaces"
AML_ONLINE_ENDPOINT = "microsoft.machinelearningservices/workspaces/onlineendpoints"
AML_ONLINE_DEPLOYMENT = AML_ONLINE_ENDPOINT + "/deployments"
AML_COMPUTE = "microsoft.machinelearningservices/workspaces/computes"
AML_BATCH_ENDPOINT = "microsoft.machinelearningservices/workspaces/batchendpoints"
AML_BATCH_DEPLOYMENT = AML_BATCH_ENDPOINT + "/deployments"
DATABRICKS_WORKSPACE = "microsoft.databricks/workspaces"
KEY_VAULT = "microsoft.keyvault/vaults"
SUBNET = "microsoft.network/virtualnetworks/subnets"
PRIVATE_ENDPOINT = "microsoft.network/privateendpoints"
BUDGET = "microsoft.consumption/budgets"
DIAGNOSTIC_SETTINGS = "/providers/microsoft.insights/diagnosticsettings/"
LOG_ANALYTICS = "/providers/microsoft.operationalinsights/workspaces/"
# Learn, "Diagnostic settings in Azure Monitor": each resource takes up to five.
MAX_DIAGNOSTIC_SETTINGS = 5

# Properties Azure refuses to change after creation (lower-case type -> property names), as the
# specs say (azure-rest-api-specs; the same text is in pulumi-azure-native's docstrings):
IMMUTABLE: Mapping[str, tuple[str, ...]] = {
    # machinelearningservices workspaceRP.json, WorkspaceProperties storageAccount, keyVault,
    # applicationInsights: "This cannot be changed once the workspace has been created".
    AML_WORKSPACE: ("storageAccount", "keyVault", "applicationInsights"),
    # databricks WorkspaceProperties.computeMode: "Required on create, cannot be changed";
    # managedResourceGroupId: the appliance's group is fixed (ApplianceManagedResourceGroupMismatch,
    # MicrosoftDocs/azure-docs #21809).
    # defaultCatalog: "default catalog properties during workspace creation" (databricks
    # DefaultCatalogProperties, 2026-01-01); a workspace catalog is not renamed through ARM.
    DATABRICKS_WORKSPACE: ("managedResourceGroupId", "computeMode", "defaultCatalog"),
    # network Subnet.defaultOutboundAccess: "This property can only be set at the time of subnet
    # creation and cannot be updated for an existing subnet."
    SUBNET: ("defaultOutboundAccess",),
}


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


def arm_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any


@dataclass
class _Fault:
    path: str  # lower-case, no query
    method: str | None
    reply: Reply
    remaining: int


@dataclass
class _Operation:
    polls_left: int
    finish: Callable[[], Reply | None]  # an error Reply makes the operation fail
    error: Reply | None = None
    done: bool = False


class ServedFake:
    """A fake that `start()` serves over HTTPS on loopback (`serve_https`, kept in `_server`):
    `stop()` ends the server, then `cleanup()`s; a `with` block starts and stops it."""

    _server: ThreadingHTTPServer | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def cleanup(self) -> None:
        """What the fake leaves besides its server (its files)."""

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class FakeArm(ServedFake):
    """The fake. `start()`/`stop()` or a `with` block.

    `async_polls`: polls a long-running operation answers InProgress before it ends.
    `retry_after`: its Retry-After, the seconds a client waits between those polls
    (azure-resource-manager-rpc, async-api-reference.md); azure-core polls at its own
    `polling_interval` when it is 0.
    `deleted_vault_lag`: GETs of a just-deleted vault in deletedVaults that still answer 404
    (ARM is eventually consistent). `serve_deleted_workspaces`: offer the (undocumented)
    listing of soft-deleted AzureML workspaces.
    """

    def __init__(
        self,
        *,
        async_polls: int = 1,
        retry_after: int = 0,
        deleted_vault_lag: int = 0,
        serve_deleted_workspaces: bool = True,
        state_dir: str | None = None,
    ) -> None:
        self.async_polls = async_polls
        self.retry_after = str(retry_after)
        self.deleted_vault_lag = deleted_vault_lag
        self.serve_deleted_workspaces = serve_deleted_workspaces
        self.resources: dict[str, dict[str, Any]] = {}  # lower-case id -> as ARM returns it
        self.deleted_vaults: dict[str, dict[str, Any]] = {}  # lower-case name -> deleted vault
        self.soft_deleted_workspaces: dict[str, dict[str, Any]] = {}  # lower-case id -> body
        self.requests: list[Recorded] = []
        self._faults: list[_Fault] = []
        self._operations: dict[str, _Operation] = {}
        self._vault_lag: dict[str, int] = {}
        self._workspaces_in_update: set[str] = set()  # lower-case ids of Databricks workspaces
        self._lock = threading.RLock()
        self._own_dir = None if state_dir else tempfile.TemporaryDirectory()
        self._dir = Path(state_dir or self._own_dir.name)  # type: ignore[union-attr]
        self.ca_file = str(self._dir / "fake-arm-ca.pem")
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeArm:
        self._server = serve_https(self._handle, self.ca_file, "127.0.0.1", "localhost")
        self.base_url = f"https://127.0.0.1:{self._server.server_address[1]}"
        return self

    def cleanup(self) -> None:
        if self._own_dir is not None:
            self._own_dir.cleanup()

    @property
    def metadata_host(self) -> str:
        """What `azure-native:metadataHost` takes: host:port, no scheme."""
        return self.base_url.removeprefix("https://")

    def info(self) -> dict[str, Any]:
        return {
            "url": self.base_url,
            "ca_file": self.ca_file,
            "metadata_host": self.metadata_host,
            "pid": os.getpid(),
        }

    # --- test API --------------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int,
        *,
        method: str | None = None,
        times: int = 1,
        code: str = "InjectedFault",
        message: str = "injected by the test",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next `times` requests to `path` (any query; `method` or any) answer `status`,
        with an ARM error of `code` and `message`, or with `body` when given."""
        if body is None:
            body = {"error": {"code": code, "message": message}}
        reply = Reply(status, body, dict(headers or {}))
        with self._lock:
            self._faults.append(
                _Fault(path.lower().rstrip("/"), method and method.upper(), reply, times)
            )

    def transport(self) -> Any:
        """An azure-core transport that trusts this server's CA."""
        from azure.core.pipeline.transport import RequestsTransport

        return RequestsTransport(connection_verify=self.ca_file)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (path is None or r.path.lower() == path.lower())
        ]

    def get(self, resource_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.resources.get(resource_id.lower())
            return copy.deepcopy(found)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, str] | None = None,
    ) -> Reply:
        """Apply a request in-process, through the same rules (for seeding state)."""
        with self._lock:
            return self._route(method.upper(), path, dict(query or {}), body)

    def put(self, resource_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update a resource in-process; raises when ARM would refuse."""
        reply = self.request("PUT", resource_id, dict(body))
        if reply.status >= 400:
            raise ValueError(f"PUT {resource_id}: {reply.status} {reply.body}")
        failed = self.finish_operations()
        if failed:
            raise ValueError(f"PUT {resource_id}: the operation failed: {failed[0].body}")
        return self.get(resource_id) or {}

    def finish_operations(self) -> list[Reply]:
        """End every pending long-running operation now; the errors of those that failed."""
        with self._lock:
            pending = [op for op in self._operations.values() if not op.done]
            for operation in pending:
                self._complete(operation)
            return [op.error for op in pending if op.error is not None]

    def dump(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(
                {
                    "resources": list(self.resources.values()),
                    "deletedVaults": list(self.deleted_vaults.values()),
                    "softDeletedWorkspaces": list(self.soft_deleted_workspaces.values()),
                }
            )

    # --- routing ---------------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Reply:
        url = urlsplit(raw_path)
        path, query = unquote(url.path), dict(parse_qsl(url.query))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return arm_error(400, "InvalidRequestContent", "the request body is not JSON")
        with self._lock:
            self.requests.append(Recorded(method, path, query, headers, body))
            if path.startswith("/_fake/"):
                return self._control(method, path, body)
            for fault in self._faults:
                matches = fault.path == path.lower().rstrip("/") and fault.method in (None, method)
                if matches and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault.reply
            if path.lower() == "/metadata/endpoints":
                return Reply(200, self._metadata())
            if not headers.get("authorization", "").startswith("Bearer "):
                return arm_error(
                    401, "AuthenticationFailed", "The 'Authorization' header is missing."
                )
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        low = [p.lower() for p in parts]
        if low == ["subscriptions"]:
            return Reply(200, {"value": [self._subscription()]})
        if len(low) < 2 or low[0] != "subscriptions":
            return arm_error(501, "FakeArmNoRoute", f"the fake does not serve {method} {path}")
        if len(low) == 2:
            return Reply(200, self._subscription())
        if low[2] == "resources" and len(low) == 3:
            return self._list(lambda r: not _is_group(r))
        if low[2] == "resourcegroups":
            return self._group_route(method, parts, low, query, body)
        if low[2] == "providers" and arm_budget.is_subscription_budget(low):
            return self._subscription_budget(method, parts, body)
        if low[2] == "providers":
            return self._subscription_provider_route(method, parts, low)
        return arm_error(501, "FakeArmNoRoute", f"the fake does not serve {method} {path}")

    def _group_route(
        self, method: str, parts: list[str], low: list[str], query: dict[str, str], body: Any
    ) -> Reply:
        if len(low) == 3:
            return self._list(_is_group)
        group_id = f"/subscriptions/{parts[1]}/resourceGroups/{parts[3]}"
        if len(low) == 4:
            return self._group(method, group_id, body)
        if low[4] == "resources" and len(low) == 5:
            prefix = group_id.lower() + "/providers/"
            return self._list(lambda r: r["id"].lower().startswith(prefix))
        if low[4] != "providers" or len(low) < 8:
            return arm_error(501, "FakeArmNoRoute", f"the fake does not serve {'/'.join(parts)}")
        if group_id.lower() not in self.resources:
            return arm_error(
                404, "ResourceGroupNotFound", f"Resource group '{parts[3]}' could not be found."
            )
        rest = parts[5:]  # namespace, type, name, [type, name]...
        if "privateendpointconnections" in low[-2:]:
            return self._endpoint_connection(method, "/" + "/".join(parts), body)
        if len(rest) % 2 == 0:
            return self._action(method, "/" + "/".join(parts[:-1]), rest, body)
        resource_id = "/" + "/".join(parts)
        rtype = "/".join([rest[0], *rest[1::2]])
        if rtype.lower() == managed_network.OUTBOUND_RULES:
            return self._outbound_rule(method, resource_id, body)
        if method in ("GET", "HEAD"):
            found = self.resources.get(resource_id.lower())
            if found is None:
                return _not_found(rtype, parts[-1], parts[3])
            return Reply(200 if method == "GET" else 204, copy.deepcopy(found))
        if method == "PUT":
            return self._put(resource_id, rtype, parts[-1], body or {})
        if method == "PATCH":
            return self._patch(resource_id, rtype, parts[-1], body or {})
        if method == "DELETE":
            return self._delete(resource_id, rtype, query)
        return arm_error(405, "MethodNotAllowed", f"{method} is not supported here")

    def _subscription_budget(self, method: str, parts: list[str], body: Any) -> Reply:
        """A budget at subscription scope (tests/fakecloud/arm_budget.py)."""
        resource_id = "/" + "/".join(parts)
        if method == "PUT":
            return self._put(resource_id, "Microsoft.Consumption/budgets", parts[-1], body or {})
        if method == "DELETE":
            return self._delete(resource_id, "Microsoft.Consumption/budgets", {})
        found = self.resources.get(resource_id.lower())
        if found is None:
            return arm_error(404, "ResourceNotFound", f"The budget '{parts[-1]}' was not found.")
        return Reply(200, copy.deepcopy(found))

    def _subscription_provider_route(self, method: str, parts: list[str], low: list[str]) -> Reply:
        if len(low) == 4:  # GET /subscriptions/{s}/providers/{namespace}
            return Reply(200, {"namespace": parts[3], "registrationState": "Registered"})
        namespace = low[3]
        if namespace == "microsoft.keyvault" and low[4:5] == ["deletedvaults"]:
            return Reply(200, {"value": copy.deepcopy(list(self.deleted_vaults.values()))})
        if namespace == "microsoft.keyvault" and len(low) >= 8 and low[6] == "deletedvaults":
            return self._deleted_vault(method, low[5], parts[7], purge=low[8:] == ["purge"])
        if namespace == "microsoft.machinelearningservices" and low[4:] == ["deletedworkspaces"]:
            # Undocumented: what the portal's "Recently deleted" view reads. Real ARM may answer
            # InvalidResourceType; serve_deleted_workspaces=False plays that.
            if not self.serve_deleted_workspaces:
                return arm_error(
                    400,
                    "InvalidResourceType",
                    "The resource type 'deletedWorkspaces' could not be found in the namespace "
                    "'Microsoft.MachineLearningServices'.",
                )
            return Reply(200, {"value": copy.deepcopy(list(self.soft_deleted_workspaces.values()))})
        if len(low) == 8 and low[4] == "locations" and low[6] in _OPERATION_KINDS:
            return self._poll(low[7], location_style=low[6] == "operationresults")
        return arm_error(501, "FakeArmNoRoute", f"the fake does not serve {'/'.join(parts)}")

    def _control(self, method: str, path: str, body: Any) -> Reply:
        if method == "GET" and path == "/_fake/state":
            return Reply(200, self.dump())
        if method == "POST" and path == "/_fake/faults":
            spec = body or {}
            self.fail(
                spec["path"],
                int(spec["status"]),
                method=spec.get("method"),
                times=int(spec.get("times", 1)),
                code=spec.get("code", "InjectedFault"),
                message=spec.get("message", "injected by the test"),
            )
            return Reply(204)
        if method == "POST" and path == "/_fake/operations/finish":
            self.finish_operations()
            return Reply(204)
        return arm_error(404, "NotFound", f"no control endpoint {method} {path}")

    # --- documents -------------------------------------------------------------------------

    def _metadata(self) -> dict[str, Any]:
        # The 2022-09-01 form is one object (go-azure-helpers' metadata client reads it so;
        # 2019-05-01 answered a list). `name` AzureCloud and identityProvider AAD keep Go
        # clients from treating the cloud as Azure Stack (ADFS).
        base = self.base_url + "/"
        return {
            "name": "AzureCloud",
            "portal": base,
            "resourceManager": base,
            "authentication": {
                "loginEndpoint": base,
                "audiences": [base],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "graph": base,
            "graphAudience": base,
            "microsoftGraphResourceId": base,
            "suffixes": {"keyVaultDns": "vault.azure.net", "storage": "core.windows.net"},
        }

    def _subscription(self) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{SUBSCRIPTION}",
            "subscriptionId": SUBSCRIPTION,
            "tenantId": TENANT,
            "displayName": "fake subscription",
            "state": "Enabled",
        }

    def _list(self, keep: Callable[[dict[str, Any]], bool]) -> Reply:
        return Reply(200, {"value": [copy.deepcopy(r) for r in self.resources.values() if keep(r)]})

    # --- resource groups -------------------------------------------------------------------

    def _group(self, method: str, group_id: str, body: Any) -> Reply:
        key, name = group_id.lower(), group_id.rsplit("/", 1)[1]
        found = self.resources.get(key)
        if method in ("GET", "HEAD"):
            if found is None:
                return arm_error(
                    404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found."
                )
            return Reply(200 if method == "GET" else 204, copy.deepcopy(found))
        if method in ("PUT", "PATCH"):
            body = body or {}
            group = found or {
                "id": group_id,
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
            }
            if "location" in body or found is None:
                group["location"] = _location(body.get("location", ""))
            for key_ in ("tags", "managedBy"):
                if key_ in body:
                    group[key_] = copy.deepcopy(body[key_])
            group["properties"] = {"provisioningState": "Succeeded"}
            self.resources[key] = group
            return Reply(201 if found is None else 200, copy.deepcopy(group))
        if method == "DELETE":
            if found is None:
                return arm_error(
                    404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found."
                )
            locked = self._locked(key, "delete", ("CanNotDelete", "ReadOnly"))
            if locked:
                return locked
            inside = arm_locks.locks_inside(self.resources, key)
            if inside:
                return _scope_locked(key, "delete", inside[0])
            found["properties"]["provisioningState"] = "Deleting"
            return self._accepted(lambda: self._delete_group(key), found["location"])
        return arm_error(405, "MethodNotAllowed", f"{method} is not supported on a group")

    def _delete_group(self, key: str) -> None:
        # Deleting a group deletes what is in it, each by its own type's rules (a key vault goes
        # to deletedVaults, an AzureML workspace is soft-deleted).
        prefix = key + "/providers/"
        for rid in sorted((r for r in self.resources if r.startswith(prefix)), key=len):
            if rid in self.resources:
                self._remove(rid, {})
        self.resources.pop(key, None)

    # --- resources -------------------------------------------------------------------------

    def _put(self, rid: str, rtype: str, name: str, body: Mapping[str, Any]) -> Reply:
        key, kind = rid.lower(), rtype.lower()
        parent = key.rsplit("/", 2)[0]
        scope, _, own = key.rpartition("/providers/")
        if "/providers/" in scope and own.count("/") == 2:
            # An extension resource ({scope}/providers/{ns}/{type}/{name}, e.g. a role
            # assignment on a workspace): its parent is the resource it extends.
            parent = scope
        if kind.count("/") > 1 and parent not in self.resources and not self._implicit(parent):
            return arm_error(404, "ParentResourceNotFound", f"the parent of {name} does not exist")
        old = self.resources.get(key)
        locked = self._locked(key, "write", ("ReadOnly",))
        if locked:
            return locked
        props = dict(body.get("properties") or {})
        in_landing_zone = landing_zone.refuse_put(self.resources, kind, rid, body)
        if in_landing_zone:
            return arm_error(*in_landing_zone)
        if old is not None:
            refused = _changed_immutable(kind, old.get("properties") or {}, props)
            if refused:
                return refused
        refused = (
            self._refuse(kind, name, rid, props, old)
            or self._refuse_in_workspace(kind, name, rid, props, old)
            or self._refuse_serving(kind, key, body, props, old)
        )
        if refused:
            return refused
        resource: dict[str, Any] = {"id": rid, "name": name, "type": rtype}
        for field_ in ("location", "tags", "sku", "identity", "kind", "zones"):
            if field_ in body:
                resource[field_] = copy.deepcopy(body[field_])
        if "location" in resource:
            resource["location"] = _location(resource["location"])
        resource["properties"] = copy.deepcopy(props)
        self._computed(kind, resource, old)
        self.resources[key] = resource
        if kind == DATABRICKS_WORKSPACE and old is None:
            return self._create_databricks(resource)
        if kind == workspace_rules.PRIVATE_ENDPOINT and old is None:
            return self._connect_private_endpoint(resource)
        return Reply(200 if old else 201, copy.deepcopy(resource))

    def _refuse_in_workspace(
        self, kind: str, name: str, rid: str, props: Mapping[str, Any], old: Any
    ) -> Reply | None:
        """Writes Azure refuses because of another resource of the workspace
        (tests/fakecloud/arm_workspace_rules.py cites each)."""
        if kind == AML_ONLINE_ENDPOINT:
            missing = workspace_rules.missing_deployment(self.resources, rid, props)
            if missing is not None:
                return arm_error(
                    404,
                    "UserError",
                    f"Deployment {missing} not found in endpoint {name}, workspace "
                    f"{rid.split('/')[8]}",
                )
        if kind == workspace_rules.PRIVATE_ENDPOINT and old is None:
            targets = {t.lower() for t in workspace_rules.private_link_targets(props)}
            if targets & self._workspaces_in_update:
                return arm_error(
                    409,
                    workspace_rules.CONCURRENT_UPDATE_CODE,
                    workspace_rules.CONCURRENT_UPDATE_MESSAGE,
                )
        return None

    def _connect_private_endpoint(self, endpoint: dict[str, Any]) -> Reply:
        """A new endpoint to a Databricks workspace is a long-running update of the workspace:
        until it ends, another one to that workspace is refused (_refuse_in_workspace)."""
        targets = [
            t.lower()
            for t in workspace_rules.private_link_targets(endpoint["properties"])
            if self.resources.get(t.lower(), {}).get("type", "").lower() == DATABRICKS_WORKSPACE
        ]
        if not targets:
            return Reply(201, copy.deepcopy(endpoint))
        self._workspaces_in_update.update(targets)
        endpoint["properties"]["provisioningState"] = "Updating"

        def finish() -> Reply | None:
            self._workspaces_in_update.difference_update(targets)
            endpoint["properties"]["provisioningState"] = "Succeeded"
            return None

        return self._accepted(finish, endpoint.get("location", ""), status=201, body=endpoint)

    def _implicit(self, key: str) -> bool:
        """Child resources Azure has for every parent: a storage account's one blob service,
        `default` (storage spec, BlobServices: "Blob Service Name must be 'default'")."""
        account, _, service = key.rpartition("/blobservices/")
        return service == "default" and account in self.resources

    def _locked(self, key: str, operation: str, levels: tuple[str, ...]) -> Reply | None:
        """ARM's answer when a management lock at `key` or above forbids `operation`: a
        CanNotDelete lock refuses deletes, a ReadOnly one deletes and writes, to everyone, on
        the scope and all it contains; the lock itself stays removable (Learn, "Lock your
        resources to protect your infrastructure"; the 409 ScopeLocked answer as quoted in
        Azure/azure-cli #20232 and Azure/apiops #606)."""
        for rid, resource in self.resources.items():
            if not arm_locks.is_lock(rid) or rid == key:
                continue
            level = (resource.get("properties") or {}).get("level")
            scope = rid.rsplit("/providers/", 1)[0]
            if level in levels and (key == scope or key.startswith(scope + "/")):
                return arm_error(
                    409,
                    "ScopeLocked",
                    f"The scope '{key}' cannot perform {operation} operation because following "
                    f"scope(s) are locked: '{resource['id'].rsplit('/providers/', 1)[0]}'. "
                    "Please remove the lock and try again.",
                )
        return None

    def _patch(self, rid: str, rtype: str, name: str, body: Mapping[str, Any]) -> Reply:
        old = self.resources.get(rid.lower())
        if old is None:
            return _not_found(rtype, name, rid.split("/")[4])
        merged = copy.deepcopy(old)
        for field_, value in body.items():
            if field_ == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            else:
                merged[field_] = copy.deepcopy(value)
        return self._put(rid, rtype, name, merged)

    def _refuse(
        self, kind: str, name: str, rid: str, props: Mapping[str, Any], old: Any
    ) -> Reply | None:
        """Creation-time rules of Azure; None when the request may go on."""
        if kind == KEY_VAULT:
            # keyvault.json VaultProperties.enablePurgeProtection: "Enabling this functionality
            # is irreversible - that is, the property does not accept false as its value."
            # Azure answers 400 BadRequest, on create too (Azure/azure-cli #29115).
            if props.get("enablePurgeProtection") is False:
                return arm_error(
                    400,
                    "BadRequest",
                    'The property "enablePurgeProtection" cannot be set to false. Enabling the '
                    "purge protection for a vault is an irreversible action.",
                )
            recovering = props.get("createMode") == "recover"
            if old is None and name.lower() in self.deleted_vaults and not recovering:
                return arm_error(  # the answer quoted in Azure/azure-cli #29115
                    409,
                    "ConflictError",
                    "A vault with the same name already exists in deleted state. You need "
                    "to either recover or purge existing key vault.",
                )
            if old is None and any(
                r["name"].lower() == name.lower() and r["type"].lower() == KEY_VAULT
                for r in self.resources.values()
            ):  # vault names are global (they are DNS names)
                return arm_error(
                    409, "VaultAlreadyExists", f"The vault name '{name}' is already in use."
                )
        # Learn, "Workspace soft deletion": the name of a soft-deleted workspace cannot be reused
        # until the retention period passes or it is permanently deleted.
        soft_deleted = (w["name"].lower() for w in self.soft_deleted_workspaces.values())
        if kind == AML_WORKSPACE and old is None and name.lower() in soft_deleted:
            return arm_error(
                409,
                "Conflict",
                f"Workspace {name} is soft-deleted; recover or permanently delete it first.",
            )
        cmk = cmk_rules.refuse(kind, self.resources, props, old)
        if cmk:
            return arm_error(*cmk)
        if DIAGNOSTIC_SETTINGS in rid.lower():
            return self._refuse_diagnostic_setting(rid, props, old)
        if kind == BUDGET:
            bad_filter = arm_budget.refuse_budget_filter(props)
            if bad_filter:
                return arm_error(400, "BadRequest", bad_filter)
            return _refuse_budget(props)
        if kind == DATABRICKS_WORKSPACE:
            refused = self._refuse_storage_firewall(props)
            if refused:
                return refused
        if kind == DATABRICKS_WORKSPACE and old is None:
            # databricks WorkspaceProperties.managedResourceGroupId: "Required in Hybrid
            # ComputeMode workspace. Not allowed in Serverless ComputeMode workspace."
            serverless = str(props.get("computeMode", "")).lower() == "serverless"
            if serverless == bool(props.get("managedResourceGroupId")):
                return arm_error(
                    400,
                    "InvalidParameter",
                    "managedResourceGroupId is required in a Hybrid workspace and not allowed "
                    "in a Serverless one",
                )
        return None

    def _refuse_storage_firewall(self, props: Mapping[str, Any]) -> Reply | None:
        # databricks WorkspaceProperties.defaultStorageFirewall: "Not allowed in Serverless
        # ComputeMode workspace"; Learn, "Enable firewall support for your workspace storage
        # account": the firewall needs the workspace's access connector.
        if str(props.get("defaultStorageFirewall", "")).lower() != "enabled":
            return None
        if str(props.get("computeMode", "")).lower() == "serverless":
            return arm_error(
                400,
                "InvalidParameter",
                "defaultStorageFirewall is not allowed in a Serverless workspace",
            )
        connector = str((props.get("accessConnector") or {}).get("id", ""))
        if not connector or connector.lower() not in self.resources:
            return arm_error(
                400,
                "InvalidParameter",
                "defaultStorageFirewall Enabled needs accessConnector naming an existing access "
                f"connector; got '{connector}'",
            )
        return None

    def _refuse_diagnostic_setting(
        self, rid: str, props: Mapping[str, Any], old: Any
    ) -> Reply | None:
        # Learn, "Diagnostic settings in Azure Monitor": a setting names at least one
        # destination, which must exist; up to five settings per resource.
        workspace = str(props.get("workspaceId") or "")
        if (
            not workspace
            and not props.get("storageAccountId")
            and not props.get("eventHubAuthorizationRuleId")
        ):
            return arm_error(
                400,
                "BadRequest",
                "At least one storage account, event hub or workspace is required.",
            )
        ours = workspace.lower().startswith(f"/subscriptions/{SUBSCRIPTION}/")
        if workspace and ours and workspace.lower() not in self.resources:
            return arm_error(
                400, "BadRequest", f"Resource '{workspace}' was not found (the log destination)."
            )
        if LOG_ANALYTICS not in workspace.lower() and workspace:
            return arm_error(
                400, "BadRequest", f"'{workspace}' is not a Log Analytics workspace id."
            )
        if not any(
            log.get("enabled") for log in props.get("logs") or [] if isinstance(log, dict)
        ) and not any(
            metric.get("enabled")
            for metric in props.get("metrics") or []
            if isinstance(metric, dict)
        ):
            return arm_error(400, "BadRequest", "At least one log or metric must be enabled.")
        for log in props.get("logs") or []:
            if bool(log.get("category")) == bool(log.get("categoryGroup")):
                return arm_error(
                    400, "BadRequest", "Each log setting names a category or a categoryGroup."
                )
        scope = rid.lower().rsplit(DIAGNOSTIC_SETTINGS, 1)[0]
        siblings = [k for k in self.resources if k.startswith(scope + DIAGNOSTIC_SETTINGS)]
        if old is None and len(siblings) >= MAX_DIAGNOSTIC_SETTINGS:
            return arm_error(
                400, "BadRequest", f"At most {MAX_DIAGNOSTIC_SETTINGS} diagnostic settings."
            )
        return None

    def _computed(self, kind: str, resource: dict[str, Any], old: Any) -> None:
        """Read-only properties ARM computes, kept across updates."""
        props, before = resource["properties"], (old or {}).get("properties") or {}
        props["provisioningState"] = "Succeeded"
        identity = resource.get("identity")
        if isinstance(identity, dict) and "SystemAssigned" in str(identity.get("type", "")):
            kept = (old or {}).get("identity") or {}
            identity["principalId"] = kept.get("principalId") or str(uuid.uuid4())
            identity["tenantId"] = TENANT
        if isinstance(identity, dict):
            cmk_rules.user_identities(self.resources, identity)
        location = resource.get("location", "")
        self._computed_serving(kind, resource, before)
        cmk_rules.computed(kind, props, before, resource["id"])
        if kind == AML_WORKSPACE:
            props["workspaceId"] = before.get("workspaceId") or str(uuid.uuid4())
            props["discoveryUrl"] = f"https://{location}.api.azureml.ms/discovery"
            # Learn, "Track Azure Databricks ML experiments with MLflow and Azure ML": the
            # tracking URI is azureml://<region>.api.azureml.ms/mlflow/v1.0 + the workspace id.
            props["mlFlowTrackingUri"] = (
                f"azureml://{location}.api.azureml.ms/mlflow/v1.0{resource['id']}"
            )
        elif kind == DATABRICKS_WORKSPACE:
            # The workspace (DBFS root) storage account's name: the one given, else Azure's
            # `dbstorage<random>` (databricks WorkspaceCustomParameters.storageAccountName).
            parameters = props.setdefault("parameters", {})
            kept = (before.get("parameters") or {}).get("storageAccountName")
            parameters["storageAccountName"] = (
                parameters.get("storageAccountName")
                or kept
                or {
                    "type": "String",
                    "value": f"dbstorage{random.randrange(10**12, 10**13)}",
                }
            )
            workspace_id = before.get("workspaceId") or str(random.randrange(10**15, 10**16))
            props["workspaceId"] = workspace_id
            props["workspaceUrl"] = before.get("workspaceUrl") or (
                f"adb-{workspace_id}.{random.randrange(1, 20)}.azuredatabricks.net"
            )
        elif kind == AML_ONLINE_ENDPOINT:
            # Learn, "Deploy and score a model with an online endpoint": the scoring URI is
            # https://<endpoint>.<region>.inference.ml.azure.com/score.
            base = f"https://{resource['name']}.{location}.inference.ml.azure.com"
            props["scoringUri"] = f"{base}/score"
            props["swaggerUri"] = f"{base}/swagger.json"
        elif kind == PRIVATE_ENDPOINT:
            # Learn, "Manage Azure private endpoints": a connection requested by someone with
            # rights on the target resource is approved automatically.
            for connection in props.get("privateLinkServiceConnections") or []:
                state = connection.setdefault("properties", {})
                state["privateLinkServiceConnectionState"] = {
                    "status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"
                }  # fmt: skip
        elif kind == KEY_VAULT:
            props["vaultUri"] = f"https://{resource['name']}.vault.azure.net/"
            props.setdefault("enableSoftDelete", True)
            props.setdefault("softDeleteRetentionInDays", 90)
            if before.get("enablePurgeProtection"):  # irreversible (see _refuse)
                props["enablePurgeProtection"] = True

    def _create_databricks(self, workspace: dict[str, Any]) -> Reply:
        # The managed resource group must not exist: Azure accepts the PUT, then the operation
        # fails with ApplianceProvisioningFailed (pulumi/pulumi-azure-native #3643).
        workspace["properties"]["provisioningState"] = "Accepted"
        managed = str(workspace["properties"].get("managedResourceGroupId") or "")

        def finish() -> Reply | None:
            if not managed:
                workspace["properties"]["provisioningState"] = "Succeeded"
                return None
            if managed.lower() in self.resources:
                workspace["properties"]["provisioningState"] = "Failed"
                return arm_error(
                    400,
                    "ApplianceProvisioningFailed",
                    f"The managed resource group '{managed}' already exists. Please specify a "
                    "new non-existent managed resource group",
                )
            self.resources[managed.lower()] = {
                "id": managed,
                "name": managed.rsplit("/", 1)[1],
                "type": "Microsoft.Resources/resourceGroups",
                "location": workspace.get("location", ""),
                "managedBy": workspace["id"],
                "properties": {"provisioningState": "Succeeded"},
            }
            # Azure Databricks puts the workspace storage account (DBFS root) in it.
            account = workspace["properties"]["parameters"]["storageAccountName"]["value"]
            account_id = f"{managed}/providers/Microsoft.Storage/storageAccounts/{account}"
            self.resources[account_id.lower()] = {
                "id": account_id,
                "name": account,
                "type": "Microsoft.Storage/storageAccounts",
                "location": workspace.get("location", ""),
                "properties": {"provisioningState": "Succeeded"},
            }
            workspace["properties"]["provisioningState"] = "Succeeded"
            # Databricks' network intent policy writes its rules into the subnets' NSG.
            workspace_rules.write_network_intent_rules(self.resources, workspace)
            return None

        return self._accepted(finish, workspace.get("location", ""), status=201, body=workspace)

    def _delete(self, rid: str, rtype: str, query: Mapping[str, str]) -> Reply:
        key, kind = rid.lower(), rtype.lower()
        found = self.resources.get(key)
        if found is None and key in self.soft_deleted_workspaces:
            # A soft-deleted workspace answers 404 to a delete, forceToPurge too, while its
            # name stays taken (Azure/azure-cli #33756).
            return _not_found(rtype, rid.rsplit("/", 1)[1], rid.split("/")[4])
        if found is None:
            return Reply(204)  # ARM's answer to deleting what is not there
        in_use = landing_zone.refuse_delete(self.resources, kind, key)
        if in_use:
            return arm_error(*in_use)
        locked = self._locked(key, "delete", ("CanNotDelete", "ReadOnly"))
        if locked:
            return locked
        if kind in (AML_WORKSPACE, DATABRICKS_WORKSPACE):
            found["properties"]["provisioningState"] = "Deleting"
            return self._accepted(lambda: self._remove(key, query), found.get("location", ""))
        self._remove(key, query)
        return Reply(200)

    def _remove(self, key: str, query: Mapping[str, str]) -> None:
        """Delete one resource (and its children) by its type's rules."""
        resource = self.resources.pop(key, None)
        if resource is None:
            return
        for child in [r for r in self.resources if r.startswith(key + "/")]:
            self.resources.pop(child, None)
        kind = resource["type"].lower()
        props = resource.get("properties") or {}
        if kind == AML_WORKSPACE and query.get("forceToPurge", "").lower() != "true":
            # workspaceRP.json Workspaces_Delete: forceToPurge "Flag to indicate delete is a
            # purge request"; without it the workspace is soft-deleted (Learn, "Workspace soft
            # deletion") and, deleted, answers 404 while its name stays taken (Azure/azure-cli
            # #33756).
            resource["properties"] = {**props, "provisioningState": "SoftDeleted"}
            self.soft_deleted_workspaces[key] = resource
        elif kind == DATABRICKS_WORKSPACE:
            # Learn, "Delete a workspace": the managed resource group is not always removed
            # (terraform-provider-azurerm #28959); databricks.json Workspaces_Delete takes
            # forceDeletion. The fake removes it only with forceDeletion=true.
            if query.get("forceDeletion", "").lower() == "true":
                managed = str(props.get("managedResourceGroupId", "")).lower()
                self._delete_group(managed)
        elif kind == KEY_VAULT and props.get("enableSoftDelete", True):
            # keyvault.json DeletedVault; Learn, "Azure Key Vault soft-delete overview".
            deleted_at = datetime.now(UTC)
            days = int(props.get("softDeleteRetentionInDays", 90))
            name = resource["name"]
            location = resource.get("location", "")
            self.deleted_vaults[name.lower()] = {
                "id": (
                    f"/subscriptions/{key.split('/')[2]}/providers/Microsoft.KeyVault/locations/"
                    f"{location}/deletedVaults/{name}"
                ),
                "name": name,
                "type": "Microsoft.KeyVault/deletedVaults",
                "properties": {
                    "vaultId": resource["id"],
                    "location": location,
                    "deletionDate": _timestamp(deleted_at),
                    "scheduledPurgeDate": _timestamp(deleted_at + timedelta(days=days)),
                    "tags": copy.deepcopy(resource.get("tags") or {}),
                    "purgeProtectionEnabled": bool(props.get("enablePurgeProtection")),
                },
            }
            self._vault_lag[name.lower()] = self.deleted_vault_lag

    def _deleted_vault(self, method: str, location: str, name: str, *, purge: bool) -> Reply:
        vault = self.deleted_vaults.get(name.lower())
        if vault is not None and vault["properties"]["location"] != _location(location):
            vault = None
        if vault is not None and self._vault_lag.get(name.lower(), 0) > 0:
            self._vault_lag[name.lower()] -= 1
            vault = None
        if vault is None:
            return arm_error(
                404, "ResourceNotFound", f"The deleted vault '{name}' could not be found."
            )
        if not purge and method == "GET":
            return Reply(200, copy.deepcopy(vault))
        if purge and method == "POST":
            if vault["properties"]["purgeProtectionEnabled"]:
                # What Azure answers (microsoft/AzureTRE #1446, Azure/azure-sdk-tools #9329).
                return arm_error(
                    409, "MethodNotAllowed", "Operation 'DeletedVaultPurge' is not allowed."
                )
            return self._accepted(
                lambda: self.deleted_vaults.pop(name.lower(), None) and None,
                vault["properties"]["location"],
                location_only=True,
            )
        return arm_error(405, "MethodNotAllowed", f"{method} is not supported here")

    # --- AzureML serving: managed network, computes, batch endpoints -------------------------

    def _action(self, method: str, rid: str, rest: list[str], body: Any) -> Reply:
        """POST {resource}/{action}: the actions the fake knows."""
        rtype = "/".join([rest[0], *rest[1:-1:2]]).lower()
        action = rest[-1].lower()
        if method == "POST" and rtype == AML_WORKSPACE and action == "provisionmanagednetwork":
            return self._provision_managed_network(rid)
        return arm_error(501, "FakeArmNoRoute", f"no action {rest[-1]} in the fake")

    def _provision_managed_network(self, rid: str) -> Reply:
        # workspaceRP ManagedNetworkProvisions_ProvisionManagedNetwork: 202, then the
        # ManagedNetworkProvisionStatus ({status: Active}); Learn, "Manually provision a managed
        # VNet". A workspace without a managed network has nothing to provision.
        workspace = self.resources.get(rid.lower())
        if workspace is None:
            return _not_found(
                "Microsoft.MachineLearningServices/workspaces", rid, rid.split("/")[4]
            )
        network = workspace["properties"].get("managedNetwork") or {}
        if _isolation(network) == "disabled":
            return arm_error(
                400,
                "BadRequest",
                "Managed network is not enabled for this workspace; set "
                "managedNetwork.isolationMode before provisioning it.",
            )

        def finish() -> Reply | None:
            managed_network.provisioned(self.resources, workspace)
            return None

        return self._accepted(finish, workspace.get("location", ""), body=None)

    def add_pending_connection(self, target_id: str, endpoint_id: str, group: str) -> str:
        """Another party's private endpoint to `target_id` awaits its owner's approval
        (tests/fakecloud/arm_private_endpoint_connections.py); the connection's id."""
        with self._lock:
            return endpoint_connections.add_pending(self.resources, target_id, endpoint_id, group)

    def remove_endpoint(self, endpoint_id: str) -> None:
        with self._lock:
            endpoint_connections.remove_endpoint(self.resources, endpoint_id)

    def _endpoint_connection(self, method: str, path: str, body: Any) -> Reply:
        if path.lower().endswith(endpoint_connections.CONNECTIONS):
            if method != "GET":
                return arm_error(405, "MethodNotAllowed", f"{method} is not supported here")
            target = path[: -len(endpoint_connections.CONNECTIONS)]
            return Reply(*endpoint_connections.listing(self.resources, target))
        return Reply(*endpoint_connections.request(self.resources, method, path, body))

    def _outbound_rule(self, method: str, rid: str, body: Any) -> Reply:
        """A workspace's outbound rule, one by one (arm_managed_network.py)."""
        workspace = self.resources.get(rid.lower().rsplit("/outboundrules/", 1)[0])
        if method in ("PUT", "DELETE") and workspace is not None:
            levels = ("CanNotDelete", "ReadOnly") if method == "DELETE" else ("ReadOnly",)
            locked = self._locked(rid.lower(), "delete" if method == "DELETE" else "write", levels)
            if locked:
                return locked
        status, answer = managed_network.rule_request(
            workspace, method, rid.rsplit("/", 1)[-1], body
        )
        return Reply(status, answer)

    def _refuse_serving(
        self, kind: str, key: str, body: Mapping[str, Any], props: Mapping[str, Any], old: Any
    ) -> Reply | None:
        """AzureML's rules for managed networks, computes and endpoints; None lets it through."""
        if kind == AML_WORKSPACE and old is not None:
            # Learn, "Managed virtual network isolation", Limitations: once managed virtual
            # network isolation is enabled, it can't be disabled.
            before = _isolation(old["properties"].get("managedNetwork") or {})
            after = _isolation(props.get("managedNetwork") or {}, default=None)
            if before != "disabled" and after == "disabled":
                return arm_error(
                    400,
                    "BadRequest",
                    "Managed network isolation cannot be disabled once it is enabled.",
                )
            downgrade = network_rules.approved_only_downgrade(
                old["properties"].get("managedNetwork"), props.get("managedNetwork")
            )
            if downgrade:
                return arm_error(400, "BadRequest", downgrade)
        workspace_key = (
            key.split("/providers/", 1)[0]
            + "/providers/"
            + "/".join(key.split("/providers/", 1)[1].split("/")[:3])
            if "/providers/microsoft.machinelearningservices/" in key
            else ""
        )
        workspace = self.resources.get(workspace_key) or {}
        if kind == AML_ONLINE_DEPLOYMENT and old is None:
            # Learn, "Network isolation with managed online endpoints": a deployment reaches a
            # workspace with public network access disabled only through the workspace's
            # managed VNet, which must be provisioned first (Learn, "Manually provision a
            # managed VNet": it is not created for online endpoints on its own).
            wprops = workspace.get("properties") or {}
            if str(wprops.get("publicNetworkAccess", "")).lower() == "disabled":
                network = wprops.get("managedNetwork") or {}
                if (
                    _isolation(network) == "disabled"
                    or (network.get("status") or {}).get("status") != "Active"
                ):
                    return arm_error(
                        400,
                        "BadRequest",
                        "The workspace has public network access disabled and its managed "
                        "network is not provisioned; enable managedNetwork and provision it "
                        "before creating deployments.",
                    )
        if kind in (AML_ONLINE_DEPLOYMENT, AML_BATCH_DEPLOYMENT) and old is None and workspace:
            unbuildable = network_rules.image_build_refused(self.resources, workspace)
            if unbuildable:
                return arm_error(400, "BadRequest", unbuildable)
        if kind == AML_COMPUTE:
            stranded = network_rules.compute_without_outbound(workspace, props)
            if stranded:
                return arm_error(400, "BadRequest", stranded)
            return _refuse_compute(props, old)
        if kind == AML_BATCH_ENDPOINT:
            return self._refuse_batch_endpoint(key, props)
        if kind == AML_BATCH_DEPLOYMENT:
            return self._refuse_batch_deployment(body, props, workspace_key)
        return None

    def _refuse_batch_endpoint(self, key: str, props: Mapping[str, Any]) -> Reply | None:
        # machinelearningservices BatchEndpointProperties.authMode is required; batch endpoints
        # take Microsoft Entra tokens only (Learn, "Authorization on batch endpoints").
        if props.get("authMode") != "AADToken":
            return arm_error(
                400,
                "BadRequest",
                f"authMode {props.get('authMode')!r} is not supported for batch endpoints; "
                "use AADToken.",
            )
        # Learn, "Deploy models for scoring in batch endpoints": the default deployment is a
        # deployment of the endpoint (set after it is created).
        default = (props.get("defaults") or {}).get("deploymentName")
        if default and f"{key}/deployments/{default.lower()}" not in self.resources:
            return arm_error(
                400,
                "BadRequest",
                f"Default deployment {default} does not exist on this endpoint.",
            )
        return None

    def _refuse_batch_deployment(
        self, body: Mapping[str, Any], props: Mapping[str, Any], workspace_key: str
    ) -> Reply | None:
        # BatchDeploymentProperties: a model deployment names its model and a compute of the
        # workspace (ARM id); a tracked resource needs its location.
        model = props.get("model") or {}
        compute = str(props.get("compute") or "").lower()
        if not body.get("location"):
            return arm_error(400, "LocationRequired", "The location property is required.")
        if model.get("referenceType") != "Id" or not model.get("assetId"):
            return arm_error(400, "BadRequest", "properties.model must reference a model by id.")
        if not compute.startswith(workspace_key + "/computes/") or compute not in self.resources:
            return arm_error(
                400, "BadRequest", f"Compute {props.get('compute')!r} not found in the workspace."
            )
        return None

    def _computed_serving(self, kind: str, resource: dict[str, Any], before: Any) -> None:
        props = resource["properties"]
        if kind == AML_WORKSPACE:
            network = props.get("managedNetwork")
            if network is None and before.get("managedNetwork"):
                props["managedNetwork"] = before["managedNetwork"]  # omitted: kept as it is
            elif network is not None:
                managed_network.on_workspace_put(network, before.get("managedNetwork"))
                kept = (before.get("managedNetwork") or {}).get("status")
                same = _isolation(network) == _isolation(before.get("managedNetwork") or {})
                network["status"] = kept if kept and same else {"status": "Inactive"}
        elif kind == AML_BATCH_ENDPOINT:
            # Learn, "Invoke batch endpoints with REST": https://<name>.<region>.inference.
            # ml.azure.com/jobs.
            location = resource.get("location", "")
            base = f"https://{resource['name']}.{location}.inference.ml.azure.com"
            props["scoringUri"] = f"{base}/jobs"
            props["swaggerUri"] = f"{base}/swagger.json"

    def run_batch_job(self, compute_id: str, nodes: int = 1) -> dict[str, Any]:
        """A batch job on the AmlCompute `compute_id`: it fails when the workspace's managed
        network cannot reach the storage queue and table (arm_network_rules.py); else its
        cluster scales out, runs, and scales in unless a lock over it keeps the nodes
        (arm_locks.py). The job's `status`, `error`, and the compute as a GET answers it."""
        with self._lock:
            key = compute_id.lower()
            compute = self.resources[key]
            workspace = self.resources[key.split("/computes/")[0]]
            missing = network_rules.batch_storage_missing(workspace)
            if missing:
                error = {
                    "code": "UserError",
                    "message": "The job cannot reach the workspace's storage account "
                    f"{', '.join(missing)} service from the managed network.",
                }
                return {"status": "Failed", "error": error, "compute": copy.deepcopy(compute)}
            arm_locks.run_job(compute, nodes, arm_locks.locks_over(self.resources, key))
            return {"status": "Completed", "error": None, "compute": copy.deepcopy(compute)}

    # --- long-running operations -----------------------------------------------------------

    def _accepted(
        self,
        finish: Callable[[], Reply | None],
        location: str,
        *,
        status: int = 202,
        body: Any = None,
        location_only: bool = False,
    ) -> Reply:
        """Start an operation: 202 (or 201) with Azure-AsyncOperation and Location to poll."""
        op_id = uuid.uuid4().hex
        self._operations[op_id] = _Operation(self.async_polls, finish)
        base = f"{self.base_url}/subscriptions/{SUBSCRIPTION}/providers/Fake.Operations"
        base += f"/locations/{location or 'global'}"
        headers = {
            "Location": f"{base}/operationResults/{op_id}?api-version=2024-01-01",
            "Retry-After": self.retry_after,
        }
        if not location_only:
            headers["Azure-AsyncOperation"] = (
                f"{base}/operationStatuses/{op_id}?api-version=2024-01-01"
            )
        return Reply(status, copy.deepcopy(body), headers)

    def _poll(self, op_id: str, *, location_style: bool) -> Reply:
        operation = self._operations.get(op_id)
        if operation is None:
            return arm_error(404, "OperationNotFound", f"no operation {op_id}")
        if not operation.done:
            if operation.polls_left > 0:
                operation.polls_left -= 1
                if location_style:
                    return Reply(202, None, {"Retry-After": self.retry_after})
                return Reply(200, {"status": "InProgress"}, {"Retry-After": self.retry_after})
            self._complete(operation)
        if operation.error is not None:
            if location_style:
                return operation.error
            return Reply(200, {"status": "Failed", "error": operation.error.body["error"]})
        return Reply(204) if location_style else Reply(200, {"status": "Succeeded"})

    def _complete(self, operation: _Operation) -> None:
        if not operation.done:
            operation.done = True
            operation.error = operation.finish()


_OPERATION_KINDS = ("operationstatuses", "operationresults")


def _refuse_budget(props: Mapping[str, Any]) -> Reply | None:
    """azure-rest-api-specs consumption 2024-08-01 Budget: a start date on the first of a
    month; up to five notifications, each threshold 0..1000 percent, and at resource group
    scope at least one contact e-mail or group."""
    start = str((props.get("timePeriod") or {}).get("startDate", ""))
    if not start[:10].endswith("-01"):
        return arm_error(
            400, "InvalidTimePeriod", "The start date of the budget must be the first of a month."
        )
    notifications = props.get("notifications") or {}
    if len(notifications) > 5:
        return arm_error(400, "BadRequest", "A budget can have up to five notifications.")
    for key, notification in notifications.items():
        threshold = notification.get("threshold")
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1000:
            return arm_error(
                400, "BadRequest", f"Notification '{key}': the threshold must be 0 to 1000."
            )
        if not notification.get("contactEmails") and not notification.get("contactGroups"):
            return arm_error(
                400, "BadRequest", f"Notification '{key}' needs a contact e-mail or group."
            )
    return None


def _changed_immutable(
    kind: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> Reply | None:
    for name in IMMUTABLE.get(kind, ()):
        new = after.get(name)
        if new is not None and str(new).lower() != str(before.get(name)).lower():
            return arm_error(
                400,
                "PropertyChangeNotAllowed",
                f"Changing property '{name}' is not allowed.",
            )
    return None


def _isolation(network: Mapping[str, Any], default: str | None = "disabled") -> str | None:
    mode = network.get("isolationMode")
    return str(mode).lower() if mode else default


def _refuse_compute(props: Mapping[str, Any], old: Any) -> Reply | None:
    # AmlCompute: computeType and properties.vmSize / scaleSettings.maxNodeCount are required;
    # the VM size of a cluster cannot be changed after creation (Learn, "Create an Azure Machine
    # Learning compute cluster": delete and recreate it to change its VM size).
    inner = props.get("properties") or {}
    if props.get("computeType") != "AmlCompute":
        return arm_error(
            400, "BadRequest", f"computeType {props.get('computeType')!r} is not served"
        )
    if not inner.get("vmSize") or "maxNodeCount" not in (inner.get("scaleSettings") or {}):
        return arm_error(400, "BadRequest", "vmSize and scaleSettings.maxNodeCount are required.")
    before = ((old or {}).get("properties") or {}).get("properties") or {}
    if before and str(before.get("vmSize")).lower() != str(inner["vmSize"]).lower():
        return arm_error(
            400, "PropertyChangeNotAllowed", "Changing property 'vmSize' is not allowed."
        )
    return None


def _scope_locked(key: str, operation: str, lock_id: str) -> Reply:
    """ARM's 409 ScopeLocked, naming the locked scope (Azure/azure-cli #20232)."""
    return arm_error(
        409,
        "ScopeLocked",
        f"The scope '{key}' cannot perform {operation} operation because following scope(s) "
        f"are locked: '{lock_id.rsplit('/providers/', 1)[0]}'. Please remove the lock and try "
        "again.",
    )


def _not_found(rtype: str, name: str, group: str) -> Reply:
    return arm_error(
        404,
        "ResourceNotFound",
        f"The Resource '{rtype}/{name}' under resource group '{group}' was not found.",
    )


def _is_group(resource: Mapping[str, Any]) -> bool:
    return str(resource.get("type", "")).lower() == "microsoft.resources/resourcegroups"


def _location(value: str) -> str:
    return str(value).replace(" ", "").lower()


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# What answers a request: method, path with query, lower-case headers, body.
Handle = Callable[[str, str, dict[str, str], bytes], Reply]


def serve_https(handle: Handle, ca_file: str, *names: str) -> ThreadingHTTPServer:
    """Serve `handle` over HTTPS on 127.0.0.1 (a free port) from a daemon thread, with a
    certificate for `names` from a throwaway CA whose PEM goes to `ca_file`."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    ca.cert_pem.write_to_path(ca_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(handle))
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def _handler_for(handle: Handle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = handle(self.command, self.path, headers, raw)
            raw_body = isinstance(answer.body, bytes)  # storage: bytes and headers as given
            body = answer.body if raw_body else b""
            if answer.body is not None and not raw_body:
                body = json.dumps(answer.body).encode()
            length = len(body)
            if self.command == "HEAD":
                body = b""
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
            if body and not raw_body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class StaticCredential:
    """A TokenCredential with one fixed token; records the scopes asked for. Never on the
    network, so no managed-identity probe of 169.254.169.254."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    def close(self) -> None:
        pass

    def __enter__(self) -> StaticCredential:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakecloud.arm", description=__doc__)
    parser.add_argument("--info", required=True, help="where to write url, ca_file, pid (JSON)")
    parser.add_argument("--async-polls", type=int, default=1)
    parser.add_argument("--deleted-vault-lag", type=int, default=0)
    args = parser.parse_args(argv)
    info = Path(args.info)
    fake = FakeArm(
        async_polls=args.async_polls,
        deleted_vault_lag=args.deleted_vault_lag,
        state_dir=str(info.parent),
    ).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    partial = info.with_suffix(".tmp")
    partial.write_text(json.dumps(fake.info()))
    partial.replace(info)  # readers never see half a file
    stopped.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
