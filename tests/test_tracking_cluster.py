"""The tracking cluster, its secret scope and the linkage role, under mocks."""

import pulumi
import pytest

from components.databricks_provider import workspace_provider
from components.linkage import AZUREML_DATA_SCIENTIST, Linkage, LinkageArgs, role_assignment_name
from components.tracking_cluster import (
    AZUREML_MLFLOW,
    TrackingCluster,
    TrackingClusterArgs,
    size_settings,
    spark_env_vars,
)
from core.config import ClusterSpec, ModelRegistry, ServicePrincipal, TrackingMode
from tools.offline import SUBSCRIPTION_ID, run_function, secret_value

URI = "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"
REF = "{{secrets/scope/azure-client-secret}}"
SP = ServicePrincipal(
    client_id="11111111-2222-3333-4444-555555555555",
    object_id="66666666-7777-8888-9999-000000000000",
    tenant_id=None,
)
SPEC = ClusterSpec("17.3.x-scala2.13", "Standard_DS3_v2", 1, 2, 30)
AML_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"


# --- pure rules ----------------------------------------------------------------------------


def test_dual_tracking_without_principal_sets_no_environment():
    assert spark_env_vars(TrackingMode.DUAL, ModelRegistry.DATABRICKS, URI, None, "t", None) == {}


def test_exclusive_tracking_points_mlflow_at_azureml_for_runs_and_models():
    env = spark_env_vars(TrackingMode.EXCLUSIVE, ModelRegistry.AZUREML, URI, SP, "tenant", REF)
    assert env == {
        "MLFLOW_TRACKING_URI": URI,
        "MLFLOW_REGISTRY_URI": URI,
        "AZURE_TENANT_ID": "tenant",
        "AZURE_CLIENT_ID": SP.client_id,
        "AZURE_CLIENT_SECRET": REF,
    }


def test_dual_tracking_with_azureml_registry_sets_only_the_registry_uri():
    env = spark_env_vars(TrackingMode.DUAL, ModelRegistry.AZUREML, URI, SP, "tenant", REF)
    assert "MLFLOW_TRACKING_URI" not in env
    assert env["MLFLOW_REGISTRY_URI"] == URI


def test_exclusive_tracking_with_databricks_registry_keeps_models_in_databricks():
    env = spark_env_vars(TrackingMode.EXCLUSIVE, ModelRegistry.DATABRICKS, URI, SP, "tenant", REF)
    assert env["MLFLOW_TRACKING_URI"] == URI
    assert env["MLFLOW_REGISTRY_URI"] == "databricks"


def test_service_principal_tenant_wins_over_the_deployers():
    own = ServicePrincipal(SP.client_id, SP.object_id, "99999999-8888-7777-6666-555555555555")
    env = spark_env_vars(TrackingMode.EXCLUSIVE, ModelRegistry.AZUREML, URI, own, "deployer", REF)
    assert env["AZURE_TENANT_ID"] == own.tenant_id


def test_a_raw_secret_is_refused_as_client_secret():
    with pytest.raises(ValueError, match=r"must be a \{\{secrets/"):
        spark_env_vars(TrackingMode.EXCLUSIVE, ModelRegistry.AZUREML, URI, SP, "t", "raw-secret")


def test_single_node_uses_the_single_node_profile():
    sizing = size_settings(ClusterSpec("v", "n", 0, 0, 30))
    assert sizing == {
        "num_workers": 0,
        "spark_conf": {
            "spark.databricks.cluster.profile": "singleNode",
            "spark.master": "local[*]",
        },
        "custom_tags": {"ResourceClass": "SingleNode"},
    }


def test_equal_worker_counts_give_a_fixed_size_cluster():
    assert size_settings(ClusterSpec("v", "n", 3, 3, 30)) == {"num_workers": 3}


def test_role_assignment_name_is_a_stable_uuid_per_scope_principal_and_role():
    first = role_assignment_name(AML_ID, SP.object_id, AZUREML_DATA_SCIENTIST)
    assert first == role_assignment_name(AML_ID.upper(), SP.object_id, AZUREML_DATA_SCIENTIST)
    assert first != role_assignment_name(AML_ID, "other", AZUREML_DATA_SCIENTIST)
    assert len(first) == 36 and first.count("-") == 4


# --- components under mocks ----------------------------------------------------------------


def cluster_run(
    spec=SPEC,
    mode=TrackingMode.EXCLUSIVE,
    registry=ModelRegistry.AZUREML,
    principal=SP,
    secret="s3cr3t",
):
    def body():
        TrackingCluster(
            "tracking",
            TrackingClusterArgs(
                cluster_name="mlflow-dev-mlflow",
                secret_scope_name="mlflow-dev-azureml",
                spec=spec,
                tracking_mode=mode,
                model_registry=registry,
                mlflow_tracking_uri=URI,
                tenant_id="deployer-tenant",
                service_principal=principal,
                service_principal_secret=pulumi.Output.secret(secret) if secret else None,
            ),
        )

    run = run_function(body)
    assert run.error is None
    return run


