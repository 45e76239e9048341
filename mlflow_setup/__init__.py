"""Notebook helper: MLflow set up from the databricks-azureml stack outputs.

from mlflow_setup import configure_mlflow, experiment_name, load_outputs

outputs = load_outputs()          # file, cluster environment or Pulumi CLI
configure_mlflow(outputs)         # tracking + registry URIs for the stack's mode
mlflow.set_experiment(experiment_name(outputs, "iris-classifier", user=...))
"""

from mlflow_setup.configure import (
    AzureMLPluginMissingError,
    ExperimentNameError,
    MlflowUris,
    azureml_plugin_installed,
    configure_mlflow,
    experiment_name,
    mlflow_uris,
)
from mlflow_setup.contract import OUTPUT_NAMES, ModelRegistry, TrackingMode
from mlflow_setup.outputs import (
    OUTPUTS_FILE_ENV,
    AzureMLUri,
    MlflowSetupError,
    StackOutputs,
    StackOutputsError,
    load_outputs,
    parse_azureml_uri,
    parse_outputs,
    pulumi_stack_output,
)

__all__ = [
    "OUTPUTS_FILE_ENV",
    "OUTPUT_NAMES",
    "AzureMLPluginMissingError",
    "AzureMLUri",
    "ExperimentNameError",
    "MlflowSetupError",
    "MlflowUris",
    "ModelRegistry",
    "StackOutputs",
    "StackOutputsError",
    "TrackingMode",
    "azureml_plugin_installed",
    "configure_mlflow",
    "experiment_name",
    "load_outputs",
    "mlflow_uris",
    "parse_azureml_uri",
    "parse_outputs",
    "pulumi_stack_output",
]
