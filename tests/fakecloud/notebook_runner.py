"""Runs a notebook submitted to the fake Databricks for real, in a local Python process.

    cloud.databricks.runner = LocalNotebookRunner(cloud.arm, server.uri)

What a Databricks cluster gives a notebook, the runner gives it locally:
- the notebook's workspace folder as the working directory, first on sys.path (modules
  uploaded beside the notebook import, as on Databricks);
- the cluster's `spark_env_vars` (secrets resolved by the fake) and DATABRICKS_RUNTIME_VERSION
  in the environment, nothing of the test's own MLflow settings;
- `spark`: a local[2] SparkSession, started at the notebook's first use of it; `current_user()`
  is the submitting user (SPARK_USER);
- MLflow stores: every AzureML workspace that the fake ARM holds, by its `mlFlowTrackingUri`,
  leads to one loopback `mlflow server` (tests/fakecloud/mlflow_routes.py); any other URI fails
  at once, as a missing workspace does. `databricks` and `databricks-uc`: with `workspace` (the
  fake cloud, serving the workspace's MLflow: tests/fakecloud/databricks_mlflow.py) MLflow's own
  stores reach the job's workspace host with a job token, as a notebook's context signs them
  in on Databricks; without it `databricks` leads to the loopback server too.

- `dbutils`: service credentials, secrets and a no-op `library.restartPython()`
  (tests/fakecloud/notebook_dbutils.py); with each AzureML workspace's role holders from the fake
  ARM, so its MLflow refuses a token whose identity has no role there (azureml_auth.py).

The notebook's `# MAGIC` lines are comments to Python (%pip: the venv already has the pins), and
`display` is absent, which the notebook allows for. A raised exception fails the
run with its last line as the error, as Databricks reports a notebook's exception.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from tests import preloaded
from tests.fakecloud import dns
from tests.fakecloud.arm import AML_WORKSPACE, FakeArm
from tests.fakecloud.azureml_auth import ROLES_ENV, role_holders
from tests.fakecloud.databricks import NotebookJob, NotebookResult
from tests.fakecloud.local_spark import spark_env, spark_session
from tests.fakecloud.mlflow_routes import ROUTES_ENV, install_from_env
from tests.fakecloud.notebook_dbutils import FakeDbutils

REPO = Path(__file__).resolve().parents[2]
RUN_SECONDS = 600
ADDRESS_ENV = "DATABRICKS_AZUREML_FAKECLOUD_ADDRESS"  # workspace names resolve there (dns.py)
JOB_TOKEN = "dapi-job-run-token"  # the token a job's notebook context carries


class WorkspaceHost(Protocol):
    """The fake cloud as the runner needs it to reach a workspace's own MLflow."""

    address: str
    ca_file: str


# Where a route leads that the compute cannot reach: nothing listens on the discard port, so
# MLflow's first call is refused, as a private workspace's endpoint is from outside its network.
# Serverless compute runs outside the customer's VNet and reaches private resources only through
# an NCC's private endpoints (Learn, "Serverless compute plane networking").
UNREACHABLE = "http://127.0.0.1:9"


def mlflow_routes(
    arm: FakeArm,
    server_uri: str,
    *,
    databricks: bool = True,
    reaches: Callable[[str], bool] | None = None,
) -> dict[str, str]:
    """Each provisioned AzureML workspace's tracking URI (and `databricks` unless the fake
    Databricks serves it) to `server_uri`; to UNREACHABLE where `reaches(workspace id)` says
    no."""
    with arm._lock:
        workspaces = [r for r in arm.resources.values() if r["type"].lower() == AML_WORKSPACE]
    routes = {"databricks": server_uri} if databricks else {}
    for workspace in workspaces:
        props = workspace.get("properties") or {}
        if props.get("provisioningState") == "Succeeded" and props.get("mlFlowTrackingUri"):
            reached = reaches is None or reaches(workspace["id"])
            routes[props["mlFlowTrackingUri"]] = server_uri if reached else UNREACHABLE
    return routes


