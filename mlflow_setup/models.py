"""Log a model into the active run and register it, the way every registry of the stack accepts.

MLflow 3's `mlflow.<flavor>.log_model` first creates a *logged model* (`POST
/api/2.0/mlflow/logged-models`), an API AzureML's tracking server does not implement: it answers
404 with an empty body and `log_model` fails before anything is registered
(Azure/azure-sdk-for-python#44896; Azure/azureml-examples#3885, "logged-models API ... not
supported by AzureML tracking server"). So the model is saved locally with the flavor's
`save_model`, its files are logged into the run with `mlflow.log_artifacts`, and the version is
registered from the run with `mlflow.register_model("runs:/<run>/<path>", name)` (Learn, "Manage
models registry in Azure Machine Learning with MLflow", Create models from existing run). The
registered version points at the run's `<path>` folder: `MLmodel` and the model's files at its
root, what AzureML's no-code MLflow deployments load. The same calls work on a server that has
logged models and on Databricks' registries.

One exception: with dual tracking and the AzureML registry the run lives in Databricks, and
AzureML cannot read a run of another service, so `runs:/` cannot be registered there
(Azure/azureml-examples, sdk/python/using-mlflow/deploy/track_with_databricks_deploy_aml.ipynb,
"Registering the model in Azure ML"). The version is registered from the saved files
(`file://<folder>`), which the azureml-mlflow plugin uploads to the workspace's artifact store
(azureml/mlflow/_store/model_registry/model_registry.py, `create_model_version`); the run it
came from is kept in the version's tags.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow_setup.outputs import MlflowSetupError

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

DEFAULT_ARTIFACT_PATH = "model"


class ModelLoggingError(MlflowSetupError, RuntimeError):
    """No active run, or the save function wrote no MLflow model."""


# The tag of a version registered from its files: the run (in the tracking service) it came from.
SOURCE_RUN_TAG = "source_run_id"
_AZUREML = "azureml:"


@contextmanager
def _saved_model(save_model: Callable[[str], Any], artifact_path: str) -> Iterator[Path]:
    """The model saved by `save_model` into a temporary `<artifact_path>` folder, its MLmodel
    naming the active run (what log_model records for lineage)."""
    import mlflow  # here, so reading outputs works without MLflow installed
    from mlflow.models import Model

    run = mlflow.active_run()
    if run is None:
        raise ModelLoggingError("log the model inside `with mlflow.start_run():`")
    if not artifact_path or artifact_path.strip("/") != artifact_path:
        raise ModelLoggingError(f"artifact path {artifact_path!r} must be a relative folder name")
    with tempfile.TemporaryDirectory(prefix="mlflow-model-") as folder:
        local = Path(folder) / artifact_path
        save_model(str(local))
        if not (local / "MLmodel").is_file():
            raise ModelLoggingError(
                f"{save_model!r} wrote no MLflow model (no MLmodel file): pass a flavor's "
                "save_model, e.g. functools.partial(mlflow.sklearn.save_model, model)"
            )
        mlmodel = Model.load(str(local / "MLmodel"))
        mlmodel.run_id = run.info.run_id
        mlmodel.artifact_path = artifact_path
        mlmodel.save(str(local / "MLmodel"))
        yield local


def log_model_files(
    save_model: Callable[[str], Any], artifact_path: str = DEFAULT_ARTIFACT_PATH
) -> str:
    """Save the model with `save_model(path)` (e.g. a `functools.partial` of
    `mlflow.sklearn.save_model`) and log its files into the active run under `artifact_path`.

    Returns the model's `runs:/<run>/<artifact_path>` URI.
    """
    import mlflow

    with _saved_model(save_model, artifact_path) as local:
        mlflow.log_artifacts(str(local), artifact_path)
    return f"runs:/{mlflow.active_run().info.run_id}/{artifact_path}"


def registers_from_files(tracking_uri: str, registry_uri: str) -> bool:
    """Whether a version must be registered from the model's files, not from its run: an
    AzureML registry with runs tracked elsewhere (dual tracking)."""
    registry, tracking = (uri.lower().rstrip("/") for uri in (registry_uri, tracking_uri))
    return registry.startswith(_AZUREML) and registry != tracking


def log_and_register_model(
    save_model: Callable[[str], Any],
    registered_model_name: str,
    artifact_path: str = DEFAULT_ARTIFACT_PATH,
) -> ModelVersion:
    """`log_model_files`, then register the logged files as a new version of the model.

    `registered_model_name` is the name in the stack's registry: see
    `mlflow_setup.registered_model_name` (three-level under Unity Catalog).
    """
    import mlflow

    if not registers_from_files(mlflow.get_tracking_uri(), mlflow.get_registry_uri()):
        model_uri = log_model_files(save_model, artifact_path)
        return mlflow.register_model(model_uri, registered_model_name)
    with _saved_model(save_model, artifact_path) as local:
        mlflow.log_artifacts(str(local), artifact_path)
        run_id = mlflow.active_run().info.run_id
        return mlflow.register_model(
            local.as_uri(), registered_model_name, tags={SOURCE_RUN_TAG: run_id}
        )
