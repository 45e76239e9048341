"""The fake Databricks on compute other than the stack's cluster: serverless runs, secret-scope
ACLs and secret reads, workspace files read back (rules and sources:
tests/fakecloud/serverless.py, tests/fakecloud/databricks_access.py)."""

from __future__ import annotations

import base64
from typing import Any

from tests.fakecloud.databricks import USER, Answer, NotebookResult
from tests.test_fake_databricks import HOST, Api, b64, cluster, upload

OUTSIDER = "mallory@contoso.com"
MEMBER = "alice@contoso.com"


class SignedIn(Api):
    """The same workspace as `api`, called with a token that signs in as `user`."""

    def __init__(self, api: Api, user: str) -> None:
        self.fake, self.jobs, self.token = api.fake, api.jobs, f"token-{user}"
        api.fake.users[self.token] = user

    def __call__(self, method: str, route: str, body: Any = None, **query: Any) -> Answer:
        return self.fake.handle(
            method, HOST, route, {k: str(v) for k, v in query.items()}, body, self.token
        )


def as_user(api: Api, user: str) -> Api:
    return SignedIn(api, user)


def serverless_submit(api: Api, notebook: str, **task: object) -> object:
    body = {
        "run_name": "r",
        "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": notebook}, **task}],
        "environments": [{"environment_key": "default", "spec": {"environment_version": "4"}}],
    }
    return api("POST", "/api/2.2/jobs/runs/submit", body)


def scope_with_secret(api: Api) -> None:
    api("POST", "/api/2.0/secrets/scopes/create", {"scope": "s"})
    api("POST", "/api/2.0/secrets/put", {"scope": "s", "key": "k", "string_value": "hush"})


# --- serverless ------------------------------------------------------------------------------


def test_a_task_without_a_cluster_runs_on_serverless_with_no_clusters_environment() -> None:
    api = Api()
    cluster(api, MLFLOW_TRACKING_URI="x", DATABRICKS_AZUREML_STACK="dev")
    api.runner(NotebookResult(True))

    answer = serverless_submit(api, upload(api), environment_key="default")
    run = api.wait(answer.body["run_id"])

    assert run["state"]["result_state"] == "SUCCESS"
    assert "existing_cluster_id" not in run["tasks"][0]
    assert run["tasks"][0]["environment_key"] == "default"
    [job] = api.jobs
    assert job.env == {"DATABRICKS_RUNTIME_VERSION": "client.4"}
    assert job.user == USER and job.token.startswith("dapi-run-")


def test_a_serverless_task_naming_an_unknown_environment_is_refused() -> None:
    api = Api()
    answer = serverless_submit(api, upload(api), environment_key="gpu")
    assert answer.status == 400
    assert answer.body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "environment_key 'gpu'" in answer.body["message"]


def test_a_run_signs_in_as_the_user_who_submitted_it() -> None:
    api = Api()
    api.runner(NotebookResult(True))
    outsider = as_user(api, OUTSIDER)
    run_id = serverless_submit(outsider, upload(api)).body["run_id"]
    api.wait(run_id)
    [job] = api.jobs
    assert job.user == OUTSIDER
    assert api.fake.workspaces[next(iter(api.fake.workspaces))].tokens[job.token] == OUTSIDER


# --- secret scopes -------------------------------------------------------------------------


def test_the_scopes_creator_reads_a_secret_base64_encoded() -> None:
    api = Api()
    scope_with_secret(api)
    answer = api("GET", "/api/2.0/secrets/get", scope="s", key="k")
    assert answer.status == 200
    assert base64.b64decode(answer.body["value"]) == b"hush"


def test_a_user_without_a_grant_is_refused_the_secret_with_permission_denied() -> None:
    api = Api()
    scope_with_secret(api)
    answer = as_user(api, OUTSIDER)("GET", "/api/2.0/secrets/get", scope="s", key="k")
    assert answer.status == 403
    assert answer.body["error_code"] == "PERMISSION_DENIED"
    assert OUTSIDER in answer.body["message"]


