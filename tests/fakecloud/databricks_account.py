"""A loopback Databricks account API: network connectivity configurations (NCCs), their private
endpoint rules, and binding an NCC to a workspace, for serverless compute under private link.

Served at `accounts.azuredatabricks.net` by tests/fakecloud/serve.py. What it enforces, each
from Databricks' account API reference (docs.databricks.com/api/azure/account, Network
Connectivity) or Learn:
- a request without a bearer token is 401;
- an NCC's name is 3 to 30 letters, digits, '-' and '_', and it has a region (Learn, "account
  network-connectivity command group": "The length must be between 3 and 30 characters");
- a private endpoint rule names an existing Azure resource and a group id; Databricks creates a
  private endpoint in its own subscription, which the resource's owner must approve: the fake
  ARM gets a Pending connection (tests/fakecloud/arm_private_endpoint_connections.py), and the
  rule's `connection_state` follows it (PENDING, ESTABLISHED once Approved, REJECTED);
- deleting a rule: "If the connection state is PENDING or EXPIRED, the private endpoint is
  immediately deleted. Otherwise, the private endpoint is deactivated" (Delete a private
  endpoint rule); a deactivated rule serves no compute;
- an NCC and the workspace it is bound to are in the same region (pulumi-databricks
  MwsNccBinding: "The NCC and workspace must be in the same region"); a workspace has one NCC,
  binding another replaces it (same page).

`serverless_reaches(workspace_host, aml_workspace_id)` answers whether serverless compute of
the workspace at `workspace_host` reaches that AzureML workspace.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from typing import Any

from tests.fakecloud.arm import AML_WORKSPACE, DATABRICKS_WORKSPACE, FakeArm
from tests.fakecloud.arm_private_endpoint_connections import approved_from
from tests.fakecloud.databricks import Answer, error

ACCOUNT_HOST = "accounts.azuredatabricks.net"
NCC_NAME = re.compile(r"[A-Za-z0-9_-]{3,30}")
# where Databricks' serverless plane keeps the endpoints it creates (any subscription but ours)
ENDPOINT_GROUP = (
    "/subscriptions/7c2d9e41-0b6a-4f38-9d15-3e8a7b6c5d40/resourceGroups/databricks-serverless"
    "/providers/Microsoft.Network/privateEndpoints"
)
STATES = {"Pending": "PENDING", "Approved": "ESTABLISHED", "Rejected": "REJECTED"}
_PATH = re.compile(r"/api/2\.0/accounts/([^/]+)/(network-connectivity-configs|workspaces)(/.*)?")


class FakeDatabricksAccount:
    def __init__(self, arm: FakeArm) -> None:
        self._arm = arm
        self._lock = threading.RLock()
        self.nccs: dict[str, dict[str, Any]] = {}  # id -> NCC (rules inside)
        self.bindings: dict[str, str] = {}  # numeric workspace id -> NCC id

    def handle(self, method: str, path: str, body: Any, token: str) -> Answer:
        if not token:
            return error(401, "UNAUTHENTICATED", "a bearer token is required")
        match = _PATH.fullmatch(path)
        if match is None:
            return error(501, "NOT_IMPLEMENTED", f"the fake does not serve {method} {path}")
        account, kind, rest = match.group(1), match.group(2), (match.group(3) or "").strip("/")
        with self._lock:
            if kind == "workspaces":
                return self._workspace(method, rest, body or {})
            parts = rest.split("/") if rest else []
            if not parts:
                return self._create_ncc(account, body or {}) if method == "POST" else _no(method)
            ncc = self.nccs.get(parts[0])
            if ncc is None:
                return error(404, "RESOURCE_DOES_NOT_EXIST", f"NCC {parts[0]} does not exist")
            if len(parts) == 1:
                return self._ncc(method, ncc)
            if parts[1] != "private-endpoint-rules":
                return _no(method)
            return self._rules(method, ncc, parts[2] if len(parts) > 2 else None, body or {})

    # --- NCCs ------------------------------------------------------------------------------

    def _create_ncc(self, account: str, body: dict[str, Any]) -> Answer:
        name, region = body.get("name"), body.get("region")
        if not isinstance(name, str) or not NCC_NAME.fullmatch(name):
            return error(
                400, "INVALID_PARAMETER_VALUE", "name: 3 to 30 letters, digits, '-' and '_'"
            )
        if not region:
            return error(400, "INVALID_PARAMETER_VALUE", "region is required")
        ncc_id, now = str(uuid.uuid4()), int(time.time() * 1000)
        self.nccs[ncc_id] = {
            "network_connectivity_config_id": ncc_id,
            "account_id": account,
            "name": name,
            "region": region,
            "creation_time": now,
            "updated_time": now,
            "rules": {},
        }
        return Answer(200, self._ncc_view(self.nccs[ncc_id]))

    def _ncc(self, method: str, ncc: dict[str, Any]) -> Answer:
        if method == "GET":
            return Answer(200, self._ncc_view(ncc))
        if method == "DELETE":
            del self.nccs[ncc["network_connectivity_config_id"]]
            return Answer(200, {})
        return _no(method)

    def _ncc_view(self, ncc: dict[str, Any]) -> dict[str, Any]:
        view = {k: copy.deepcopy(v) for k, v in ncc.items() if k != "rules"}
        rules = [self._rule_view(r) for r in ncc["rules"].values()]
        view["egress_config"] = {"target_rules": {"azure_private_endpoint_rules": rules}}
        return view

    # --- private endpoint rules ------------------------------------------------------------

    def _rules(
        self, method: str, ncc: dict[str, Any], rule_id: str | None, body: dict[str, Any]
    ) -> Answer:
        if rule_id is None and method == "GET":
            return Answer(200, {"items": [self._rule_view(r) for r in ncc["rules"].values()]})
        if rule_id is None and method == "POST":
            return self._create_rule(ncc, body)
        rule = ncc["rules"].get(rule_id or "")
        if rule is None:
            return error(404, "RESOURCE_DOES_NOT_EXIST", f"rule {rule_id} does not exist")
        if method == "GET":
            return Answer(200, self._rule_view(rule))
        if method == "DELETE":
            if self._rule_view(rule)["connection_state"] == "PENDING":
                self._arm.remove_endpoint(rule["endpoint_id"])
                del ncc["rules"][rule["rule_id"]]
            else:
                rule.update(deactivated=True, deactivated_at=int(time.time() * 1000))
            return Answer(200, self._rule_view(rule))
        return _no(method)

    def _create_rule(self, ncc: dict[str, Any], body: dict[str, Any]) -> Answer:
        resource_id, group = body.get("resource_id"), body.get("group_id")
        if not resource_id or not group:
            return error(400, "INVALID_PARAMETER_VALUE", "resource_id and group_id are required")
        if self._arm.get(resource_id) is None:
            return error(
                400, "INVALID_PARAMETER_VALUE", f"the resource {resource_id} does not exist"
            )
        rule_id = str(uuid.uuid4())
        # as terraform-provider-databricks' docs show one: databricks-<uuid>-pe-<8 hex digits>
        endpoint_name = f"databricks-{rule_id}-pe-{uuid.uuid4().hex[:8]}"
        endpoint_id = f"{ENDPOINT_GROUP}/{endpoint_name}"
        self._arm.add_pending_connection(resource_id, endpoint_id, group)
        now = int(time.time() * 1000)
        ncc["rules"][rule_id] = {
            "rule_id": rule_id,
            "network_connectivity_config_id": ncc["network_connectivity_config_id"],
            "resource_id": resource_id,
            "group_id": group,
            "endpoint_name": endpoint_name,
            "endpoint_id": endpoint_id,
            "deactivated": False,
            "creation_time": now,
            "updated_time": now,
        }
        return Answer(200, self._rule_view(ncc["rules"][rule_id]))

    def _rule_view(self, rule: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in rule.items() if k != "endpoint_id"}
        state = self._connection_status(rule)
        view["connection_state"] = STATES.get(state or "", "DISCONNECTED")
        return view

    def _connection_status(self, rule: dict[str, Any]) -> str | None:
        prefix = rule["resource_id"].lower() + "/privateendpointconnections/"
        with self._arm._lock:
            for key, resource in self._arm.resources.items():
                props = resource.get("properties") or {}
                endpoint = str((props.get("privateEndpoint") or {}).get("id", "")).lower()
                if key.startswith(prefix) and endpoint == rule["endpoint_id"].lower():
                    return props["privateLinkServiceConnectionState"].get("status")
        return None

    # --- binding ---------------------------------------------------------------------------

    def _workspace(self, method: str, workspace_id: str, body: dict[str, Any]) -> Answer:
        workspace = self._arm_workspace(lambda props: str(props.get("workspaceId")) == workspace_id)
        if workspace is None:
            return error(404, "RESOURCE_DOES_NOT_EXIST", f"workspace {workspace_id} not found")
        if method == "PATCH":
            ncc = self.nccs.get(str(body.get("network_connectivity_config_id")))
            if ncc is None:
                return error(400, "INVALID_PARAMETER_VALUE", "no such network connectivity config")
            if ncc["region"].replace(" ", "").lower() != workspace.get("location", "").lower():
                return error(
                    400,
                    "INVALID_PARAMETER_VALUE",
                    f"the NCC is in {ncc['region']} and the workspace in {workspace['location']}: "
                    "they must be in the same region",
                )
            self.bindings[workspace_id] = ncc["network_connectivity_config_id"]
        elif method != "GET":
            return _no(method)
        return Answer(
            200,
            {
                "workspace_id": int(workspace_id),
                "location": workspace.get("location"),
                "workspace_status": "RUNNING",
                "network_connectivity_config_id": self.bindings.get(workspace_id),
            },
        )

    def _arm_workspace(self, matches: Any) -> dict[str, Any] | None:
        with self._arm._lock:
            for resource in self._arm.resources.values():
                if resource["type"].lower() == DATABRICKS_WORKSPACE and matches(
                    resource.get("properties") or {}
                ):
                    return copy.deepcopy(resource)
        return None

    # --- what serverless compute reaches ---------------------------------------------------

    def serverless_reaches(self, workspace_host: str, aml_workspace_id: str) -> bool:
        """Whether serverless compute of the workspace at `workspace_host` reaches the AzureML
        workspace `aml_workspace_id`: yes when its public network access is not Disabled, else
        only through an NCC bound to the workspace with an active `amlworkspace` rule to it
        whose private endpoint connection is Approved."""
        aml = self._arm.get(aml_workspace_id)
        if aml is None or aml.get("type", "").lower() != AML_WORKSPACE:
            return False
        if (aml.get("properties") or {}).get("publicNetworkAccess") != "Disabled":
            return True
        host = workspace_host.split("://")[-1].split("/")[0].lower()
        workspace = self._arm_workspace(
            lambda props: str(props.get("workspaceUrl", "")).lower() == host
        )
        if workspace is None:
            return False
        with self._lock:
            ncc = self.nccs.get(self.bindings.get(str(workspace["properties"]["workspaceId"]), ""))
            rules = list((ncc or {}).get("rules", {}).values())
        with self._arm._lock:
            return any(
                rule["resource_id"].lower() == aml_workspace_id.lower()
                and rule["group_id"] == "amlworkspace"
                and not rule["deactivated"]
                and approved_from(self._arm.resources, aml_workspace_id, rule["endpoint_id"])
                for rule in rules
            )


def _no(method: str) -> Answer:
    return error(405, "METHOD_NOT_ALLOWED", f"{method} is not supported here")
