"""CIDR rules for the Databricks VNet: pure functions over ipaddress networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from ipaddress import IPv4Network

from core.errors import ConfigError

PRIVATE_RANGES = tuple(
    ipaddress.ip_network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
# Azure Databricks VNet injection: address space /16../24, each Databricks subnet /26 or larger.
ADDRESS_SPACE_PREFIXES = range(16, 25)
DATABRICKS_SUBNET_MAX_PREFIX = 26
# Azure's smallest subnet.
ENDPOINT_SUBNET_MAX_PREFIX = 29


def parse_cidr(key: str, value: object) -> IPv4Network:
    """An IPv4 network from a CIDR string, or a ConfigError naming the key."""
    if not isinstance(value, str):
        raise ConfigError(key, value, "is not a CIDR string such as 10.139.0.0/16")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        reason = "has host bits set" if "host bits" in str(exc) else "is not a valid CIDR"
        raise ConfigError(
            key, value, f"{reason}; expected a network such as 10.139.0.0/16"
        ) from None
    if not isinstance(network, IPv4Network) or "/" not in value:
        raise ConfigError(key, value, "is not an IPv4 CIDR such as 10.139.0.0/16")
    return network


def check_address_space(key: str, space: IPv4Network) -> None:
    if not any(space.subnet_of(r) for r in PRIVATE_RANGES):
        raise ConfigError(
            key, space, "is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
        )
    if space.prefixlen not in ADDRESS_SPACE_PREFIXES:
        raise ConfigError(key, space, "must be between /16 and /24 for Databricks VNet injection")


def check_subnets(
    space_key: str, space: IPv4Network, subnets: Mapping[str, IPv4Network], databricks: set[str]
) -> None:
    """Subnets (key -> network) lie inside the space, do not overlap, and are large enough."""
    for key, subnet in subnets.items():
        if not subnet.subnet_of(space):
            raise ConfigError(key, subnet, f"is not inside {space_key.rsplit('.', 1)[-1]} {space}")
        limit = DATABRICKS_SUBNET_MAX_PREFIX if key in databricks else ENDPOINT_SUBNET_MAX_PREFIX
        if subnet.prefixlen > limit:
            raise ConfigError(key, subnet, f"is smaller than /{limit}, the smallest allowed here")
    keys = list(subnets)
    for i, first in enumerate(keys):
        for second in keys[i + 1 :]:
            if subnets[first].overlaps(subnets[second]):
                raise ConfigError(
                    second,
                    subnets[second],
                    f"overlaps {first.rsplit('.', 1)[-1]} {subnets[first]}",
                )
