"""`make smoke` as the e2e scenarios run it: the fake's DNS and MLflow routes come in through
sitecustomize (standin/site/), the Azure login is the az stand-in's."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import Deployer, Result
from tests.e2e.helpers import outputs
from tests.fakecloud.dns import DATABRICKS_DOMAIN
from tests.fakecloud.local_mlflow import Server, start_server, stop, wait_healthy
from tests.fakecloud.mlflow_routes import ROUTES_ENV
from tests.fakecloud.notebook_runner import LocalNotebookRunner
from tests.fakecloud.serve import FakeCloud

VERDICTS = ("pass ", "FAIL ", "skipped ")
SITE = Path(__file__).resolve().parent / "standin" / "site"  # sitecustomize: DNS and routes
# The fake starts a cluster and ends a run within a second: poll it every second, not every 10.
SMOKE_ARGS = ("--timeout", "600", "--poll-seconds", "1")
# A smoke run that passes on a stack without serving, step by step (tools/smoke/steps.py).
PASSED_WITHOUT_SERVING = [
    "pass    stack outputs",
    "pass    azureml workspace",
    "pass    databricks link",
    "skipped private endpoints",
    "pass    databricks api",
    "pass    cluster",
    "pass    notebook upload",
    "pass    notebook run",
    "pass    mlflow run",
    "pass    model version",
    "skipped online endpoint",
    "skipped batch endpoint",
    "pass    cleanup",
]


@contextmanager
def mlflow_servers(
    home: Path, *names: str, serving_artifacts: Collection[str] = ()
) -> Iterator[list[Server]]:
    """A loopback `mlflow server` under home/<name> for each name, not yet waited for; those
    in `serving_artifacts` proxy an artifact store (the others' clients write files)."""
    started: list[Server] = []
    try:
        for name in names:
            started.append(start_server(home / name, serve_artifacts=name in serving_artifacts))
        yield started
    finally:
        for server in started:
            stop(server.process)


def make_smoke(
    deployer: Deployer,
    routes: dict[str, str],
    *,
    ok: bool | None,
    resolved: tuple[str, ...] = (),
    make_args: tuple[str, ...] = (),
    smoke_args: tuple[str, ...] = (),
    stack: str = "dev",
) -> Result:
    """`make smoke STACK=<stack> [make_args]` as a user runs it, with these MLflow routes and
    `smoke_args` after the rig's own; the workspace names and the `resolved` domains resolve to
    loopback here (sitecustomize), so no proxy for them. `ok=None`: any exit code."""
    no_proxy = ",".join((deployer.env["NO_PROXY"], DATABRICKS_DOMAIN, *resolved))
    env = {
        **deployer.env,
        "PYTHONPATH": str(SITE),
        ROUTES_ENV: json.dumps(routes),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "NO_PROXY": no_proxy,
    }
    args = "SMOKE_ARGS=" + " ".join((*SMOKE_ARGS, *smoke_args))
    make = ("make", "smoke", f"STACK={stack}", *make_args, args)
    return Deployer(deployer.workdir, env).run(*make, ok=ok)


def step_lines(result: Result) -> list[str]:
    """The verdict lines (not make's echo of the command, nor the progress lines)."""
    return [line for line in result.stdout.splitlines() if line.startswith(VERDICTS)]


def verdicts(result: Result) -> list[str]:
    """Each step's verdict and name, in order."""
    return [line.split(":")[0] for line in step_lines(result)]


def failed_step(result: Result) -> str:
    """The one FAIL line."""
    [failed] = [line for line in step_lines(result) if line.startswith("FAIL")]
    return failed


def up_with_mlflow(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> tuple[dict, Server, LocalNotebookRunner]:
    """`pulumi up`, then the workspaces' MLflow servers (Databricks', AzureML's) behind the fake
    Databricks and a notebook runner whose notebooks sign in to the workspace: (the stack
    outputs, the AzureML workspace's server, the runner)."""
    deployer.pulumi("up", "--yes", "--skip-preview")
    raw = outputs(deployer)
    return raw, *serve_mlflow(cloud, raw, servers)


def serve_mlflow(
    cloud: FakeCloud, raw: dict, servers: tuple[Server, Server]
) -> tuple[Server, LocalNotebookRunner]:
    """The deployed stack's workspaces' MLflow servers behind the fake Databricks, and its
    notebook runner: (the AzureML workspace's server, the runner)."""
    databricks, azureml = (wait_healthy(server, timeout=300) for server in servers)
    aml_id = raw["amlWorkspaceId"].lower()
    cloud.serve_mlflow(
        databricks.uri, lambda linked: azureml.uri if linked.lower() == aml_id else None
    )
    runner = LocalNotebookRunner(cloud.arm, azureml.uri, workspace=cloud)
    cloud.databricks.runner = runner
    return azureml, runner
