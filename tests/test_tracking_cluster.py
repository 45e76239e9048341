"""The tracking cluster, its secret scope and who may attach to it, as the program declares them;
and the contract that gives the cluster its MLflow environment."""

from pathlib import Path

import pytest

from components.tracking_cluster import AZUREML_MLFLOW, Credentials, spark_env_vars
from core import naming
from mlflow_setup.contract import ModelRegistry, TrackingMode, tracking_settings
from tests.conftest import program
from tests.stacks import (
    CLIENT_ID,
    DEV,
    PRIVATE,
    SECRET_VALUE,
    SERVICE_PRINCIPAL,
    with_values,
)
from tools.offline import SUBSCRIPTION_ID, TENANT_ID, secret_value

URI = (
    f"azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/{SUBSCRIPTION_ID}"
    "/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"
)
CLUSTER = "databricks:index/cluster:Cluster"
SCOPE = "databricks:index/secretScope:SecretScope"
SECRET = "databricks:index/secret:Secret"
PERMISSIONS = "databricks:index/permissions:Permissions"
AML = "azure-native:machinelearningservices:Workspace"
SP_DEV = {**DEV, **SERVICE_PRINCIPAL}


def cluster(raw: dict[str, str]):
    return program(raw).one(CLUSTER)


# --- the contract: (mode, registry, AzureML URI) -> URIs and environment --------------------


@pytest.mark.parametrize(
    ("mode", "registry", "tracking", "registry_uri", "env"),
    [
        (
            "dual",
            "unity-catalog",
            "databricks",
            "databricks-uc",
            {"MLFLOW_REGISTRY_URI": "databricks-uc"},
        ),
        ("dual", "databricks", "databricks", "databricks", {"MLFLOW_REGISTRY_URI": "databricks"}),
        ("dual", "azureml", "databricks", URI, {"MLFLOW_REGISTRY_URI": URI}),
        (
            "exclusive",
            "azureml",
            URI,
            URI,
            {"MLFLOW_TRACKING_URI": URI, "MLFLOW_REGISTRY_URI": URI},
        ),
        (
            "exclusive",
            "databricks",
            URI,
            "databricks",
            {"MLFLOW_TRACKING_URI": URI, "MLFLOW_REGISTRY_URI": "databricks"},
        ),
        (
            "exclusive",
            "unity-catalog",
            URI,
            "databricks-uc",
            {"MLFLOW_TRACKING_URI": URI, "MLFLOW_REGISTRY_URI": "databricks-uc"},
        ),
    ],
)
def test_tracking_settings_for_each_mode_and_registry(mode, registry, tracking, registry_uri, env):
    settings = tracking_settings(TrackingMode(mode), ModelRegistry(registry), URI)
    assert settings.tracking_uri == tracking
    assert settings.registry_uri == registry_uri
    assert dict(settings.cluster_env) == env


def test_a_raw_secret_is_refused_as_client_secret():
    with pytest.raises(ValueError, match="reference"):
        spark_env_vars({}, Credentials("t", "c", "s3cr3t"))


def test_a_string_that_only_starts_like_a_secret_reference_is_refused():
    with pytest.raises(ValueError, match="reference"):
        spark_env_vars({}, Credentials("t", "c", "{{secrets/scope/key}} s3cr3t"))


# --- the cluster the program declares ----------------------------------------------------


def test_exclusive_tracking_points_the_cluster_at_the_workspaces_own_tracking_uri():
    program_run = program(PRIVATE)
    env = program_run.one(CLUSTER).inputs["sparkEnvVars"]
    uri = program_run.one(AML).outputs["mlFlowTrackingUri"]
    assert env["MLFLOW_TRACKING_URI"] == uri
    assert env["MLFLOW_REGISTRY_URI"] == uri
    assert program_run.outputs["mlflowTrackingUri"] == uri
    assert program_run.outputs["mlflowRegistryUri"] == uri


def test_dual_tracking_registers_in_unity_catalog_and_marks_the_stacks_cluster():
    assert cluster(DEV).inputs["sparkEnvVars"] == {
        "MLFLOW_REGISTRY_URI": "databricks-uc",
        "DATABRICKS_AZUREML_STACK": "dev",
        "DATABRICKS_AZUREML_MODEL_SCHEMA": "mlflow_dev_dbw.default",
    }


