"""Scenario 13: `make smoke` after `pulumi up`, the README's "Verify a deployment".

The fake Databricks runs the submitted example notebook for real (local Spark, the loopback
MLflow server behind the AzureML workspace's tracking URI: tests/fakecloud/notebook_runner.py);
smoke reads back what it made, on the stack's cluster and on serverless (the service principal
read from the secret scope). Then two broken deployments fail at their step: a cluster whose
environment tracks to another workspace, and a notebook that raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import smoke as rig
from tests.e2e.conftest import Deployer, Result
from tests.e2e.helpers import init_stack, outputs, set_service_principal
from tests.fakecloud.local_mlflow import Server, wait_healthy
from tests.fakecloud.notebook_runner import LocalNotebookRunner, mlflow_routes
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
DEPLOYER = "deployer@contoso.com"  # the fake's admin and every az token's user


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with rig.mlflow_servers(tmp_path, "aml-mlflow") as [started]:
        yield started


def smoke(deployer: Deployer, cloud: FakeCloud, server: Server, *, ok: bool) -> Result:
    """Every AzureML workspace's tracking URI, and `databricks`, routed to the server."""
    return rig.make_smoke(deployer, mlflow_routes(cloud.arm, server.uri), ok=ok)


def test_smoke_passes_after_up_and_fails_at_the_broken_step(
    deployer: Deployer, cloud: FakeCloud, server: Server
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:trackingMode", "exclusive")
    set_service_principal(deployer)  # exclusive: the cluster signs in to AzureML as it
    pulumi("up", "--yes", "--skip-preview")
    raw = outputs(deployer)
    wait_healthy(server)
    runner = LocalNotebookRunner(cloud.arm, server.uri)
    cloud.databricks.runner = runner
    host = raw["databricksWorkspaceUrl"].removeprefix("https://")
    cluster = cloud.databricks.workspaces[host].clusters[raw["clusterId"]]
    cluster["state"] = "TERMINATED"  # auto-terminated since `up`

    passed = smoke(deployer, cloud, server, ok=True)

    logs = passed.output + "\n".join(runner.logs)
    assert rig.verdicts(passed) == rig.PASSED_WITHOUT_SERVING, logs
    assert "smoke passed: 10 passed, 0 failed, 3 skipped (dev)" in passed.stdout
    assert "is terminated: starting it" in passed.stdout
    assert "epochs=20" in passed.stdout
    assert "track-with-azureml-classifier version 1" in passed.stdout
    [run] = cloud.databricks.snapshot()[host]["runs"].values()
    assert run["state"]["result_state"] == "SUCCESS"
    assert run["run_page_url"] in passed.stdout

    # On serverless there is no cluster environment: the notebook finds the published outputs
    # and reads the service principal from the stack's secret scope.
    cloud.databricks.runner = LocalNotebookRunner(cloud.arm, server.uri, workspace=cloud)
    serverless = rig.make_smoke(
        deployer, mlflow_routes(cloud.arm, server.uri), ok=True, make_args=("COMPUTE=serverless",)
    )
    assert "(run on serverless)" in serverless.stdout
    assert ", 0 failed, " in serverless.stdout
    reads = cloud.databricks.workspaces[host].secret_reads
    assert (DEPLOYER, raw["secretScope"], "azure-client-secret") in reads
    cloud.databricks.runner = runner

    # The cluster's environment points at another workspace: the cluster step says so.
    wrong = raw["mlflowTrackingUri"].replace(raw["amlWorkspaceName"], "another-aml")
    cluster["spark_env_vars"].update(MLFLOW_TRACKING_URI=wrong, MLFLOW_REGISTRY_URI=wrong)
    broken = smoke(deployer, cloud, server, ok=False)
    failed = rig.failed_step(broken)
    assert failed.startswith("FAIL    cluster: ") and f"tracks to {wrong}" in failed
    assert "smoke FAILED: 4 passed, 1 failed, 8 skipped (dev)" in broken.stdout

    # The environment repaired, a notebook that raises fails the run step with its error.
    cluster["spark_env_vars"].update(
        MLFLOW_TRACKING_URI=raw["mlflowTrackingUri"], MLFLOW_REGISTRY_URI=raw["mlflowRegistryUri"]
    )
    notebook = deployer.workdir / "notebooks" / "track_with_azureml.py"
    source = notebook.read_text().split("\n", 1)
    notebook.write_text(f'{source[0]}\nraise RuntimeError("no training data")\n{source[1]}')
    raised = smoke(deployer, cloud, server, ok=False)
    failed = rig.failed_step(raised)
    assert failed.startswith("FAIL    notebook run: run ")
    assert "FAILED: RuntimeError: no training data" in failed
