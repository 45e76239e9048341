"""The Databricks stand-in's account-level resources: the network connectivity configuration
(NCC), its private endpoint rules and its binding to a workspace, through the account API
(`/api/2.0/accounts/{account_id}/...`) as the real provider calls it with `host` the account
console and `accountId` set.

The binding is an update of the account's workspace (Workspaces API, "Update workspace
configuration": `network_connectivity_config_id`). As the real provider's
(terraform-provider-databricks mws/resource_mws_ncc_binding.go), its read keeps the state and
its delete leaves the workspace bound: "Cannot remove network connectivity config binding, only
update is supported" (also issue #3741).
"""

from __future__ import annotations

from typing import Any, Protocol

from tests.e2e.standin.provider import ProviderError

NCC = "databricks:index/mwsNetworkConnectivityConfig:MwsNetworkConnectivityConfig"
RULE = "databricks:index/mwsNccPrivateEndpointRule:MwsNccPrivateEndpointRule"
BINDING = "databricks:index/mwsNccBinding:MwsNccBinding"
TYPES = (NCC, RULE, BINDING)
REPLACE_KEYS = {
    NCC: ("name", "region"),
    RULE: ("networkConnectivityConfigId", "resourceId", "groupId"),
    BINDING: ("workspaceId",),
}
RULE_FIELDS = {
    "ruleId": "rule_id",
    "endpointName": "endpoint_name",
    "connectionState": "connection_state",
    "deactivated": "deactivated",
}


class Account(Protocol):
    config: dict[str, Any]

    def call(self, method: str, path: str, body: Any = None) -> Any: ...

    def api(self, method: str, path: str, body: Any = None) -> Any: ...


def _base(provider: Account) -> str:
    account = provider.config.get("accountId")
    if not account:
        raise ProviderError("databricks stand-in: account resources need the provider's accountId")
    return f"/api/2.0/accounts/{account}"


def create(provider: Account, type_: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    base = _base(provider)
    if type_ == NCC:
        made = provider.call("POST", f"{base}/network-connectivity-configs",
                             {"name": inputs["name"], "region": inputs["region"]})  # fmt: skip
        ncc_id = made["network_connectivity_config_id"]
        outputs = {**inputs, "networkConnectivityConfigId": ncc_id, "accountId": made["account_id"]}
        return f"{made['account_id']}/{ncc_id}", outputs
    if type_ == RULE:
        ncc_id = inputs["networkConnectivityConfigId"]
        made = provider.call(
            "POST", f"{base}/network-connectivity-configs/{ncc_id}/private-endpoint-rules",
            {"resource_id": inputs["resourceId"], "group_id": inputs["groupId"]},
        )  # fmt: skip
        return f"{ncc_id}/{made['rule_id']}", _rule_outputs(inputs, made)
    workspace = inputs["workspaceId"]
    provider.call("PATCH", f"{base}/workspaces/{workspace}",
                  {"network_connectivity_config_id": inputs["networkConnectivityConfigId"]})  # fmt: skip
    return f"{workspace}/{inputs['networkConnectivityConfigId']}", dict(inputs)


def _rule_outputs(inputs: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
    return {**inputs, **{sdk: made[rest] for sdk, rest in RULE_FIELDS.items() if rest in made}}


def read(provider: Account, type_: str, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
    base = _base(provider)
    if type_ == NCC:
        answer = provider.api("GET", f"{base}/network-connectivity-configs/{id_.split('/')[-1]}")
        return None if answer.status >= 400 else state
    if type_ == RULE:
        ncc_id, rule_id = id_.split("/", 1)
        path = f"{base}/network-connectivity-configs/{ncc_id}/private-endpoint-rules/{rule_id}"
        answer = provider.api("GET", path)
        if answer.status >= 400 or answer.body.get("deactivated"):
            return None
        return _rule_outputs(state, answer.body)
    return state


def update(provider: Account, type_: str, news: dict[str, Any]) -> dict[str, Any]:
    if type_ == BINDING:
        return create(provider, type_, news)[1]
    return news


def delete(provider: Account, type_: str, id_: str) -> None:
    base = _base(provider)
    if type_ == NCC:
        path = f"{base}/network-connectivity-configs/{id_.split('/')[-1]}"
    elif type_ == RULE:
        ncc_id, rule_id = id_.split("/", 1)
        path = f"{base}/network-connectivity-configs/{ncc_id}/private-endpoint-rules/{rule_id}"
    else:
        return
    answer = provider.api("DELETE", path)
    if answer.status >= 400 and answer.status != 404:
        raise ProviderError(f"deleting {id_}: {answer.status} {answer.body}")
