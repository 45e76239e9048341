"""`make smoke` (tools/smoke/): its steps against the loopback cloud, and each verdict.

The loopback cloud here is the fake ARM and Databricks REST API of the e2e tests, reached
through databricks-sdk, azure-mgmt-resource and MLflow as on Azure; a submitted notebook runs
for real in a local process (tests/fakecloud/notebook_runner.py). To keep these tests free of
Spark, the project smoke uploads is a copy whose notebook is a small one that logs and
registers a model without Spark; the example notebook itself runs in tests/e2e/test_13_smoke.py.
"""

from __future__ import annotations

import io
import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.pipeline.transport import RequestsTransport

from arm.client import Arm
from arm.cloud import ArmCloud
from mlflow_setup.contract import (
    STACK_ENV,
    ModelRegistry,
    TrackingMode,
    stack_env,
    tracking_settings,
)
from tests.fakecloud import dns, mlflow_routes
from tests.fakecloud.arm import SUBSCRIPTION, StaticCredential
from tests.fakecloud.local_mlflow import Server, start_server, stop, wait_healthy
from tests.fakecloud.notebook_runner import LocalNotebookRunner
from tests.fakecloud.notebook_runner import mlflow_routes as routes_for
from tests.fakecloud.serve import FakeCloud
from tools import smoke

ROOT = Path(__file__).resolve().parent.parent
RG = "mlflow-smoke-rg"
GROUP_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}"
AML_ID = f"{GROUP_ID}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-smoke-aml"
DBX_ID = f"{GROUP_ID}/providers/Microsoft.Databricks/workspaces/mlflow-smoke-adb"
MANAGED_GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-smoke-managed-rg"

# Stands in for notebooks/track_with_azureml.py: the same MLflow calls, no Spark, no data.
SMALL_NOTEBOOK = """# Databricks notebook source
import mlflow
import mlflow_setup
from sklearn.dummy import DummyClassifier

EXPERIMENT = "track-with-azureml"
MODEL_NAME = "track-with-azureml-classifier"

outputs = mlflow_setup.load_outputs()
mlflow_setup.configure_mlflow(outputs)
mlflow.set_experiment(mlflow_setup.experiment_name(outputs, EXPERIMENT, user="x"))
with mlflow.start_run():
    mlflow.log_param("epochs", 20)
    mlflow.log_metric("accuracy", 0.9)
    model = DummyClassifier().fit([[0.0], [1.0]], [0, 1])
    mlflow.sklearn.log_model(
        model, name="model", registered_model_name=MODEL_NAME, pip_requirements=["scikit-learn"]
    )
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_server(tmp_path_factory.mktemp("smoke-mlflow"), serve_artifacts=False)
    try:
        yield wait_healthy(started, timeout=300)
    finally:
        stop(started.process)


restore: list[Any] = []  # what puts MLflow's own store builders back after each test


@pytest.fixture(autouse=True)
def mlflow_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """MLflow's process-wide URIs and store builders as they were before each test."""
    import mlflow.tracking._model_registry.utils as registry_utils
    import mlflow.tracking._tracking_service.utils as tracking_utils

    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "DATABRICKS_HOST"):
        monkeypatch.delenv(name, raising=False)
    yield
    while restore:
        restore.pop()()


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, server: Server) -> Iterator[FakeCloud]:
    with FakeCloud() as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)
        monkeypatch.setattr("socket.getaddrinfo", dns.loopback_resolver(fake.address))
        fake.databricks.runner = LocalNotebookRunner(fake.arm, server.uri)
        yield fake


