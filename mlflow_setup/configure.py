"""Point MLflow at the stack's tracking and registry, and name experiments for the mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from mlflow_setup.contract import ModelRegistry, TrackingMode, tracking_settings
from mlflow_setup.outputs import MlflowSetupError, StackOutputs

AZUREML_SCHEME = "azureml://"
PLUGIN_INSTALL_HINT = (
    "install it with `%pip install azureml-mlflow` in the notebook (the stack's cluster has it as "
    "a cluster library) or `pip install azureml-mlflow` elsewhere"
)


class AzureMLPluginMissingError(MlflowSetupError, ImportError):
    """An azureml:// URI is to be used but the azureml-mlflow plugin is not installed."""


class ExperimentNameError(MlflowSetupError, ValueError):
    """An experiment name or user that cannot name an experiment in this tracking mode."""


class ModelNameError(MlflowSetupError, ValueError):
    """A model name that cannot name a registered model in the stack's registry."""


@dataclass(frozen=True)
class MlflowUris:
    """What `configure_mlflow` set."""

    tracking_uri: str
    registry_uri: str


def azureml_plugin_installed() -> bool:
    """Whether MLflow can resolve `azureml://` store URIs (the azureml-mlflow entry points)."""
    return any(
        entry.name == "azureml"
        for group in ("mlflow.tracking_store", "mlflow.model_registry_store")
        for entry in entry_points(group=group)
    )


def mlflow_uris(outputs: StackOutputs) -> MlflowUris:
    """The tracking and registry URIs for the stack's mode (mlflow_setup.contract).

    The registry is set explicitly even where it is "databricks": MLflow 3 would otherwise
    default to Unity Catalog ("databricks-uc").
    """
    if outputs.tracking_mode is TrackingMode.EXCLUSIVE and outputs.mlflow_tracking_uri is None:
        raise MlflowSetupError(f"{outputs.source}: exclusive tracking without a tracking URI")
    settings = tracking_settings(
        outputs.tracking_mode, outputs.model_registry, outputs.mlflow_tracking_uri or ""
    )
    return MlflowUris(tracking_uri=settings.tracking_uri, registry_uri=settings.registry_uri)


def configure_mlflow(
    outputs: StackOutputs,
    *,
    plugin_installed: Callable[[], bool] = azureml_plugin_installed,
) -> MlflowUris:
    """Set MLflow's tracking and registry URIs from the stack outputs; returns what it set."""
    uris = mlflow_uris(outputs)
    azureml = [uri for uri in (uris.tracking_uri, uris.registry_uri) if uri.startswith("azureml:")]
    if azureml and not plugin_installed():
        raise AzureMLPluginMissingError(
            f"MLflow cannot use {azureml[0]!r} without the azureml-mlflow plugin: "
            + PLUGIN_INSTALL_HINT
        )
    import mlflow  # here, so reading outputs works without MLflow installed

    mlflow.set_tracking_uri(uris.tracking_uri)
    mlflow.set_registry_uri(uris.registry_uri)
    return uris


def experiment_name(outputs: StackOutputs, name: str, user: str | None = None) -> str:
    """The experiment name for the mode (Microsoft's article).

    dual: Databricks names experiments by workspace path, `/Users/<user>/<name>`;
    exclusive: AzureML names them directly, a plain `<name>` (`user` is not used).
    """
    if not name or name.strip() != name or "/" in name:
        raise ExperimentNameError(
            f"experiment name {name!r} must be a plain name: not empty, no '/', "
            "no surrounding spaces (e.g. 'iris-classifier')"
        )
    if outputs.tracking_mode is TrackingMode.EXCLUSIVE:
        return name
    if user is None:
        raise ExperimentNameError(
            "dual tracking names experiments /Users/<user>/<name> in the Databricks workspace: "
            "pass user= (in a notebook: spark.sql('SELECT current_user()').first()[0])"
        )
    if not user or user.strip() != user or "/" in user:
        raise ExperimentNameError(
            f"user {user!r} must be the Databricks user name (e.g. 'alice@contoso.com')"
        )
    return f"/Users/{user}/{name}"


def registered_model_name(outputs: StackOutputs, name: str) -> str:
    """The name to register `name` under in the stack's registry.

    unity-catalog: the three-level `<catalog>.<schema>.<name>` Unity Catalog requires (the
    stack's `modelSchema`); databricks and azureml: `name` itself.
    """
    if not name or name.strip() != name or any(c in name for c in "./ "):
        raise ModelNameError(
            f"model name {name!r} must be a plain name: not empty, no '.', '/' or spaces "
            "(e.g. 'iris-classifier')"
        )
    if outputs.model_registry is not ModelRegistry.UNITY_CATALOG:
        return name
    if not outputs.model_schema:
        raise ModelNameError(
            f"{outputs.source}: modelRegistry unity-catalog without the <catalog>.<schema> "
            "to register models in (stack output 'modelSchema')"
        )
    # Unity Catalog stores names in lowercase (Learn, "Names").
    return f"{outputs.model_schema}.{name}".lower()
