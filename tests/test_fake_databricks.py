"""The fake Databricks REST API refuses what Databricks refuses: workspace objects, cluster
start, one-time runs (the rules and their sources: tests/fakecloud/databricks.py); its MLflow
(tracking, dual tracking, the legacy registry, Unity Catalog models and their storage:
tests/fakecloud/databricks_mlflow.py, unity_catalog.py, adls.py) through MLflow's own client."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakecloud.adls import FakeAdls
from tests.fakecloud.arm import SUBSCRIPTION
from tests.fakecloud.databricks import (
    FAILED_TASK_MESSAGE,
    USER,
    Answer,
    FakeDatabricks,
    NotebookJob,
    NotebookResult,
)
from tests.fakecloud.linked_mlflow import LinkedCloud, linked_cloud

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


# --- the workspace storage firewall (tests/fakecloud/databricks_storage_firewall.py) ---------

FIREWALLED_RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/fw-rg"
FIREWALLED_ID = f"{FIREWALLED_RG}/providers/Microsoft.Databricks/workspaces/fw-dbw"
FIREWALLED_MANAGED = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/fw-managed-rg"
CONNECTOR_ID = f"{FIREWALLED_RG}/providers/Microsoft.Databricks/accessConnectors/fw-ac"


def firewalled_workspace(firewall: str = "Enabled") -> tuple[Any, FakeDatabricks, str]:
    """The fake ARM with a workspace whose storage firewall is `firewall`, and the fake
    Databricks that reads it: (arm, databricks, the workspace's host)."""
    from functools import partial

    from tests.fakecloud.arm import FakeArm
    from tests.fakecloud.databricks_storage_firewall import storage_unreachable

    arm = FakeArm()
    arm.put(FIREWALLED_RG, {"location": "westeurope"})
    arm.put(CONNECTOR_ID, {"location": "westeurope", "identity": {"type": "SystemAssigned"}})
    props = {
        "managedResourceGroupId": FIREWALLED_MANAGED,
        "defaultStorageFirewall": firewall,
        "accessConnector": {"id": CONNECTOR_ID, "identityType": "SystemAssigned"},
        "parameters": {"storageAccountName": {"value": "dbstoragefw1"}},
    }
    workspace = arm.put(
        FIREWALLED_ID, {"location": "westeurope", "sku": {"name": "premium"}, "properties": props}
    )
    host = workspace["properties"]["workspaceUrl"]
    databricks = FakeDatabricks(lambda h: h == host)
    databricks.compute_blocked = partial(storage_unreachable, arm)
    return arm, databricks, host


def storage_endpoint(arm: Any, group: str, *, zone_group: bool = True) -> None:
    account = f"{FIREWALLED_MANAGED}/providers/Microsoft.Storage/storageAccounts/dbstoragefw1"
    endpoint = f"{FIREWALLED_RG}/providers/Microsoft.Network/privateEndpoints/fw-{group}-pe"
    connection = {"privateLinkServiceId": account, "groupIds": [group]}
    arm.put(endpoint, {"location": "westeurope", "properties": {
        "privateLinkServiceConnections": [{"name": group, "properties": connection}]}})  # fmt: skip
    if zone_group:
        arm.put(f"{endpoint}/privateDnsZoneGroups/default", {"properties": {}})


def create_cluster(databricks: FakeDatabricks, host: str) -> dict[str, Any]:
    spec = {"spark_version": "17.3.x-scala2.13", "node_type_id": "Standard_DS3_v2",
            "num_workers": 1}  # fmt: skip
    answer = databricks.handle("POST", host, "/api/2.1/clusters/create", {}, spec, "token")
    cluster_id = answer.body["cluster_id"]
    get = databricks.handle("GET", host, "/api/2.1/clusters/get", {"cluster_id": cluster_id},
                            None, "token")  # fmt: skip
    return get.body


def test_a_cluster_started_before_the_storage_endpoints_exist_terminates_saying_which() -> None:
    _arm, databricks, host = firewalled_workspace()

    cluster = create_cluster(databricks, host)

    assert cluster["state"] == "TERMINATED"
    assert cluster["state_message"] == (
        "the workspace storage account dbstoragefw1 has its firewall on and no path from the "
        "cluster: missing a blob private endpoint and a dfs private endpoint (Enable firewall "
        "support for your workspace storage account)"
    )


def test_storage_endpoints_without_their_dns_zone_groups_still_stop_a_cluster() -> None:
    arm, databricks, host = firewalled_workspace()
    storage_endpoint(arm, "blob")
    storage_endpoint(arm, "dfs", zone_group=False)

    cluster = create_cluster(databricks, host)

    assert cluster["state"] == "TERMINATED"
    assert "missing the dfs private endpoint's DNS zone group" in cluster["state_message"]
    assert "blob" not in cluster["state_message"].split("missing", 1)[1]


def test_a_cluster_starts_once_blob_and_dfs_endpoints_and_their_zone_groups_exist() -> None:
    arm, databricks, host = firewalled_workspace()
    stopped = create_cluster(databricks, host)
    storage_endpoint(arm, "blob")
    storage_endpoint(arm, "dfs")

    start = databricks.handle("POST", host, "/api/2.1/clusters/start",
                              {}, {"cluster_id": stopped["cluster_id"]}, "token")  # fmt: skip
    states = [databricks.handle("GET", host, "/api/2.1/clusters/get",
                                {"cluster_id": stopped["cluster_id"]}, None, "token").body["state"]
              for _ in range(2)]  # fmt: skip

    assert (start.status, states) == (200, ["PENDING", "RUNNING"])
    assert create_cluster(databricks, host)["state"] == "RUNNING"


def test_without_the_storage_firewall_a_cluster_needs_no_storage_endpoint() -> None:
    _arm, databricks, host = firewalled_workspace(firewall="Disabled")

    assert create_cluster(databricks, host)["state"] == "RUNNING"


# --- the workspace's MLflow, through the unpatched MLflow client ------------------------------
# The `databricks` tracking store and the `databricks-uc` registry store as MLflow ships them,
# signed in with a token (DATABRICKS_HOST, DATABRICKS_TOKEN), reaching the fake workspace host
# through the loopback resolver and its certificate.

GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-fake-rg"
AML_ID = f"{GROUP}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-fake-aml"
UC_CATALOG = {"initialName": "mlflow_dev_dbw", "initialType": "UnityCatalog"}


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinkedCloud]:
    with linked_cloud(tmp_path_factory.mktemp("loopback"), GROUP, AML_ID) as linked:
        yield linked