def test_legacy_databricks_registry_is_named_so_mlflow_3_does_not_pick_unity_catalog():
    env = cluster(with_values(DEV, modelRegistry="databricks")).inputs["sparkEnvVars"]
    assert env == {"MLFLOW_REGISTRY_URI": "databricks", "DATABRICKS_AZUREML_STACK": "dev"}


def test_unity_catalog_schema_from_config_reaches_the_cluster_and_the_outputs():
    run = program(with_values(DEV, unityCatalog={"catalog": "ml", "schema": "models"}))
    assert run.one(CLUSTER).inputs["sparkEnvVars"]["DATABRICKS_AZUREML_MODEL_SCHEMA"] == "ml.models"
    assert run.outputs["modelSchema"] == "ml.models"
    assert run.outputs["mlflowRegistryUri"] == "databricks-uc"


def test_dual_tracking_with_azureml_registry_sets_only_the_registry_uri():
    run = program(with_values(SP_DEV, modelRegistry="azureml"))
    env = run.one(CLUSTER).inputs["sparkEnvVars"]
    assert env["MLFLOW_REGISTRY_URI"] == run.one(AML).outputs["mlFlowTrackingUri"]
    assert "MLFLOW_TRACKING_URI" not in env


def test_service_principal_tenant_wins_over_the_deployers():
    tenant = "99999999-8888-7777-6666-555555555555"
    raw = with_values(
        SP_DEV,
        servicePrincipal={
            "clientId": CLIENT_ID,
            "objectId": "66666666-7777-8888-9999-000000000000",
            "tenantId": tenant,
        },
    )
    assert cluster(raw).inputs["sparkEnvVars"]["AZURE_TENANT_ID"] == tenant
    assert cluster(SP_DEV).inputs["sparkEnvVars"]["AZURE_TENANT_ID"] == TENANT_ID


def test_cluster_installs_azureml_mlflow_and_autoscales_with_auto_termination():
    inputs = cluster(DEV).inputs
    assert inputs["libraries"] == [{"pypi": {"package": AZUREML_MLFLOW}}]
    assert inputs["autoscale"] == {"minWorkers": 1, "maxWorkers": 2}
    assert "numWorkers" not in inputs
    assert inputs["autoterminationMinutes"] == 30
    assert inputs["sparkVersion"] == "17.3.x-scala2.13"
    assert inputs["nodeTypeId"] == "Standard_DS3_v2"
    assert inputs["dataSecurityMode"] == "USER_ISOLATION"
    assert inputs["clusterName"] == "mlflow-dev-mlflow"


def test_autoscaling_may_start_from_zero_workers():
    """The Clusters API only asks max_workers > min_workers of an autoscale range."""
    raw = with_values(DEV, cluster={"minWorkers": 0, "maxWorkers": 3})
    assert cluster(raw).inputs["autoscale"] == {"minWorkers": 0, "maxWorkers": 3}


def test_equal_worker_counts_give_a_fixed_size_cluster():
    inputs = cluster(with_values(DEV, cluster={"minWorkers": 3, "maxWorkers": 3})).inputs
    assert inputs["numWorkers"] == 3
    assert "autoscale" not in inputs


def test_single_node_cluster_has_no_workers_and_the_single_node_tags():
    inputs = cluster(with_values(DEV, cluster={"minWorkers": 0, "maxWorkers": 0})).inputs
    assert inputs["numWorkers"] == 0
    assert "autoscale" not in inputs
    assert inputs["sparkConf"]["spark.databricks.cluster.profile"] == "singleNode"
    assert inputs["sparkConf"]["spark.master"] == "local[*]"
    assert inputs["customTags"] == {"ResourceClass": "SingleNode"}


def test_pulumi_up_does_not_wait_for_the_cluster_unless_asked():
    assert cluster(DEV).inputs["noWait"] is True
    waiting = with_values(DEV, cluster={"waitForRunning": True})
    assert cluster(waiting).inputs["noWait"] is False


