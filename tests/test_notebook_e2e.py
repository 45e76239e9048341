"""The example notebook, run for real: a local MLflow server stands in for AzureML, Spark is local.

The stack-outputs file says exclusive tracking with the AzureML registry, its URIs those of an
`mlflow server` (SQLite backend, artifacts in a temp folder, bound to 127.0.0.1). The notebook
reads it through `mlflow_setup` (STACK_OUTPUTS_FILE), as it would read the cluster's environment
on Databricks, and runs with a local[2] SparkSession as its `spark`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import mlflow.tracking._model_registry.utils as registry_utils
import mlflow.tracking._tracking_service.utils as tracking_utils
import mlflow.tracking.fluent as fluent
import pytest
from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry
from packaging.requirements import Requirement

from mlflow_setup import MlflowUris, TrackingMode
from tests.fakecloud.local_mlflow import (
    SERVER_START_SECONDS,
    Server,
    ServerError,
    spark_env,
    spark_session,
    start_server,
    stop,
    wait_healthy,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "track_with_azureml.py"
REQUIREMENTS = ROOT / "requirements-notebooks.in"


@pytest.fixture(scope="session")
def server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`mlflow server` launched, not yet waited for: Spark starts meanwhile."""
    server = start_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture(scope="session")
def tracking_server(server_process: Server, spark: Any) -> Server:
    """The server once /health answers (after Spark is up, which takes as long)."""
    try:
        return wait_healthy(server_process, SERVER_START_SECONDS)
    except ServerError as error:
        pytest.fail(str(error))


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


@pytest.fixture(scope="session")
def notebook(
    tracking_server: Server, spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The notebook's globals after running it top to bottom against the stand-in outputs."""
    outputs_file = tmp_path_factory.mktemp("stack") / "outputs.json"
    outputs_file.write_text(json.dumps(stack_outputs(tracking_server.uri)), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STACK_OUTPUTS_FILE", str(outputs_file))
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID"):
            patch.delenv(name, raising=False)
        patch.setattr(tracking_utils, "_tracking_uri", None)
        patch.setattr(registry_utils, "_registry_uri", None)
        patch.setattr(fluent, "_active_experiment_id", None)
        forget_stores()
        namespace: dict[str, Any] = {"__name__": "__main__", "spark": spark}
        exec(compile(NOTEBOOK.read_text(encoding="utf-8"), str(NOTEBOOK), "exec"), namespace)
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
def client(tracking_server: Server) -> mlflow.MlflowClient:
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
    notebook: dict[str, Any], tracking_server: Server
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


def test_model_is_registered_as_version_1_of_the_run(
    notebook: dict[str, Any], client: mlflow.MlflowClient, tracking_server: Server
) -> None:
    versions = client.search_model_versions("name = 'track-with-azureml-classifier'")

    assert [(v.version, v.run_id, v.status) for v in versions] == [
        ("1", notebook["run"].info.run_id, "READY")
    ]
    # The model's files went through the server into its artifact folder.
    assert list(tracking_server.artifacts.rglob("MLmodel"))


def test_latest_registered_model_loads_and_predicts_like_the_trained_one(
    notebook: dict[str, Any],
) -> None:
    loaded, model, x_test = notebook["loaded"], notebook["model"], notebook["X_test"]

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