def workspace(loopback: LinkedCloud, name: str, **properties: Any) -> str:
    """A Databricks workspace in the fake ARM; its host."""
    managed = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}-managed-rg"
    body = databricks_body(**properties)
    body["properties"]["managedResourceGroupId"] = managed
    created = loopback.cloud.arm.put(
        f"{GROUP}/providers/Microsoft.Databricks/workspaces/{name}", body
    )
    return created["properties"]["workspaceUrl"]


@pytest.fixture
def mlflow_on(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Any]:
    """Point MLflow at a workspace host: tracking `databricks`, the registry given."""
    import mlflow
    import mlflow.tracking._model_registry.utils as registry_utils
    import mlflow.tracking._tracking_service.utils as tracking_utils
    import mlflow.tracking.fluent as fluent

    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-fake-notebook-token")

    def point(host: str, registry: str) -> Any:
        monkeypatch.setenv("DATABRICKS_HOST", f"https://{host}")
        mlflow.set_tracking_uri("databricks")
        mlflow.set_registry_uri(registry)
        return mlflow

    return point


def log_model_run(mlflow: Any, experiment: str, tmp_path: Path) -> str:
    """A run with a parameter, a metric and a model (signature included); its id."""
    import numpy as np
    from mlflow.models import infer_signature
    from sklearn.dummy import DummyClassifier

    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.log_param("epochs", 20)
        mlflow.log_metric("accuracy", 0.9)
        model = DummyClassifier().fit([[0.0], [1.0]], [0, 1])
        x = np.array([[0.0], [1.0]])
        # Requirements given: inferring them imports the model in a subprocess, slowly.
        mlflow.sklearn.save_model(
            model,
            tmp_path / "model",
            signature=infer_signature(x, model.predict(x)),
            pip_requirements=["scikit-learn"],
        )
        mlflow.log_artifacts(str(tmp_path / "model"), "model")
    return run.info.run_id


def test_unity_catalog_registers_a_three_level_name_and_serves_it_back_from_storage(
    loopback: LinkedCloud, mlflow_on: Callable[[str, str], Any], tmp_path: Path
) -> None:
    import numpy as np

    host = workspace(loopback, "ws-uc", defaultCatalog=UC_CATALOG)
    mlflow = mlflow_on(host, "databricks-uc")
    run_id = log_model_run(mlflow, "/Users/deployer@contoso.com/uc", tmp_path)

    version = mlflow.register_model(f"runs:/{run_id}/model", "mlflow_dev_dbw.default.classifier")
    loaded = mlflow.pyfunc.load_model("models:/mlflow_dev_dbw.default.classifier/1")
    [found] = mlflow.MlflowClient().search_model_versions(
        "name = 'mlflow_dev_dbw.default.classifier'"
    )

    assert (version.name, version.version, version.status) == (
        "mlflow_dev_dbw.default.classifier", "1", "READY",
    )  # fmt: skip
    assert list(loaded.predict(np.array([[1.0]]))) == [0]
    assert (found.run_id, found.version) == (run_id, "1")
    # the files went to the workspace storage account's Data Lake, through the SAS UC issued
    stored = sorted(path.rsplit("/", 1)[-1] for _, _, path in loopback.cloud.adls.files)
    assert "MLmodel" in stored and "model.skops" in stored


