"""Scenario 28: the default stack (dual tracking, Unity Catalog models) through `make smoke`.

The README's path as written: `pulumi stack init dev`, its config lines, `pulumi up`,
`make smoke`. The fake Databricks serves the workspace's own MLflow (a loopback `mlflow server`
behind tests/fakecloud/databricks_mlflow.py, Unity Catalog models in unity_catalog.py): the
notebook and smoke reach it through MLflow's unpatched `databricks` and `databricks-uc` stores,
the notebook with its job token, smoke with the Azure CLI login (the `az` stand-in) through the
workspace resource id. The linked AzureML workspace's MLflow is a second loopback server, which
dual tracking writes to and smoke reads back from. One deployed stack serves every smoke run.
Dual tracking with the AzureML registry: the notebook registers the model's files there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e import smoke as rig
from tests.e2e.conftest import Deployer, Result
from tests.e2e.helpers import init_stack, set_service_principal
from tests.fakecloud.databricks import NotebookJob, NotebookResult
from tests.fakecloud.local_mlflow import Server
from tests.fakecloud.notebook_runner import LocalNotebookRunner, mlflow_routes
from tests.fakecloud.serve import FakeCloud
from tests.fakecloud.unity_catalog import ALL_USERS

pytestmark = pytest.mark.e2e


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """(behind the Databricks workspace's MLflow, behind the AzureML workspace's)."""
    # the AzureML workspace's artifact store takes the registry's uploads
    with rig.mlflow_servers(
        tmp_path, "dbx-mlflow", "aml-mlflow", serving_artifacts={"aml-mlflow"}
    ) as [databricks, azureml]:
        yield databricks, azureml


def smoke(deployer: Deployer, cloud: FakeCloud, azureml: Server, *, ok: bool) -> Result:
    """Only the AzureML URIs are routed; the `databricks*` stores go to the fake workspace host
    as MLflow ships them, its Data Lake stand-in on `.core.windows.net`."""
    routes = mlflow_routes(cloud.arm, azureml.uri, databricks=False)
    return rig.make_smoke(deployer, routes, ok=ok, resolved=(".core.windows.net",))


def then(runner: LocalNotebookRunner, after: Callable[[], None]) -> Callable[..., NotebookResult]:
    """The runner, and `after` once the notebook has finished."""

    def run(job: NotebookJob) -> NotebookResult:
        try:
            return runner(job)
        finally:
            after()

    return run


def test_the_default_stack_passes_smoke_and_a_broken_grant_fails_at_the_model_version(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    init_stack(deployer, cloud)  # the README's lines: no trackingMode, no modelRegistry
    raw, azureml, runner = rig.up_with_mlflow(deployer, cloud, servers)

    passed = smoke(deployer, cloud, azureml, ok=True)

    assert (raw["trackingMode"], raw["modelRegistry"]) == ("dual", "unity-catalog")
    logs = passed.output + "\n".join(runner.logs)
    assert rig.verdicts(passed) == rig.PASSED_WITHOUT_SERVING, logs
    assert "smoke passed: 10 passed, 0 failed, 3 skipped (dev)" in passed.stdout
    assert "found in databricks and in AzureML (azureml://westeurope.api.azureml.ms" in (
        passed.stdout
    )
    assert raw["modelSchema"] == "mlflow_dev_dbw.default"  # the workspace catalog, pinned
    assert "mlflow_dev_dbw.default.track-with-azureml-classifier version 1 from run" in (
        passed.stdout
    )
    assert "in databricks-uc" in passed.stdout
    ws = cloud.databricks.workspaces[raw["databricksWorkspaceUrl"].removeprefix("https://")]
    [task] = ws.runs[max(ws.runs)]["tasks"]  # COMPUTE=cluster, the default
    assert task["existing_cluster_id"] == raw["clusterId"]

    # USE SCHEMA on the workspace catalog's default schema revoked from every user once the
    # notebook has registered its version: smoke's read-back is Unity Catalog's refusal.
    host = raw["databricksWorkspaceUrl"].removeprefix("https://")
    metastore = cloud.databricks.mlflow.unity_catalog.metastore(host)
    cloud.databricks.runner = then(
        runner, lambda: metastore.revoke("mlflow_dev_dbw.default", ALL_USERS, "USE SCHEMA")
    )
    broken = smoke(deployer, cloud, azureml, ok=False)
    failed = rig.failed_step(broken)
    assert failed.startswith("FAIL    model version: ")
    assert "User does not have USE SCHEMA on Schema 'mlflow_dev_dbw.default'." in failed
    assert "smoke FAILED: 9 passed, 1 failed, 3 skipped (dev)" in broken.stdout


def test_dual_tracking_with_the_azureml_registry_passes_smoke_with_the_version_in_azureml(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    init_stack(deployer, cloud)
    set_service_principal(deployer)  # the cluster signs in to the AzureML registry with it
    deployer.pulumi("config", "set", "databricks-azureml:modelRegistry", "azureml")
    raw, azureml, runner = rig.up_with_mlflow(deployer, cloud, servers)

    passed = smoke(deployer, cloud, azureml, ok=True)

    assert (raw["trackingMode"], raw["modelRegistry"]) == ("dual", "azureml")
    logs = passed.output + "\n".join(runner.logs)
    assert rig.verdicts(passed) == rig.PASSED_WITHOUT_SERVING, logs
    assert "found in databricks and in AzureML (azureml://westeurope.api.azureml.ms" in (
        passed.stdout
    )
    [version] = [line for line in rig.step_lines(passed) if "model version" in line]
    assert "track-with-azureml-classifier version 1 from run " in version
    assert version.endswith(f"in {raw['mlflowRegistryUri']}")
    assert raw["mlflowRegistryUri"].startswith("azureml://westeurope.api.azureml.ms/mlflow/v1.0/")