def test_secret_lives_in_the_scope_and_the_cluster_gets_only_its_reference():
    run = program(SP_DEV)
    scope, secret = run.one(SCOPE), run.one(SECRET, "tracking")
    assert scope.inputs == {"name": "mlflow-dev-azureml", "backendType": "DATABRICKS"}
    assert (secret.inputs["scope"], secret.inputs["key"]) == (
        "mlflow-dev-azureml",
        "azure-client-secret",
    )
    assert secret_value(secret.inputs["stringValue"]) == SECRET_VALUE
    inputs = run.one(CLUSTER).inputs
    env = inputs["sparkEnvVars"]
    assert env["AZURE_CLIENT_SECRET"] == "{{secrets/mlflow-dev-azureml/azure-client-secret}}"
    assert env["AZURE_CLIENT_ID"] == CLIENT_ID
    assert SECRET_VALUE not in repr(inputs)


def test_without_service_principal_the_scope_holds_no_secret():
    run = program(DEV)
    assert run.of_type(SECRET) == []
    assert len(run.of_type(SCOPE)) == 1


def test_provider_reaches_the_new_workspace_by_url_and_arm_id():
    run = program(DEV)
    provider = run.one("pulumi:providers:databricks")
    workspace = run.one("azure-native:databricks:Workspace")
    assert provider.inputs["host"] == "https://" + workspace.outputs["workspaceUrl"]
    assert provider.inputs["azureWorkspaceResourceId"] == workspace.id
    assert run.one(CLUSTER).provider.startswith(provider.urn)


# --- who can attach, and so read the secret ------------------------------------------------


def test_by_default_nobody_but_admins_and_the_deployer_gets_the_cluster():
    assert program(SP_DEV).of_type(PERMISSIONS) == []


def test_cluster_users_get_attach_and_restart_each_by_its_kind():
    users = ["alice@contoso.com", "data-scientists", "0f0e0d0c-0b0a-0908-0706-050403020100"]
    run = program(with_values(SP_DEV, cluster={"users": users}))
    grant = run.one(PERMISSIONS, "tracking")
    assert grant.inputs["clusterId"] == run.one(CLUSTER).outputs["clusterId"]
    assert grant.inputs["accessControls"] == [
        {"userName": "alice@contoso.com", "permissionLevel": "CAN_RESTART"},
        {"groupName": "data-scientists", "permissionLevel": "CAN_RESTART"},
        {
            "servicePrincipalName": "0f0e0d0c-0b0a-0908-0706-050403020100",
            "permissionLevel": "CAN_RESTART",
        },
    ]


def test_dedicated_access_mode_makes_a_single_user_cluster():
    raw = with_values(DEV, cluster={"accessMode": "dedicated", "singleUser": "alice@contoso.com"})
    inputs = cluster(raw).inputs
    assert inputs["dataSecurityMode"] == "SINGLE_USER"
    assert inputs["singleUserName"] == "alice@contoso.com"


def test_cluster_installs_the_azureml_mlflow_range_the_notebook_tests_run():
    pins = Path(__file__).parent.parent.joinpath("requirements-notebooks.in").read_text()
    tested = next(
        line.split("#")[0].strip()
        for line in pins.splitlines()
        if line.startswith("azureml-mlflow")
    )
    assert AZUREML_MLFLOW.replace(" ", "") == tested.replace(" ", "")


def test_the_cluster_carries_both_endpoints_names_and_uris():
    suffix = naming.unique_suffix(SUBSCRIPTION_ID, "mlflow-dev-rg", "dev")
    model = {"model": "m", "version": 1}
    run = program(
        with_values(
            {**DEV, **SERVICE_PRINCIPAL},
            modelRegistry="azureml",
            endpoint=model,
            batchEndpoint=model,
        )
    )
    env = run.one(CLUSTER).inputs["sparkEnvVars"]
    assert env["DATABRICKS_AZUREML_ENDPOINT_NAME"] == f"mlflow-dev-ep-{suffix}"
    assert env["DATABRICKS_AZUREML_ENDPOINT_SCORING_URI"] == (
        f"https://mlflow-dev-ep-{suffix}.westeurope.inference.ml.azure.com/score"
    )
    assert env["DATABRICKS_AZUREML_BATCH_ENDPOINT_NAME"] == run.outputs["batchEndpointName"]
    assert env["DATABRICKS_AZUREML_BATCH_ENDPOINT_URI"].startswith(
        f"https://{run.outputs['batchEndpointName']}.westeurope.inference.ml.azure.com/jobs"
    )


def test_without_endpoints_the_cluster_carries_no_serving_variables():
    env = cluster(DEV).inputs["sparkEnvVars"]
    assert not [name for name in env if "ENDPOINT" in name]
