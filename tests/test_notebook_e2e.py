"""The example notebook, run for real: a local MLflow server stands in for AzureML, Spark is local.

The stack-outputs file says exclusive tracking with the AzureML registry, its URIs those of an
`mlflow server` (SQLite backend, artifacts in a temp folder, bound to 127.0.0.1). The notebook
reads it through `mlflow_setup` (STACK_OUTPUTS_FILE), as it would read the cluster's environment
on Databricks, and runs with a local[2] SparkSession as its `spark`.

Every test runs twice, once per tracking server (`NOTEBOOK_SERVERS`, default both):
- `azureml`: the server behind tests/fakecloud/azureml_mlflow.py, which answers as AzureML does
  for the MLflow APIs AzureML lacks (logged models: 404, empty body);
- `stock`: the MLflow server as it is, logged models and all.
One Spark session serves both; the two servers start together, beside Spark.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.tracking._model_registry.utils as registry_utils
import mlflow.tracking._tracking_service.utils as tracking_utils
import mlflow.tracking.fluent as fluent
import pytest
import yaml
from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry
from packaging.requirements import Requirement

from mlflow_setup import MlflowUris, TrackingMode, score
from tests.fakecloud import mlflow_routes
from tests.fakecloud.azureml_mlflow import AzureMLFilter
from tests.fakecloud.linked_mlflow import LinkedCloud, linked_cloud
from tests.fakecloud.local_mlflow import Server, ServerError, start_server, stop, wait_healthy
from tests.fakecloud.local_spark import spark_env, spark_session
from tests.loopback import serving
from tests.test_scoring import TOKEN, FakeDeployment, _handler

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "track_with_azureml.py"
REQUIREMENTS = ROOT / "requirements-notebooks.in"
SERVER_START_SECONDS = 300  # Spark starts meanwhile
MODEL_NAME = "track-with-azureml-classifier"
AZUREML, STOCK = "azureml", "stock"
# Which tracking servers the notebook runs against: NOTEBOOK_SERVERS=azureml,stock (default).
SERVERS = [
    name.strip()
    for name in os.environ.get("NOTEBOOK_SERVERS", f"{AZUREML},{STOCK}").split(",")
    if name.strip()
]
if not set(SERVERS) <= {AZUREML, STOCK} or not SERVERS:
    raise ValueError(f"NOTEBOOK_SERVERS={SERVERS}: allowed azureml, stock")


@dataclass(frozen=True)
class Tracking(Server):
    """A tracking server as clients see it: `uri` is the MLflow server's own or, for azureml,
    the AzureML filter's in front of it."""

    kind: str = STOCK
    front: AzureMLFilter | None = None  # the AzureML filter, for the azureml kind


@pytest.fixture(scope="session")
def server_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """One `mlflow server` per kind, launched, not yet waited for: Spark starts meanwhile."""
    servers: dict[str, Server] = {}
    try:
        for kind in SERVERS:
            servers[kind] = start_server(tmp_path_factory.mktemp(f"mlflow-{kind}"))
        yield servers
    finally:
        for server in servers.values():
            stop(server.process)


@pytest.fixture(scope="session", params=SERVERS)
def tracking_server(
    request: pytest.FixtureRequest, server_processes: dict[str, Server], spark: Any
) -> Iterator[Tracking]:
    """The server of this kind once healthy; for azureml, seen through the AzureML filter."""
    server = server_processes[request.param]
    try:
        wait_healthy(server, SERVER_START_SECONDS)
    except ServerError as error:
        pytest.fail(str(error))
    if request.param == STOCK:
        yield Tracking(server.process, server.uri, server.home)
        return
    with AzureMLFilter(server.uri, server.artifacts) as front:
        yield Tracking(server.process, front.uri, server.home, AZUREML, front)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in spark_env().items():
            patch.setenv(name, value)  # spark_udf's workers: this venv; loopback only
        session = spark_session("track-with-azureml-test")
        yield session
        session.stop()


def forget_stores() -> None:
    """Drop the stores MLflow caches per URI."""
    TrackingStoreRegistry._get_store_with_resolved_uri.cache_clear()
    ModelRegistryStoreRegistry._get_store_with_resolved_uri.cache_clear()