def deploy(cloud: FakeCloud, *, tracking: str = "exclusive") -> dict[str, Any]:
    """What `pulumi up` leaves: the workspaces in ARM, the cluster in Databricks; the outputs."""
    arm = cloud.arm
    arm.put(GROUP_ID, {"location": "westeurope"})
    aml = arm.put(
        AML_ID,
        {"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {}},
    )
    parameters = {"amlWorkspaceId": {"value": AML_ID}} if tracking == "dual" else {}
    dbx = arm.put(
        DBX_ID,
        {
            "location": "westeurope",
            "sku": {"name": "premium"},
            "properties": {"managedResourceGroupId": MANAGED_GROUP, "parameters": parameters},
        },
    )
    uri = aml["properties"]["mlFlowTrackingUri"]
    host = dbx["properties"]["workspaceUrl"]
    registry = ModelRegistry.AZUREML if tracking == "exclusive" else ModelRegistry.DATABRICKS
    # the cluster's environment as the stack declares it (stack.py)
    env = {**tracking_settings(TrackingMode(tracking), registry, uri).cluster_env}
    env |= stack_env("dev", None)
    cluster = cloud.databricks.handle(
        "POST",
        host,
        "/api/2.1/clusters/create",
        {},
        {"spark_version": "17.3.x-scala2.13", "node_type_id": "Standard_DS3_v2",
         "autotermination_minutes": 30, "spark_env_vars": env},
        "token",
    )  # fmt: skip
    exclusive = tracking == "exclusive"
    return {
        "resourceGroupName": RG,
        "location": "westeurope",
        "trackingMode": tracking,
        "modelRegistry": "azureml" if exclusive else "databricks",
        "privateLink": False,
        "amlWorkspaceName": "mlflow-smoke-aml",
        "amlWorkspaceId": AML_ID,
        "mlflowTrackingUri": uri,
        "mlflowRegistryUri": uri if exclusive else "databricks",
        "databricksWorkspaceUrl": f"https://{host}",
        "databricksWorkspaceId": DBX_ID,
        "clusterId": cluster.body["cluster_id"],
        "secretScope": "mlflow-smoke-scope",
    }


def write_project(folder: Path, notebook: str) -> Path:
    """What smoke uploads: mlflow_setup as it is, `notebook` in the example's place."""
    shutil.copytree(ROOT / "mlflow_setup", folder / "mlflow_setup", ignore=_pycache)
    (folder / "notebooks").mkdir()
    (folder / "notebooks" / "track_with_azureml.py").write_text(notebook)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, SMALL_NOTEBOOK)


def _pycache(_folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]


def services_for(cloud: FakeCloud, outputs: dict[str, Any], project: Path, **extra: Any) -> Any:
    from databricks.sdk import WorkspaceClient

    arm_cloud = ArmCloud(cloud.base_url, "https://management.azure.com/.default", "")

    def arm(subscription: str, _config: Any) -> smoke.ArmReader:
        client = Arm(
            subscription,
            cloud=arm_cloud,
            credential=StaticCredential(),
            transport=RequestsTransport(connection_verify=cloud.ca_file),
        )
        return smoke.ArmClientReader(client)

    def workspace(stack_outputs: Any) -> Any:
        return WorkspaceClient(host=stack_outputs.databricks_workspace_url, token="dapi-smoke")

    def client(stack_outputs: Any, uris: Any) -> Any:
        # This process reads the stores through the routes the notebook's process has.
        server_uri = cloud.databricks.runner.server_uri  # type: ignore[union-attr]
        restore.append(mlflow_routes.install(routes_for(cloud.arm, server_uri)))
        return smoke.mlflow_client(stack_outputs, uris)

    return smoke.Services(
        stack_output=lambda _stack: json.dumps(outputs),
        stack_config=lambda _stack: {},
        arm=arm,
        workspace=workspace,
        mlflow_client=client,
        project_dir=project,
        **{"sleep": lambda _seconds: None, **extra},
    )


