"""The AzureML workspace and its dependencies (spec item 3), as the program declares them under
mocks that answer as Azure does: wire (camelCase) inputs and the outputs Azure returned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from components.private_dns import PrivateDnsZones, PrivateDnsZonesArgs, dns_zone_names, zones_for
from components.private_endpoint import EndpointPlacement, PrivateEndpoint, PrivateEndpointArgs
from components.roles import role_assignment_name
from core import naming
from core.config import StackConfig, parse_config
from tests.conftest import program
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, SERVICE_PRINCIPAL, with_values
from tools.offline import SUBSCRIPTION_ID, TENANT_ID, ProgramResult, run_function

NS = "databricks-azureml"
RG = "mlflow-dev-rg"
VNET_ID = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RG}"
    "/providers/Microsoft.Network/virtualNetworks/mlflow-dev-vnet"
)
ENDPOINT_SUBNET_ID = f"{VNET_ID}/subnets/private-endpoints"

REGISTRY = {**DEV, f"{NS}:containerRegistry": "true"}
# The Databricks workspace storage firewall, on by default under private link, adds blob and
# dfs endpoints of its own (tests/test_enterprise_controls.py): off here, where the subject is
# the AzureML workspace's endpoints and zones.
PRIVATE = {**PRIVATE, f"{NS}:databricksStorageFirewall": "false"}
PRIVATE_REGISTRY = {**PRIVATE, f"{NS}:containerRegistry": "true"}

STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
LOGS = "azure-native:operationalinsights:Workspace"
INSIGHTS = "azure-native:applicationinsights:Component"
REGISTRY_T = "azure-native:containerregistry:Registry"
WORKSPACE = "azure-native:machinelearningservices:Workspace"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"
ROLE = "azure-native:authorization:RoleAssignment"
COMPONENT = "databricks-azureml:azureml:Workspace"

AZUREML_ZONES = ["privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"]


@dataclass
class Built:
    config: StackConfig
    names: naming.ResourceNames
    unique: naming.GlobalNames
    run: ProgramResult

    def one(self, type_: str, name_contains: str = "") -> Any:
        return self.run.one(type_, name_contains)


def build(raw: dict[str, str], stack: str = "dev") -> Built:
    """The program for `raw`, with the names the config gives, for the assertions."""
    config = parse_config(raw, stack, SECRET_KEYS & raw.keys())
    group = naming.resource_group_name(config.prefix, config.stack)
    unique = naming.global_names(
        config.prefix, config.stack, naming.unique_suffix(SUBSCRIPTION_ID, group, config.stack)
    )
    names = naming.resource_names(config.prefix, config.stack)
    return Built(config, names, unique, program(raw, stack))


# --- storage, key vault, monitoring ----------------------------------------------------


def test_storage_account_is_storagev2_https_only_tls12_without_public_blob_access():
    built = build(DEV)
    account = built.one(STORAGE).inputs
    assert account["accountName"] == built.unique.storage_account
    assert account["kind"] == "StorageV2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowCrossTenantReplication"] is False
    assert account["isHnsEnabled"] is False  # AzureML's default storage can't be ADLS Gen2
    assert account["location"] == "westeurope"
    assert account["resourceGroupName"] == RG


def test_storage_keeps_shared_key_because_system_datastores_use_the_account_key():
    built = build(DEV)
    assert built.one(STORAGE).inputs["allowSharedKeyAccess"] is True
    assert built.one(WORKSPACE).inputs["systemDatastoresAuthMode"] == "AccessKey"


def test_dev_storage_and_key_vault_stay_publicly_reachable():
    built = build(DEV)
    account = built.one(STORAGE).inputs
    assert account["publicNetworkAccess"] == "Enabled"
    assert account["networkRuleSet"] == {"defaultAction": "Allow", "bypass": "AzureServices"}
    vault = built.one(VAULT).inputs["properties"]
    assert vault["publicNetworkAccess"] == "enabled"
    assert vault["networkAcls"] == {"defaultAction": "Allow", "bypass": "AzureServices"}


def test_key_vault_uses_rbac_and_soft_delete_in_the_deployers_tenant():
    built = build(DEV)
    vault = built.one(VAULT)
    assert vault.inputs["vaultName"] == built.unique.key_vault
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == 90
    assert props["tenantId"] == TENANT_ID
    assert props["sku"] == {"family": "A", "name": "standard"}
    assert "accessPolicies" not in props


def test_key_vault_without_purge_protection_when_teardown_purges_it():
    built = build(DEV)  # purgeOnDestroy defaults to true
    assert built.config.purge_on_destroy is True
    # absent, never false: Azure rejects enablePurgeProtection=false
    assert "enablePurgeProtection" not in built.one(VAULT).inputs["properties"]


def test_key_vault_has_purge_protection_when_purge_on_destroy_is_off():
    built = build({**DEV, f"{NS}:purgeOnDestroy": "false"})
    assert built.one(VAULT).inputs["properties"]["enablePurgeProtection"] is True


def test_application_insights_is_workspace_based_on_the_log_analytics_workspace():
    built = build(DEV)
    logs = built.one(LOGS)
    assert logs.inputs["workspaceName"] == built.names.log_analytics
    assert logs.inputs["sku"] == {"name": "PerGB2018"}
    assert logs.inputs["retentionInDays"] == 90  # diagnostics.retentionDays default
    insights = built.one(INSIGHTS).inputs
    assert insights["resourceName"] == built.names.application_insights
    assert insights["workspaceResourceId"] == logs.id
    assert insights["ingestionMode"] == "LogAnalytics"
    assert insights["kind"] == "web"
    assert insights["applicationType"] == "web"


# --- the AzureML workspace ---------------------------------------------------------------


def test_workspace_references_its_dependencies_by_arm_id():
    built = build(DEV)
    ws = built.one(WORKSPACE).inputs
    assert ws["storageAccount"] == built.one(STORAGE).id
    assert ws["keyVault"] == built.one(VAULT).id
    assert ws["applicationInsights"] == built.one(INSIGHTS).id
    assert ws["storageAccount"].endswith(f"/storageAccounts/{built.unique.storage_account}")
    assert ws["keyVault"].endswith(f"/vaults/{built.unique.key_vault}")


def test_workspace_has_system_identity_friendly_name_and_v2_behaviour():
    built = build(DEV)
    ws = built.one(WORKSPACE).inputs
    assert ws["workspaceName"] == built.names.aml_workspace
    assert ws["identity"] == {"type": "SystemAssigned"}
    assert ws["friendlyName"].startswith(built.names.aml_workspace)
    assert ws["v1LegacyMode"] is False
    assert ws["publicNetworkAccess"] == "Enabled"
    assert ws["sku"] == {"name": "Basic", "tier": "Basic"}
    assert ws["kind"] == "Default"
    assert ws["location"] == "westeurope"
    assert "imageBuildCompute" not in ws
    assert "hbiWorkspace" not in ws  # Azure's default (false); changing it recreates


def test_dev_stack_has_no_registry_and_no_private_networking():
    built = build(DEV)
    assert built.run.of_type(REGISTRY_T) == []
    assert "containerRegistry" not in built.one(WORKSPACE).inputs
    for type_ in (ENDPOINT, ZONE_GROUP, ZONE, LINK):
        assert built.run.of_type(type_) == [], type_


def test_stack_exports_the_workspace_name_and_id_from_the_resource():
    built = build(DEV)
    ws = built.one(WORKSPACE)
    out = built.run.outputs
    assert out["amlWorkspaceName"] == ws.outputs["name"] == "mlflow-dev-mlw"
    assert out["amlWorkspaceId"] == ws.id


@pytest.mark.parametrize("raw", [DEV, PRIVATE], ids=["public", "private-link"])
def test_exported_tracking_uri_is_the_workspace_resources_own_output(raw):
    built = build(raw)
    ws = built.one(WORKSPACE)
    assert built.run.outputs["mlflowTrackingUri"] == ws.outputs["mlFlowTrackingUri"]


def test_workspace_is_protected_only_when_config_protects_it():
    assert build(DEV).one(WORKSPACE).protect is False
    protected = build({**DEV, f"{NS}:protect": "true"})
    assert protected.one(WORKSPACE).protect is True
    # protect is the workspace's alone: its dependencies can still be replaced
    assert protected.one(VAULT).protect is False
    assert protected.one(STORAGE).protect is False


def test_the_workspace_and_its_dependencies_are_declared_inside_the_component():
    built = build(with_values(PRIVATE_REGISTRY))
    component = built.one(COMPONENT)
    by_urn = {r.urn: r for r in built.run.resources}
    mine = (STORAGE, VAULT, LOGS, INSIGHTS, REGISTRY_T, WORKSPACE, ENDPOINT, ZONE_GROUP, ROLE)
    for resource in built.run.resources:
        if resource.type not in mine:
            continue
        parent = resource.parent
        while parent and parent != component.urn:
            parent = by_urn[parent].parent
        assert parent == component.urn, resource.name


# --- container registry ----------------------------------------------------------------


def test_registry_stack_adds_a_standard_registry_without_admin_user():
    built = build(REGISTRY)
    registry = built.one(REGISTRY_T)
    inputs = registry.inputs
    assert inputs["registryName"] == built.unique.container_registry
    assert inputs["sku"] == {"name": "Standard"}
    assert inputs["adminUserEnabled"] is False
    assert inputs["anonymousPullEnabled"] is False
    assert inputs["publicNetworkAccess"] == "Enabled"
    assert "networkRuleSet" not in inputs  # a Premium-only feature
    assert built.one(WORKSPACE).inputs["containerRegistry"] == registry.id
    assert built.run.of_type(ENDPOINT) == []


def test_private_link_registry_is_premium_with_public_access_off():
    inputs = build(PRIVATE_REGISTRY).one(REGISTRY_T).inputs
    assert inputs["sku"] == {"name": "Premium"}
    assert inputs["adminUserEnabled"] is False
    assert inputs["publicNetworkAccess"] == "Disabled"
    assert inputs["networkRuleSet"] == {"defaultAction": "Deny"}
    assert inputs["networkRuleBypassOptions"] == "AzureServices"


# --- private link ------------------------------------------------------------------------


def test_private_link_turns_public_network_access_off_but_storage_stays_behind_its_firewall():
    """Microsoft's secure-workspace pattern: the storage account keeps public network access
    Enabled with default action Deny, the AzureServices bypass and the workspace as a resource
    instance rule (with Disabled those are inert and system datastores can fail)."""
    built = build(PRIVATE_REGISTRY)
    ws = built.one(WORKSPACE)
    assert ws.inputs["publicNetworkAccess"] == "Disabled"
    account = built.one(STORAGE).inputs
    assert account["publicNetworkAccess"] == "Enabled"
    assert account["networkRuleSet"] == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "resourceAccessRules": [{"tenantId": TENANT_ID, "resourceId": ws.id}],
    }
    vault = built.one(VAULT).inputs["properties"]
    assert vault["publicNetworkAccess"] == "disabled"
    assert vault["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    assert built.one(REGISTRY_T).inputs["publicNetworkAccess"] == "Disabled"


ENDPOINT_CASES = [
    ("amlworkspace", WORKSPACE, AZUREML_ZONES),
    ("blob", STORAGE, ["privatelink.blob.core.windows.net"]),
    ("file", STORAGE, ["privatelink.file.core.windows.net"]),
    ("vault", VAULT, ["privatelink.vaultcore.azure.net"]),
    ("registry", REGISTRY_T, ["privatelink.azurecr.io"]),
]


@pytest.mark.parametrize(("group", "target_type", "zones"), ENDPOINT_CASES)
def test_private_link_endpoint_per_group_in_endpoint_subnet_with_its_zone_group(
    group, target_type, zones
):
    built = build(PRIVATE_REGISTRY)
    endpoint = built.one(ENDPOINT, f"-{group}-")
    inputs = endpoint.inputs
    assert inputs["subnet"] == {"id": ENDPOINT_SUBNET_ID}
    assert inputs["location"] == "westeurope"
    assert inputs["privateEndpointName"] == f"{built.names.aml_workspace}-{group}-pe"
    [connection] = inputs["privateLinkServiceConnections"]
    assert connection["groupIds"] == [group]
    assert connection["privateLinkServiceId"] == built.one(target_type).id
    assert "manualPrivateLinkServiceConnections" not in inputs  # auto-approved, same owner

    zone_ids = {z.inputs["privateZoneName"]: z.id for z in built.run.of_type(ZONE)}
    groups = [g for g in built.run.of_type(ZONE_GROUP) if g.parent == endpoint.parent]
    assert len(groups) == 1  # one zone group per endpoint, holding all its zones
    zone_group = groups[0].inputs
    assert zone_group["privateEndpointName"] == inputs["privateEndpointName"]
    assert [c["privateDnsZoneId"] for c in zone_group["privateDnsZoneConfigs"]] == [
        zone_ids[z] for z in zones
    ]


def test_private_link_without_registry_has_no_registry_endpoint_or_zone():
    built = build(PRIVATE)
    groups = sorted(
        c["groupIds"][0]
        for e in built.run.of_type(ENDPOINT)
        for c in e.inputs["privateLinkServiceConnections"]
    )
    assert groups == ["amlworkspace", "blob", "file", "vault"]
    zones = {z.inputs["privateZoneName"] for z in built.run.of_type(ZONE)}
    assert "privatelink.azurecr.io" not in zones


def test_private_dns_zones_are_global_each_declared_once_and_linked_to_the_vnet():
    built = build(PRIVATE_REGISTRY)
    zones = [z.inputs["privateZoneName"] for z in built.run.of_type(ZONE)]
    assert sorted(zones) == sorted(
        [
            *AZUREML_ZONES,
            "privatelink.blob.core.windows.net",
            "privatelink.file.core.windows.net",
            "privatelink.vaultcore.azure.net",
            "privatelink.azurecr.io",
        ]
    )
    assert all(z.inputs["location"] == "global" for z in built.run.of_type(ZONE))
    links = built.run.of_type(LINK)
    assert sorted(link.inputs["privateZoneName"] for link in links) == sorted(zones)
    for link in links:
        assert link.inputs["virtualNetwork"] == {"id": VNET_ID}
        assert link.inputs["registrationEnabled"] is False
        assert link.inputs["location"] == "global"


def test_workspace_waits_for_its_dependencies_private_endpoints():
    built = build(PRIVATE_REGISTRY)
    ws = built.one(WORKSPACE)
    for group in ("blob", "file", "vault", "registry"):
        assert built.one(ENDPOINT, f"-{group}-").urn in ws.depends_on, group
    assert built.one(ENDPOINT, "-amlworkspace-").urn not in ws.depends_on


# --- private endpoint plumbing -----------------------------------------------------------


def test_zones_for_follow_microsofts_private_dns_zone_table():
    assert zones_for("amlworkspace") == tuple(AZUREML_ZONES)
    assert zones_for("vault") == ("privatelink.vaultcore.azure.net",)
    with pytest.raises(ValueError, match="sqlServer"):
        zones_for("sqlServer")


def test_dns_zone_names_lists_a_shared_zone_once():
    assert dns_zone_names(["blob", "file", "blob"]) == (
        "privatelink.blob.core.windows.net",
        "privatelink.file.core.windows.net",
    )


def test_private_dns_zones_folds_duplicate_names_into_one_zone_and_link():
    def body() -> None:
        PrivateDnsZones(
            "dns",
            PrivateDnsZonesArgs(
                resource_group_name=RG,
                vnet_id=VNET_ID,
                zone_names=("privatelink.blob.core.windows.net",) * 2,
                link_name="vnet-link",
            ),
        )

    run = run_function(body, DEV)
    assert run.error is None
    assert len(run.of_type(ZONE)) == 1
    assert len(run.of_type(LINK)) == 1
    assert run.one(LINK).inputs["virtualNetworkLinkName"] == "vnet-link"


def test_private_endpoint_refuses_a_group_whose_zones_were_not_created():
    def body() -> None:
        zones = PrivateDnsZones(
            "dns",
            PrivateDnsZonesArgs(
                resource_group_name=RG,
                vnet_id=VNET_ID,
                zone_names=dns_zone_names(["blob"]),
                link_name="vnet-link",
            ),
        )
        PrivateEndpoint(
            "kv",
            PrivateEndpointArgs(
                resource_group_name=RG,
                location="westeurope",
                endpoint_name="kv-pe",
                target_resource_id="/subscriptions/x/vaults/kv",
                group_id="vault",
                placement=EndpointPlacement(ENDPOINT_SUBNET_ID, zones.ids),
            ),
        )

    with pytest.raises(ValueError, match=r"privatelink\.vaultcore\.azure\.net"):
        run_function(body, DEV)


# --- the service principal's role ----------------------------------------------------------


def test_service_principal_is_azureml_data_scientist_on_the_workspace_only():
    built = build({**DEV, **SERVICE_PRINCIPAL})
    [role] = built.run.of_type(ROLE)
    ws = built.one(WORKSPACE)
    assert role.inputs["scope"] == ws.id
    assert role.inputs["principalId"] == "66666666-7777-8888-9999-000000000000"
    assert role.inputs["principalType"] == "ServicePrincipal"
    # the built-in role's GUID, pinned: a wrong one would grant something else
    assert role.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        "f6c7c914-8db3-469d-8ca1-694a8f32e121"
    )


def test_role_assignment_keeps_its_former_address_through_an_alias():
    [role] = build({**DEV, **SERVICE_PRINCIPAL}).run.of_type(ROLE)
    assert any("linkage-azureml-data-scientist" in str(alias) for alias in role.aliases)


def test_without_service_principal_nobody_gets_a_role():
    assert build(DEV).run.of_type(ROLE) == []


def test_role_assignment_name_is_the_same_for_its_scope_in_another_casing():
    # ARM compares resource ids case-insensitively: one scope, one assignment name.
    scope = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mlflow-dev-rg"
        "/providers/Microsoft.Storage/storageAccounts/mlflowdevst"
    )
    principal, role = "11111111-1111-1111-1111-111111111111", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    assert role_assignment_name(scope, principal, role) == role_assignment_name(
        scope.upper(), principal, role
    )
    assert role_assignment_name(scope, principal, role) != role_assignment_name(
        scope, principal, "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    )