def forget_mlflow_settings(patch: pytest.MonkeyPatch) -> None:
    """Start the notebook from no MLflow URI or experiment: none in the environment, none set
    in this process, no cached store."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID"):
        patch.delenv(name, raising=False)
    patch.setattr(tracking_utils, "_tracking_uri", None)
    patch.setattr(registry_utils, "_registry_uri", None)
    patch.setattr(fluent, "_active_experiment_id", None)
    forget_stores()


@pytest.fixture(scope="session")
def notebook(
    tracking_server: Tracking, spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The notebook's globals after running it top to bottom against the stand-in outputs."""
    outputs_file = tmp_path_factory.mktemp(f"stack-{tracking_server.kind}") / "outputs.json"
    outputs_file.write_text(json.dumps(stack_outputs(tracking_server.uri)), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STACK_OUTPUTS_FILE", str(outputs_file))
        forget_mlflow_settings(patch)
        namespace: dict[str, Any] = {"__name__": "__main__", "spark": spark}
        exec(compile(NOTEBOOK.read_text(encoding="utf-8"), str(NOTEBOOK), "exec"), namespace)
        # what the filter refused while the notebook ran (AzureML would have refused it too)
        refused = tracking_server.front.rules.refused if tracking_server.front else []
        namespace["refused_requests"] = list(refused)
        yield namespace
        forget_stores()


def stack_outputs(server_uri: str) -> dict[str, Any]:
    """The stack's outputs in exclusive mode, the MLflow server in place of AzureML's URI."""
    rg_id = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/mlflow-e2e-rg"
    return {
        "resourceGroupName": "mlflow-e2e-rg",
        "location": "westeurope",
        "trackingMode": "exclusive",
        "modelRegistry": "azureml",
        "privateLink": False,
        "amlWorkspaceName": "mlflow-e2e-aml",
        "amlWorkspaceId": f"{rg_id}/providers/Microsoft.MachineLearningServices/workspaces/x",
        "mlflowTrackingUri": server_uri,
        "mlflowRegistryUri": server_uri,
        "databricksWorkspaceUrl": "https://adb-1234567890123456.7.azuredatabricks.net",
        "databricksWorkspaceId": f"{rg_id}/providers/Microsoft.Databricks/workspaces/x",
        "clusterId": "0101-120000-abcdefgh",
        "secretScope": "mlflow-e2e-scope",
    }


@pytest.fixture(scope="session")
def client(tracking_server: Tracking) -> mlflow.MlflowClient:
    """A client of its own, independent of the notebook's process-wide MLflow settings."""
    return mlflow.MlflowClient(tracking_uri=tracking_server.uri, registry_uri=tracking_server.uri)


# --- the notebook's format --------------------------------------------------------------------


def test_notebook_is_in_databricks_source_format() -> None:
    text = NOTEBOOK.read_text(encoding="utf-8")

    assert text.startswith("# Databricks notebook source\n")
    assert text.count("\n# COMMAND ----------\n") >= 5
    assert "\n# MAGIC %pip install " in text


def test_notebook_pip_install_pins_what_the_tests_run() -> None:
    line = next(
        line
        for line in NOTEBOOK.read_text(encoding="utf-8").splitlines()
        if line.startswith("# MAGIC %pip install ")
    )
    installed = {
        (req := Requirement(quoted)).name: req.specifier
        for quoted in re.findall(r'"([^"]+)"', line)
    }
    pinned = {
        (req := Requirement(line.split("#")[0])).name: req.specifier
        for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()
        if line.split("#")[0].strip()
    }

    assert "azureml-mlflow" in installed
    assert {name: pinned.get(name) for name in installed} == installed


# --- what the notebook did --------------------------------------------------------------------


def test_notebook_configures_mlflow_from_the_outputs_file(
    notebook: dict[str, Any], tracking_server: Tracking
) -> None:
    assert notebook["outputs"].tracking_mode is TrackingMode.EXCLUSIVE
    assert "outputs.json" in notebook["outputs"].source
    assert notebook["uris"] == MlflowUris(tracking_server.uri, tracking_server.uri)


def test_run_is_tracked_in_the_plainly_named_experiment(
    notebook: dict[str, Any], client: mlflow.MlflowClient
) -> None:
    experiment = client.get_experiment_by_name("track-with-azureml")

    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in runs] == [notebook["run"].info.run_id]
    assert runs[0].info.status == "FINISHED"


def test_run_logs_epochs_and_accuracy(
    notebook: dict[str, Any], client: mlflow.MlflowClient
) -> None:
    run = client.get_run(notebook["run"].info.run_id)

    assert run.data.params == {"epochs": "20"}
    assert run.data.metrics["accuracy"] == pytest.approx(notebook["accuracy"])
    assert run.data.metrics["accuracy"] > 0.75  # well above chance on the generated data


def test_notebook_asks_the_server_for_nothing_azureml_lacks(notebook: dict[str, Any]) -> None:
    assert notebook["refused_requests"] == []


