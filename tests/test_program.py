"""The whole program under mocks: every mode combination the config allows, outputs, tags,
protection, purge wiring and the secret's reach."""

import json

import pytest

from components.purge import AML_WORKSPACE_PURGE_TYPE, KEY_VAULT_PURGE_TYPE
from core.tagging import is_taggable
from mlflow_setup.contract import MODEL_SCHEMA_OUTPUT, OPTIONAL_OUTPUT_NAMES, OUTPUT_NAMES
from tests.conftest import program
from tests.stacks import (
    CLIENT_ID,
    DEV,
    OBJECT_ID,
    PRIVATE,
    SECRET_VALUE,
    SERVICE_PRINCIPAL,
    with_values,
)
from tools.offline import (
    SUBSCRIPTION_ID,
    TENANT_ID,
    UNKNOWN,
    ProgramResult,
    run_program,
    secret_value,
)

DBW = "azure-native:databricks:Workspace"
AML = "azure-native:machinelearningservices:Workspace"
CLUSTER = "databricks:index/cluster:Cluster"
ROLE = "azure-native:authorization:RoleAssignment"
PROVIDER = "pulumi:providers:databricks"
AZUREML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"  # built-in role, pinned

# (name, config, tracking mode, registry, private link)
COMBINATIONS = [
    ("dual-unity-catalog", DEV, "dual", "unity-catalog", False),
    ("dual-unity-catalog-sp", {**DEV, **SERVICE_PRINCIPAL}, "dual", "unity-catalog", False),
    ("dual-databricks", with_values(DEV, modelRegistry="databricks"), "dual", "databricks", False),
    (
        "dual-azureml",
        with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml"),
        "dual",
        "azureml",
        False,
    ),
    (
        "exclusive-azureml",
        with_values({**DEV, **SERVICE_PRINCIPAL}, trackingMode="exclusive"),
        "exclusive",
        "azureml",
        False,
    ),
    (
        "exclusive-databricks",
        with_values(
            {**DEV, **SERVICE_PRINCIPAL}, trackingMode="exclusive", modelRegistry="databricks"
        ),
        "exclusive",
        "databricks",
        False,
    ),
    ("private-exclusive-azureml", PRIVATE, "exclusive", "azureml", True),
    (
        "private-exclusive-databricks",
        with_values(PRIVATE, modelRegistry="databricks"),
        "exclusive",
        "databricks",
        True,
    ),
]


def run(name: str, raw: dict) -> ProgramResult:
    return program(raw)


@pytest.mark.parametrize(
    ("name", "raw", "mode", "registry", "private"), COMBINATIONS, ids=[c[0] for c in COMBINATIONS]
)
def test_every_allowed_combination_wires_link_role_provider_env_and_outputs(
    name, raw, mode, registry, private
):
    result = run(name, raw)
    aml = result.one(AML)
    dbw = result.one(DBW)
    cluster = result.one(CLUSTER)
    uri = aml.outputs["mlFlowTrackingUri"]
    has_sp = "databricks-azureml:servicePrincipal" in raw

    # link: dual mode only
    link = dbw.inputs["parameters"].get("amlWorkspaceId")
    assert (link == {"value": aml.id}) if mode == "dual" else link is None

    # role assignment: exactly when a service principal is configured
    roles = result.of_type(ROLE)
    if has_sp:
        (role,) = roles
        assert role.inputs["scope"] == aml.id
        assert role.inputs["principalId"] == OBJECT_ID
        assert role.inputs["principalType"] == "ServicePrincipal"
        assert role.inputs["roleDefinitionId"].endswith(
            f"/roleDefinitions/{AZUREML_DATA_SCIENTIST}"
        )
    else:
        assert roles == []

    # the provider is built from the new workspace and the cluster uses it
    provider = result.one(PROVIDER)
    assert provider.inputs["host"] == "https://" + dbw.outputs["workspaceUrl"]
    assert provider.inputs["azureWorkspaceResourceId"] == dbw.id
    assert cluster.provider.startswith(provider.urn + "::")

    # the cluster's environment, library, workers and auto-termination
    env = cluster.inputs.get("sparkEnvVars", {})
    registry_uri = {"azureml": uri, "unity-catalog": "databricks-uc"}.get(registry, "databricks")
    expected = {"MLFLOW_REGISTRY_URI": registry_uri, "DATABRICKS_AZUREML_STACK": "dev"}
    if mode == "exclusive":
        expected["MLFLOW_TRACKING_URI"] = uri
    if registry == "unity-catalog":
        expected["DATABRICKS_AZUREML_MODEL_SCHEMA"] = "mlflow_dev_dbw.default"
    if has_sp:
        expected |= {
            "AZURE_TENANT_ID": TENANT_ID,
            "AZURE_CLIENT_ID": CLIENT_ID,
            "AZURE_CLIENT_SECRET": "{{secrets/mlflow-dev-azureml/azure-client-secret}}",
        }
    assert env == expected
    assert cluster.inputs["libraries"][0]["pypi"]["package"].startswith("azureml-mlflow")
    assert cluster.inputs["autoterminationMinutes"] == 30
    if private:  # the private stack in tests/stacks.py keeps the default workers
        assert cluster.inputs["autoscale"] == {"minWorkers": 1, "maxWorkers": 2}

    # the outputs notebooks read
    out = result.outputs
    assert set(out) == {
        *OUTPUT_NAMES,
        *OPTIONAL_OUTPUT_NAMES,
        MODEL_SCHEMA_OUTPUT,
        "serviceCredential",
    }
    assert out["serviceCredential"] is None  # a service principal, or dual with no identity
    assert out["trackingMode"] == mode
    assert out["modelRegistry"] == registry
    assert out["privateLink"] is private
    assert out["mlflowTrackingUri"] == uri
    assert out["mlflowRegistryUri"] == registry_uri
    assert out["modelSchema"] == ("mlflow_dev_dbw.default" if registry == "unity-catalog" else None)
    assert out["amlWorkspaceId"] == aml.id
    assert out["amlWorkspaceName"] == "mlflow-dev-mlw"
    assert out["databricksWorkspaceId"] == dbw.id
    assert out["databricksWorkspaceUrl"] == "https://" + dbw.outputs["workspaceUrl"]
    assert out["clusterId"] == cluster.id
    assert out["secretScope"] == "mlflow-dev-azureml"
    assert out["resourceGroupName"] == "mlflow-dev-rg"
    assert out["location"] == "westeurope"


