"""The fake Databricks REST API refuses what Databricks refuses: workspace objects, cluster
start, one-time runs (the rules and their sources: tests/fakecloud/databricks.py)."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from tests.fakecloud.databricks import (
    FAILED_TASK_MESSAGE,
    USER,
    Answer,
    FakeDatabricks,
    NotebookJob,
    NotebookResult,
)

HOST = "adb-1234567890123456.7.azuredatabricks.net"
NOTEBOOK = b"# Databricks notebook source\nprint('hello')\n"


class Api:
    def __init__(self) -> None:
        self.fake = FakeDatabricks(lambda host: host == HOST)
        self.jobs: list[NotebookJob] = []

    def __call__(self, method: str, route: str, body: Any = None, **query: Any) -> Answer:
        return self.fake.handle(
            method, HOST, route, {k: str(v) for k, v in query.items()}, body, "token"
        )

    def runner(self, result: NotebookResult) -> None:
        def run(job: NotebookJob) -> NotebookResult:
            self.jobs.append(job)
            return result

        self.fake.runner = run

    def wait(self, run_id: int) -> dict[str, Any]:
        for thread in self.fake.threads:
            thread.join(timeout=10)
        return self("GET", "/api/2.2/jobs/runs/get", run_id=run_id).body


@pytest.fixture
def api() -> Api:
    return Api()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def cluster(api: Api, **env: str) -> str:
    spec = {"spark_version": "17.3.x-scala2.13", "node_type_id": "Standard_DS3_v2",
            "spark_env_vars": env}  # fmt: skip
    return api("POST", "/api/2.1/clusters/create", spec).body["cluster_id"]


def upload(api: Api, folder: str = "/Users/a/smoke") -> str:
    assert api("POST", "/api/2.0/workspace/mkdirs", {"path": f"{folder}/pkg"}).status == 200
    api("POST", "/api/2.0/workspace/import",
        {"path": f"{folder}/pkg/mod.py", "content": b64(b"X = 1\n"), "format": "AUTO"})  # fmt: skip
    api("POST", "/api/2.0/workspace/import",
        {"path": f"{folder}/nb", "content": b64(NOTEBOOK), "format": "SOURCE",
         "language": "PYTHON"})  # fmt: skip
    return f"{folder}/nb"


def submit(api: Api, cluster_id: str, notebook: str) -> Answer:
    task = {"task_key": "t", "existing_cluster_id": cluster_id,
            "notebook_task": {"notebook_path": notebook, "source": "WORKSPACE"}}  # fmt: skip
    return api("POST", "/api/2.2/jobs/runs/submit", {"run_name": "r", "tasks": [task]})


def test_import_needs_an_existing_parent_folder(api: Api) -> None:
    answer = api("POST", "/api/2.0/workspace/import",
                 {"path": "/Users/a/x/nb", "content": b64(NOTEBOOK), "format": "AUTO"})  # fmt: skip

    assert (answer.status, answer.body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_import_replaces_only_with_overwrite(api: Api) -> None:
    path = upload(api)
    again = {"path": path, "content": b64(NOTEBOOK), "format": "SOURCE", "language": "PYTHON"}

    refused = api("POST", "/api/2.0/workspace/import", again)
    replaced = api("POST", "/api/2.0/workspace/import", {**again, "overwrite": True})

    assert (refused.status, refused.body["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    assert replaced.status == 200


def test_source_import_needs_a_language(api: Api) -> None:
    upload(api)
    answer = api("POST", "/api/2.0/workspace/import",
                 {"path": "/Users/a/smoke/x", "content": b64(NOTEBOOK), "format": "SOURCE"})  # fmt: skip

    assert answer.status == 400 and "language" in answer.body["message"]


def test_auto_import_makes_a_notebook_of_the_header_and_a_file_of_the_rest(api: Api) -> None:
    upload(api)
    api("POST", "/api/2.0/workspace/import",
        {"path": "/Users/a/smoke/other.py", "content": b64(NOTEBOOK), "format": "AUTO"})  # fmt: skip

    def kind(path: str) -> str:
        return api("GET", "/api/2.0/workspace/get-status", path=path).body["object_type"]

    assert kind("/Users/a/smoke/other") == "NOTEBOOK"  # `.py` dropped
    assert kind("/Users/a/smoke/pkg/mod.py") == "FILE"


def test_deleting_a_folder_with_content_needs_recursive(api: Api) -> None:
    upload(api)

    refused = api("POST", "/api/2.0/workspace/delete", {"path": "/Users/a/smoke"})
    deleted = api(
        "POST", "/api/2.0/workspace/delete", {"path": "/Users/a/smoke", "recursive": True}
    )

    assert (refused.status, refused.body["error_code"]) == (400, "DIRECTORY_NOT_EMPTY")
    assert deleted.status == 200
    assert [p for p in api.fake.snapshot()[HOST]["objects"] if p.startswith("/Users/a/")] == []


def test_a_running_cluster_cannot_be_started_a_terminated_one_goes_pending_then_running(
    api: Api,
) -> None:
    cluster_id = cluster(api)

    refused = api("POST", "/api/2.1/clusters/start", {"cluster_id": cluster_id})
    api("POST", "/api/2.1/clusters/delete", {"cluster_id": cluster_id})
    started = api("POST", "/api/2.1/clusters/start", {"cluster_id": cluster_id})
    states = [
        api("GET", "/api/2.1/clusters/get", cluster_id=cluster_id).body["state"] for _ in range(2)
    ]

    assert (refused.status, refused.body["error_code"]) == (400, "INVALID_STATE")
    assert started.status == 200
    assert states == ["PENDING", "RUNNING"]


def test_a_run_on_an_unknown_cluster_is_refused(api: Api) -> None:
    answer = submit(api, "0000-000000-nothere0", upload(api))

    assert answer.status == 400 and "does not exist" in answer.body["message"]


def test_a_run_gets_the_folder_the_cluster_env_with_secrets_resolved_and_the_user(
    api: Api,
) -> None:
    api("POST", "/api/2.0/secrets/scopes/create", {"scope": "s"})
    api("POST", "/api/2.0/secrets/put", {"scope": "s", "key": "k", "string_value": "hush"})
    cluster_id = cluster(api, AZURE_CLIENT_SECRET="{{secrets/s/k}}", MLFLOW_TRACKING_URI="x")
    api.runner(NotebookResult(True))

    run_id = submit(api, cluster_id, upload(api)).body["run_id"]
    run = api.wait(run_id)

    assert run["state"]["result_state"] == "SUCCESS"
    [job] = api.jobs
    assert job.files == {"nb.py": NOTEBOOK, "pkg/mod.py": b"X = 1\n"}
    assert job.notebook == "nb.py" and job.user == USER
    assert job.env == {
        "AZURE_CLIENT_SECRET": "hush",
        "MLFLOW_TRACKING_URI": "x",
        "DATABRICKS_RUNTIME_VERSION": "17.3.x-scala2.13",
    }


def test_a_failed_notebook_says_workload_failed_and_its_error_is_in_the_task_output(
    api: Api,
) -> None:
    api.runner(NotebookResult(False, "RuntimeError: boom", "Traceback ..."))

    run = api.wait(submit(api, cluster(api), upload(api)).body["run_id"])
    task_run_id = run["tasks"][0]["run_id"]

    assert run["state"] == {
        "life_cycle_state": "TERMINATED",
        "result_state": "FAILED",
        "state_message": FAILED_TASK_MESSAGE,
    }
    output = api("GET", "/api/2.2/jobs/runs/get-output", run_id=task_run_id).body
    assert output["error"] == "RuntimeError: boom"
    refused = api("GET", "/api/2.2/jobs/runs/get-output", run_id=run["run_id"])
    assert refused.status == 400 and "multiple tasks" in refused.body["message"]


def test_a_run_of_a_missing_notebook_fails_with_not_found(api: Api) -> None:
    api.runner(NotebookResult(True))

    run = api.wait(submit(api, cluster(api), "/Users/a/nowhere").body["run_id"])

    assert run["state"]["result_state"] == "FAILED"
    assert run["state"]["state_message"] == "Notebook not found: /Users/a/nowhere"
    assert api.jobs == []


def test_without_a_runner_a_run_ends_in_internal_error(api: Api) -> None:
    run = api.wait(submit(api, cluster(api), upload(api)).body["run_id"])
    deadline = time.monotonic() + 5
    while run["state"]["life_cycle_state"] == "RUNNING" and time.monotonic() < deadline:
        run = api.wait(run["run_id"])

    assert run["state"]["life_cycle_state"] == "INTERNAL_ERROR"


# --- the workspace catalog, pinned in ARM at creation -------------------------------------------

DBX_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Databricks/workspaces/ws"
)


def databricks_body(**properties: Any) -> dict[str, Any]:
    managed = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/managed-rg"
    return {
        "location": "westeurope",
        "sku": {"name": "premium"},
        "properties": {"managedResourceGroupId": managed, **properties},
    }


@pytest.mark.parametrize(
    "changed",
    [
        {"initialName": "other_catalog", "initialType": "UnityCatalog"},
        {"initialName": "mlflow_dev_dbw", "initialType": "HiveMetastore"},
    ],
)
def test_fake_arm_refuses_a_default_catalog_change_on_a_live_workspace(
    changed: dict[str, str],
) -> None:
    from tests.fakecloud.arm import FakeArm

    arm = FakeArm()
    arm.put(DBX_ID.rsplit("/providers/", 1)[0], {"location": "westeurope"})
    pinned = {"initialName": "mlflow_dev_dbw", "initialType": "UnityCatalog"}
    arm.put(DBX_ID, databricks_body(defaultCatalog=pinned))

    same = arm.request("PUT", DBX_ID, databricks_body(defaultCatalog=dict(pinned)))
    refused = arm.request("PUT", DBX_ID, databricks_body(defaultCatalog=changed))

    assert same.status in (200, 201)
    assert (refused.status, refused.body["error"]["code"]) == (400, "PropertyChangeNotAllowed")
    assert refused.body["error"]["message"] == "Changing property 'defaultCatalog' is not allowed."
