# Databricks notebook source
# MAGIC %md
# MAGIC # Track a Databricks experiment in Azure Machine Learning
# MAGIC
# MAGIC Follows Microsoft's "Track Azure Databricks machine learning experiments with MLflow and
# MAGIC Azure Machine Learning", driven by the `databricks-azureml` stack outputs:
# MAGIC
# MAGIC 1. point MLflow at the stack's tracking and registry URIs (`mlflow_setup`),
# MAGIC 2. set the experiment, named the way the tracking mode expects,
# MAGIC 3. train a small scikit-learn model, log a parameter, a metric and the model, and register
# MAGIC    it in the stack's registry (Unity Catalog: `<catalog>.<schema>.<name>`),
# MAGIC 4. load the registered version back (`models:/<name>/<version>`) and score a Spark DataFrame
# MAGIC    with `mlflow.pyfunc.spark_udf` (on serverless: a pandas DataFrame, see below),
# MAGIC 5. when the stack serves the model (config `endpoint`), score the AzureML online endpoint;
# MAGIC    with `batchEndpoint`, score files in a batch job.
# MAGIC
# MAGIC Run it on any compute in the workspace: serverless, a job or personal cluster, or the stack's
# MAGIC cluster. `mlflow_setup.configure()` finds the outputs the stack published in the workspace
# MAGIC (on the stack's cluster: its environment) and, for exclusive tracking or the AzureML
# MAGIC registry, signs in with the stack's Unity Catalog service credential (or, where the stack
# MAGIC has a service principal, reads it from the stack's secret scope): either needs you in the
# MAGIC stack's `cluster.users`. Outside Databricks, set `STACK_OUTPUTS_FILE` to a file written by
# MAGIC `pulumi stack output --json`.
# MAGIC
# MAGIC On serverless the line below replaces the environment's MLflow (environment version 5:
# MAGIC Python 3.12.3, MLflow 3.8.1; Learn, "Serverless environment versions") with the range the
# MAGIC tests run, and installs no Spark: serverless brings its own (Databricks Connect).

# COMMAND ----------

# MAGIC %pip install "azureml-mlflow>=1.62.0.post6,<1.63" "mlflow>=3.10,<=3.15.0" "scikit-learn>=1.6,<1.10"

# COMMAND ----------

if "dbutils" in globals():  # Databricks: load the packages %pip just installed
    dbutils.library.restartPython()  # noqa: F821

# COMMAND ----------

import os
import sys
from functools import partial

import mlflow
import numpy as np
import pandas as pd
import scipy
from mlflow.models import infer_signature
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

try:
    import mlflow_setup
except ModuleNotFoundError:  # a Databricks Git folder runs notebooks from their own folder
    sys.path.append(os.path.abspath(".."))
    import mlflow_setup

EXPERIMENT = "track-with-azureml"
MODEL_NAME = "track-with-azureml-classifier"
EPOCHS = 20
FEATURES = [f"feature_{i}" for i in range(4)]

# COMMAND ----------

# MAGIC %md
# MAGIC ## Configure MLflow from the stack outputs
# MAGIC dual: tracking stays `databricks` (the linked workspace tracks in both places); exclusive:
# MAGIC tracking goes to the AzureML workspace only. The registry is the one the stack chose.

# COMMAND ----------