def run_smoke(services: Any, *args: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = smoke.main(["--stack", "dev", "--timeout", "300", *args], services=services, stdout=out)
    return code, out.getvalue().splitlines()


def verdicts(lines: list[str]) -> dict[str, str]:
    """step name -> its line's status word."""
    found = {}
    for line in lines:
        word, _, rest = line.partition(" ")
        if word in ("pass", "FAIL", "skipped") and ":" in rest:
            found[rest.strip().split(":", 1)[0]] = word
    return found


# --- the whole run, on the loopback cloud -----------------------------------------------------


def test_a_server_started_on_the_shared_empty_database_puts_default_artifacts_in_its_home(
    server: Server,
) -> None:
    # Each server starts on a copy of one database with MLflow's tables and no rows.
    with urllib.request.urlopen(
        f"{server.uri}/api/2.0/mlflow/experiments/get?experiment_id=0"
    ) as got:
        default = json.load(got)["experiment"]
    assert default["name"] == "Default"
    assert default["artifact_location"] == f"{(server.home / 'artifacts').as_uri()}/0"


def test_smoke_passes_on_a_healthy_exclusive_stack_and_reads_back_what_the_notebook_made(
    cloud: FakeCloud, project: Path
) -> None:
    outputs = deploy(cloud)
    host = outputs["databricksWorkspaceUrl"].removeprefix("https://")
    cluster = cloud.databricks.workspaces[host].clusters[outputs["clusterId"]]
    cluster["state"] = "TERMINATED"  # auto-terminated since `up`

    code, lines = run_smoke(services_for(cloud, outputs, project))

    assert code == 0, "\n".join(lines)
    assert verdicts(lines) == {
        "stack outputs": "pass",
        "azureml workspace": "pass",
        "databricks link": "pass",
        "private endpoints": "skipped",
        "databricks api": "pass",
        "cluster": "pass",
        "notebook upload": "pass",
        "notebook run": "pass",
        "mlflow run": "pass",
        "model version": "pass",
        "online endpoint": "skipped",
        "batch endpoint": "skipped",
        "cleanup": "pass",
    }
    text = "\n".join(lines)
    assert "is terminated: starting it" in text  # and waited for: the run found it running
    assert cluster["state"] == "RUNNING"
    assert "epochs=20" in text and "accuracy=0.900" in text
    assert "track-with-azureml-classifier version 1" in text
    assert "smoke passed: 10 passed, 0 failed, 3 skipped (dev)" in text
    state = cloud.databricks.snapshot()[host]
    [run] = state["runs"].values()
    assert run["state"]["result_state"] == "SUCCESS"
    assert f"https://{host}/" in run["run_page_url"] and run["run_page_url"] in text
    # By default the uploaded folder is gone; the version it made is named for removal.
    assert not [path for path in state["objects"] if "databricks-azureml-smoke/" in path]
    assert "delete_model_version('track-with-azureml-classifier', '1')" in text


def test_a_cluster_tracking_elsewhere_fails_the_cluster_step_and_runs_nothing(
    cloud: FakeCloud, project: Path
) -> None:
    outputs = deploy(cloud)
    host = outputs["databricksWorkspaceUrl"].removeprefix("https://")
    wrong = outputs["mlflowTrackingUri"].replace("mlflow-smoke-aml", "someone-elses-aml")
    env = cloud.databricks.workspaces[host].clusters[outputs["clusterId"]]["spark_env_vars"]
    env.update(MLFLOW_TRACKING_URI=wrong, MLFLOW_REGISTRY_URI=wrong)

    code, lines = run_smoke(services_for(cloud, outputs, project))

    assert code == 1
    [line] = [line for line in lines if line.startswith("FAIL")]
    assert line.startswith("FAIL    cluster: ")
    assert f"tracks to {wrong}" in line and "run `pulumi up`" in line
    assert verdicts(lines)["notebook run"] == "skipped"
    assert cloud.databricks.snapshot()[host]["runs"] == {}


@pytest.mark.parametrize(("args", "seconds"), [((), 10.0), (("--poll-seconds", "0.5"), 0.5)])
def test_the_cluster_and_the_run_are_polled_every_10_seconds_unless_poll_seconds_says(
    cloud: FakeCloud, project: Path, args: tuple[str, ...], seconds: float
) -> None:
    outputs = deploy(cloud)
    host = outputs["databricksWorkspaceUrl"].removeprefix("https://")
    cloud.databricks.workspaces[host].clusters[outputs["clusterId"]]["state"] = "TERMINATED"
    cloud.databricks.runner = None  # the run fails at once: no notebook is run
    slept: list[float] = []

    def sleep(wanted: float) -> None:
        slept.append(wanted)
        time.sleep(0.01)

    code, lines = run_smoke(services_for(cloud, outputs, project, sleep=sleep), *args)

    assert code == 1
    assert verdicts(lines)["cluster"] == "pass"
    assert verdicts(lines)["notebook run"] == "FAIL"
    assert slept and set(slept) == {seconds}


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_poll_seconds_of_zero_or_less_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        smoke.main(["--stack", "dev", "--poll-seconds", value])

    assert exited.value.code == 2
    assert f"--poll-seconds: must be more than 0 seconds, not {value}" in capsys.readouterr().err


def test_a_cluster_marked_for_another_stack_fails_the_cluster_step(
    cloud: FakeCloud, project: Path
) -> None:
    outputs = deploy(cloud)
    host = outputs["databricksWorkspaceUrl"].removeprefix("https://")
    env = cloud.databricks.workspaces[host].clusters[outputs["clusterId"]]["spark_env_vars"]
    env[STACK_ENV] = "prod"

    code, lines = run_smoke(services_for(cloud, outputs, project))

    assert code == 1
    [line] = [line for line in lines if line.startswith("FAIL")]
    assert line.startswith("FAIL    cluster: ")
    assert "marked as stack 'prod''s, not 'dev''s" in line
    assert cloud.databricks.snapshot()[host]["runs"] == {}


def test_a_notebook_that_raises_fails_the_run_step_with_its_error_and_keep_keeps_it(
    cloud: FakeCloud, project: Path
) -> None:
    outputs = deploy(cloud)
    notebook = project / "notebooks" / "track_with_azureml.py"
    header, body = notebook.read_text().split("\n", 1)
    notebook.write_text(f'{header}\nraise RuntimeError("the data is gone")\n{body}')

    code, lines = run_smoke(services_for(cloud, outputs, project), "--keep")

    assert code == 1
    [line] = [line for line in lines if line.startswith("FAIL")]
    assert line.startswith("FAIL    notebook run: run ")
    assert "FAILED: RuntimeError: the data is gone" in line
    assert verdicts(lines)["mlflow run"] == "skipped"
    assert verdicts(lines)["cleanup"] == "pass"
    # --keep: the notebook and the modules beside it stay, and the summary says where.
    host = outputs["databricksWorkspaceUrl"].removeprefix("https://")
    objects = cloud.databricks.snapshot()[host]["objects"]
    prefix = "/Users/deployer@contoso.com/databricks-azureml-smoke/dev-"
    kept = sorted(path.rsplit("/", 2)[-2:] for path in objects if path.startswith(prefix))
    assert ["mlflow_setup", "outputs.py"] in kept
    assert [name for _, name in kept if name == "track_with_azureml"] == ["track_with_azureml"]
    assert any(line.startswith("left behind:") and "workspace folder" in line for line in lines)


def test_a_workspace_that_cannot_be_reached_says_so_under_full_private_link(
    cloud: FakeCloud, project: Path
) -> None:
    outputs = deploy(cloud)

    def unreachable(host: str, port: int, timeout: float) -> None:
        raise TimeoutError("timed out")

    services = services_for(cloud, outputs, project, connect=unreachable)
    services.stack_config = lambda _stack: {"databricks-azureml:databricksPrivateLink": "full"}
    code, lines = run_smoke(services)

    assert code == 1
    [line] = [line for line in lines if line.startswith("FAIL    databricks api: ")]
    assert line.startswith("FAIL    databricks api: cannot reach adb-")
    assert "databricksPrivateLink full" in line and "private endpoint" in line
    assert verdicts(lines)["cluster"] == "skipped"


# --- single steps -----------------------------------------------------------------------------


class FakeArmReader:
    def __init__(self, resources: dict[str, dict[str, Any]]) -> None:
        self.resources = {key.lower(): value for key, value in resources.items()}

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        return self.resources.get(resource_id.lower())

    def list_group(self, resource_group: str, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources.values() if r.get("type") == resource_type]


def parsed_outputs(**changes: Any) -> Any:
    uri = f"azureml://westeurope.api.azureml.ms/mlflow/v1.0{AML_ID}"
    raw = {
        "resourceGroupName": RG,
        "location": "westeurope",
        "trackingMode": "exclusive",
        "modelRegistry": "azureml",
        "privateLink": True,
        "amlWorkspaceName": "mlflow-smoke-aml",
        "amlWorkspaceId": AML_ID,
        "mlflowTrackingUri": uri,
        "mlflowRegistryUri": uri,
        "databricksWorkspaceUrl": "https://adb-1.2.azuredatabricks.net",
        "databricksWorkspaceId": DBX_ID,
        "clusterId": "0101-120000-abcdefgh",
        "secretScope": "scope",
        **changes,
    }
    return raw


def smoke_with(raw: dict[str, Any], resources: dict[str, Any], **extra: Any) -> smoke.Smoke:
    services = smoke.Services(
        stack_output=lambda _stack: json.dumps(raw),
        stack_config=lambda _stack: {},
        arm=lambda _sub, _config: FakeArmReader(resources),
        **extra,
    )
    run = smoke.Smoke(stack="dev", services=services, out=io.StringIO())
    run.step_outputs()
    return run


def endpoint(name: str, status: str) -> dict[str, Any]:
    state = {"status": status, "description": "Auto-Approved" if status == "Approved" else "x"}
    return {
        "id": f"{GROUP_ID}/providers/Microsoft.Network/privateEndpoints/{name}",
        "name": name,
        "type": smoke.PRIVATE_ENDPOINTS,
        "properties": {
            "privateLinkServiceConnections": [
                {"properties": {"privateLinkServiceConnectionState": state}}
            ]
        },
    }


def test_private_endpoints_pass_when_every_connection_is_approved() -> None:
    run = smoke_with(parsed_outputs(), {"a": endpoint("pe-aml", "Approved")})

    assert run.step_private_endpoints() == "1 approved: pe-aml"


def test_a_pending_private_endpoint_fails_naming_it_and_its_state() -> None:
    run = smoke_with(
        parsed_outputs(),
        {"a": endpoint("pe-aml", "Approved"), "b": endpoint("pe-adb", "Pending")},
    )

    with pytest.raises(smoke.StepError, match=r"not approved: pe-adb is 'Pending'"):
        run.step_private_endpoints()


def test_private_link_without_any_private_endpoint_fails() -> None:
    run = smoke_with(parsed_outputs(), {})

    with pytest.raises(smoke.StepError, match=f"no private endpoint in resource group {RG}"):
        run.step_private_endpoints()


def databricks_workspace(parameters: dict[str, Any], state: str = "Succeeded") -> dict[str, Any]:
    return {DBX_ID: {"properties": {"provisioningState": state, "parameters": parameters}}}


def test_dual_tracking_needs_the_databricks_workspace_linked_to_the_azureml_one() -> None:
    raw = parsed_outputs(
        trackingMode="dual", modelRegistry="databricks", privateLink=False,
        mlflowRegistryUri="databricks",
    )  # fmt: skip
    linked = smoke_with(raw, databricks_workspace({"amlWorkspaceId": {"value": AML_ID}}))
    unlinked = smoke_with(raw, databricks_workspace({}))

    assert linked.step_databricks_link().endswith("linked to mlflow-smoke-aml")
    with pytest.raises(smoke.StepError, match="dual tracking needs mlflow-smoke-adb linked"):
        unlinked.step_databricks_link()


def test_exclusive_tracking_refuses_a_linked_databricks_workspace() -> None:
    run = smoke_with(parsed_outputs(), databricks_workspace({"amlWorkspaceId": {"value": AML_ID}}))

    with pytest.raises(smoke.StepError, match="exclusive tracking, yet mlflow-smoke-adb is linked"):
        run.step_databricks_link()


def test_a_workspace_still_provisioning_fails_with_its_state() -> None:
    run = smoke_with(parsed_outputs(), databricks_workspace({}, state="Updating"))

    with pytest.raises(smoke.StepError, match="is 'Updating', not Succeeded"):
        run.step_databricks_link()


def test_the_batch_step_is_skipped_when_mlflow_setup_has_no_batch_score() -> None:
    raw = parsed_outputs(batchEndpointName="smoke-batch", batchEndpointUri="https://x/jobs")
    run = smoke_with(raw, {}, batch_score=None)
    run.batch_input = "azureml://datastores/workspaceblobstore/paths/smoke/"

    with pytest.raises(
        smoke.NotApplicableError, match="this version of mlflow_setup has no batch_score"
    ):
        run.step_batch_endpoint()


def test_the_batch_step_starts_a_job_on_the_input_and_waits_for_it() -> None:
    calls: list[str] = []

    class Job:
        def wait(self) -> str:
            calls.append("wait")
            return "azureml://datastores/workspaceblobstore/paths/out/"

    def batch_score(input_uri: str, *, stack: Any) -> Job:
        calls.append(input_uri)
        calls.append(stack.batch_endpoint_uri)
        return Job()

    raw = parsed_outputs(batchEndpointName="smoke-batch", batchEndpointUri="https://x/jobs")
    run = smoke_with(raw, {}, batch_score=batch_score)
    run.batch_input = "azureml://datastores/workspaceblobstore/paths/in/"

    detail = run.step_batch_endpoint()

    # The endpoint of the stack smoke was asked for, not of the stack Pulumi has selected.
    assert calls == ["azureml://datastores/workspaceblobstore/paths/in/", "https://x/jobs", "wait"]
    assert detail.startswith("smoke-batch scored azureml://datastores/")
    assert detail.endswith("paths/out/")


def test_a_batch_job_that_fails_fails_the_step_with_its_error() -> None:
    class Job:
        def wait(self) -> str:
            raise RuntimeError("batch job smoke-1 Failed: no input files")

    raw = parsed_outputs(batchEndpointName="smoke-batch", batchEndpointUri="https://x/jobs")
    run = smoke_with(raw, {}, batch_score=lambda _uri, stack: Job())
    run.batch_input = "azureml://datastores/workspaceblobstore/paths/in/"

    result = smoke.run_step("batch endpoint", run.step_batch_endpoint)

    assert result.status == smoke.FAIL
    assert result.line() == (
        "FAIL    batch endpoint: RuntimeError: batch job smoke-1 Failed: no input files"
    )


def test_without_an_online_endpoint_the_scoring_step_is_skipped_and_says_why() -> None:
    run = smoke_with(parsed_outputs(), {})

    with pytest.raises(smoke.NotApplicableError, match=r"no online endpoint \(config `endpoint`\)"):
        run.step_online_endpoint()


def test_bad_outputs_fail_the_first_step_and_skip_every_other() -> None:
    raw = parsed_outputs(trackingMode="both")
    services = smoke.Services(stack_output=lambda _stack: json.dumps(raw))
    out = io.StringIO()

    code = smoke.Smoke(stack="dev", services=services, out=out).run()

    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[0].startswith("FAIL    stack outputs: ")
    assert "'trackingMode' is 'both'" in lines[0]
    assert all(line.startswith("skipped ") for line in lines[1:13])
    assert lines[13] == "smoke FAILED: 0 passed, 1 failed, 12 skipped (dev)"


def test_without_the_pulumi_cli_the_outputs_step_says_what_to_install() -> None:
    run = smoke.Smoke(
        stack="dev", services=smoke.Services(stack_output=lambda _stack: None), out=io.StringIO()
    )

    with pytest.raises(smoke.StepError, match="the Pulumi CLI is not on PATH"):
        run.step_outputs()


def test_without_the_pulumi_cli_the_first_step_fails_with_its_prerequisite_line() -> None:
    out = io.StringIO()
    services = smoke.Services(stack_output=lambda _stack: None)

    code = smoke.Smoke(stack="dev", services=services, out=out).run()

    first = out.getvalue().splitlines()[0]
    assert code == 1
    assert first.startswith("FAIL    stack outputs: the Pulumi CLI is not on PATH")
    assert first.endswith(
        "; this step needs the Pulumi CLI on PATH, logged in to the stack's backend "
        "(`pulumi login <backend>`)"
    )


def test_help_lists_the_prerequisites_before_the_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        smoke.main(["--help"])

    text = capsys.readouterr().out
    assert exited.value.code == 0
    listed = text.index("prerequisites, before the steps:")
    assert listed < text.index("options:")
    for needed in (
        "`pulumi login <backend>`",
        "`az login`",
        "Reader on the stack's resource group",
        "cluster.users",
        "AzureML Data Scientist",
        "databricksPrivateLink full",
    ):
        assert needed in text[listed:]


def test_the_verify_page_lists_the_prerequisites_before_the_steps() -> None:
    text = (ROOT / "docs" / "verify.md").read_text()
    before = text[: text.index("| step | what it proves |")]
    for needed in (
        "pulumi login",
        "az login",
        "Reader on the stack's resource group",
        "cluster.users",
        "AzureML Data Scientist",
        "databricksPrivateLink: full",
        "requirements-smoke.txt",
    ):
        assert needed in before


# --- the optional CI workflow -----------------------------------------------------------------


def test_the_smoke_workflow_runs_up_smoke_destroy_and_the_check_on_demand_only() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "smoke.yml").read_text())
    [job] = workflow["jobs"].values()
    runs = [step for step in job["steps"] if "run" in step]

    assert list(workflow[True]) == ["workflow_dispatch"]  # YAML reads `on:` as True
    assert [step["name"] for step in runs][-4:] == [
        "pulumi up (a throwaway stack)",
        "make smoke",
        "pulumi destroy",
        "make teardown-check",
    ]
    assert "pulumi up --stack" in runs[-4]["run"] and "make smoke STACK=" in runs[-3]["run"]
    # Whatever smoke says, the stack goes and the check runs.
    assert [step.get("if") for step in runs[-2:]] == ["always()", "always()"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_private_endpoints_read_through_arm_are_approved_as_azure_auto_approves_them() -> None:
    from tests.fakecloud.arm import FakeArm

    endpoint_id = f"{GROUP_ID}/providers/Microsoft.Network/privateEndpoints/mlflow-dev-pe-aml"
    with FakeArm() as fake:
        fake.put(GROUP_ID, {"location": "westeurope"})
        fake.put(
            endpoint_id,
            {
                "location": "westeurope",
                "properties": {
                    "privateLinkServiceConnections": [
                        {"name": "aml", "properties": {"privateLinkServiceId": AML_ID,
                                                       "groupIds": ["amlworkspace"]}}
                    ]
                },
            },
        )  # fmt: skip
        fake.put(f"{GROUP_ID}/providers/Microsoft.Network/virtualNetworks/vnet", {
            "location": "westeurope", "properties": {}})  # fmt: skip
        cloud = ArmCloud(fake.base_url, "https://management.azure.com/.default", "")
        arm = Arm(
            SUBSCRIPTION, cloud=cloud, credential=StaticCredential(), transport=fake.transport()
        )
        reader = smoke.ArmClientReader(arm)
        run = smoke_with(parsed_outputs(), {})
        run._arm_reader = reader

        assert run.step_private_endpoints() == "1 approved: mlflow-dev-pe-aml"


def test_a_change_to_smoke_alone_deploys_no_stack() -> None:
    from tools import ci_stacks

    assert ci_stacks.touched_stacks(["tools/smoke.py"], ["dev", "private"]) == []


# --- model version and mlflow run, read through an MLflow client ------------------------------


class RecordingMlflow:
    """An MLflow client's reads over a few runs and model versions; records the filters."""

    def __init__(self, runs: list[Any] = (), versions: dict[str, list[Any]] | None = None) -> None:
        self.runs = list(runs)
        self.versions = versions or {}
        self.filters: list[str] = []

    def search_model_versions(self, filter_string: str) -> list[Any]:
        self.filters.append(filter_string)
        name = filter_string.split("'")[1]
        return self.versions.get(name, [])

    def get_experiment_by_name(self, name: str) -> Any:
        return SimpleNamespace(experiment_id="1", name=name) if self.runs else None

    def search_runs(self, _ids: list[str], **_kwargs: Any) -> list[Any]:
        return self.runs

    def get_run(self, run_id: str) -> Any:
        from mlflow.exceptions import MlflowException

        for run in self.runs:
            if run.info.run_id == run_id:
                return run
        raise MlflowException(f"Run '{run_id}' not found", error_code="RESOURCE_DOES_NOT_EXIST")


def mlflow_run(run_id: str, start_time: int = 1_000_000) -> Any:
    return SimpleNamespace(
        info=SimpleNamespace(run_id=run_id, start_time=start_time),
        data=SimpleNamespace(params={"epochs": "20"}, metrics={"accuracy": 0.9}),
    )


UC = {
    "trackingMode": "dual",
    "modelRegistry": "unity-catalog",
    "privateLink": False,
    "mlflowRegistryUri": "databricks-uc",
    "modelSchema": "mlflow_dev_dbw.default",
}


def smoke_with_mlflow(raw: dict[str, Any], clients: dict[str, RecordingMlflow]) -> smoke.Smoke:
    """A smoke run past `notebook run`; `clients` by tracking URI."""
    run = smoke_with(raw, {}, mlflow_client=lambda _out, uris: clients[uris.tracking_uri])
    run.services.project_dir = ROOT  # the example notebook's EXPERIMENT and MODEL_NAME
    run.user = "deployer@contoso.com"
    run.submitted_ms = 1_000_000
    return run


def test_unity_catalog_model_version_is_found_by_its_three_level_name() -> None:
    from mlflow.entities.model_registry.model_version_search import ModelVersionSearch

    # what the databricks-uc store's search returns: no tags (reading them raises)
    version = ModelVersionSearch(
        name="mlflow_dev_dbw.default.track-with-azureml-classifier",
        version="1",
        creation_timestamp=0,
        run_id="r1",
        status="READY",
    )
    databricks = RecordingMlflow(
        [mlflow_run("r1")],
        {"mlflow_dev_dbw.default.track-with-azureml-classifier": [version]},
    )
    run = smoke_with_mlflow(parsed_outputs(**UC), {"databricks": databricks})
    run.mlflow_run = mlflow_run("r1")

    detail = run.step_model_version()

    assert databricks.filters == ["name = 'mlflow_dev_dbw.default.track-with-azureml-classifier'"]
    assert detail == (
        "mlflow_dev_dbw.default.track-with-azureml-classifier version 1 from run r1 "
        "in databricks-uc"
    )


def test_unity_catalog_model_version_under_the_bare_name_only_fails_naming_the_full_one() -> None:
    version = SimpleNamespace(version="1", run_id="r1", status="READY")
    databricks = RecordingMlflow([mlflow_run("r1")], {"track-with-azureml-classifier": [version]})
    run = smoke_with_mlflow(parsed_outputs(**UC), {"databricks": databricks})
    run.mlflow_run = mlflow_run("r1")

    with pytest.raises(
        smoke.StepError,
        match=r"no version of mlflow_dev_dbw\.default\.track-with-azureml-classifier from run r1 "
        r"in the registry databricks-uc",
    ):
        run.step_model_version()


def test_a_version_registered_from_its_files_in_azureml_is_found_by_its_run_tag() -> None:
    raw = parsed_outputs(trackingMode="dual", modelRegistry="azureml", privateLink=False)
    aml_uri = raw["mlflowTrackingUri"]
    raw["mlflowRegistryUri"] = aml_uri
    other = SimpleNamespace(version="1", run_id=None, status="READY", tags={})
    ours = SimpleNamespace(
        version="2", run_id=None, status="READY", tags={"source_run_id": "dbx-run"}
    )
    # tracking "databricks", registry AzureML: one client, keyed by its tracking URI here
    client = RecordingMlflow([], {"track-with-azureml-classifier": [other, ours]})
    run = smoke_with_mlflow(raw, {"databricks": client})
    run.mlflow_run = mlflow_run("dbx-run")

    detail = run.step_model_version()

    assert detail == (f"track-with-azureml-classifier version 2 from run dbx-run in {aml_uri}")


def test_dual_tracking_reads_the_run_back_from_both_trackers_and_says_where() -> None:
    raw = parsed_outputs(**UC)
    aml_uri = raw["mlflowTrackingUri"]
    clients = {
        "databricks": RecordingMlflow([mlflow_run("r1")]),
        aml_uri: RecordingMlflow([mlflow_run("r1")]),
    }
    run = smoke_with_mlflow(raw, clients)

    detail = run.step_mlflow_run()

    assert detail == (
        "run r1 in /Users/deployer@contoso.com/track-with-azureml: epochs=20; accuracy=0.900; "
        f"found in databricks and in AzureML ({aml_uri}, run r1)"
    )


def test_dual_tracking_finds_a_run_mirrored_under_another_id_by_its_experiment_and_values() -> None:
    raw = parsed_outputs(**UC)
    aml_uri = raw["mlflowTrackingUri"]
    clients = {
        "databricks": RecordingMlflow([mlflow_run("r1")]),
        aml_uri: RecordingMlflow([mlflow_run("aml-7")]),
    }
    run = smoke_with_mlflow(raw, clients)

    assert run.step_mlflow_run().endswith(
        f"found in databricks and in AzureML ({aml_uri}, run aml-7)"
    )


def test_dual_tracking_fails_the_run_step_when_azureml_lacks_the_run() -> None:
    raw = parsed_outputs(**UC)
    aml_uri = raw["mlflowTrackingUri"]
    clients = {"databricks": RecordingMlflow([mlflow_run("r1")]), aml_uri: RecordingMlflow()}
    run = smoke_with_mlflow(raw, clients)

    with pytest.raises(
        smoke.StepError,
        match="run r1 is in the Databricks workspace but not in the linked AzureML workspace",
    ):
        run.step_mlflow_run()


def test_exclusive_tracking_reads_the_run_from_azureml_alone() -> None:
    raw = parsed_outputs()
    aml_uri = raw["mlflowTrackingUri"]
    run = smoke_with_mlflow(raw, {aml_uri: RecordingMlflow([mlflow_run("r1")])})

    assert run.step_mlflow_run() == (
        f"run r1 in track-with-azureml: epochs=20; accuracy=0.900; found in {aml_uri}"
    )


# --- the list of steps (tools/smoke/steps.py) -------------------------------------------------


def test_each_step_needs_only_steps_listed_before_it_in_the_order_smoke_prints_them() -> None:
    names = [step.name for step in smoke.STEPS]

    assert names == [
        "stack outputs", "azureml workspace", "databricks link", "private endpoints",
        "databricks api", "cluster", "notebook upload", "notebook run", "mlflow run",
        "model version", "online endpoint", "batch endpoint", "cleanup",
    ]  # fmt: skip
    for index, step in enumerate(smoke.STEPS):
        assert set(step.needs) <= set(names[:index]), step.name
    assert dict((s.name, s.needs) for s in smoke.STEPS)["model version"] == ("mlflow run",)


def test_a_step_whose_prerequisite_failed_is_skipped_and_names_it() -> None:
    out = io.StringIO()
    run = smoke.Smoke(
        stack="dev", services=smoke.Services(stack_output=lambda _stack: "not json"), out=out
    )

    assert run.run() == 1
    assert "FAIL    stack outputs: `pulumi stack output --json` printed no JSON" in out.getvalue()
    assert "skipped cluster: needs 'databricks api', which did not pass" in out.getvalue()
    assert "smoke FAILED: 0 passed, 1 failed, 12 skipped (dev)" in out.getvalue()