def test_cluster_installs_azureml_mlflow_and_autoscales_with_auto_termination():
    cluster = cluster_run().one("databricks:index/cluster:Cluster")
    assert cluster.inputs["libraries"] == [{"pypi": {"package": AZUREML_MLFLOW}}]
    assert cluster.inputs["autoscale"] == {"minWorkers": 1, "maxWorkers": 2}
    assert "numWorkers" not in cluster.inputs
    assert cluster.inputs["autoterminationMinutes"] == 30
    assert cluster.inputs["sparkVersion"] == "17.3.x-scala2.13"
    assert cluster.inputs["nodeTypeId"] == "Standard_DS3_v2"
    assert cluster.inputs["dataSecurityMode"] == "USER_ISOLATION"


def test_pulumi_up_does_not_wait_for_the_cluster_unless_asked():
    assert cluster_run().one("databricks:index/cluster:Cluster").inputs["noWait"] is True
    waiting = ClusterSpec("17.3.x-scala2.13", "Standard_DS3_v2", 1, 2, 30, wait_for_running=True)
    assert (
        cluster_run(spec=waiting).one("databricks:index/cluster:Cluster").inputs["noWait"] is False
    )


def test_secret_lives_in_the_scope_and_the_cluster_gets_only_its_reference():
    run = cluster_run()
    scope = run.one("databricks:index/secretScope:SecretScope")
    secret = run.one("databricks:index/secret:Secret")
    cluster = run.one("databricks:index/cluster:Cluster")
    assert scope.inputs == {"name": "mlflow-dev-azureml", "backendType": "DATABRICKS"}
    assert (secret.inputs["scope"], secret.inputs["key"]) == (
        "mlflow-dev-azureml",
        "azure-client-secret",
    )
    assert secret_value(secret.inputs["stringValue"]) == "s3cr3t"
    env = cluster.inputs["sparkEnvVars"]
    assert env["AZURE_CLIENT_SECRET"] == "{{secrets/mlflow-dev-azureml/azure-client-secret}}"
    assert env["AZURE_CLIENT_ID"] == SP.client_id
    assert env["AZURE_TENANT_ID"] == "deployer-tenant"
    assert "s3cr3t" not in repr(cluster.inputs)


def test_without_service_principal_the_scope_holds_no_secret():
    run = cluster_run(
        mode=TrackingMode.DUAL, registry=ModelRegistry.DATABRICKS, principal=None, secret=None
    )
    assert run.of_type("databricks:index/secret:Secret") == []
    assert len(run.of_type("databricks:index/secretScope:SecretScope")) == 1
    assert run.one("databricks:index/cluster:Cluster").inputs.get("sparkEnvVars", {}) == {}


def test_single_node_cluster_has_no_workers_and_the_single_node_tags():
    cluster = cluster_run(spec=ClusterSpec("17.3.x-scala2.13", "Standard_DS3_v2", 0, 0, 30)).one(
        "databricks:index/cluster:Cluster"
    )
    assert cluster.inputs["numWorkers"] == 0
    assert "autoscale" not in cluster.inputs
    assert cluster.inputs["sparkConf"]["spark.databricks.cluster.profile"] == "singleNode"
    assert cluster.inputs["sparkConf"]["spark.master"] == "local[*]"
    assert cluster.inputs["customTags"] == {"ResourceClass": "SingleNode"}


def test_linkage_grants_azureml_data_scientist_to_the_service_principal():
    run = run_function(
        lambda: Linkage("linkage", LinkageArgs(SUBSCRIPTION_ID, AML_ID, SP.object_id))
    )
    assignment = run.one("azure-native:authorization:RoleAssignment")
    assert assignment.inputs["scope"] == AML_ID
    assert assignment.inputs["principalId"] == SP.object_id
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert assignment.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{AZUREML_DATA_SCIENTIST}"
    )
    assert assignment.inputs["roleAssignmentName"] == role_assignment_name(
        AML_ID, SP.object_id, AZUREML_DATA_SCIENTIST
    )


def test_provider_reaches_the_workspace_by_url_and_arm_id():
    ws_id = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/g/providers/Microsoft.Databricks/workspaces/w"
    run = run_function(
        lambda: workspace_provider("dbw", "https://adb-1.1.azuredatabricks.net", ws_id)
    )
    provider = run.one("pulumi:providers:databricks")
    assert provider.inputs["host"] == "https://adb-1.1.azuredatabricks.net"
    assert provider.inputs["azureWorkspaceResourceId"] == ws_id


def test_cluster_installs_the_azureml_mlflow_range_the_notebook_tests_run():
    from pathlib import Path

    pins = Path(__file__).parent.parent.joinpath("requirements-notebooks.in").read_text()
    tested = next(
        line.split("#")[0].strip()
        for line in pins.splitlines()
        if line.startswith("azureml-mlflow")
    )
    assert AZUREML_MLFLOW.replace(" ", "") == tested.replace(" ", "")
