"""Loaded by Python at start-up when this folder is on PYTHONPATH: the e2e tests put it there
for `make smoke` only, which then runs unchanged against the loopback cloud.

- DATABRICKS_AZUREML_FAKECLOUD_ADDRESS: workspace names resolve to the fake (tests/fakecloud/dns.py);
- DATABRICKS_AZUREML_FAKE_MLFLOW_ROUTES: the stack's MLflow URIs lead to loopback servers
  (tests/fakecloud/mlflow_routes.py), installed once MLflow is imported.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
sys.path.append(str(REPO))  # after the project copy's own folders: its modules win

if os.environ.get("DATABRICKS_AZUREML_FAKECLOUD_ADDRESS"):
    from tests.fakecloud import dns

    dns.install(os.environ["DATABRICKS_AZUREML_FAKECLOUD_ADDRESS"])

if os.environ.get("DATABRICKS_AZUREML_FAKE_MLFLOW_ROUTES"):
    from tests.fakecloud import mlflow_routes

    mlflow_routes.install_from_env()
