"""Notebook helper: MLflow set up from the databricks-azureml stack outputs.

outputs = configure()             # on any compute of the workspace: finds the stack's outputs,
                                  # sets both URIs, signs in to AzureML where the mode needs it
# or, step by step:
from mlflow_setup import configure_mlflow, experiment_name, load_outputs

outputs = load_outputs()          # file, cluster environment or Pulumi CLI
configure_mlflow(outputs)         # tracking + registry URIs for the stack's mode
mlflow.set_experiment(experiment_name(outputs, "iris-classifier", user=...))
with mlflow.start_run():          # log the model's files, register a version (any registry)
    log_and_register_model(partial(mlflow.sklearn.save_model, model),
                           registered_model_name(outputs, "iris-classifier"))
predictions = score(frame, endpoint_scoring_uri(outputs))   # with an `endpoint`
output = batch_score("azureml://datastores/workspaceblobstore/paths/in/").wait()  # `batchEndpoint`
"""

from mlflow_setup.anywhere import SecretScopeAccessError, configure
from mlflow_setup.batch import BatchJob, BatchScoringError, batch_endpoint_uri, batch_score
from mlflow_setup.configure import (
    AzureMLPluginMissingError,
    ExperimentNameError,
    MlflowUris,
    ModelNameError,
    azureml_plugin_installed,
    configure_mlflow,
    experiment_name,
    mlflow_uris,
    registered_model_name,
)
from mlflow_setup.contract import (
    MODEL_SCHEMA_OUTPUT,
    OPTIONAL_OUTPUT_NAMES,
    OUTPUT_NAMES,
    ModelRegistry,
    TrackingMode,
)
from mlflow_setup.models import (
    ModelLoggingError,
    log_and_register_model,
    log_model_files,
    registers_from_files,
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
from mlflow_setup.service_credential import ServiceCredentialAccessError

__all__ = [
    "MODEL_SCHEMA_OUTPUT",
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
    "ModelLoggingError",
    "ModelNameError",
    "ModelRegistry",
    "SecretScopeAccessError",
    "ServiceCredentialAccessError",
    "StackOutputs",
    "StackOutputsError",
    "TrackingMode",
    "azureml_plugin_installed",
    "batch_endpoint_uri",
    "batch_score",
    "configure",
    "configure_mlflow",
    "endpoint_scoring_uri",
    "experiment_name",
    "load_outputs",
    "log_and_register_model",
    "log_model_files",
    "mlflow_uris",
    "parse_azureml_uri",
    "parse_outputs",
    "pulumi_stack_output",
    "registered_model_name",
    "registers_from_files",
    "score",
    "scoring_request",
]
