"""Notebook helper: MLflow set up from the databricks-azureml stack outputs.

from mlflow_setup import configure_mlflow, experiment_name, load_outputs

outputs = load_outputs()          # file, cluster environment or Pulumi CLI
configure_mlflow(outputs)         # tracking + registry URIs for the stack's mode
mlflow.set_experiment(experiment_name(outputs, "iris-classifier", user=...))
predictions = score(frame, endpoint_scoring_uri(outputs))   # with an `endpoint`
output = batch_score("azureml://datastores/workspaceblobstore/paths/in/").wait()  # `batchEndpoint`
"""

from mlflow_setup.batch import BatchJob, BatchScoringError, batch_endpoint_uri, batch_score
from mlflow_setup.configure import (
    AzureMLPluginMissingError,
    ExperimentNameError,
    MlflowUris,
    azureml_plugin_installed,
    configure_mlflow,
    experiment_name,
    mlflow_uris,
)
from mlflow_setup.contract import (
    OPTIONAL_OUTPUT_NAMES,
    OUTPUT_NAMES,
    ModelRegistry,
    TrackingMode,
)
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
from mlflow_setup.scoring import EndpointScoringError, endpoint_scoring_uri, score, scoring_request

__all__ = [
    "OPTIONAL_OUTPUT_NAMES",
    "OUTPUTS_FILE_ENV",
    "OUTPUT_NAMES",
    "AzureMLPluginMissingError",
    "AzureMLUri",
    "BatchJob",
    "BatchScoringError",
    "EndpointScoringError",
    "ExperimentNameError",
    "MlflowSetupError",
    "MlflowUris",
    "ModelRegistry",
    "StackOutputs",
    "StackOutputsError",
    "TrackingMode",
    "azureml_plugin_installed",
    "batch_endpoint_uri",
    "batch_score",
    "configure_mlflow",
    "endpoint_scoring_uri",
    "experiment_name",
    "load_outputs",
    "mlflow_uris",
    "parse_azureml_uri",
    "parse_outputs",
    "pulumi_stack_output",
    "score",
    "scoring_request",
]
