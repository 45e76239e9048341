"""Network for a VNet-injected Azure Databricks workspace with secure cluster connectivity.

A VNet; a host ("public") and a container ("private") subnet, both delegated to
`Microsoft.Databricks/workspaces`; one NSG on both carrying the rules Databricks' network intent
policy writes; a NAT gateway with a static Standard public IP as the clusters' only egress (they
have no public IPs); with private link, an endpoint subnet for private endpoints, not delegated.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from core.config import NetworkPlan
from core.naming import ResourceNames

DATABRICKS_SERVICE = "Microsoft.Databricks/workspaces"
# Subnet names are scoped to the VNet, so they need no prefix or stack.
HOST_SUBNET = "databricks-host"
CONTAINER_SUBNET = "databricks-container"
ENDPOINT_SUBNET = "private-endpoints"


@dataclass(frozen=True)
class SecurityRule:
    """One NSG rule, outbound or inbound, from and to service tags."""

    name: str
    description: str
    priority: int
    direction: str
    protocol: str
    destination: str
    ports: tuple[str, ...]


_RULE_PREFIX = "Microsoft.Databricks-workspaces_UseOnly_databricks-"
_WORKERS = "Required for worker nodes communication within a cluster."

# The rules Azure Databricks writes into the NSG of a VNet-injected workspace with secure cluster
# connectivity (no public IP, requiredNsgRules AllRules), with the names, priorities and
# descriptions its network intent policy uses (Azure quickstart templates
# microsoft.databricks/databricks-all-in-one-template-for-vnet-injection*). Declaring exactly
# these keeps `pulumi refresh` + `pulumi up` a no-op: anything else is rewritten by Databricks on
# workspace creation and then fought over (ConflictWithNetworkIntentPolicy).
# The webapp rule carries 443, 3306 and 8443-8451 since January 2025 (Azure Databricks release
# notes, "Additional ports for Azure Databricks"; Learn: vnet-inject#nsg-workspace).
DATABRICKS_NSG_RULES: tuple[SecurityRule, ...] = (
    SecurityRule(
        f"{_RULE_PREFIX}worker-to-worker-inbound",
        _WORKERS,
        100,
        "Inbound",
        "*",
        "VirtualNetwork",
        ("*",),
    ),
    SecurityRule(
        f"{_RULE_PREFIX}worker-to-databricks-webapp",
        "Required for workers communication with Databricks Webapp.",
        100,
        "Outbound",
        "Tcp",
        "AzureDatabricks",
        ("443", "3306", "8443-8451"),
    ),
    SecurityRule(
        f"{_RULE_PREFIX}worker-to-sql",
        "Required for workers communication with Azure SQL services.",
        101,
        "Outbound",
        "Tcp",
        "Sql",
        ("3306",),
    ),
    SecurityRule(
        f"{_RULE_PREFIX}worker-to-storage",
        "Required for workers communication with Azure Storage services.",
        102,
        "Outbound",
        "Tcp",
        "Storage",
        ("443",),
    ),
    SecurityRule(
        f"{_RULE_PREFIX}worker-to-worker-outbound",
        _WORKERS,
        103,
        "Outbound",
        "*",
        "VirtualNetwork",
        ("*",),
    ),
    SecurityRule(
        f"{_RULE_PREFIX}worker-to-eventhub",
        "Required for worker communication with Azure Eventhub services.",
        104,
        "Outbound",
        "Tcp",
        "EventHub",
        ("9093",),
    ),
)


def _security_rule_args(rule: SecurityRule) -> network.SecurityRuleArgs:
    # One port goes in destinationPortRange, several in destinationPortRanges: the shape Azure
    # stores, so a refresh reads back what was declared.
    single = len(rule.ports) == 1
    return network.SecurityRuleArgs(
        name=rule.name,
        description=rule.description,
        priority=rule.priority,
        direction=rule.direction,
        access="Allow",
        protocol=rule.protocol,
        source_address_prefix="VirtualNetwork",
        source_port_range="*",
        destination_address_prefix=rule.destination,
        destination_port_range=rule.ports[0] if single else None,
        destination_port_ranges=None if single else list(rule.ports),
    )


@dataclass(frozen=True)
class NetworkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    names: ResourceNames
    plan: NetworkPlan  # endpoint_subnet is None unless privateLink


class Network(pulumi.ComponentResource):
    """The Databricks VNet. Exposes the VNet id and the subnets' names and id, nothing else."""

    vnet_id: pulumi.Output[str]
    host_subnet_name: pulumi.Output[str]
    container_subnet_name: pulumi.Output[str]
    endpoint_subnet_id: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group, location = args.resource_group_name, args.location
        names, plan = args.names, args.plan

        # No explicit depends_on anywhere below: every order Azure needs (VNet, NSG and NAT gateway
        # before the subnets that reference them; the public IP before the NAT gateway) follows
        # from the inputs, and everything else (VNet, NSG, public IP, the subnets among
        # themselves) is created in parallel. Concurrent subnet PUTs on one VNet may get
        # 409 AnotherOperationInProgress, which azure-native retries.

        # Standalone Subnet resources only: azure-native deletes subnets on update if styles mix.
        # `subnets` stays unset (not []), so azure-native keeps the VNet's existing subnets on
        # update (MaintainSubResourceIfUnset, pulumi-azure-native#611); ignore_changes guards a
        # refresh that copies Azure's subnet list into the VNet's inputs.
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=group,
            location=location,
            virtual_network_name=names.virtual_network,
            address_space=network.AddressSpaceArgs(address_prefixes=[str(plan.address_space)]),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )

        # Rules inline (never separate SecurityRule resources): the NSG and its rules exist in one
        # PUT, so whatever references the NSG's id sees the rules.
        nsg = network.NetworkSecurityGroup(
            f"{name}-nsg",
            resource_group_name=group,
            location=location,
            network_security_group_name=names.network_security_group,
            security_rules=[_security_rule_args(rule) for rule in DATABRICKS_NSG_RULES],
            opts=child,
        )

        public_ip = network.PublicIPAddress(
            f"{name}-natgw-pip",
            resource_group_name=group,
            location=location,
            public_ip_address_name=names.public_ip,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            opts=child,
        )
        nat_gateway = network.NatGateway(
            f"{name}-natgw",
            resource_group_name=group,
            location=location,
            nat_gateway_name=names.nat_gateway,
            sku=network.NatGatewaySkuArgs(name="Standard"),
            public_ip_addresses=[network.SubResourceArgs(id=public_ip.id)],
            opts=child,
        )

        def databricks_subnet(role: str, subnet_name: str, cidr: str) -> network.Subnet:
            return network.Subnet(
                f"{name}-{role}-subnet",
                resource_group_name=group,
                virtual_network_name=vnet.name,
                subnet_name=subnet_name,
                address_prefix=cidr,
                delegations=[
                    network.DelegationArgs(
                        name=f"databricks-{role}", service_name=DATABRICKS_SERVICE
                    )
                ],
                network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
                nat_gateway=network.SubResourceArgs(id=nat_gateway.id),
                # Egress only through the NAT gateway; settable at creation only.
                default_outbound_access=False,
                opts=child,
            )

        host = databricks_subnet("host", HOST_SUBNET, str(plan.host_subnet))
        container = databricks_subnet("container", CONTAINER_SUBNET, str(plan.container_subnet))

        endpoint: network.Subnet | None = None
        if plan.endpoint_subnet is not None:
            endpoint = network.Subnet(
                f"{name}-endpoint-subnet",
                resource_group_name=group,
                virtual_network_name=vnet.name,
                subnet_name=ENDPOINT_SUBNET,
                address_prefix=str(plan.endpoint_subnet),
                # NSG and UDR policies don't apply to private endpoints here: Azure's default,
                # stated so the reader sees it.
                private_endpoint_network_policies="Disabled",
                default_outbound_access=False,
                opts=child,
            )

        self.vnet_id = vnet.id
        # Outputs of the Subnet resources (not the plain names): whoever uses them waits for the
        # subnets, and with them for their NSG and NAT gateway associations.
        self.host_subnet_name = host.name
        self.container_subnet_name = container.name
        self.endpoint_subnet_id = endpoint.id if endpoint is not None else None

        outputs: dict[str, pulumi.Output[str]] = {
            "vnet_id": self.vnet_id,
            "host_subnet_name": self.host_subnet_name,
            "container_subnet_name": self.container_subnet_name,
        }
        if self.endpoint_subnet_id is not None:
            outputs["endpoint_subnet_id"] = self.endpoint_subnet_id
        self.register_outputs(outputs)