def test_model_is_registered_as_version_1_of_the_run(
    notebook: dict[str, Any], client: mlflow.MlflowClient, tracking_server: Tracking
) -> None:
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")

    assert notebook["registered_name"] == MODEL_NAME  # AzureML's registry: the plain name
    assert notebook["model_version"].version == "1"
    assert [(v.version, v.run_id, v.status) for v in versions] == [
        ("1", notebook["run"].info.run_id, "READY")
    ]


def test_registered_version_is_the_run_model_folder_with_mlmodel_at_its_root(
    notebook: dict[str, Any], client: mlflow.MlflowClient, tracking_server: Tracking
) -> None:
    """What AzureML's no-code deployment loads: the version's folder, MLmodel and files in it."""
    source = client.get_model_version(MODEL_NAME, "1").source
    run_id = notebook["run"].info.run_id

    assert source.startswith("mlflow-artifacts:/") and source.endswith(f"/{run_id}/artifacts/model")
    folder = tracking_server.artifacts / source.removeprefix("mlflow-artifacts:/")
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    assert (folder / mlmodel["flavors"]["sklearn"]["pickled_model"]).is_file()
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert mlmodel["signature"]["inputs"]  # what the deployment validates requests with


def test_registered_version_loads_and_predicts_like_the_trained_one(
    notebook: dict[str, Any],
) -> None:
    loaded, model, x_test = notebook["loaded"], notebook["model"], notebook["X_test"]

    assert notebook["model_uri"] == f"models:/{MODEL_NAME}/1"
    assert loaded.metadata.run_id == notebook["run"].info.run_id
    assert list(loaded.predict(x_test)) == list(model.predict(x_test))


def test_spark_udf_scores_every_row_with_the_registered_model(notebook: dict[str, Any]) -> None:
    preds, model, x_test = notebook["preds"], notebook["model"], notebook["X_test"]

    assert dict(preds.dtypes)["prediction"] == "bigint"
    scored = preds.toPandas()
    assert len(scored) == len(x_test)
    expected = model.predict(scored[notebook["FEATURES"]])
    assert scored["prediction"].tolist() == expected.tolist()
    assert set(scored["prediction"]) == {0, 1}


# --- serving the registered version, and what AzureML refuses -------------------------------


@pytest.fixture(scope="session")
def deployment(
    notebook: dict[str, Any], client: mlflow.MlflowClient, tracking_server: Tracking
) -> Iterator[FakeDeployment]:
    """The registered version served on loopback as AzureML's no-code deployment serves it:
    its folder downloaded from the registry and loaded with mlflow.pyfunc."""
    uri = client.get_model_version_download_uri(MODEL_NAME, "1")
    local = mlflow.artifacts.download_artifacts(artifact_uri=uri, tracking_uri=tracking_server.uri)
    handler = _handler(mlflow.pyfunc.load_model(local))
    with serving(handler, lambda base: FakeDeployment(f"{base}/score", TOKEN)) as fake:
        yield fake


def test_endpoint_serving_the_registered_version_scores_like_the_trained_model(
    notebook: dict[str, Any], deployment: FakeDeployment
) -> None:
    model, x_test = notebook["model"], notebook["X_test"].head(10)

    predictions = score(x_test, deployment.uri, key=TOKEN)

    assert predictions == model.predict(x_test).tolist()
    assert len(deployment.requests) == 1


def test_sklearn_log_model_alone_fails_only_where_logged_models_are_missing(
    notebook: dict[str, Any], tracking_server: Tracking, client: mlflow.MlflowClient
) -> None:
    """The filter is strict: the MLflow 3 call the notebook avoids fails on it, as on AzureML."""
    name = "log-model-probe"
    # Requirements given, as the notebook gives them: MLflow infers none (a second Python).
    logged = {"registered_model_name": name, "pip_requirements": ["scikit-learn"]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tracking_utils, "_tracking_uri", None)
        patch.setattr(registry_utils, "_registry_uri", None)
        patch.setattr(fluent, "_active_experiment_id", None)
        mlflow.set_tracking_uri(tracking_server.uri)
        mlflow.set_registry_uri(tracking_server.uri)
        mlflow.set_experiment(name)
        with mlflow.start_run() as run:
            if tracking_server.kind == AZUREML:
                with pytest.raises(mlflow.MlflowException) as failure:
                    mlflow.sklearn.log_model(notebook["model"], name="model", **logged)
            else:
                mlflow.sklearn.log_model(notebook["model"], name="model", **logged)
        forget_stores()

    versions = client.search_model_versions(f"name = '{name}'")
    if tracking_server.kind == AZUREML:
        assert "/api/2.0/mlflow/logged-models failed with error code 404" in str(failure.value)
        assert "POST /api/2.0/mlflow/logged-models" in tracking_server.front.rules.refused
        assert versions == []
        assert client.get_run(run.info.run_id).info.run_id == run.info.run_id  # the run exists
    else:
        assert [v.version for v in versions] == ["1"]