def test_unity_catalog_refuses_a_two_level_name_and_mlflow_adds_its_legacy_hint(
    loopback: LinkedCloud, mlflow_on: Callable[[str, str], Any], tmp_path: Path
) -> None:
    from mlflow.exceptions import MlflowException

    host = workspace(loopback, "ws-uc-names", defaultCatalog=UC_CATALOG)
    mlflow = mlflow_on(host, "databricks-uc")

    with pytest.raises(MlflowException) as raised:
        mlflow.MlflowClient().create_registered_model("default.classifier")

    assert "Please specify all three levels" in raised.value.message
    assert "set the Model Registry URI to 'databricks' (legacy)" in raised.value.message


def test_unity_catalog_refuses_a_catalog_that_does_not_exist(
    loopback: LinkedCloud, mlflow_on: Callable[[str, str], Any]
) -> None:
    from mlflow.exceptions import MlflowException

    host = workspace(loopback, "ws-uc-catalog", defaultCatalog=UC_CATALOG)
    mlflow = mlflow_on(host, "databricks-uc")

    with pytest.raises(MlflowException, match="Catalog 'main' does not exist"):
        mlflow.MlflowClient().create_registered_model("main.default.classifier")


def test_a_governed_schema_without_create_model_is_permission_denied_until_granted(
    loopback: LinkedCloud, mlflow_on: Callable[[str, str], Any], tmp_path: Path
) -> None:
    from mlflow.exceptions import MlflowException

    host = workspace(loopback, "ws-uc-grants", defaultCatalog=UC_CATALOG)
    metastore = loopback.cloud.databricks.mlflow.unity_catalog.metastore(host)  # type: ignore[union-attr]
    metastore.add_catalog("ml", "models")
    metastore.grant("ml", "users", "USE CATALOG")
    metastore.grant("ml.models", "users", "USE SCHEMA")
    mlflow = mlflow_on(host, "databricks-uc")
    run_id = log_model_run(mlflow, "/Users/deployer@contoso.com/grants", tmp_path)

    with pytest.raises(MlflowException) as raised:
        mlflow.register_model(f"runs:/{run_id}/model", "ml.models.classifier")
    metastore.grant("ml.models", "users", "CREATE MODEL")
    version = mlflow.register_model(f"runs:/{run_id}/model", "ml.models.classifier")

    assert raised.value.message.startswith(
        "PERMISSION_DENIED: User does not have CREATE MODEL on Schema 'ml.models'."
    )
    assert (version.name, version.status) == ("ml.models.classifier", "READY")


def test_the_workspace_catalog_grants_every_user_what_registering_needs(
    loopback: LinkedCloud,
) -> None:
    host = workspace(loopback, "ws-uc-defaults", defaultCatalog=UC_CATALOG)
    metastore = loopback.cloud.databricks.mlflow.unity_catalog.metastore(host)  # type: ignore[union-attr]

    assert metastore.catalogs == {"mlflow_dev_dbw"}
    assert metastore.has("anyone@contoso.com", "mlflow_dev_dbw", "USE CATALOG")
    assert metastore.has("anyone@contoso.com", "mlflow_dev_dbw.default", "USE SCHEMA")
    assert metastore.has("anyone@contoso.com", "mlflow_dev_dbw.default", "CREATE MODEL")


def test_the_legacy_registry_is_refused_where_the_default_catalog_is_in_unity_catalog(
    loopback: LinkedCloud, mlflow_on: Callable[[str, str], Any], tmp_path: Path
) -> None:
    from mlflow.exceptions import MlflowException

    new_account = workspace(loopback, "ws-new-account", defaultCatalog=UC_CATALOG)
    older = workspace(loopback, "ws-older-account")
    mlflow = mlflow_on(new_account, "databricks")
    run_id = log_model_run(mlflow, "/Users/deployer@contoso.com/legacy", tmp_path / "new")

    with pytest.raises(MlflowException) as raised:
        mlflow.register_model(f"runs:/{run_id}/model", "classifier")
    mlflow = mlflow_on(older, "databricks")
    run_id = log_model_run(mlflow, "/Users/deployer@contoso.com/legacy", tmp_path / "old")
    version = mlflow.register_model(f"runs:/{run_id}/model", "classifier")

    assert raised.value.message.startswith(
        "PERMISSION_DENIED: The legacy workspace model registry is disabled for the current "
        "Databricks workspace"
    )
    assert (version.name, version.version) == ("classifier", "1")


