"""`make smoke COMPUTE=serverless` on the loopback cloud: the notebook runs with no cluster, finds
the outputs the stack published and reads the service principal from the stack's secret scope."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.fakecloud.databricks import USER
from tests.fakecloud.notebook_runner import LocalNotebookRunner
from tests.test_smoke import (
    GROUP_ID,
    SMALL_NOTEBOOK,
    cloud,
    deploy,
    mlflow_state,
    run_smoke,
    server,
    services_for,
    verdicts,
    write_project,
)

__all__ = ["cloud", "mlflow_state", "server"]  # fixtures, used by name

# The small notebook with the helper it uses on any compute.
NOTEBOOK = SMALL_NOTEBOOK.replace(
    "outputs = mlflow_setup.load_outputs()\nmlflow_setup.configure_mlflow(outputs)\n",
    "outputs = mlflow_setup.configure()\n",
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, NOTEBOOK)


def publish(cloud, outputs: dict) -> str:
    """What `pulumi up` writes in the workspace (components/published_outputs.py)."""
    host = outputs["databricksWorkspaceUrl"].removeprefix("https://")
    scope = outputs["secretScope"]

    def call(path: str, body: dict) -> None:
        answer = cloud.databricks.handle("POST", host, path, {}, body, "token")
        assert answer.status == 200, answer.body

    call("/api/2.0/workspace/mkdirs", {"path": "/Shared/databricks-azureml/dev"})
    content = json.dumps({**outputs, "secretScopeReaders": []}).encode()
    call("/api/2.0/workspace/import", {"path": "/Shared/databricks-azureml/dev/outputs.json",
         "format": "AUTO", "content": base64.b64encode(content).decode()})  # fmt: skip
    call("/api/2.0/secrets/scopes/create", {"scope": scope})
    for key, value in (("azure-tenant-id", "t"), ("azure-client-id", "c"),
                       ("azure-client-secret", "s")):  # fmt: skip
        call("/api/2.0/secrets/put", {"scope": scope, "key": key, "string_value": value})
    return host


def test_serverless_smoke_passes_without_the_cluster_reading_the_secret_from_the_scope(
    cloud, project: Path
) -> None:
    outputs = deploy(cloud)
    host = publish(cloud, outputs)
    runner = cloud.databricks.runner
    cloud.databricks.runner = LocalNotebookRunner(cloud.arm, runner.server_uri, workspace=cloud)
    cluster = cloud.databricks.workspaces[host].clusters[outputs["clusterId"]]
    cluster["state"] = "TERMINATED"

    code, lines = run_smoke(services_for(cloud, outputs, project), "--compute", "serverless")

    assert code == 0, "\n".join(lines + cloud.databricks.runner.logs[-1:])
    assert verdicts(lines)["notebook run"] == verdicts(lines)["model version"] == "pass"
    assert cluster["state"] == "TERMINATED"  # not started: the run needs no cluster
    ws = cloud.databricks.workspaces[host]
    [run] = ws.runs.values()
    assert "existing_cluster_id" not in run["tasks"][0]
    assert (USER, "mlflow-smoke-scope", "azure-client-secret") in ws.secret_reads
    assert (
        "the service principal c from secret scope 'mlflow-smoke-scope'"
        in (cloud.databricks.runner.logs[-1])
    )


def test_serverless_smoke_on_a_private_stack_without_an_ncc_fails_at_the_run_naming_the_ncc(
    cloud, project: Path
) -> None:
    outputs = {**deploy(cloud), "privateLink": True}
    with cloud.arm._lock:  # the private workspace, as privateLink deploys it
        aml = cloud.arm.resources[outputs["amlWorkspaceId"].lower()]
        aml["properties"]["publicNetworkAccess"] = "Disabled"
    publish(cloud, outputs)
    runner = cloud.databricks.runner
    cloud.databricks.runner = LocalNotebookRunner(cloud.arm, runner.server_uri, workspace=cloud)

    code, lines = run_smoke(services_for(cloud, outputs, project), "--compute", "serverless")

    assert code != 0
    assert verdicts(lines)["notebook run"] == "FAIL"
    [failed] = [line for line in lines if line.startswith("FAIL    notebook run")]
    assert "Connection refused" in failed  # MLflow's first call to the private workspace
    assert "serverless notebooks cannot track to this private stack" in failed
    assert "an NCC in westeurope" in failed


# --- no stored secret: the stack's Unity Catalog service credential ---------------------------

CREDENTIAL = "mlflow-smoke-azureml-a1b2c3"
CONNECTOR = GROUP_ID + "/providers/Microsoft.Databricks/accessConnectors/mlflow-smoke-azureml-ac"
DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
NOTEBOOK_WITH_DBUTILS = NOTEBOOK.replace(
    "mlflow_setup.configure()", 'mlflow_setup.configure(dbutils=globals().get("dbutils"))'
)


def service_credential(cloud, outputs: dict, *, role: bool = True) -> str:
    """What `pulumi up` declares without servicePrincipal (components/service_credential.py):
    the connector, its role on the AzureML workspace, the credential and the published outputs
    naming it; returns the workspace host."""
    connector = cloud.arm.put(
        CONNECTOR, {"location": "westeurope", "identity": {"type": "SystemAssigned"}}
    )
    if role:
        cloud.arm.put(
            outputs["amlWorkspaceId"] + "/providers/Microsoft.Authorization/roleAssignments/"
            "00000000-0000-0000-0000-00000000000a",
            {"properties": {
                "roleDefinitionId": f"/subscriptions/s/providers/Microsoft.Authorization/"
                f"roleDefinitions/{DATA_SCIENTIST}",
                "principalId": connector["identity"]["principalId"],
                "principalType": "ServicePrincipal",
            }},
        )  # fmt: skip
    host = outputs["databricksWorkspaceUrl"].removeprefix("https://")
    answer = cloud.databricks.handle(
        "POST", host, "/api/2.1/unity-catalog/credentials", {},
        {"name": CREDENTIAL, "purpose": "SERVICE",
         "azure_managed_identity": {"access_connector_id": CONNECTOR}},
        "token",
    )  # fmt: skip
    assert answer.status == 200, answer.body
    content = json.dumps({**outputs, "serviceCredential": CREDENTIAL, "secretScopeReaders": []})

    def call(path: str, body: dict) -> None:
        assert cloud.databricks.handle("POST", host, path, {}, body, "token").status == 200

    call("/api/2.0/workspace/mkdirs", {"path": "/Shared/databricks-azureml/dev"})
    call("/api/2.0/workspace/import", {"path": "/Shared/databricks-azureml/dev/outputs.json",
         "format": "AUTO", "content": base64.b64encode(content.encode()).decode()})  # fmt: skip
    return host


def serverless_runner(cloud) -> None:
    runner = cloud.databricks.runner
    cloud.databricks.runner = LocalNotebookRunner(cloud.arm, runner.server_uri, workspace=cloud)


def test_serverless_smoke_signs_in_with_the_service_credential_and_reads_no_secret(
    cloud, tmp_path: Path
) -> None:
    outputs = deploy(cloud)
    host = service_credential(cloud, outputs)
    serverless_runner(cloud)
    project = write_project(tmp_path, NOTEBOOK_WITH_DBUTILS)

    code, lines = run_smoke(services_for(cloud, outputs, project), "--compute", "serverless")

    assert code == 0, "\n".join(lines + cloud.databricks.runner.logs[-1:])
    assert verdicts(lines)["notebook run"] == verdicts(lines)["model version"] == "pass"
    assert cloud.databricks.service_credentials.issued == [(USER, CREDENTIAL)]
    assert cloud.databricks.workspaces[host].secret_reads == []
    assert f"signed in as  the service credential {CREDENTIAL}" in cloud.databricks.runner.logs[-1]


def test_serverless_smoke_fails_when_the_credentials_identity_has_no_role_on_azureml(
    cloud, tmp_path: Path
) -> None:
    outputs = deploy(cloud)
    service_credential(cloud, outputs, role=False)
    serverless_runner(cloud)
    project = write_project(tmp_path, NOTEBOOK_WITH_DBUTILS)

    code, lines = run_smoke(services_for(cloud, outputs, project), "--compute", "serverless")

    assert code != 0
    [failed] = [line for line in lines if line.startswith("FAIL    notebook run")]
    assert "AuthorizationFailed: The client '" in failed
    assert "does not have authorization to perform action" in failed