# --- dual tracking on the fake Databricks workspace, MLflow's own stores ----------------------
# The notebook with `databricks` tracking and the `databricks-uc` (or legacy `databricks`)
# registry, as on the stack's cluster: MLflow's stores unpatched, signed in with the job's
# token, reaching the fake workspace (tests/fakecloud/databricks_mlflow.py) through the
# loopback resolver; the linked AzureML workspace is the AzureML-shaped server.

DUAL_GROUP = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/mlflow-dual-rg"
DUAL_AML_ID = f"{DUAL_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-dev-aml"
DUAL_AML_URI = f"azureml://westeurope.api.azureml.ms/mlflow/v1.0{DUAL_AML_ID}"
WORKSPACE_CATALOG = {"initialName": "mlflow_dev_dbw", "initialType": "UnityCatalog"}


@pytest.fixture(scope="module")
def dual_cloud(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Iterator[LinkedCloud]:
    home = tmp_path_factory.mktemp("dual")
    with linked_cloud(home, DUAL_GROUP, DUAL_AML_ID, timeout=SERVER_START_SECONDS) as linked:
        # the AzureML registry (dual + azureml) reaches the AzureML-shaped server
        restore = mlflow_routes.install({DUAL_AML_URI: linked.azureml.uri})
        try:
            yield linked
        finally:
            restore()


def dual_workspace(dual: LinkedCloud, name: str, *, new_account: bool = True) -> str:
    """A Databricks workspace linked to the AzureML one, as the default stack deploys it."""
    properties: dict[str, Any] = {
        "managedResourceGroupId": f"{DUAL_GROUP}-{name}-managed",
        "parameters": {"amlWorkspaceId": {"value": DUAL_AML_ID}},
    }
    if new_account:
        properties["defaultCatalog"] = WORKSPACE_CATALOG
    workspace = dual.cloud.arm.put(
        f"{DUAL_GROUP}/providers/Microsoft.Databricks/workspaces/{name}",
        {"location": "westeurope", "sku": {"name": "premium"}, "properties": properties},
    )
    return workspace["properties"]["workspaceUrl"]


def dual_outputs(host: str, registry: str, model_schema: str | None) -> dict[str, Any]:
    outputs = {
        **stack_outputs(DUAL_AML_URI),
        "trackingMode": "dual",
        "modelRegistry": registry,
        "mlflowRegistryUri": {"unity-catalog": "databricks-uc", "azureml": DUAL_AML_URI}.get(
            registry, "databricks"
        ),
        "resourceGroupName": "mlflow-dual-rg",
        "amlWorkspaceName": "mlflow-dev-aml",
        "amlWorkspaceId": DUAL_AML_ID,
        "databricksWorkspaceUrl": f"https://{host}",
    }
    if model_schema:
        outputs["modelSchema"] = model_schema
    return outputs


def run_dual_notebook(
    outputs: dict[str, Any], spark: Any, folder: Path
) -> tuple[dict[str, Any], BaseException | None]:
    """The notebook's globals after it ran (or raised) with `outputs` on the cluster."""
    folder.mkdir(parents=True, exist_ok=True)
    outputs_file = folder / "outputs.json"
    outputs_file.write_text(json.dumps(outputs), encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "__main__", "spark": spark}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STACK_OUTPUTS_FILE", str(outputs_file))
        patch.setenv("DATABRICKS_HOST", outputs["databricksWorkspaceUrl"])
        patch.setenv("DATABRICKS_TOKEN", "dapi-job-run-token")  # a job's notebook token
        patch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        forget_mlflow_settings(patch)
        try:
            exec(compile(NOTEBOOK.read_text(encoding="utf-8"), str(NOTEBOOK), "exec"), namespace)
        except Exception as error:  # the notebook's failure is what the test reads
            return namespace, error
        finally:
            forget_stores()
    return namespace, None


def test_dual_unity_catalog_tracks_in_both_and_registers_the_three_level_name(
    dual_cloud: LinkedCloud, spark: Any, tmp_path: Path
) -> None:
    host = dual_workspace(dual_cloud, "mlflow-dev-dbw")
    outputs = dual_outputs(host, "unity-catalog", "mlflow_dev_dbw.default")

    namespace, error = run_dual_notebook(outputs, spark, tmp_path)

    assert error is None, repr(error)
    assert namespace["registered_name"] == f"mlflow_dev_dbw.default.{MODEL_NAME}"
    assert namespace["model_version"].version == "1"
    assert namespace["preds"].count() == 150  # spark_udf loaded the version from UC storage
    experiment = namespace["experiment"].name
    aml = mlflow.MlflowClient(tracking_uri=dual_cloud.azureml.uri)
    [mirrored] = aml.search_runs([aml.get_experiment_by_name(experiment).experiment_id])
    assert mirrored.data.params == {"epochs": "20"}
    assert mirrored.data.metrics["accuracy"] == namespace["accuracy"]
    assert dual_cloud.cloud.databricks.mlflow.mirror_errors == []


def test_dual_azureml_registry_registers_the_files_in_azureml_with_the_databricks_run(
    dual_cloud: LinkedCloud, spark: Any, tmp_path: Path
) -> None:
    host = dual_workspace(dual_cloud, "mlflow-amlreg-dbw")
    outputs = dual_outputs(host, "azureml", None)

    namespace, error = run_dual_notebook(outputs, spark, tmp_path)

    assert error is None, repr(error)
    assert namespace["registered_name"] == MODEL_NAME
    run_id = namespace["run"].info.run_id
    aml_uri = dual_cloud.azureml.uri
    aml = mlflow.MlflowClient(tracking_uri=aml_uri, registry_uri=aml_uri)
    version = aml.get_model_version(MODEL_NAME, namespace["model_version"].version)
    # registered from its uploaded files, not from the Databricks run AzureML cannot read
    assert version.source.startswith(f"{aml_uri}/api/2.0/mlflow-artifacts/artifacts/LocalUpload/")
    assert version.source.endswith("/model")
    assert version.tags["source_run_id"] == run_id
    assert namespace["preds"].count() == 150  # spark_udf loaded the version from AzureML
    experiment = aml.get_experiment_by_name(namespace["experiment"].name).experiment_id
    [mirrored] = aml.search_runs(
        [experiment], order_by=["attributes.start_time DESC"], max_results=1
    )
    assert mirrored.info.start_time == namespace["run"].info.start_time  # this run, mirrored
    assert mirrored.data.params == {"epochs": "20"}


def test_dual_azureml_registry_refuses_a_databricks_run_as_the_source(
    dual_cloud: LinkedCloud,
) -> None:
    aml_uri = dual_cloud.azureml.uri
    aml = mlflow.MlflowClient(tracking_uri=aml_uri, registry_uri=aml_uri)
    aml.create_registered_model("from-a-databricks-run")

    with pytest.raises(mlflow.exceptions.MlflowException, match="not a run of this workspace"):
        aml.create_model_version(
            "from-a-databricks-run",
            "dbfs:/databricks/mlflow-tracking/1/abc/artifacts/model",
            run_id="abc",
        )


def test_dual_legacy_registry_on_a_new_account_workspace_fails_with_databricks_message(
    dual_cloud: LinkedCloud, spark: Any, tmp_path: Path
) -> None:
    host = dual_workspace(dual_cloud, "mlflow-legacy-dbw")

    _, error = run_dual_notebook(dual_outputs(host, "databricks", None), spark, tmp_path)

    # the message `make preview`'s warning for modelRegistry databricks promises
    assert error is not None
    assert "PERMISSION_DENIED: The legacy workspace model registry is disabled" in str(error)


def test_a_governed_schema_without_create_model_fails_the_notebook_until_granted(
    dual_cloud: LinkedCloud, spark: Any, tmp_path: Path
) -> None:
    host = dual_workspace(dual_cloud, "mlflow-governed-dbw")
    metastore = dual_cloud.cloud.databricks.mlflow.unity_catalog.metastore(host)
    metastore.add_catalog("ml", "models")
    metastore.grant("ml", "users", "USE CATALOG")
    metastore.grant("ml.models", "users", "USE SCHEMA")
    outputs = dual_outputs(host, "unity-catalog", "ml.models")

    _, refused = run_dual_notebook(outputs, spark, tmp_path / "refused")
    # GRANT CREATE MODEL ON SCHEMA ml.models TO `users`, as a catalog owner would
    metastore.grant("ml.models", "users", "CREATE MODEL")
    namespace, granted = run_dual_notebook(outputs, spark, tmp_path / "granted")

    assert refused is not None
    assert "PERMISSION_DENIED: User does not have CREATE MODEL on Schema 'ml.models'" in str(
        refused
    )
    assert granted is None, repr(granted)
    assert namespace["registered_name"] == f"ml.models.{MODEL_NAME}"