def test_a_linked_workspace_tracks_runs_in_azureml_too_and_an_unlinked_one_does_not(
    loopback: LinkedCloud, mlflow_on: Callable[[str, str], Any], tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    linked = workspace(loopback, "ws-linked", parameters={"amlWorkspaceId": {"value": AML_ID}})
    unlinked = workspace(loopback, "ws-unlinked")
    aml = MlflowClient(tracking_uri=loopback.azureml.uri)

    mlflow_on(linked, "databricks")
    linked_run = log_model_run(
        mlflow_on(linked, "databricks"), "/Users/d@contoso.com/dual", tmp_path / "a"
    )
    log_model_run(mlflow_on(unlinked, "databricks"), "/Users/d@contoso.com/alone", tmp_path / "b")

    dual = aml.get_experiment_by_name("/Users/d@contoso.com/dual")
    [mirrored] = aml.search_runs([dual.experiment_id])
    assert mirrored.data.params == {"epochs": "20"}
    assert mirrored.data.metrics == {"accuracy": 0.9}
    assert mirrored.info.run_id != linked_run  # AzureML names its own run
    assert aml.get_experiment_by_name("/Users/d@contoso.com/alone") is None
    assert loopback.cloud.databricks.mlflow.mirror_errors == []  # type: ignore[union-attr]


# --- the storage stand-in's own rules -----------------------------------------------------------


def test_storage_refuses_a_sas_it_did_not_issue_and_paths_outside_the_one_it_covers() -> None:
    adls = FakeAdls()
    sas = adls.issue("abfss://uc@dbstorage1.dfs.core.windows.net/models/a", "racwl")
    host = "dbstorage1.dfs.core.windows.net"

    inside = adls.handle("PUT", host, f"/uc/models/a/MLmodel?resource=file&{sas}", {}, b"")
    outside = adls.handle("PUT", host, f"/uc/models/b/MLmodel?resource=file&{sas}", {}, b"")
    forged = adls.handle("PUT", host, "/uc/models/a/x?resource=file&sig=forged", {}, b"")

    assert inside.status == 201
    assert (outside.status, outside.headers["x-ms-error-code"]) == (
        403, "AuthorizationPermissionMismatch",
    )  # fmt: skip
    assert (forged.status, forged.headers["x-ms-error-code"]) == (403, "AuthenticationFailed")


def test_storage_refuses_writes_with_a_read_only_sas_and_reads_only_flushed_data() -> None:
    adls = FakeAdls()
    write = adls.issue("abfss://uc@dbstorage1.dfs.core.windows.net/models/a", "racwl")
    read = adls.issue("abfss://uc@dbstorage1.dfs.core.windows.net/models/a", "rl")
    dfs, blob = "dbstorage1.dfs.core.windows.net", "dbstorage1.blob.core.windows.net"

    refused = adls.handle("PUT", dfs, f"/uc/models/a/f?resource=file&{read}", {}, b"")
    adls.handle("PUT", dfs, f"/uc/models/a/f?resource=file&{write}", {}, b"")
    adls.handle("PATCH", dfs, f"/uc/models/a/f?action=append&position=0&{write}", {}, b"abc")
    before_flush = adls.handle("GET", blob, f"/uc/models/a/f?{read}", {}, b"")
    adls.handle("PATCH", dfs, f"/uc/models/a/f?action=flush&position=3&{write}", {}, b"")
    after_flush = adls.handle("GET", blob, f"/uc/models/a/f?{read}", {}, b"")

    assert refused.status == 403
    assert (before_flush.status, before_flush.body) == (200, b"")
    assert (after_flush.status, after_flush.body) == (200, b"abc")


def test_the_workspace_mlflow_refuses_a_request_without_a_bearer_token(
    loopback: LinkedCloud,
) -> None:
    import requests

    host = workspace(loopback, "ws-auth", defaultCatalog=UC_CATALOG)
    url = f"https://{host}/api/2.0/mlflow/experiments/get-by-name"
    query = {"experiment_name": "/Users/deployer@contoso.com/auth"}

    anonymous = requests.get(url, params=query, timeout=30)
    signed_in = requests.get(
        url, params=query, headers={"Authorization": "Bearer dapi-token"}, timeout=30
    )
    uc = requests.get(
        f"https://{host}/api/2.0/mlflow/unity-catalog/model-versions/search",
        params={"filter": "name = 'mlflow_dev_dbw.default.m'"},
        timeout=30,
    )

    assert (anonymous.status_code, anonymous.json()["error_code"]) == (401, "UNAUTHENTICATED")
    assert (uc.status_code, uc.json()["error_code"]) == (401, "UNAUTHENTICATED")
    assert signed_in.status_code == 404  # past sign-in: MLflow's own "no such experiment"
    assert signed_in.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
