"""The Databricks VNet: address space and subnets, checked against each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

import core.config.schema as schema
from core import cidr
from core.config.readers import _object, _reject_unknown

NETWORK_DEFAULTS: dict[str, str] = schema.defaults(schema.Network)


@dataclass(frozen=True)
class NetworkPlan:
    address_space: IPv4Network
    host_subnet: IPv4Network
    container_subnet: IPv4Network
    endpoint_subnet: IPv4Network | None  # only with privateLink or databricksPrivateLink


def _network(ours: Mapping[str, Any], endpoints: bool) -> NetworkPlan:
    given = _object(ours, "network") or {}
    _reject_unknown("network.", given, tuple(NETWORK_DEFAULTS))
    values = {**NETWORK_DEFAULTS, **given}
    nets = {f"network.{k}": cidr.parse_cidr(f"network.{k}", v) for k, v in values.items()}
    space = nets.pop("network.addressSpace")
    cidr.check_address_space("network.addressSpace", space)
    if not endpoints:
        nets.pop("network.endpointSubnet")
    cidr.check_subnets(
        "network.addressSpace",
        space,
        nets,
        databricks={"network.hostSubnet", "network.containerSubnet"},
    )
    return NetworkPlan(
        address_space=space,
        host_subnet=nets["network.hostSubnet"],
        container_subnet=nets["network.containerSubnet"],
        endpoint_subnet=nets.get("network.endpointSubnet"),
    )
