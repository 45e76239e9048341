"""Network for a VNet-injected Azure Databricks workspace with secure cluster connectivity.

A VNet; a host ("public") and a container ("private") subnet, both delegated to
`Microsoft.Databricks/workspaces`; one NSG on both, whose rules Databricks' network intent
policy writes; a NAT gateway with a static Standard public IP as the clusters' only egress (they
have no public IPs); with private link, an endpoint subnet for private endpoints, not delegated,
with an NSG of its own (landing zones deny subnets without one).

In a landing zone the VNet is borrowed (`existing_vnet`): the subnets are created in it as
separate resources, never through the VNet's inline list, so the platform's own subnets and
peerings stay out of the stack. With `egress` firewall, a route table sends 0.0.0.0/0 to the
hub's firewall instead of the NAT gateway, and no public IP exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

DATABRICKS_SERVICE = "Microsoft.Databricks/workspaces"
# Subnet names are scoped to the VNet, so they need no prefix or stack.
HOST_SUBNET = "databricks-host"
CONTAINER_SUBNET = "databricks-container"
ENDPOINT_SUBNET = "private-endpoints"


@dataclass(frozen=True)
class NetworkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    vnet_name: str
    nsg_name: str
    nat_gateway_name: str
    public_ip_name: str
    address_space: str  # CIDRs, validated by core.config
    host_subnet: str
    container_subnet: str
    endpoint_subnet: str | None  # None: no private endpoints
    # landing zone: a borrowed VNet, and egress through the platform's firewall
    existing_vnet: BorrowedVnet | None = None
    firewall_private_ip: str | None = None  # set: route 0.0.0.0/0 there, no NAT gateway
    route_table_name: str = ""  # with firewall_private_ip
    endpoint_nsg_name: str = ""  # with endpoint_subnet


@dataclass(frozen=True)
class BorrowedVnet:
    """A VNet the platform owns: only read, never written or deleted."""

    id: pulumi.Input[str]  # resolved only after the deploy-time checks (stack.py)
    resource_group_name: str
    name: str


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

        # No explicit depends_on anywhere below: every order Azure needs (VNet, NSG and NAT gateway
        # before the subnets that reference them; the public IP before the NAT gateway) follows
        # from the inputs, and everything else (VNet, NSG, public IP, the subnets among
        # themselves) is created in parallel. Concurrent subnet PUTs on one VNet may get
        # 409 AnotherOperationInProgress, which azure-native retries.

        vnet_id, vnet_group, vnet_name = self._vnet(name, args)
        nsg = self._nsg(name, args)
        egress = self._egress(name, args)

        def databricks_subnet(role: str, subnet_name: str, cidr: str) -> network.Subnet:
            return network.Subnet(
                f"{name}-{role}-subnet",
                resource_group_name=vnet_group,
                virtual_network_name=vnet_name,
                subnet_name=subnet_name,
                address_prefix=cidr,
                delegations=[
                    network.DelegationArgs(
                        name=f"databricks-{role}", service_name=DATABRICKS_SERVICE
                    )
                ],
                network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
                **egress,
                # Egress only through the NAT gateway or the firewall; settable at creation only.
                default_outbound_access=False,
                opts=child,
            )

        host = databricks_subnet("host", HOST_SUBNET, args.host_subnet)
        container = databricks_subnet("container", CONTAINER_SUBNET, args.container_subnet)

        endpoint = (
            self._endpoint_subnet(name, args, vnet_group, vnet_name)
            if args.endpoint_subnet
            else None
        )

        self.vnet_id = pulumi.Output.from_input(vnet_id)
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

    def _vnet(
        self, name: str, args: NetworkArgs
    ) -> tuple[pulumi.Input[str], pulumi.Input[str], pulumi.Input[str]]:
        """(id, resource group, name) of the VNet the subnets go in: the borrowed one, or ours."""
        if args.existing_vnet is not None:
            borrowed = args.existing_vnet
            # Subnets wait for the checks that resolve the id (subscription, stack.py).
            checked_name = pulumi.Output.from_input(borrowed.id).apply(lambda _: borrowed.name)
            return borrowed.id, borrowed.resource_group_name, checked_name
        # Standalone Subnet resources only: azure-native deletes subnets on update if styles
        # mix. `subnets` stays unset (not []), so azure-native keeps the VNet's existing subnets
        # on update (MaintainSubResourceIfUnset, pulumi-azure-native#611); ignore_changes guards
        # a refresh that copies Azure's subnet list into the VNet's inputs.
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=args.resource_group_name,
            location=args.location,
            virtual_network_name=args.vnet_name,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )
        return vnet.id, args.resource_group_name, vnet.name

    def _egress(self, name: str, args: NetworkArgs) -> dict[str, network.SubResourceArgs]:
        """The Databricks subnets' egress: the NAT gateway, or a route table to the firewall."""
        if args.firewall_private_ip is None:
            return {"nat_gateway": network.SubResourceArgs(id=self._nat_gateway(name, args).id)}
        # Learn, "User-defined route settings for Azure Databricks": 0.0.0.0/0 to the firewall
        # as a virtual appliance; the control plane's own traffic goes through SCC's relay.
        table = network.RouteTable(
            f"{name}-firewall-routes",
            resource_group_name=args.resource_group_name,
            location=args.location,
            route_table_name=args.route_table_name,
            disable_bgp_route_propagation=True,
            routes=[
                network.RouteArgs(
                    name="to-firewall",
                    address_prefix="0.0.0.0/0",
                    next_hop_type="VirtualAppliance",
                    next_hop_ip_address=args.firewall_private_ip,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return {"route_table": network.RouteTableArgs(id=table.id)}

    def _nsg(self, name: str, args: NetworkArgs) -> network.NetworkSecurityGroup:
        """One NSG for both Databricks subnets, declared without rules.

        Databricks' network intent policy writes its own rules into the NSG when the workspace
        is created (names, priorities and descriptions of its own choosing) and Azure refuses to
        delete them. Declaring none, and ignoring changes to them, keeps `pulumi refresh` +
        `pulumi up` a no-op, as Microsoft's quickstart
        databricks-all-in-one-template-for-vnet-injection-with-nat-gateway does. azure-native
        keeps rules it was not given on update (MaintainSubResourceIfUnset, as for subnets).
        """
        return network.NetworkSecurityGroup(
            f"{name}-nsg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            network_security_group_name=args.nsg_name,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["securityRules"]),
        )

    def _nat_gateway(self, name: str, args: NetworkArgs) -> network.NatGateway:
        """A Standard NAT gateway with a static public IP: the clusters' only egress."""
        child = pulumi.ResourceOptions(parent=self)
        public_ip = network.PublicIPAddress(
            f"{name}-natgw-pip",
            resource_group_name=args.resource_group_name,
            location=args.location,
            public_ip_address_name=args.public_ip_name,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            opts=child,
        )
        return network.NatGateway(
            f"{name}-natgw",
            resource_group_name=args.resource_group_name,
            location=args.location,
            nat_gateway_name=args.nat_gateway_name,
            sku=network.NatGatewaySkuArgs(name="Standard"),
            public_ip_addresses=[network.SubResourceArgs(id=public_ip.id)],
            opts=child,
        )

    def _endpoint_subnet(
        self, name: str, args: NetworkArgs, group: pulumi.Input[str], vnet: pulumi.Input[str]
    ) -> network.Subnet:
        """The subnet private endpoints live in: not delegated, no NAT gateway, and an NSG of
        its own with Azure's default rules only (landing-zone policies deny a subnet without
        one; with endpoint network policies off, its rules don't filter endpoint traffic)."""
        nsg = network.NetworkSecurityGroup(
            f"{name}-endpoint-nsg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            network_security_group_name=args.endpoint_nsg_name,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["securityRules"]),
        )
        return network.Subnet(
            f"{name}-endpoint-subnet",
            resource_group_name=group,
            virtual_network_name=vnet,
            subnet_name=ENDPOINT_SUBNET,
            address_prefix=args.endpoint_subnet,
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
            # NSG and UDR policies don't apply to private endpoints here: Azure's default,
            # stated so the reader sees it.
            private_endpoint_network_policies="Disabled",
            default_outbound_access=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