def test_secret_appears_only_in_the_databricks_secret_and_in_no_output():
    result = run("private-exclusive-azureml", PRIVATE)
    holders = [r for r in result.resources if SECRET_VALUE in json.dumps(r.inputs, default=str)]
    assert [r.type for r in holders] == ["databricks:index/secret:Secret"]
    assert secret_value(holders[0].inputs["stringValue"]) == SECRET_VALUE
    assert SECRET_VALUE not in json.dumps(result.outputs, default=str)


def test_every_taggable_azure_resource_carries_the_stack_and_config_tags():
    result = run_program(with_values(DEV, tags={"team": "ds"}), "dev")
    azure = [r for r in result.resources if r.type.startswith("azure-native:")]
    taggable = [r for r in azure if is_taggable(r.type)]
    assert len(taggable) >= 11
    for r in taggable:
        assert r.inputs["tags"] == {"environment": "dev", "managed-by": "pulumi", "team": "ds"}, (
            r.type
        )
    assert {r.type for r in azure if not is_taggable(r.type)} <= {
        "azure-native:network:Subnet", "azure-native:authorization:RoleAssignment",
        "azure-native:network:PrivateDnsZoneGroup", "azure-native:monitor:DiagnosticSetting",
    }  # fmt: skip


def test_globally_unique_names_carry_the_subscription_derived_suffix():
    from core import naming

    result = run("dual-databricks", DEV)
    suffix = naming.unique_suffix(SUBSCRIPTION_ID, "mlflow-dev-rg", "dev")
    assert (
        result.one("azure-native:storage:StorageAccount").inputs["accountName"]
        == f"mlflowdev{suffix}"
    )
    assert result.one("azure-native:keyvault:Vault").inputs["vaultName"] == f"mlflow-dev-{suffix}"


def test_names_are_stable_between_two_runs():
    first = {(r.type, r.name): r.inputs for r in run_program(DEV, "dev").resources}
    second = {(r.type, r.name): r.inputs for r in run_program(DEV, "dev").resources}
    assert first.keys() == second.keys()
    for key in first:
        assert json.dumps(first[key], sort_keys=True, default=str) == json.dumps(
            second[key], sort_keys=True, default=str
        )


# --- teardown and protection ---------------------------------------------------------------


def test_protect_marks_the_resource_group_and_both_workspaces_only():
    result = run_program(with_values(DEV, protect=True), "dev")
    protected = sorted(r.type for r in result.resources if r.protect)
    assert protected == sorted(["azure-native:resources:ResourceGroup", AML, DBW])
    assert not any(r.protect for r in run("dual-databricks", DEV).resources)


def test_purge_resources_always_exist_and_carry_the_purge_flag():
    for flag, raw in ((True, DEV), (False, with_values(DEV, purgeOnDestroy=False))):
        result = run_program(raw, "dev")
        workspace_purge = result.one(AML_WORKSPACE_PURGE_TYPE)
        vault_purge = result.one(KEY_VAULT_PURGE_TYPE)
        assert workspace_purge.inputs["purge_on_destroy"] is flag
        assert vault_purge.inputs["purge_on_destroy"] is flag
        assert workspace_purge.inputs["workspace_name"] == "mlflow-dev-mlw"
        assert workspace_purge.inputs["subscription_id"] == SUBSCRIPTION_ID
        assert (
            vault_purge.inputs["key_vault_name"]
            == result.one("azure-native:keyvault:Vault").inputs["vaultName"]
        )
        aml = result.one(AML)
        assert aml.retain_on_delete is flag
        assert workspace_purge.urn in aml.depends_on
        assert vault_purge.urn in result.one("azure-native:keyvault:Vault").depends_on


def test_key_vault_purge_protection_only_without_purge_on_destroy():
    def protection(raw):
        return (
            run_program(raw, "dev")
            .one("azure-native:keyvault:Vault")
            .inputs["properties"]
            .get("enablePurgeProtection")
        )

    assert protection(DEV) is None
    assert protection(with_values(DEV, purgeOnDestroy=False)) is True


def test_databricks_workspace_is_deleted_before_the_resource_group():
    result = run("dual-databricks", DEV)
    group = result.one("azure-native:resources:ResourceGroup")
    assert group.urn in result.one(DBW).depends_on


# --- preview ---------------------------------------------------------------------------------


def test_preview_leaves_what_only_azure_knows_unknown():
    result = run_program(DEV, "dev", deployed=False)
    assert result.error is None
    for key in ("amlWorkspaceId", "mlflowTrackingUri", "databricksWorkspaceUrl", "clusterId"):
        assert result.outputs[key] is UNKNOWN
    assert result.outputs["trackingMode"] == "dual"
    assert result.outputs["secretScope"] == "mlflow-dev-azureml"