class LocalNotebookRunner:
    """The fake Databricks' runner: one Python process per submitted notebook."""

    def __init__(
        self, arm: FakeArm, server_uri: str, *, workspace: WorkspaceHost | None = None
    ) -> None:
        self.arm = arm
        self.server_uri = server_uri
        self.workspace = workspace  # set: the workspace's own MLflow serves `databricks*`
        self.logs: list[str] = []  # each run's output, for a failing test to show

    def __call__(self, job: NotebookJob) -> NotebookResult:
        with tempfile.TemporaryDirectory(prefix="fake-databricks-run-") as folder:
            root = Path(folder)
            for relative, content in job.files.items():
                path = root / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            result_file = root.parent / f"{root.name}.result.json"
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith("MLFLOW_") and key != "STACK_OUTPUTS_FILE"
            }
            env.update(job.env)
            env.update(spark_env())
            env.update(self._workspace_env(job))
            routes = mlflow_routes(
                self.arm,
                self.server_uri,
                databricks=self.workspace is None,
                reaches=self._reaches(job),
            )
            with self.arm._lock:
                holders = role_holders(self.arm.resources)
            env.update(
                {
                    ROUTES_ENV: json.dumps(routes),
                    ROLES_ENV: json.dumps(holders),
                    "PYTHONPATH": str(REPO),
                    "SPARK_USER": job.user,
                    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                }
            )
            env.update(preloaded.launcher_env(preloaded.NOTEBOOK))
            command = [str(preloaded.LAUNCHER), "-m", __name__, str(root / job.notebook)]
            command.append(str(result_file))
            try:
                done = subprocess.run(
                    command, cwd=root, env=env, capture_output=True, text=True, timeout=RUN_SECONDS
                )
            except subprocess.TimeoutExpired:
                return NotebookResult(False, f"the notebook ran longer than {RUN_SECONDS} s")
            self.logs.append(done.stdout + done.stderr)
            try:
                result = json.loads(result_file.read_text())
            except (OSError, ValueError):
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                return NotebookResult(False, f"the notebook process died: {tail}", done.stderr)
            finally:
                result_file.unlink(missing_ok=True)
        return NotebookResult(result["ok"], result.get("error", ""), result.get("trace", ""))

    def _reaches(self, job: NotebookJob) -> Callable[[str], bool] | None:
        """Serverless compute runs outside the stack's VNet: it reaches a private AzureML
        workspace only through the account's NCC (tests/fakecloud/databricks_account.py)."""
        account = getattr(self.workspace, "account", None)
        if not job.serverless or account is None:
            return None
        return partial(account.serverless_reaches, job.host)

    def _workspace_env(self, job: NotebookJob) -> dict[str, str]:
        """What a notebook's context gives MLflow's `databricks` stores on Databricks: the
        workspace host and a token (here through the environment, which MLflow also reads)."""
        if self.workspace is None:
            return {}
        return {
            "DATABRICKS_HOST": f"https://{job.host}",
            "DATABRICKS_TOKEN": job.token or JOB_TOKEN,
            "REQUESTS_CA_BUNDLE": self.workspace.ca_file,
            ADDRESS_ENV: self.workspace.address,
        }


class LazySpark:
    """`spark` for the notebook: a local SparkSession, started at its first use (a notebook
    that fails before then costs no Spark start)."""

    def __init__(self) -> None:
        self.session: Any = None

    def __getattr__(self, name: str) -> Any:
        if self.session is None:
            self.session = spark_session("fake-databricks-notebook")
        return getattr(self.session, name)


def main(argv: list[str]) -> int:
    notebook, result_file = Path(argv[0]), Path(argv[1])
    sys.path.insert(0, str(notebook.parent))
    if os.environ.get(ADDRESS_ENV):
        dns.install(os.environ[ADDRESS_ENV])
    install_from_env()
    spark = LazySpark()
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__file__": str(notebook),
        "spark": spark,
        "dbutils": FakeDbutils(),
    }
    result: dict[str, Any] = {"ok": True}
    try:
        exec(compile(notebook.read_text(encoding="utf-8"), str(notebook), "exec"), namespace)
    except BaseException as error:  # the notebook's failure is the run's result
        lines = traceback.format_exception_only(type(error), error)
        result = {"ok": False, "error": lines[-1].strip(), "trace": traceback.format_exc()}
        print(result["trace"], file=sys.stderr)
    finally:
        if spark.session is not None:
            spark.session.stop()
    result_file.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
