"""The Databricks workspace, as the program declares it under Pulumi mocks, wired to the
network and (dual tracking) the AzureML workspace."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from core.config import StackConfig, TrackingMode, parse_config
from tests.conftest import program
from tests.stacks import DEV, SECRET_KEYS, with_values
from tests.stacks import PRIVATE as PRIVATE_LINK
from tools.offline import SUBSCRIPTION_ID, UNKNOWN, ProgramResult

WORKSPACE = "azure-native:databricks:Workspace"
AML = "azure-native:machinelearningservices:Workspace"
FORCE_DELETE = "pulumi-python:dynamic/purge:DatabricksWorkspaceForceDelete"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
NSG = "azure-native:network:NetworkSecurityGroup"
NAT = "azure-native:network:NatGateway"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
COMPONENT = "databricks-azureml:databricks:Workspace"
NETWORK = "azure-native:network:"


def build(
    raw: Mapping[str, str], stack: str = "dev", *, deployed: bool = True
) -> tuple[ProgramResult, StackConfig]:
    config = parse_config(raw, stack, SECRET_KEYS & raw.keys())
    return program(raw, stack, deployed=deployed), config


@pytest.fixture(params=["dev", "private-link"])
def stack(request: pytest.FixtureRequest) -> tuple[ProgramResult, StackConfig]:
    return build(DEV if request.param == "dev" else PRIVATE_LINK)


def test_workspace_is_premium_and_vnet_injected_into_the_network(stack):
    result, _ = stack
    workspace = result.one(WORKSPACE)
    vnet = result.one(VNET)
    host = result.one(SUBNET, "-host-subnet")
    container = result.one(SUBNET, "-container-subnet")
    params = workspace.inputs["parameters"]

    assert workspace.inputs["sku"] == {"name": "premium"}
    assert workspace.inputs["workspaceName"] == "mlflow-dev-dbw"
    assert workspace.inputs["resourceGroupName"] == "mlflow-dev-rg"
    assert workspace.inputs["location"] == "westeurope"
    assert workspace.inputs["computeMode"] == "Hybrid"
    assert params["customVirtualNetworkId"] == {"value": vnet.id}
    assert vnet.id.endswith("/providers/Microsoft.Network/virtualNetworks/mlflow-dev-vnet")
    # host = "public", container = "private" in Databricks' parameter names
    assert params["customPublicSubnetName"] == {"value": host.outputs["name"]}
    assert params["customPrivateSubnetName"] == {"value": container.outputs["name"]}
    assert host.outputs["name"] == "databricks-host"
    assert container.outputs["name"] == "databricks-container"


def test_clusters_get_no_public_ips_and_databricks_keeps_all_nsg_rules(stack):
    result, _ = stack
    workspace = result.one(WORKSPACE)
    assert workspace.inputs["parameters"]["enableNoPublicIp"] == {"value": True}
    assert workspace.inputs["requiredNsgRules"] == "AllRules"


def test_managed_resource_group_is_a_new_group_in_the_deployers_subscription(stack):
    result, _ = stack
    workspace = result.one(WORKSPACE)
    assert workspace.inputs["managedResourceGroupId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/mlflow-dev-databricks-managed-rg"
    )
    # never the stack's own group: Azure would refuse, or take it over and delete it with the
    # workspace
    assert workspace.inputs["managedResourceGroupId"] != result.one(RESOURCE_GROUP).id


def test_managed_resource_group_is_never_declared(stack):
    """Azure creates (and deletes) the managed group; declaring it would make the workspace
    creation fail, the group already existing."""
    result, _ = stack
    groups = [r.inputs["resourceGroupName"] for r in result.of_type(RESOURCE_GROUP)]
    assert groups == ["mlflow-dev-rg"]


def test_dual_tracking_links_the_azureml_workspace():
    result, config = build(DEV)
    assert config.tracking_mode is TrackingMode.DUAL
    params = result.one(WORKSPACE).inputs["parameters"]
    assert params["amlWorkspaceId"] == {"value": result.one(AML).id}


def test_exclusive_tracking_with_private_link_sets_no_azureml_link():
    result, config = build(PRIVATE_LINK)
    assert config.tracking_mode is TrackingMode.EXCLUSIVE
    params = result.one(WORKSPACE).inputs["parameters"]
    assert "amlWorkspaceId" not in params
    assert set(params) == {
        "customVirtualNetworkId",
        "customPublicSubnetName",
        "customPrivateSubnetName",
        "enableNoPublicIp",
    }


def test_workspace_waits_for_both_subnets_with_their_nsg_and_nat_associations(stack):
    result, _ = stack
    workspace = result.one(WORKSPACE)
    host = result.one(SUBNET, "-host-subnet")
    container = result.one(SUBNET, "-container-subnet")
    nsg, nat = result.one(NSG, "network-nsg"), result.one(NAT)

    assert {host.urn, container.urn} <= set(workspace.depends_on)
    for declared in (host, container):
        # the subnets carry the associations, so waiting for them is waiting for both
        assert {nsg.urn, nat.urn} <= set(declared.depends_on)
        assert declared.inputs["networkSecurityGroup"] == {"id": nsg.id}
        assert declared.inputs["natGateway"] == {"id": nat.id}


def test_workspace_has_no_dependency_beyond_what_its_inputs_imply(stack):
    """No explicit depends_on: the workspace waits for the group, the VNet and the two Databricks
    subnets it names (and, linked in dual mode, the AzureML workspace), and for nothing else (not
    the endpoint subnet, not the NSG or NAT gateway directly), so nothing lengthens the critical
    path of `pulumi up`. Its force-delete resource (a no-op on create, there to order the
    destroy) waits for exactly the same."""
    result, config = stack
    workspace = result.one(WORKSPACE)
    force_delete = result.one(FORCE_DELETE)
    expected = {
        result.one(RESOURCE_GROUP).urn,
        result.one(VNET).urn,
        result.one(SUBNET, "-host-subnet").urn,
        result.one(SUBNET, "-container-subnet").urn,
    }
    if config.tracking_mode is TrackingMode.DUAL:
        expected.add(result.one(AML).urn)
    if config.databricks_storage_firewall:
        # the workspace names it; its delete (force_delete) must come before the connector's
        expected.add(result.one("azure-native:databricks:AccessConnector").urn)
    assert set(workspace.depends_on) == expected | {force_delete.urn}
    assert set(force_delete.depends_on) == expected


def test_workspace_is_protected_only_when_the_stack_asks():
    unprotected, _ = build(DEV)
    protected, config = build({**DEV, "databricks-azureml:protect": "true"})
    assert config.protect is True
    assert unprotected.one(WORKSPACE).protect is False
    assert protected.one(WORKSPACE).protect is True
    # only the workspace itself; its network stays deletable
    assert not any(r.protect for r in protected.resources if r.type.startswith(NETWORK))


def test_outputs_are_the_arm_id_the_name_and_the_https_url(stack):
    result, _ = stack
    workspace = result.one(WORKSPACE)
    assert result.outputs["databricksWorkspaceId"] == workspace.id
    assert workspace.id == (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/mlflow-dev-rg"
        "/providers/Microsoft.Databricks/workspaces/mlflow-dev-dbw"
    )
    assert (
        result.outputs["databricksWorkspaceUrl"] == "https://" + workspace.outputs["workspaceUrl"]
    )
    assert result.outputs["databricksWorkspaceUrl"].endswith(".azuredatabricks.net")


def test_url_stays_unknown_in_preview_until_azure_assigns_it():
    result, _ = build(DEV, deployed=False)
    assert result.outputs["databricksWorkspaceUrl"] is UNKNOWN
    assert result.one(WORKSPACE).inputs["sku"] == {"name": "premium"}


def test_workspace_is_a_child_of_the_component_named_from_it(stack):
    result, _ = stack
    component = result.one(COMPONENT)
    children = [r for r in result.resources if r.parent == component.urn]
    assert [(r.type, r.name) for r in children if not r.type.startswith("databricks-azureml")] == [
        (FORCE_DELETE, "databricks-force-delete"),
        (WORKSPACE, "databricks-dbw"),
    ]


def test_names_are_stable_between_preview_and_up():
    first, _ = build(DEV)
    second, _ = build(DEV, deployed=False)
    assert sorted(r.urn for r in first.resources) == sorted(r.urn for r in second.resources)


def test_unity_catalog_pins_the_workspace_catalog_at_creation_to_the_configured_name():
    result, _ = build(DEV)
    assert result.one(WORKSPACE).inputs["defaultCatalog"] == {
        "initialName": "mlflow_dev_dbw",
        "initialType": "UnityCatalog",
    }


def test_a_configured_unity_catalog_catalog_is_the_one_pinned():
    result, _ = build(with_values(DEV, unityCatalog={"catalog": "ml", "schema": "models"}))
    assert result.one(WORKSPACE).inputs["defaultCatalog"] == {
        "initialName": "ml",
        "initialType": "UnityCatalog",
    }


def test_a_registry_other_than_unity_catalog_leaves_the_default_catalog_to_azure():
    result, _ = build(PRIVATE_LINK)
    assert "defaultCatalog" not in result.one(WORKSPACE).inputs
