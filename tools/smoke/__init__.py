"""`make smoke STACK=<stack>`: prove a deployed stack end to end, with the caller's own login.

    python -m tools.smoke --stack dev [--compute cluster|serverless] [--keep] [--timeout 2400]
                          [--poll-seconds 10] [--batch-input URI]

Steps, one line each (pass, fail with the reason, or skipped with why), then a summary.
The steps and their prerequisites are listed in tools/smoke/steps.py:
 1. stack outputs      `pulumi stack output --json`, checked by mlflow_setup
 2. azureml workspace  ARM: the AzureML workspace is provisioned
 3. databricks link    ARM: the Databricks workspace is provisioned, and linked to AzureML
                       (its `amlWorkspaceId` parameter) exactly when trackingMode is dual
 4. private endpoints  ARM: every private endpoint in the resource group is approved (only
                       under privateLink or databricksPrivateLink)
 5. databricks api     the workspace answers from here, and the caller signs in to it
 6. cluster            the stack's cluster carries the stack's MLflow URIs; started if terminated
                       (not with --compute serverless)
 7. notebook upload    the example notebook and mlflow_setup, into a folder of the caller's
 8. notebook run       a one-time run (Jobs runs/submit) on the stack's cluster or on serverless
                       compute (--compute serverless: the notebook finds the published outputs),
                       waited for
 9. mlflow run         the run the notebook made, its parameter and metric, read through MLflow
                       (dual: from the Databricks workspace and from the linked AzureML one)
10. model version      the version the notebook registered, in the stack's registry, by the
                       name mlflow_setup.registered_model_name gives it
11. online endpoint    test rows scored through mlflow_setup.score (with `endpoint`)
12. batch endpoint     mlflow_setup.batch_score(input).wait() (with `batchEndpoint`)
13. cleanup            the uploaded folder deleted (kept with --keep)

A step whose prerequisite did not pass is skipped. Exit 0 only when no step failed; 1 when one
did; 2 when the command line is wrong. Sign-in: the Azure CLI, or the ARM_* / AZURE_* variables
(DefaultAzureCredential, databricks-sdk's default chain); never the cluster's service principal.
"""

from tools.smoke.base import (
    FAIL,
    PASS,
    PRIVATE_ENDPOINTS,
    SKIP,
    ArmReader,
    NotApplicableError,
    StepError,
    StepResult,
    run_step,
)
from tools.smoke.run import Smoke, main
from tools.smoke.services import (
    ArmClientReader,
    Services,
    arm_reader,
    mlflow_client,
    workspace_client,
)
from tools.smoke.steps import STEPS, Step

__all__ = [
    "FAIL",
    "PASS",
    "PRIVATE_ENDPOINTS",
    "SKIP",
    "STEPS",
    "ArmClientReader",
    "ArmReader",
    "NotApplicableError",
    "Services",
    "Smoke",
    "Step",
    "StepError",
    "StepResult",
    "arm_reader",
    "main",
    "mlflow_client",
    "run_step",
    "workspace_client",
]
