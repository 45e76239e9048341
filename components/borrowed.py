"""What the stack borrows from a landing zone: the resource group, the spoke VNet and the
private DNS zones. Each is only referenced by id, never declared, so no `pulumi up`, refresh or
destroy writes or deletes it; and the names the platform's conventions override."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from core import naming
from core.config import StackConfig
from core.config.enums import PrivateDnsMode
from core.config.landing_zone import PrivateDnsSpec, check_zone_ids
from core.errors import ConfigError


@dataclass(frozen=True)
class BorrowedGroup:
    """An existing resource group: what the stack needs of a ResourceGroup, its name and id."""

    name: pulumi.Output[str]
    id: pulumi.Output[str]


def borrowed_group(
    name: str, client: pulumi.Output[authorization.GetClientConfigResult]
) -> BorrowedGroup:
    return BorrowedGroup(
        name=pulumi.Output.from_input(name),
        id=client.subscription_id.apply(lambda sub: f"/subscriptions/{sub}/resourceGroups/{name}"),
    )


def resource_names(config: StackConfig) -> naming.ResourceNames:
    """The derived names, with `resourceGroupName` and `names.*` in their place."""
    names = naming.resource_names(config.prefix, config.stack)
    given = config.names
    return dataclasses.replace(
        names,
        resource_group=config.resource_group_name or names.resource_group,
        databricks_workspace=given.databricks_workspace or names.databricks_workspace,
        aml_workspace=given.aml_workspace or names.aml_workspace,
    )


def global_names(config: StackConfig, suffix: str) -> naming.GlobalNames:
    names = naming.global_names(config.prefix, config.stack, suffix)
    given = config.names
    return dataclasses.replace(
        names,
        storage_account=given.storage_account or names.storage_account,
        key_vault=given.key_vault or names.key_vault,
    )


def check_vnet_subscription(vnet_id: str, vnet_subscription: str, deployer: str) -> str:
    """The borrowed VNet's id once it is known to be in the deployer's subscription, which
    Azure Databricks requires of an injected workspace's VNet (Learn, "Deploy Azure Databricks
    in your Azure virtual network": same region and subscription)."""
    if vnet_subscription.lower() != deployer.lower():
        raise pulumi.RunError(
            str(
                ConfigError(
                    "network.virtualNetworkId",
                    vnet_id,
                    f"is in subscription {vnet_subscription}, not the deployment's {deployer}: "
                    "Databricks needs the VNet in the workspace's subscription",
                )
            )
        )
    return vnet_id


def borrowed_zones(spec: PrivateDnsSpec, needed: tuple[str, ...]) -> Mapping[str, str] | None:
    """The zone ids private endpoints use when the stack creates no zones (None: it does).

    existing: the configured zones, each zone an endpoint needs present; policy: none, and the
    endpoints get no zone groups.
    """
    if spec.mode is PrivateDnsMode.STACK:
        return None
    try:
        check_zone_ids(spec, needed)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    return {zone: spec.zone_ids[zone] for zone in needed} if spec.zone_ids else {}
