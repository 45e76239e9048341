"""Rules of Azure the fake ARM (tests/fakecloud/arm.py) applies around workspaces on day 2: what
Databricks writes into a VNet-injected workspace's NSG, which traffic an online endpoint takes,
and which writes to a Databricks workspace Azure refuses to run at once. Each cites its source.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

NSG = "microsoft.network/networksecuritygroups"
ONLINE_DEPLOYMENT = "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments"
PRIVATE_ENDPOINT = "microsoft.network/privateendpoints"
NETWORK_INTENT_PREFIX = "Microsoft.Databricks-workspaces_UseOnly_"


def _rule(
    name: str, priority: int, direction: str, protocol: str, ports: list[str], destination: str
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "description": f"Databricks network intent policy: {name}",
        "protocol": protocol,
        "sourcePortRange": "*",
        "sourceAddressPrefix": "VirtualNetwork",
        "destinationAddressPrefix": destination,
        "access": "Allow",
        "priority": priority,
        "direction": direction,
    }
    if len(ports) == 1:
        properties["destinationPortRange"] = ports[0]
    else:
        properties["destinationPortRanges"] = ports
    return {"name": NETWORK_INTENT_PREFIX + name, "properties": properties}


# Learn, "Deploy Azure Databricks in your Azure virtual network (VNet injection)", section
# "Network security group rules", and the quickstart
# databricks-all-in-one-template-for-vnet-injection: the rules Databricks provisions in the
# subnets' NSG through the subnet delegation, which users may not change or delete.
_WORKER_TO_WEBAPP = _rule(
    "databricks-worker-to-databricks-webapp", 100, "Outbound", "Tcp",
    ["443", "3306", "8443-8451"], "AzureDatabricks",
)  # fmt: skip
NETWORK_INTENT_RULES = (
    _rule("databricks-worker-to-worker-inbound", 100, "Inbound", "*", ["*"], "VirtualNetwork"),
    _WORKER_TO_WEBAPP,
    _rule("databricks-worker-to-sql", 101, "Outbound", "Tcp", ["3306"], "Sql"),
    _rule("databricks-worker-to-storage", 102, "Outbound", "Tcp", ["443"], "Storage"),
    _rule("databricks-worker-to-worker-outbound", 103, "Outbound", "*", ["*"], "VirtualNetwork"),
    _rule("databricks-worker-to-eventhub", 104, "Outbound", "Tcp", ["9093"], "EventHub"),
)


def network_intent_rules(required_nsg_rules: str) -> list[dict[str, Any]]:
    """The rules for a workspace's `requiredNsgRules`: with NoAzureDatabricksRules (back-end
    private link) clusters reach the control plane through the private endpoint, so the
    AzureDatabricks outbound rule is left out (Learn, "Enable Azure Private Link back-end and
    front-end connections")."""
    rules = [copy.deepcopy(r) for r in NETWORK_INTENT_RULES]
    if required_nsg_rules == "NoAzureDatabricksRules":
        rules = [r for r in rules if r["name"] != _WORKER_TO_WEBAPP["name"]]
    return rules


def write_network_intent_rules(
    resources: Mapping[str, dict[str, Any]], workspace: Mapping[str, Any]
) -> None:
    """Add the workspace's network-intent rules to the NSG of each of its injected subnets."""
    props = workspace.get("properties") or {}
    parameters = props.get("parameters") or {}
    vnet = str((parameters.get("customVirtualNetworkId") or {}).get("value") or "")
    if not vnet:
        return
    rules = network_intent_rules(str(props.get("requiredNsgRules") or "AllRules"))
    for key in ("customPublicSubnetName", "customPrivateSubnetName"):
        subnet_name = (parameters.get(key) or {}).get("value")
        subnet = resources.get(f"{vnet}/subnets/{subnet_name}".lower())
        nsg_id = str(
            (((subnet or {}).get("properties") or {}).get("networkSecurityGroup") or {}).get("id")
            or ""
        )
        nsg = resources.get(nsg_id.lower())
        if nsg is None:
            continue
        existing = nsg["properties"].setdefault("securityRules", [])
        names = {r["name"] for r in existing}
        for rule in rules:
            if rule["name"] not in names:
                existing.append(
                    {
                        "id": f"{nsg['id']}/securityRules/{rule['name']}",
                        "name": rule["name"],
                        "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                        "properties": {**rule["properties"], "provisioningState": "Succeeded"},
                    }
                )


def missing_deployment(
    resources: Mapping[str, Any], endpoint_id: str, props: Mapping[str, Any]
) -> str | None:
    """A deployment the endpoint's `traffic` names that does not exist, if any. Azure answers
    such a write 404 UserError "Deployment <d> not found in endpoint <e>, workspace <w>"
    (Azure-Samples/contoso-chat #139, an endpoint traffic update naming a missing deployment)."""
    for name in (props.get("traffic") or {}) | (props.get("mirrorTraffic") or {}):
        if f"{endpoint_id}/deployments/{name}".lower() not in resources:
            return str(name)
    return None


def private_link_targets(props: Mapping[str, Any]) -> list[str]:
    """The resource ids a private endpoint connects to (either body shape)."""
    targets = []
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for connection in props.get(key) or []:
            inner = connection.get("properties") or {}
            target = inner.get("privateLinkServiceId") or connection.get("privateLinkServiceId")
            if target:
                targets.append(str(target))
    return targets


# Azure's answer to a second private endpoint connection made to a Databricks workspace while
# one is being made: databricks/terraform-databricks-examples #177,
# hashicorp/terraform-provider-azurerm #26373 (Azure Verified Modules create them one at a time,
# `@batchSize(1)`).
CONCURRENT_UPDATE_CODE = "ConcurrentUpdateError"
CONCURRENT_UPDATE_MESSAGE = (
    "Workspace update could not be completed because it has been updated by another process. "
    "Please retry."
)