def test_a_read_grant_to_a_group_lets_its_members_read_and_no_one_else() -> None:
    api = Api()
    scope_with_secret(api)
    api.fake.groups["data-scientists"] = {MEMBER}
    put = {"scope": "s", "principal": "data-scientists", "permission": "READ"}
    assert api("POST", "/api/2.0/secrets/acls/put", put).status == 200

    member = as_user(api, MEMBER)
    assert member("GET", "/api/2.0/secrets/get", scope="s", key="k").status == 200
    assert as_user(api, OUTSIDER)("GET", "/api/2.0/secrets/get", scope="s", key="k").status == 403
    # READ is not MANAGE: the member may not grant others
    grant = {"scope": "s", "principal": OUTSIDER, "permission": "READ"}
    assert member("POST", "/api/2.0/secrets/acls/put", grant).status == 403


def test_acls_need_a_known_permission_and_an_existing_scope() -> None:
    api = Api()
    scope_with_secret(api)
    bad = api(
        "POST", "/api/2.0/secrets/acls/put", {"scope": "s", "principal": "g", "permission": "OWN"}
    )
    assert (bad.status, bad.body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    gone = api(
        "POST", "/api/2.0/secrets/acls/put", {"scope": "x", "principal": "g", "permission": "READ"}
    )
    assert (gone.status, gone.body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    missing = api("POST", "/api/2.0/secrets/acls/delete", {"scope": "s", "principal": "g"})
    assert missing.status == 404


def test_acls_list_holds_the_creators_manage_and_each_grant() -> None:
    api = Api()
    scope_with_secret(api)
    api("POST", "/api/2.0/secrets/acls/put", {"scope": "s", "principal": "g", "permission": "READ"})
    items = api("GET", "/api/2.0/secrets/acls/list", scope="s").body["items"]
    assert items == [
        {"principal": USER, "permission": "MANAGE"},
        {"principal": "g", "permission": "READ"},
    ]


# --- workspace files -----------------------------------------------------------------------


def published(api: Api) -> str:
    api("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/databricks-azureml/dev"})
    path = "/Shared/databricks-azureml/dev/outputs.json"
    body = {"path": path, "format": "AUTO", "content": b64(b'{"a": 1}'), "overwrite": True}
    assert api("POST", "/api/2.0/workspace/import", body).status == 200
    return path


def test_a_workspace_file_is_listed_exported_and_has_an_object_id() -> None:
    api = Api()
    path = published(api)
    listed = api("GET", "/api/2.0/workspace/list", path="/Shared/databricks-azureml").body
    assert [(o["path"], o["object_type"]) for o in listed["objects"]] == [
        ("/Shared/databricks-azureml/dev", "DIRECTORY")
    ]
    exported = api("GET", "/api/2.0/workspace/export", path=path, format="AUTO").body
    assert base64.b64decode(exported["content"]) == b'{"a": 1}'
    status = api("GET", "/api/2.0/workspace/get-status", path=path).body
    assert status["object_type"] == "FILE" and isinstance(status["object_id"], int)


def test_listing_or_exporting_a_missing_path_is_not_found() -> None:
    api = Api()
    assert api("GET", "/api/2.0/workspace/list", path="/Shared/none").status == 404
    answer = api("GET", "/api/2.0/workspace/export", path="/Shared/none.json")
    assert answer.body["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_file_permissions_take_file_levels_only() -> None:
    api = Api()
    file_id = api("GET", "/api/2.0/workspace/get-status", path=published(api)).body["object_id"]
    grant = {"access_control_list": [{"group_name": "g", "permission_level": "CAN_READ"}]}
    answer = api("PUT", f"/api/2.0/permissions/files/{file_id}", grant)
    assert (
        answer.status == 200 and answer.body["access_control_list"] == grant["access_control_list"]
    )
    wrong = {"access_control_list": [{"group_name": "g", "permission_level": "CAN_RESTART"}]}
    assert api("PUT", f"/api/2.0/permissions/files/{file_id}", wrong).status == 400
    assert api("PUT", "/api/2.0/permissions/files/42", grant).status == 404
