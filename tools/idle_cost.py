"""What the preview says a stack bills while idle, and the size of each serving resource.

Amounts come from PRICES, a table kept here with the date it was written; nothing is fetched.
They are approximate list prices, pay-as-you-go, in US dollars, in East US, written from Azure's
public pricing pages and not checked against the Retail Prices API on that date: other regions,
currencies, discounts and reservations differ, so a line is an order of magnitude, not a quote.
Refresh a row with the Azure Retail Prices API (prices.azure.com/api/retail/prices, priceType
'Consumption', the row's armSkuName and armRegionName 'eastus'), then move PRICES_AS_OF.

Idle here means billed every hour whether anything runs: an online endpoint's instances (a
managed online endpoint bills its deployment's VMs while deployed, Learn, "Plan to manage costs
for Azure Machine Learning"), the Azure Firewall the AzureML managed
network adds for FQDN outbound rules under allowOnlyApprovedOutbound (Learn, "Managed virtual
network isolation": Standard SKU unless set otherwise, billed per hour), and the NAT gateway.
The Databricks cluster and the batch compute scale to zero or auto-terminate: they are not
idle costs and are not listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from tools.offline import DeclaredResource

PRICES_AS_OF = date(2026, 12, 6)
PRICES_SOURCE = "approximate Azure list prices, pay-as-you-go, Linux, East US, USD per hour"
HOURS_PER_MONTH = 730  # Azure's pricing calculator's month

# USD per hour. VM sizes: the Linux pay-as-you-go rate; others: the per-deployment hour.
PRICES: Mapping[str, float] = MappingProxyType(
    {
        "Standard_DS2_v2": 0.146,
        "Standard_DS3_v2": 0.293,
        "Standard_DS4_v2": 0.585,
        "Standard_D4s_v3": 0.192,
        "Standard_E4s_v3": 0.252,
        "Standard_F4s_v2": 0.169,
        "azure-firewall-standard": 1.25,
        "azure-firewall-basic": 0.395,
        "nat-gateway": 0.045,
    }
)

ONLINE_DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
BATCH_COMPUTE = "azure-native:machinelearningservices:Compute"
AML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
NAT_GATEWAY = "azure-native:network:NatGateway"
DATABRICKS_WORKSPACE = "azure-native:databricks:Workspace"
# The enhanced security and compliance add-on is priced as an uplift on the workspace's DBUs
# (Azure Databricks pricing), not per hour: the line names it, with no amount.
ENHANCED_SECURITY = "databricks-enhanced-security-and-compliance"


def _number(value: Any, default: int = 1) -> int:
    return int(value) if isinstance(value, int | float) else default


def _monthly(item: str, count: int, what: str) -> dict[str, Any]:
    """One cost line: what bills, its hourly list price (None: not in the table)."""
    hourly = PRICES.get(item)
    line = {"what": what, "item": item, "count": count, "usd_per_hour": hourly}
    line["usd_per_month"] = round(hourly * count * HOURS_PER_MONTH) if hourly is not None else None
    return line


def serving_sizes(resources: list[DeclaredResource]) -> list[str]:
    """Each serving resource's size: the online deployment's instance type and count, the batch
    compute's VM size and most instances."""
    sizes = []
    for r in resources:
        if r.type == ONLINE_DEPLOYMENT:
            properties = r.inputs.get("properties") or {}
            count = _number((r.inputs.get("sku") or {}).get("capacity"))
            sizes.append(
                f"online deployment {r.name}: {count} x {properties.get('instanceType')}, "
                "running around the clock"
            )
        elif r.type == BATCH_COMPUTE:
            inner = (r.inputs.get("properties") or {}).get("properties") or {}
            scale = inner.get("scaleSettings") or {}
            sizes.append(
                f"batch compute {r.name}: up to {_number(scale.get('maxNodeCount'))} x "
                f"{inner.get('vmSize')}, {_number(scale.get('minNodeCount'), 0)} when idle"
            )
    return sizes


def idle_costs(resources: list[DeclaredResource]) -> list[dict[str, Any]]:
    """What bills every hour once deployed, each with its monthly list price where known."""
    lines = []
    for r in resources:
        if r.type == ONLINE_DEPLOYMENT:
            properties = r.inputs.get("properties") or {}
            count = _number((r.inputs.get("sku") or {}).get("capacity"))
            what = f"online endpoint instances ({r.name})"
            lines.append(_monthly(str(properties.get("instanceType")), count, what))
        elif r.type == AML_WORKSPACE:
            network = r.inputs.get("managedNetwork") or {}
            sku = network.get("firewallSku")
            if network.get("isolationMode") == "AllowOnlyApprovedOutbound" and sku:
                item = f"azure-firewall-{str(sku).lower()}"
                lines.append(_monthly(item, 1, "the AzureML managed network's Azure Firewall"))
        elif r.type == NAT_GATEWAY:
            lines.append(_monthly("nat-gateway", 1, f"NAT gateway ({r.name})"))
        elif r.type == DATABRICKS_WORKSPACE and _enhanced_security(r.inputs):
            lines.append(
                _monthly(ENHANCED_SECURITY, 1, "Databricks enhanced security, on every DBU")
            )
    return lines


def _enhanced_security(inputs: Mapping[str, Any]) -> bool:
    """Any part of the workspace's enhancedSecurityCompliance (compliance security profile,
    enhanced security monitoring, automatic cluster update) set to Enabled."""
    settings = inputs.get("enhancedSecurityCompliance") or {}
    return any(
        isinstance(part, Mapping) and part.get("value") == "Enabled" for part in settings.values()
    )


def cost_line(cost: Mapping[str, Any]) -> str:
    if cost["item"] == ENHANCED_SECURITY:
        return f"{cost['what']}: an uplift on the DBU price, billed with each DBU (not hourly)"
    if cost["usd_per_month"] is None:
        return (
            f"{cost['what']}: {cost['count']} x {cost['item']}, price not in the table "
            "(tools/idle_cost.py): see the Azure pricing calculator"
        )
    return (
        f"{cost['what']}: {cost['count']} x {cost['item']} at ${cost['usd_per_hour']}/h, "
        f"about ${cost['usd_per_month']}/month"
    )


def cost_source() -> str:
    return f"{PRICES_SOURCE}, table of {PRICES_AS_OF.isoformat()}: tools/idle_cost.py"
