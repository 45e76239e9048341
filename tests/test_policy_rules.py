"""The policy pack in policy/: each policy gets a compliant and a violating resource.

Every policy is driven through the pack's analyzer gRPC interface, as the Pulumi CLI drives it:
one pack process per module (`guard_engine.PackProcess`), `Analyze` per resource, `AnalyzeStack`
over the stack, policy config through `Configure`. The rules' own helpers are called directly.
"""

from __future__ import annotations

import copy
import dataclasses
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

import guard_engine  # noqa: E402
import guard_policies  # noqa: E402
import guard_rules as rules  # noqa: E402
import pulumi_policy  # noqa: E402
from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import (  # noqa: E402
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

SUB = "/subscriptions/3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21/resourceGroups/mlflow-dev-rg/providers"
VNET_ID = f"{SUB}/Microsoft.Network/virtualNetworks/mlflow-dev-vnet"
AML_ID = f"{SUB}/Microsoft.MachineLearningServices/workspaces/mlflow-dev-mlw"
TAGS = {"environment": "dev", "managed-by": "pulumi", "cost-center": "data-science"}
DELETE = object()

DATABRICKS_WORKSPACE = {
    "resourceGroupName": "mlflow-dev-rg",
    "workspaceName": "mlflow-dev-dbw",
    "location": "westeurope",
    "sku": {"name": "premium"},
    "managedResourceGroupId": "/subscriptions/x/resourceGroups/mlflow-dev-databricks-managed-rg",
    "parameters": {
        "customVirtualNetworkId": {"value": VNET_ID},
        "customPublicSubnetName": {"value": "mlflow-dev-host"},
        "customPrivateSubnetName": {"value": "mlflow-dev-container"},
        "enableNoPublicIp": {"value": True},
        "amlWorkspaceId": {"value": AML_ID},
    },
    "tags": TAGS,
}
AML_WORKSPACE = {
    "resourceGroupName": "mlflow-dev-rg",
    "workspaceName": "mlflow-dev-mlw",
    "identity": {"type": "SystemAssigned"},
    "publicNetworkAccess": "Enabled",
    "tags": TAGS,
}
STORAGE_ACCOUNT = {
    "accountName": "mlflowdev1a2b3c",
    "kind": "StorageV2",
    "sku": {"name": "Standard_LRS"},
    "enableHttpsTrafficOnly": True,
    "minimumTlsVersion": "TLS1_2",
    "allowBlobPublicAccess": False,
    "tags": TAGS,
}
KEY_VAULT = {
    "vaultName": "mlflow-dev-1a2b3c",
    "properties": {
        "tenantId": "8e1c2b3a-4d5f-4a6b-8c7d-9e0f1a2b3c4d",
        "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": True,
        "enableSoftDelete": True,
    },
    "tags": TAGS,
}
CLUSTER = {
    "clusterName": "mlflow-dev-tracking",
    "sparkVersion": "15.4.x-scala2.12",
    "nodeTypeId": "Standard_DS3_v2",
    "autoterminationMinutes": 30,
    "autoscale": {"minWorkers": 1, "maxWorkers": 2},
    "sparkEnvVars": {
        "MLFLOW_TRACKING_URI": "azureml://westeurope.api.azureml.ms/mlflow/v1.0" + AML_ID,
        "AZURE_TENANT_ID": "8e1c2b3a-4d5f-4a6b-8c7d-9e0f1a2b3c4d",
        "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "AZURE_CLIENT_SECRET": "{{secrets/mlflow-dev-azureml/client-secret}}",
    },
}
UC_CLUSTER = {
    **CLUSTER,
    "dataSecurityMode": "USER_ISOLATION",
    "sparkEnvVars": {**CLUSTER["sparkEnvVars"], "MLFLOW_REGISTRY_URI": "databricks-uc"},
}
AML_PRIVATE_ENDPOINT = {
    "privateEndpointName": "mlflow-dev-mlw-pe",
    "subnet": {"id": f"{VNET_ID}/subnets/endpoints"},
    "privateLinkServiceConnections": [
        {"name": "amlworkspace", "privateLinkServiceId": AML_ID, "groupIds": ["amlworkspace"]}
    ],
    "tags": TAGS,
}
BLOB_PRIVATE_ENDPOINT = {
    "privateEndpointName": "mlflow-dev-st-blob-pe",
    "privateLinkServiceConnections": [
        {"name": "blob", "privateLinkServiceId": f"{SUB}/st", "groupIds": ["blob"]}
    ],
    "tags": TAGS,
}


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `base` with the dotted `path` set to `value` (or removed, for DELETE)."""
    result = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = result
    for key in parents:
        node = node.setdefault(key, {})
    if value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return result


@pytest.fixture(scope="module")
def pack():
    """The pack, started once for this module as the CLI starts it."""
    with guard_engine.PackProcess() as started:
        yield started


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:dev::databricks-azureml::{resource_type}::{name}"


def _reported(
    pack: guard_engine.PackProcess,
    policy_name: str,
    resources: list[guard_engine.EngineResource],
    config: dict[str, Any] | None = None,
) -> list[guard_engine.Finding]:
    """What `policy_name` reports over `resources`, each message without the policy's
    description, which the pack puts in front of every message."""
    [description] = [p.description for p in pack.info.policies if p.name == policy_name]
    findings = pack.analyze(resources, config={policy_name: config} if config else None)
    return [
        dataclasses.replace(f, message=f.message.removeprefix(description + "\n"))
        for f in findings
        if f.policy == policy_name
    ]


def run_resource_policy(
    pack: guard_engine.PackProcess,
    policy_name: str,
    resource_type: str,
    props: dict[str, Any],
    config: dict[str, Any] | None = None,
    name: str = "res",
) -> list[str]:
    """The messages the policy reports for one resource, sent to the pack as the engine sends it."""
    resource = guard_engine.EngineResource(resource_type, name, urn(resource_type, name), props)
    return [f.message for f in _reported(pack, policy_name, [resource], config)]


def run_stack_policy(
    pack: guard_engine.PackProcess,
    policy_name: str,
    resources: list[tuple[str, str, dict[str, Any]]],
) -> list[tuple[str, str | None]]:
    """(message, urn) pairs the stack policy reports over (type, name, props) resources."""
    stack = [
        guard_engine.EngineResource(resource_type, name, urn(resource_type, name), props)
        for resource_type, name, props in resources
    ]
    return [(f.message, f.urn or None) for f in _reported(pack, policy_name, stack)]


# --- every resource policy accepts what the stack declares -------------------------------------

COMPLIANT = [
    ("databricks-workspace-vnet-injection", rules.DATABRICKS_WORKSPACE, DATABRICKS_WORKSPACE),
    ("databricks-workspace-no-public-ip", rules.DATABRICKS_WORKSPACE, DATABRICKS_WORKSPACE),
    ("databricks-workspace-premium-sku", rules.DATABRICKS_WORKSPACE, DATABRICKS_WORKSPACE),
    ("aml-workspace-system-identity", rules.AML_WORKSPACE, AML_WORKSPACE),
    ("storage-account-minimum-tls-1-2", rules.STORAGE_ACCOUNT, STORAGE_ACCOUNT),
    ("storage-account-no-public-blob-access", rules.STORAGE_ACCOUNT, STORAGE_ACCOUNT),
    ("key-vault-rbac-authorization", rules.KEY_VAULT, KEY_VAULT),
    ("key-vault-soft-delete", rules.KEY_VAULT, KEY_VAULT),
    ("databricks-cluster-auto-termination", rules.DATABRICKS_CLUSTER, CLUSTER),
    ("databricks-cluster-secret-env-vars", rules.DATABRICKS_CLUSTER, CLUSTER),
    ("cluster-fits-unity-catalog-models", rules.DATABRICKS_CLUSTER, UC_CLUSTER),
    ("azure-resources-tagged", rules.DATABRICKS_WORKSPACE, DATABRICKS_WORKSPACE),
    (
        "role-assignment-not-databricks-admin",
        rules.ROLE_ASSIGNMENT,
        {
            "scope": "/subscriptions/s/resourceGroups/rg",
            # Reader (Learn, "Azure built-in roles")
            "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/"
            "roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
        },
    ),
]


@pytest.mark.parametrize(("policy_name", "resource_type", "props"), COMPLIANT)
def test_compliant_resource_passes(pack, policy_name, resource_type, props):
    assert run_resource_policy(pack, policy_name, resource_type, props) == []


@pytest.mark.parametrize(("policy_name", "resource_type", "props"), COMPLIANT[:-1])
def test_resource_policy_ignores_other_resource_types(pack, policy_name, resource_type, props):
    other = "azure-native:network:NetworkSecurityGroup"
    assert run_resource_policy(pack, policy_name, other, {"tags": TAGS}) == []


def test_every_resource_policy_has_a_compliance_test():
    resource_policies = {
        p.name for p in guard_policies.POLICIES if isinstance(p, ResourceValidationPolicy)
    }
    assert resource_policies == {name for name, _, _ in COMPLIANT}


# --- Databricks workspace ----------------------------------------------------------------------


def test_workspace_missing_a_subnet_name_is_not_vnet_injected(pack):
    props = changed(DATABRICKS_WORKSPACE, "parameters.customPublicSubnetName", DELETE)
    messages = run_resource_policy(
        pack, "databricks-workspace-vnet-injection", rules.DATABRICKS_WORKSPACE, props
    )
    assert len(messages) == 1
    assert messages[0].startswith("parameters.customPublicSubnetName.value is not set")
    expected = "customVirtualNetworkId, customPublicSubnetName and customPrivateSubnetName"
    assert expected in messages[0]


def test_workspace_without_any_network_parameter_gets_one_message_per_parameter(pack):
    props = changed(DATABRICKS_WORKSPACE, "parameters", {"enableNoPublicIp": {"value": True}})
    messages = run_resource_policy(
        pack, "databricks-workspace-vnet-injection", rules.DATABRICKS_WORKSPACE, props
    )
    assert [m.split(" ", 1)[0] for m in messages] == [
        "parameters.customVirtualNetworkId.value",
        "parameters.customPublicSubnetName.value",
        "parameters.customPrivateSubnetName.value",
    ]


class Starts(str):
    """An expected message pinned by its start; the rest of it may say more."""


class Contains(str):
    """An expected message pinned by a part of it."""


def matches(messages: list[str], expected: list[str]) -> bool:
    """Each message equals its expectation, or starts with a `Starts` or holds a `Contains`."""
    return len(messages) == len(expected) and all(
        m.startswith(e) if isinstance(e, Starts) else e in m if isinstance(e, Contains) else m == e
        for m, e in zip(messages, expected, strict=True)
    )


def assert_reported(reported: list[tuple[str, Any]], expected: list[tuple[str, Any]]) -> None:
    """Stack findings: messages as `matches` takes them, urns equal, in order."""
    assert matches([m for m, _ in reported], [m for m, _ in expected]), reported
    assert [u for _, u in reported] == [u for _, u in expected]


WS, AML, SA, KV, CL = (
    rules.DATABRICKS_WORKSPACE,
    rules.AML_WORKSPACE,
    rules.STORAGE_ACCOUNT,
    rules.KEY_VAULT,
    rules.DATABRICKS_CLUSTER,
)
# One property changed on a compliant resource: (policy, type, resource, path, value, policy
# config, the messages the policy reports).
ONE_CHANGE = [
    pytest.param("databricks-workspace-vnet-injection", WS, DATABRICKS_WORKSPACE, "parameters.customVirtualNetworkId", {"value": " "}, None, [Starts("parameters.customVirtualNetworkId.value is not set")], id="workspace_with_blank_vnet_id_is_not_vnet_injected"),
    pytest.param("databricks-workspace-no-public-ip", WS, DATABRICKS_WORKSPACE, "parameters.enableNoPublicIp", {"value": False}, None, ["parameters.enableNoPublicIp.value is False; expected true, so cluster nodes get no public IP addresses (secure cluster connectivity)"], id="workspace_with_public_ips_is_rejected"),
    pytest.param("databricks-workspace-no-public-ip", WS, DATABRICKS_WORKSPACE, "parameters.enableNoPublicIp", DELETE, None, [Starts("parameters.enableNoPublicIp.value is not set; expected true")], id="workspace_leaving_no_public_ip_unset_is_rejected"),
    pytest.param("databricks-workspace-premium-sku", WS, DATABRICKS_WORKSPACE, "sku.name", "standard", None, [Starts("sku.name is 'standard'; expected 'premium'")], id="standard_sku_workspace_is_rejected"),
    pytest.param("databricks-workspace-premium-sku", WS, DATABRICKS_WORKSPACE, "sku.name", "Premium", None, [], id="premium_sku_is_matched_case_insensitively"),
    pytest.param("databricks-workspace-premium-sku", WS, DATABRICKS_WORKSPACE, "sku", DELETE, None, [Starts("sku.name is not set; expected 'premium'")], id="workspace_without_sku_is_rejected"),
    pytest.param("aml-workspace-system-identity", AML, AML_WORKSPACE, "identity.type", "UserAssigned", None, [Starts("identity.type is 'UserAssigned'; expected 'SystemAssigned' (or 'SystemAssigned,UserAssigned')")], id="aml_workspace_with_only_user_assigned_identity_is_rejected"),
    pytest.param("aml-workspace-system-identity", AML, AML_WORKSPACE, "identity", DELETE, None, [Starts("identity.type is not set; expected 'SystemAssigned'")], id="aml_workspace_without_identity_is_rejected"),
    pytest.param("aml-workspace-system-identity", AML, AML_WORKSPACE, "identity.type", "SystemAssigned,UserAssigned", None, [], id="aml_workspace_with_system_and_user_identities_passes"),
    pytest.param("storage-account-minimum-tls-1-2", SA, STORAGE_ACCOUNT, "minimumTlsVersion", "TLS1_0", None, ["minimumTlsVersion is 'TLS1_0'; expected 'TLS1_2'"], id="storage_account_accepting_tls_1_0_is_rejected"),
    pytest.param("storage-account-minimum-tls-1-2", SA, STORAGE_ACCOUNT, "minimumTlsVersion", DELETE, None, ["minimumTlsVersion is not set (the API then defaults to TLS1_0); expected 'TLS1_2'"], id="storage_account_without_minimum_tls_is_rejected_naming_the_api_default"),
    pytest.param("storage-account-minimum-tls-1-2", SA, STORAGE_ACCOUNT, "minimumTlsVersion", "TLS1_3", None, [], id="storage_account_with_tls_1_3_passes"),
    pytest.param("storage-account-no-public-blob-access", SA, STORAGE_ACCOUNT, "allowBlobPublicAccess", True, None, [Starts("allowBlobPublicAccess is True; expected false")], id="storage_account_allowing_public_blobs_is_rejected"),
    pytest.param("storage-account-no-public-blob-access", SA, STORAGE_ACCOUNT, "allowBlobPublicAccess", DELETE, None, [Starts("allowBlobPublicAccess is not set; expected false, set explicitly")], id="storage_account_leaving_public_blob_access_unset_is_rejected"),
    pytest.param("key-vault-rbac-authorization", KV, KEY_VAULT, "properties.enableRbacAuthorization", False, None, ["properties.enableRbacAuthorization is False; expected true"], id="key_vault_with_access_policies_is_rejected"),
    pytest.param("key-vault-rbac-authorization", KV, KEY_VAULT, "properties.enableRbacAuthorization", DELETE, None, ["properties.enableRbacAuthorization is not set (the API then defaults to false: access policies); expected true"], id="key_vault_leaving_rbac_unset_is_rejected_naming_the_api_default"),
    pytest.param("key-vault-soft-delete", KV, KEY_VAULT, "properties.enableSoftDelete", False, None, [Starts("properties.enableSoftDelete is False; expected true")], id="key_vault_disabling_soft_delete_is_rejected"),
    pytest.param("key-vault-soft-delete", KV, KEY_VAULT, "properties.enableSoftDelete", DELETE, None, [], id="key_vault_leaving_soft_delete_unset_passes_since_azure_enables_it"),
    pytest.param("databricks-cluster-auto-termination", CL, CLUSTER, "autoterminationMinutes", DELETE, None, ["autoterminationMinutes is not set (the provider then applies its own default); expected 10 to 120 minutes"], id="cluster_without_auto_termination_is_rejected"),
    pytest.param("databricks-cluster-auto-termination", CL, CLUSTER, "autoterminationMinutes", 0, None, [Starts("autoterminationMinutes is 0, which disables auto-termination")], id="cluster_with_auto_termination_disabled_is_rejected"),
    pytest.param("databricks-cluster-auto-termination", CL, CLUSTER, "autoterminationMinutes", 480, None, ["autoterminationMinutes is 480, above this pack's limit of 120 minutes (policy config maxAutoterminationMinutes); expected 10 to 120 minutes"], id="cluster_above_the_default_limit_is_rejected"),
    pytest.param("databricks-cluster-auto-termination", CL, CLUSTER, "autoterminationMinutes", 120, None, [], id="cluster_at_the_limit_passes"),
    pytest.param("databricks-cluster-auto-termination", CL, CLUSTER, "autoterminationMinutes", 480, {"maxAutoterminationMinutes": 600}, [], id="configured_limit_allows_a_longer_auto_termination"),
    pytest.param("databricks-cluster-auto-termination", CL, CLUSTER, "autoterminationMinutes", 90.0, {"maxAutoterminationMinutes": 60.0}, ["autoterminationMinutes is 90, above this pack's limit of 60 minutes (policy config maxAutoterminationMinutes); expected 10 to 60 minutes"], id="configured_limit_given_as_protobuf_float_tightens_the_rule"),
    pytest.param("databricks-cluster-auto-termination", CL, CLUSTER, "autoterminationMinutes", 5, None, [Starts("autoterminationMinutes is 5, below Databricks' minimum of 10")], id="cluster_below_the_databricks_minimum_is_rejected"),
    pytest.param("databricks-cluster-secret-env-vars", CL, CLUSTER, "sparkEnvVars.PYSPARK_PYTHON", "/databricks/python3/bin/python3", None, [], id="plain_values_are_fine_for_variables_not_named_like_credentials"),
    pytest.param("databricks-workspace-vnet-injection", WS, DATABRICKS_WORKSPACE, "parameters.customVirtualNetworkId", {"value": UNKNOWN_STRING_VALUE}, None, [], id="unknown_vnet_id_in_preview_counts_as_set"),
    pytest.param("databricks-workspace-no-public-ip", WS, DATABRICKS_WORKSPACE, "parameters.enableNoPublicIp", {"value": UNKNOWN_BOOLEAN_VALUE}, None, [], id="unknown_value_is_left_for_pulumi_up_instead_of_guessed"),
    pytest.param("databricks-cluster-secret-env-vars", CL, CLUSTER, "sparkEnvVars.AZURE_CLIENT_SECRET", UNKNOWN_STRING_VALUE, None, [], id="unknown_secret_reference_is_left_for_pulumi_up_instead_of_guessed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policy_name", "resource_type", "base", "path", "value", "config", "expected"), ONE_CHANGE
)
def test_policy_judges_one_changed_property(
    pack, policy_name, resource_type, base, path, value, config, expected
):
    props = changed(base, path, value)
    messages = run_resource_policy(pack, policy_name, resource_type, props, config)
    assert matches(messages, expected), messages


# --- policy config -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [5, 20000, 60.5, "60", True])
def test_invalid_limit_config_is_refused_with_the_key_and_range(bad):
    with pytest.raises(ValueError) as raised:
        rules.autotermination_limit({"maxAutoterminationMinutes": bad})
    assert str(raised.value) == (
        f"policy config maxAutoterminationMinutes: {bad!r} is not allowed; expected a whole "
        "number of minutes from 10 to 10000"
    )


def test_limit_defaults_to_120_minutes():
    assert rules.autotermination_limit({}) == 120


# --- Databricks cluster: secret env vars -------------------------------------------------------


def test_client_secret_in_clear_is_rejected_without_echoing_it(pack):
    props = changed(CLUSTER, "sparkEnvVars.AZURE_CLIENT_SECRET", "s3cr3t-Value~xyz")
    messages = run_resource_policy(
        pack, "databricks-cluster-secret-env-vars", rules.DATABRICKS_CLUSTER, props
    )
    assert len(messages) == 1
    assert messages[0].startswith(
        "sparkEnvVars.AZURE_CLIENT_SECRET is not a secret reference; a variable whose name "
        "contains SECRET, TOKEN or PASSWORD must be '{{secrets/<scope>/<key>}}'"
    )
    assert "s3cr3t" not in messages[0]


@pytest.mark.parametrize("name", ["DATABRICKS_TOKEN", "db_password", "Hf_Token_Path"])
def test_credential_names_are_matched_case_insensitively(pack, name):
    props = changed(CLUSTER, f"sparkEnvVars.{name}", "plain")
    messages = run_resource_policy(
        pack, "databricks-cluster-secret-env-vars", rules.DATABRICKS_CLUSTER, props
    )
    assert [m.split(" ", 1)[0] for m in messages] == [f"sparkEnvVars.{name}"]


@pytest.mark.parametrize(
    "value", ["{{secrets/only-scope}}", "prefix {{secrets/a/b}}", "{{secrets/a/b/c}}"]
)
def test_malformed_secret_reference_is_rejected(pack, value):
    props = changed(CLUSTER, "sparkEnvVars.AZURE_CLIENT_SECRET", value)
    messages = run_resource_policy(
        pack, "databricks-cluster-secret-env-vars", rules.DATABRICKS_CLUSTER, props
    )
    assert len(messages) == 1


# --- tags --------------------------------------------------------------------------------------


def test_taggable_resource_without_tags_is_rejected_naming_both_keys(pack):
    messages = run_resource_policy(
        pack,
        "azure-resources-tagged",
        "azure-native:network:NetworkSecurityGroup",
        {"location": "x"},
    )
    assert messages == [
        "tags lack 'environment' and 'managed-by'; every taggable Azure resource must carry "
        "'environment' (the stack) and 'managed-by' ('pulumi'), each with a non-empty value"
    ]


def test_empty_managed_by_tag_counts_as_missing(pack):
    props = changed(STORAGE_ACCOUNT, "tags.managed-by", "")
    messages = run_resource_policy(pack, "azure-resources-tagged", rules.STORAGE_ACCOUNT, props)
    assert len(messages) == 1
    assert messages[0].startswith("tags lack 'managed-by';")


@pytest.mark.parametrize(
    "resource_type",
    [
        "azure-native:network:Subnet",
        "azure-native:authorization:RoleAssignment",
        "azure-native:network:PrivateDnsZoneGroup",
        rules.DATABRICKS_CLUSTER,
        "databricks:index/secretScope:SecretScope",
    ],
)
def test_resources_that_take_no_tags_are_not_checked(pack, resource_type):
    assert run_resource_policy(pack, "azure-resources-tagged", resource_type, {"name": "x"}) == []


@pytest.mark.parametrize(
    ("resource_type", "expected"),
    [
        ("azure-native:resources:ResourceGroup", True),
        ("azure-native:keyvault:Vault", True),
        ("azure-native:privatedns:VirtualNetworkLink", True),
        ("azure-native:network:NatGateway", True),
        ("azure-native:network:Subnet", False),
        ("azure-native:storage:BlobContainer", False),
        ("azure-native:nosuchmodule:Thing", None),
        ("azure-native:network:NoSuchType", None),
        ("databricks:index/cluster:Cluster", None),
    ],
)
def test_taggability_comes_from_the_azure_native_sdk(resource_type, expected):
    assert rules.azure_native_accepts_tags(resource_type) is expected


def test_type_unknown_to_the_sdk_is_checked_only_when_it_declares_tags(pack):
    unknown_type = "azure-native:futureservice:Widget"
    assert (
        run_resource_policy(pack, "azure-resources-tagged", unknown_type, {"location": "x"}) == []
    )
    messages = run_resource_policy(
        pack, "azure-resources-tagged", unknown_type, {"tags": {"environment": "dev"}}
    )
    assert messages[0].startswith("tags lack 'managed-by';")


# --- stack policies: publicNetworkAccess and dual tracking under private link -----------------


PE, AMLW = rules.PRIVATE_ENDPOINT, rules.AML_WORKSPACE
AML_PRIVATE = changed(AML_WORKSPACE, "publicNetworkAccess", "Disabled")
# A stack policy over a few resources: (policy, resources, the (message, urn) pairs it reports).
STACK_CASES = [
    pytest.param("aml-workspace-private-when-private-link", [(PE, "mlw-pe", AML_PRIVATE_ENDPOINT), (AMLW, "mlw", AML_WORKSPACE)], [("AzureML workspace 'mlw' has publicNetworkAccess 'Enabled', but the stack reaches it through private endpoint 'mlw-pe' (group 'amlworkspace'); expected publicNetworkAccess 'Disabled'", urn(AMLW, "mlw"))], id="private_link_stack_with_public_aml_workspace_is_rejected"),
    pytest.param("aml-workspace-private-when-private-link", [(PE, "mlw-pe", AML_PRIVATE_ENDPOINT), (AMLW, "mlw", changed(AML_WORKSPACE, "publicNetworkAccess", DELETE))], [(Starts("AzureML workspace 'mlw' has publicNetworkAccess not set (Azure then allows public access)"), urn(AMLW, "mlw"))], id="private_link_stack_leaving_public_network_access_unset_is_rejected"),
    pytest.param("aml-workspace-private-when-private-link", [(PE, "mlw-pe", AML_PRIVATE_ENDPOINT), (AMLW, "mlw", AML_PRIVATE)], [], id="private_link_stack_with_disabled_public_access_passes"),
    pytest.param("aml-workspace-private-when-private-link", [(PE, "blob-pe", BLOB_PRIVATE_ENDPOINT), (AMLW, "mlw", AML_WORKSPACE)], [], id="public_aml_workspace_is_fine_without_an_aml_private_endpoint"),
    pytest.param("aml-workspace-private-when-private-link", [(PE, "manual-pe", {"manualPrivateLinkServiceConnections": AML_PRIVATE_ENDPOINT["privateLinkServiceConnections"]}), (AMLW, "mlw", AML_WORKSPACE)], [(Starts(""), urn(AMLW, "mlw"))], id="manual_private_link_connection_also_makes_the_stack_private_link"),
    pytest.param("no-dual-tracking-with-private-link", [(PE, "mlw-pe", AML_PRIVATE_ENDPOINT), (AMLW, "mlw", AML_PRIVATE), (WS, "dbw", DATABRICKS_WORKSPACE)], [("Databricks workspace 'dbw' sets parameters.amlWorkspaceId (dual tracking), but the AzureML workspace is private-link: private endpoint 'mlw-pe' connects to an AzureML workspace (group 'amlworkspace'). Dual tracking isn't supported with a private-link AzureML workspace; expected no amlWorkspaceId and MLflow tracking exclusively in AzureML (trackingMode: exclusive)", urn(WS, "dbw"))], id="dual_tracking_with_private_link_aml_workspace_is_rejected"),
    pytest.param("no-dual-tracking-with-private-link", [(AMLW, "mlw", AML_PRIVATE), (WS, "dbw", DATABRICKS_WORKSPACE)], [(Contains("AzureML workspace 'mlw' has publicNetworkAccess 'Disabled'"), urn(WS, "dbw"))], id="disabled_public_access_alone_marks_the_aml_workspace_private_link"),
    pytest.param("no-dual-tracking-with-private-link", [(PE, "blob-pe", BLOB_PRIVATE_ENDPOINT), (AMLW, "mlw", AML_WORKSPACE), (WS, "dbw", DATABRICKS_WORKSPACE)], [], id="dual_tracking_without_private_link_passes"),
    pytest.param("no-dual-tracking-with-private-link", [(PE, "mlw-pe", AML_PRIVATE_ENDPOINT), (AMLW, "mlw", AML_PRIVATE), (WS, "dbw", changed(DATABRICKS_WORKSPACE, "parameters.amlWorkspaceId", DELETE))], [], id="private_link_with_exclusive_tracking_passes"),
    pytest.param("no-dual-tracking-with-private-link", [(PE, "mlw-pe", changed( AML_PRIVATE_ENDPOINT, "privateLinkServiceConnections", [{"privateLinkServiceId": UNKNOWN_STRING_VALUE, "groupIds": ["amlworkspace"]}], )), (WS, "dbw", changed( DATABRICKS_WORKSPACE, "parameters.amlWorkspaceId", {"value": UNKNOWN_STRING_VALUE} ))], [(Starts(""), urn(WS, "dbw"))], id="unknown_aml_workspace_id_in_preview_still_counts_as_dual_tracking"),
]  # fmt: skip


@pytest.mark.parametrize(("policy_name", "resources", "expected"), STACK_CASES)
def test_stack_policy_judges_the_declared_resources(pack, policy_name, resources, expected):
    reported = run_stack_policy(pack, policy_name, resources)
    assert_reported(reported, expected)


def test_lookup_reports_missing_and_unknown_without_raising(pack):
    props = unknown_checking_proxy({"a": {"b": UNKNOWN_STRING_VALUE, "c": None}, "l": [1]})
    assert rules.lookup(props, "a", "b") is rules.UNKNOWN
    assert rules.lookup(props, "a", "c") is rules.MISSING
    assert rules.lookup(props, "a", "b", "deeper") is rules.UNKNOWN
    assert rules.lookup(props, "x", "y") is rules.MISSING
    assert rules.lookup(props, "l", 0) == 1
    assert rules.lookup(props, "l", 3) is rules.MISSING


# --- through the analyzer protocol, as the Pulumi engine calls the pack ------------------------


def engine_resource(resource_type: str, name: str, props: dict[str, Any]):
    return guard_engine.EngineResource(resource_type, name, urn(resource_type, name), props)


def test_engine_reports_a_mandatory_violation_with_description_and_detail(pack):
    weak = changed(STORAGE_ACCOUNT, "minimumTlsVersion", "TLS1_1")
    findings = guard_engine.analyze([engine_resource(rules.STORAGE_ACCOUNT, "st", weak)], pack=pack)
    assert findings == [
        guard_engine.Finding(
            policy="storage-account-minimum-tls-1-2",
            urn=urn(rules.STORAGE_ACCOUNT, "st"),
            message="Storage accounts refuse TLS below 1.2 (minimumTlsVersion TLS1_2).\n"
            "minimumTlsVersion is 'TLS1_1'; expected 'TLS1_2'",
            enforcement="MANDATORY",
        )
    ]


def test_engine_applies_the_schema_default_limit_and_a_configured_one(pack):
    cluster = engine_resource(
        rules.DATABRICKS_CLUSTER, "cluster", changed(CLUSTER, "autoterminationMinutes", 90)
    )
    assert guard_engine.analyze([cluster], pack=pack) == []
    findings = guard_engine.analyze(
        [cluster],
        config={"databricks-cluster-auto-termination": {"maxAutoterminationMinutes": 60}},
        pack=pack,
    )
    assert [f.policy for f in findings] == ["databricks-cluster-auto-termination"]
    assert "autoterminationMinutes is 90, above this pack's limit of 60 minutes" in (
        findings[0].message
    )


def test_engine_runs_stack_policies_and_attaches_the_workspace_urn(pack):
    private_dual = [
        engine_resource(rules.PRIVATE_ENDPOINT, "mlw-pe", AML_PRIVATE_ENDPOINT),
        engine_resource(rules.AML_WORKSPACE, "mlw", AML_WORKSPACE),
        engine_resource(rules.DATABRICKS_WORKSPACE, "dbw", DATABRICKS_WORKSPACE),
    ]
    findings = guard_engine.analyze(private_dual, pack=pack)
    assert {(f.policy, f.urn) for f in findings} == {
        ("aml-workspace-private-when-private-link", urn(rules.AML_WORKSPACE, "mlw")),
        ("no-dual-tracking-with-private-link", urn(rules.DATABRICKS_WORKSPACE, "dbw")),
        # bare workspaces also send no logs anywhere
        ("diagnostic-settings-to-log-analytics", urn(rules.AML_WORKSPACE, "mlw")),
        ("diagnostic-settings-to-log-analytics", urn(rules.DATABRICKS_WORKSPACE, "dbw")),
    }


# --- the pack itself ---------------------------------------------------------------------------


def test_analyzer_info_lists_every_policy_as_mandatory_with_the_limit_schema(pack):
    info = pack.info
    assert info.name == "databricks-azureml-guard"
    assert [p.name for p in info.policies] == [p.name for p in guard_policies.POLICIES]
    assert {p.enforcementLevel for p in info.policies} == {guard_engine.proto.MANDATORY}
    [limited] = [p for p in info.policies if p.configSchema.properties]
    assert limited.name == "databricks-cluster-auto-termination"
    schema = limited.configSchema.properties["maxAutoterminationMinutes"]
    assert (schema["type"], schema["default"], schema["maximum"]) == ("integer", 120, 10000)


def test_main_builds_the_mandatory_pack_with_every_policy(monkeypatch):
    built = {}

    def fake_pack(**kwargs):
        built.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")
    assert built["name"] == "databricks-azureml-guard"
    assert built["enforcement_level"] is EnforcementLevel.MANDATORY
    assert [p.name for p in built["policies"]] == [p.name for p in guard_policies.POLICIES]


def test_policy_project_runs_python_in_its_own_virtualenv():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


def test_policy_requirements_are_bounded_ranges():
    lines = [
        line.strip()
        for line in (POLICY_DIR / "requirements.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    names = {line.split(">=")[0] for line in lines}
    assert names == {"pulumi", "pulumi-policy", "pulumi-azure-native"}
    assert all(">=" in line and ",<" in line for line in lines)


def test_pack_starts_as_the_cli_starts_it_and_serves_its_policies():
    # The CLI runs `python -m pulumi.policy <engine> <pack dir>`; the pack prints its gRPC port.
    pack = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(POLICY_DIR)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = pack.stdout.readline().strip()
        assert port.isdigit(), pack.stderr.read() if pack.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert info.name == guard_policies.PACK_NAME
        assert [p.name for p in info.policies] == [p.name for p in guard_policies.POLICIES]
    finally:
        pack.terminate()
        pack.wait(timeout=30)