# says which stack, tracking and registry it found; dbutils hands out the service credential
outputs = mlflow_setup.configure(dbutils=globals().get("dbutils"))
uris = mlflow_setup.mlflow_uris(outputs)
registered_name = mlflow_setup.registered_model_name(outputs, MODEL_NAME)
print(f"model         {registered_name}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Set the experiment
# MAGIC Dual tracking names it by its workspace path, `/Users/<user>/<name>`; AzureML (exclusive)
# MAGIC takes the plain name.

# COMMAND ----------

user = None
if outputs.tracking_mode == mlflow_setup.TrackingMode.DUAL:
    user = spark.sql("SELECT current_user()").first()[0]  # noqa: F821
experiment = mlflow.set_experiment(mlflow_setup.experiment_name(outputs, EXPERIMENT, user=user))
print(f"experiment {experiment.name} ({experiment.experiment_id})")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Train, log and register
# MAGIC The data is generated here, so the notebook runs anywhere. The model is saved with
# MAGIC `mlflow.sklearn.save_model`, its files logged into the run and the run's `model` folder
# MAGIC registered (`mlflow_setup.log_and_register_model`): AzureML's tracking server lacks the
# MAGIC logged-models API that `mlflow.sklearn.log_model` calls first in MLflow 3. With dual
# MAGIC tracking and the AzureML registry the saved files are registered instead (AzureML cannot
# MAGIC read a Databricks run), the run id kept in the version's `source_run_id` tag.
# MAGIC
# MAGIC The model is saved in the skops format with its environment pinned to what trained it
# MAGIC (MLflow's scikit-learn requirements, numpy, pandas and scipy). Given requirements, MLflow
# MAGIC skips inferring them, which loads the model again in a second Python (seconds per save)
# MAGIC and pins whatever that Python imported besides.

# COMMAND ----------

X, y = make_classification(
    n_samples=600, n_features=len(FEATURES), n_informative=3, n_redundant=0, random_state=7
)
data = pd.DataFrame(X, columns=FEATURES)
X_train, X_test, y_train, y_test = train_test_split(data, y, test_size=0.25, random_state=7)

with mlflow.start_run() as run:
    mlflow.log_param("epochs", EPOCHS)
    model = SGDClassifier(loss="log_loss", max_iter=EPOCHS, tol=None, random_state=7)
    model.fit(X_train, y_train)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    mlflow.log_metric("accuracy", accuracy)
    model_version = mlflow_setup.log_and_register_model(
        partial(
            mlflow.sklearn.save_model,
            model,
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
            pip_requirements=[
                *mlflow.sklearn.get_default_pip_requirements(include_skops=True),
                f"numpy=={np.__version__}",
                f"pandas=={pd.__version__}",
                f"scipy=={scipy.__version__}",
            ],
            signature=infer_signature(X_train, model.predict(X_train)),
            input_example=X_train.head(3),
        ),
        registered_name,
    )
print(
    f"run {run.info.run_id}: accuracy {accuracy:.3f}, "
    f"registered {registered_name} version {model_version.version}"
)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Load the model from the registry and score a Spark DataFrame

# COMMAND ----------

# By version: Unity Catalog has no `latest` (it has aliases), every registry has versions.
model_uri = f"models:/{registered_name}/{model_version.version}"
loaded = mlflow.pyfunc.load_model(model_uri)
print(f"loaded {model_uri}: {loaded.metadata.run_id}")

if os.environ.get("DATABRICKS_RUNTIME_VERSION", "").startswith("client."):
    # Serverless (MLflow tells it by this prefix: mlflow/utils/databricks_utils.py): spark_udf
    # ships the model to the UDF sandbox through Databricks Connect, which MLflow's own source
    # says "may not reliably" work there (mlflow/pyfunc/__init__.py, spark_udf). Score locally.
    print("serverless: scoring a pandas DataFrame with the loaded model, not spark_udf")
    preds = spark.createDataFrame(X_test.assign(prediction=loaded.predict(X_test)))  # noqa: F821
else:
    pyfunc_udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type="long")  # noqa: F821
    score_df = spark.createDataFrame(X_test)  # noqa: F821
    preds = score_df.withColumn("prediction", pyfunc_udf(*FEATURES))

if "display" in globals():
    display(preds)  # noqa: F821
else:
    preds.show(5)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Score the online endpoint
# MAGIC With config `endpoint` (this model's name and a registered version) `pulumi up` serves the
# MAGIC model from an AzureML managed online endpoint; its scoring URI is a stack output. The call
# MAGIC sends an Entra ID token for `https://ml.azure.com/.default` (on the cluster: its service
# MAGIC principal). The endpoint serves the version in config, not necessarily the one just
# MAGIC registered. The cluster's environment carries no endpoint outputs: to score from the
# MAGIC cluster, point `STACK_OUTPUTS_FILE` at a file written by `pulumi stack output --json`.

# COMMAND ----------

if outputs.endpoint_scoring_uri:
    endpoint_predictions = mlflow_setup.score(X_test.head(10), outputs.endpoint_scoring_uri)
    print(f"{outputs.endpoint_name}: {endpoint_predictions}")
elif outputs.model_registry != mlflow_setup.ModelRegistry.AZUREML:
    print(
        f"{registered_name} is in the {outputs.model_registry} registry: AzureML serves only "
        "models registered in AzureML (pulumi config set databricks-azureml:modelRegistry azureml)"
    )
else:
    print(
        "the stack serves no model: pulumi config set --path "
        f"databricks-azureml:endpoint.model {MODEL_NAME}, ... endpoint.version "
        f"{model_version.version}, then pulumi up"
    )

# COMMAND ----------

# MAGIC %md
# MAGIC ## Score files with the batch endpoint
# MAGIC With config `batchEndpoint` the stack scores files in batch: a job reads CSV files from a
# MAGIC datastore folder (or one file), runs the registered version on a cluster that starts for the
# MAGIC job and scales back to zero, and writes `predictions.csv` to the job's `score` output. Upload
# MAGIC the files first (e.g. `az storage blob upload-batch` to the workspace storage account's
# MAGIC datastore container), then name the folder in `BATCH_INPUT_URI`.

# COMMAND ----------

BATCH_INPUT = os.environ.get(
    "BATCH_INPUT_URI", "azureml://datastores/workspaceblobstore/paths/batch/input/"
)
if outputs.batch_endpoint_uri:
    job = mlflow_setup.batch_score(BATCH_INPUT, stack=outputs)
    print(f"{outputs.batch_endpoint_name}: job {job.name}, predictions in {job.wait()}")
else:
    print(
        "the stack has no batch endpoint: pulumi config set --path "
        f"databricks-azureml:batchEndpoint.model {MODEL_NAME}, ... batchEndpoint.version "
        f"{model_version.version}, then pulumi up"
    )
