"""`make smoke STACK=<stack>`: prove a deployed stack end to end, with the caller's own login.

    python -m tools.smoke --stack dev [--keep] [--timeout 2400] [--batch-input URI]

Steps, one line each (pass, fail with the reason, or skipped with why), then a summary:
 1. stack outputs      `pulumi stack output --json`, checked by mlflow_setup
 2. azureml workspace  ARM: the AzureML workspace is provisioned
 3. databricks link    ARM: the Databricks workspace is provisioned, and linked to AzureML
                       (its `amlWorkspaceId` parameter) exactly when trackingMode is dual
 4. private endpoints  ARM: every private endpoint in the resource group is approved (only
                       under privateLink or databricksPrivateLink)
 5. databricks api     the workspace answers from here, and the caller signs in to it
 6. cluster            the stack's cluster carries the stack's MLflow URIs; started if terminated
 7. notebook upload    the example notebook and mlflow_setup, into a folder of the caller's
 8. notebook run       a one-time run (Jobs runs/submit) on the stack's cluster, waited for
 9. mlflow run         the run the notebook made, its parameter and metric, read through MLflow
10. model version      the version the notebook registered, in the stack's registry
11. online endpoint    test rows scored through mlflow_setup.score (with `endpoint`)
12. batch endpoint     mlflow_setup.batch_score(input).wait() (with `batchEndpoint`)
13. cleanup            the uploaded folder deleted (kept with --keep)

A step whose prerequisite did not pass is skipped. Exit 0 only when no step failed; 1 when one
did; 2 when the command line is wrong. Sign-in: the Azure CLI, or the ARM_* / AZURE_* variables
(DefaultAzureCredential, databricks-sdk's default chain); never the cluster's service principal.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

import mlflow_setup
from core.errors import NAMESPACE
from core.stack_file import read_stack_config
from mlflow_setup import MlflowUris, StackOutputs, TrackingMode
from mlflow_setup.outputs import outputs_from_cluster_env

PROJECT_DIR = Path(__file__).resolve().parent.parent
NOTEBOOK = Path("notebooks") / "track_with_azureml.py"
PACKAGE = Path("mlflow_setup")
DEFAULT_TIMEOUT = 40 * 60.0  # a cold cluster start plus the notebook's %pip install and run
PROGRESS_EVERY = 15.0  # seconds between progress lines while waiting
CONNECT_TIMEOUT = 10.0
CLOCK_SKEW_MS = 120_000  # a run that started this long before the submit is still ours
PASS, FAIL, SKIP = "pass", "fail", "skipped"

# ARM api-versions of the reads (the ones teardown/ uses for the same resources).
AML_API_VERSION = "2024-04-01"
DATABRICKS_API_VERSION = "2024-05-01"
# Private Endpoints - Get, Microsoft.Network stable (azure-rest-api-specs network 2024-05-01).
NETWORK_API_VERSION = "2024-05-01"
PRIVATE_ENDPOINTS = "Microsoft.Network/privateEndpoints"


# What smoke needs before it starts, each with the first step that needs it: that step's FAIL
# line repeats it. Listed by --help and docs/verify.md.
PREREQUISITES: tuple[tuple[str, str], ...] = (
    (
        "stack outputs",
        "the Pulumi CLI on PATH, logged in to the stack's backend (`pulumi login <backend>`)",
    ),
    (
        "azureml workspace",
        "`az login` (or the ARM_* / AZURE_* variables) as an identity with Reader on the "
        "stack's resource group",
    ),
    (
        "databricks api",
        "network reach to the Databricks workspace: under databricksPrivateLink full only from "
        "the stack's VNet or a network peered or VPN-connected to it, with its private DNS zone",
    ),
    (
        "cluster",
        "a user of the Databricks workspace who may attach to the stack's cluster: a workspace "
        "admin (Contributor on the workspace makes one), the deployer, or one of cluster.users",
    ),
    (
        "mlflow run",
        "the right to read the AzureML workspace's runs and models: Reader or AzureML Data "
        "Scientist on it",
    ),
)


class StepError(Exception):
    """The step ran and found the deployment wrong; the message is the reason."""


class NotApplicableError(Exception):
    """The step does not apply to this stack; the message says why."""


class ArmReader(Protocol):
    """The two ARM reads smoke makes (tools.smoke.arm_reader wraps teardown.arm.Arm)."""

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None: ...

    def list_group(self, resource_group: str, resource_type: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str

    def line(self) -> str:
        word = {PASS: "pass", FAIL: "FAIL", SKIP: "skipped"}[self.status]
        return f"{word:<7} {self.name}: {self.detail}"


@dataclass
class Services:
    """What smoke talks to; tests replace any of these."""

    stack_output: Callable[[str], str | None] = field(
        default=lambda stack: mlflow_setup.pulumi_stack_output(stack)
    )
    stack_config: Callable[[str], Mapping[str, str]] = field(
        default=lambda stack: _stack_config(stack, PROJECT_DIR)
    )
    arm: Callable[[str, Mapping[str, str]], ArmReader] = field(
        default=lambda subscription, config: arm_reader(subscription, config)
    )
    workspace: Callable[[StackOutputs], Any] = field(
        default=lambda outputs: workspace_client(outputs)
    )
    mlflow_client: Callable[[StackOutputs, MlflowUris], Any] = field(
        default=lambda outputs, uris: mlflow_client(outputs, uris)
    )
    score: Callable[..., list[Any]] = mlflow_setup.score
    # mlflow_setup.batch_score(input_uri) -> a job with .wait(); None: this helper has none.
    batch_score: Callable[..., Any] | None = field(
        default_factory=lambda: getattr(mlflow_setup, "batch_score", None)
    )
    connect: Callable[[str, int, float], None] = field(
        default=lambda host, port, timeout: socket.create_connection(
            (host, port), timeout=timeout
        ).close()
    )
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    project_dir: Path = PROJECT_DIR


@dataclass
class Smoke:
    """One smoke run: the state the steps share."""

    stack: str
    services: Services
    out: TextIO
    keep: bool = False
    timeout: float = DEFAULT_TIMEOUT
    batch_input: str | None = None
    poll_seconds: float = 10.0
    raw: dict[str, Any] = field(default_factory=dict)
    outputs: StackOutputs | None = None
    config: Mapping[str, str] = field(default_factory=dict)
    client: Any = None  # databricks-sdk WorkspaceClient
    user: str | None = None
    folder: str | None = None  # the uploaded folder in the workspace
    notebook_path: str | None = None
    submitted_ms: int = 0
    job_run_id: int | None = None
    mlflow_run: Any = None
    model_name: str | None = None
    model_version: Any = None
    results: list[StepResult] = field(default_factory=list)
    _arm_reader: ArmReader | None = None
    _mlflow_client: Any = None

    # --- the steps -------------------------------------------------------------------------

    def step_outputs(self) -> str:
        text = self.services.stack_output(self.stack)
        if text is None:
            raise StepError("the Pulumi CLI is not on PATH: install it and sign in to the backend")
        try:
            self.raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise StepError(f"`pulumi stack output --json` printed no JSON ({error.msg})") from None
        self.outputs = mlflow_setup.parse_outputs(self.raw, f"stack {self.stack}'s outputs")
        try:
            self.config = self.services.stack_config(self.stack)
        except FileNotFoundError:
            self.config = {}
        out = self.outputs
        return (
            f"trackingMode {out.tracking_mode.value}, modelRegistry {out.model_registry.value}, "
            f"privateLink {str(out.private_link).lower()}, "
            f"databricksPrivateLink {self._databricks_private_link()}"
        )

    def step_aml_workspace(self) -> str:
        out = self._out()
        workspace = self._arm().get(str(out.aml_workspace_id), AML_API_VERSION)
        state = _provisioned(workspace, f"AzureML workspace {out.aml_workspace_name}")
        uri = (workspace or {}).get("properties", {}).get("mlFlowTrackingUri")
        if out.tracking_mode is TrackingMode.EXCLUSIVE and uri and uri != out.mlflow_tracking_uri:
            raise StepError(
                f"the workspace's mlFlowTrackingUri is {uri}, the stack output says "
                f"{out.mlflow_tracking_uri}: run `pulumi refresh` and `pulumi up`"
            )
        return f"{out.aml_workspace_name} {state}"

    def step_databricks_link(self) -> str:
        out = self._out()
        workspace = self._arm().get(str(out.databricks_workspace_id), DATABRICKS_API_VERSION)
        name = str(out.databricks_workspace_id).rsplit("/", 1)[-1]
        state = _provisioned(workspace, f"Databricks workspace {name}")
        parameters = (workspace or {}).get("properties", {}).get("parameters") or {}
        linked = (parameters.get("amlWorkspaceId") or {}).get("value")
        if out.tracking_mode is TrackingMode.DUAL:
            if not linked or str(linked).lower() != str(out.aml_workspace_id).lower():
                raise StepError(
                    f"dual tracking needs {name} linked to {out.aml_workspace_name}: its "
                    f"amlWorkspaceId parameter is {linked!r}"
                )
            return f"{name} {state}, linked to {out.aml_workspace_name}"
        if linked:
            raise StepError(
                f"exclusive tracking, yet {name} is linked to {linked} (amlWorkspaceId parameter)"
            )
        return f"{name} {state}, not linked (exclusive tracking)"

    def step_private_endpoints(self) -> str:
        out = self._out()
        dbx = self._databricks_private_link()
        if not out.private_link and dbx == "none":
            raise NotApplicableError(
                "no private link (privateLink false, databricksPrivateLink none)"
            )
        endpoints = self._arm().list_group(str(out.resource_group_name), PRIVATE_ENDPOINTS)
        if not endpoints:
            raise StepError(f"no private endpoint in resource group {out.resource_group_name}")
        problems, names = [], []
        for endpoint in endpoints:
            full = self._arm().get(endpoint["id"], NETWORK_API_VERSION) or endpoint
            names.append(full.get("name", endpoint["id"].rsplit("/", 1)[-1]))
            for state in _connection_states(full):
                if state.get("status") != "Approved":
                    problems.append(
                        f"{names[-1]} is {state.get('status')!r} "
                        f"({state.get('description') or 'no description'})"
                    )
            if not _connection_states(full):
                problems.append(f"{names[-1]} has no private link service connection")
        if problems:
            raise StepError("not approved: " + "; ".join(problems))
        return f"{len(names)} approved: {', '.join(sorted(names))}"

    def step_databricks_api(self) -> str:
        out = self._out()
        host = urlsplit(str(out.databricks_workspace_url)).hostname or ""
        try:
            self.services.connect(host, 443, CONNECT_TIMEOUT)
        except OSError as error:
            reason = f"cannot reach {host}:443 from here ({error})"
            if self._databricks_private_link() == "full":
                reason += (
                    "; with databricksPrivateLink full the workspace answers only through its "
                    "private endpoint: run smoke from the stack's VNet or a network peered or "
                    "VPN-connected to it, with its private DNS zone"
                )
            raise StepError(reason) from None
        self.client = self.services.workspace(out)
        me = self.client.current_user.me()
        self.user = me.user_name
        return f"{out.databricks_workspace_url} answers; signed in as {self.user}"

    def step_cluster(self) -> str:
        out = self._out()
        cluster_id = str(out.cluster_id)
        cluster = self.client.clusters.get(cluster_id)
        env = dict(cluster.spark_env_vars or {})
        expected = mlflow_setup.mlflow_uris(out)
        try:
            from_env = outputs_from_cluster_env(env)
        except mlflow_setup.MlflowSetupError as error:
            raise StepError(f"cluster {cluster_id}: {error}") from None
        if from_env.stack != self.stack:
            raise StepError(
                f"cluster {cluster_id} is marked as stack {from_env.stack!r}'s, not "
                f"{self.stack!r}'s: the stack output 'clusterId' names another stack's cluster"
            )
        found = mlflow_setup.mlflow_uris(from_env)
        if found != expected:
            raise StepError(
                f"cluster {cluster_id} tracks to {found.tracking_uri} (registry "
                f"{found.registry_uri}), the stack to {expected.tracking_uri} (registry "
                f"{expected.registry_uri}): its spark_env_vars are not the stack's; "
                "run `pulumi up`"
            )
        state = _state(cluster.state)
        if state == "RUNNING":
            return f"{cluster_id} running, MLflow settings match the stack"
        if state in ("TERMINATED", "TERMINATING"):
            self._print(f"        cluster {cluster_id} is {state.lower()}: starting it")
            if state == "TERMINATED":
                self.client.clusters.start(cluster_id)
        state = self._wait_cluster(cluster_id)
        return f"{cluster_id} {state.lower()}, MLflow settings match the stack"

    def step_upload(self) -> str:
        stamp = datetime.fromtimestamp(self.services.wall_clock(), UTC).strftime("%Y%m%d-%H%M%S")
        self.folder = f"/Users/{self.user}/databricks-azureml-smoke/{self.stack}-{stamp}"
        from databricks.sdk.service.workspace import ImportFormat, Language

        workspace = self.client.workspace
        workspace.mkdirs(f"{self.folder}/{PACKAGE}")
        project = self.services.project_dir
        for module in sorted((project / PACKAGE).glob("*.py")):
            # AUTO: a .py without the notebook header becomes a workspace file, importable
            # from the notebook's folder (Workspace API, "Import a workspace object").
            workspace.import_(
                f"{self.folder}/{PACKAGE}/{module.name}",
                content=_b64(module.read_bytes()),
                format=ImportFormat.AUTO,
                overwrite=True,
            )
        self.notebook_path = f"{self.folder}/{NOTEBOOK.stem}"
        workspace.import_(
            self.notebook_path,
            content=_b64((project / NOTEBOOK).read_bytes()),
            format=ImportFormat.SOURCE,
            language=Language.PYTHON,
            overwrite=True,
        )
        return f"{self.notebook_path} (with {PACKAGE}/ beside it)"

    def step_run(self) -> str:
        from databricks.sdk.service import jobs

        out = self._out()
        self.submitted_ms = int(self.services.wall_clock() * 1000)
        waiter = self.client.jobs.submit(
            run_name=f"databricks-azureml smoke ({self.stack})",
            tasks=[
                jobs.SubmitTask(
                    task_key="track_with_azureml",
                    existing_cluster_id=str(out.cluster_id),
                    notebook_task=jobs.NotebookTask(
                        notebook_path=str(self.notebook_path), source=jobs.Source.WORKSPACE
                    ),
                )
            ],
            timeout_seconds=int(self.timeout),
        )
        self.job_run_id = int(waiter.run_id)
        run = self.client.jobs.get_run(self.job_run_id)
        self._print(f"        run {self.job_run_id}: {run.run_page_url}")
        run = self._wait_run(self.job_run_id)
        state = run.state
        result = _state(state.result_state) if state else "UNKNOWN"
        if result != "SUCCESS":
            message = self._task_error(run) or (state.state_message if state else "")
            raise StepError(
                f"run {self.job_run_id} {result}: {message or 'no message'} ({run.run_page_url})"
            )
        return f"run {self.job_run_id} succeeded: {run.run_page_url}"

    def step_mlflow_run(self) -> str:
        out = self._out()
        client = self._mlflow()
        experiment_name = self._notebook_constant("EXPERIMENT")
        name = mlflow_setup.experiment_name(out, experiment_name, user=self.user)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise StepError(f"no experiment {name!r} at {self._uris().tracking_uri}")
        # The newest runs, filtered here: the cluster's clock may be a little off ours.
        newest = client.search_runs(
            [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=5
        )
        since = self.submitted_ms - CLOCK_SKEW_MS
        runs = [run for run in newest if (run.info.start_time or 0) >= since]
        if not runs:
            raise StepError(
                f"no run in experiment {name!r} since the notebook was submitted "
                f"({self._uris().tracking_uri})"
            )
        run = runs[0]
        if not run.data.params or not run.data.metrics:
            raise StepError(
                f"run {run.info.run_id} has params {run.data.params} and metrics "
                f"{run.data.metrics}: expected a parameter and a metric"
            )
        self.mlflow_run = run
        params = ", ".join(f"{k}={v}" for k, v in sorted(run.data.params.items()))
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in sorted(run.data.metrics.items()))
        return f"run {run.info.run_id} in {name}: {params}; {metrics}"

    def step_model_version(self) -> str:
        client = self._mlflow()
        run_id = self.mlflow_run.info.run_id
        self.model_name = self._notebook_constant("MODEL_NAME")
        versions = [
            v
            for v in client.search_model_versions(f"name = '{self.model_name}'")
            if v.run_id == run_id
        ]
        if not versions:
            raise StepError(
                f"no version of {self.model_name} from run {run_id} in the registry "
                f"{self._uris().registry_uri}"
            )
        self.model_version = versions[0]
        status = str(getattr(self.model_version, "status", "READY") or "READY")
        if status != "READY":
            raise StepError(f"{self.model_name} version {self.model_version.version} is {status}")
        return (
            f"{self.model_name} version {self.model_version.version} from run {run_id} "
            f"in {self._uris().registry_uri}"
        )

    def step_online_endpoint(self) -> str:
        out = self._out()
        if not out.endpoint_scoring_uri:
            raise NotApplicableError("the stack has no online endpoint (config `endpoint`)")
        rows = self._test_rows()
        predictions = self.services.score(rows, out.endpoint_scoring_uri)
        return f"{out.endpoint_name} scored {len(rows)} rows: {predictions}"

    def step_batch_endpoint(self) -> str:
        name = self.raw.get("batchEndpointName")
        if not name:
            raise NotApplicableError("the stack has no batch endpoint (config `batchEndpoint`)")
        if self.services.batch_score is None:
            raise NotApplicableError("this version of mlflow_setup has no batch_score")
        if not self.batch_input:
            raise NotApplicableError(
                f"{name}: pass --batch-input <URI of a CSV file or folder with the model's "
                "columns, e.g. azureml://datastores/workspaceblobstore/paths/smoke/>"
            )
        job = self.services.batch_score(self.batch_input)
        result = job.wait()
        return f"{name} scored {self.batch_input}: {result}"

    def step_cleanup(self) -> str:
        if self.keep:
            return f"kept {self.folder} (--keep)"
        self.client.workspace.delete(self.folder, recursive=True)
        return f"deleted {self.folder}"

    # --- running ---------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], str], tuple[str, ...]]]:
        """(name, step, the steps it needs to have passed), in order."""
        return [
            ("stack outputs", self.step_outputs, ()),
            ("azureml workspace", self.step_aml_workspace, ("stack outputs",)),
            ("databricks link", self.step_databricks_link, ("stack outputs",)),
            ("private endpoints", self.step_private_endpoints, ("stack outputs",)),
            ("databricks api", self.step_databricks_api, ("stack outputs",)),
            ("cluster", self.step_cluster, ("databricks api",)),
            ("notebook upload", self.step_upload, ("cluster",)),
            ("notebook run", self.step_run, ("notebook upload",)),
            ("mlflow run", self.step_mlflow_run, ("notebook run",)),
            ("model version", self.step_model_version, ("mlflow run",)),
            ("online endpoint", self.step_online_endpoint, ("model version",)),
            ("batch endpoint", self.step_batch_endpoint, ("stack outputs",)),
            ("cleanup", self.step_cleanup, ("notebook upload",)),
        ]

    def run(self) -> int:
        passed: set[str] = set()
        for name, step, needs in self.steps():
            missing = [need for need in needs if need not in passed]
            if missing:
                result = StepResult(name, SKIP, f"needs '{missing[0]}', which did not pass")
            else:
                result = _run_step(name, step)
            if result.status == PASS:
                passed.add(name)
            if result.status == FAIL and name in dict(PREREQUISITES):
                result = StepResult(
                    name, FAIL, f"{result.detail}; this step needs {dict(PREREQUISITES)[name]}"
                )
            self.results.append(result)
            self._print(result.line())
        self._print(self.summary())
        return 1 if any(r.status == FAIL for r in self.results) else 0

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in (PASS, FAIL, SKIP)}
        verdict = "FAILED" if counts[FAIL] else "passed"
        lines = [
            f"smoke {verdict}: {counts[PASS]} passed, {counts[FAIL]} failed, "
            f"{counts[SKIP]} skipped ({self.stack})"
        ]
        left = self.left_behind()
        if left:
            lines.append("left behind: " + "; ".join(left))
        return "\n".join(lines)

    def left_behind(self) -> list[str]:
        left = []
        if self.mlflow_run is not None:
            left.append(f"MLflow run {self.mlflow_run.info.run_id}")
        if self.model_version is not None:
            left.append(
                f"model version {self.model_name} {self.model_version.version} (remove it with "
                f"MlflowClient().delete_model_version({self.model_name!r}, "
                f"{str(self.model_version.version)!r}))"
            )
        if self.job_run_id is not None:
            left.append(f"job run {self.job_run_id}")
        if self.folder and self.keep:
            left.append(f"workspace folder {self.folder}")
        return left

    # --- helpers ---------------------------------------------------------------------------

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def _out(self) -> StackOutputs:
        assert self.outputs is not None  # the first step set it, or no other step runs
        return self.outputs

    def _databricks_private_link(self) -> str:
        return str(self.config.get(f"{NAMESPACE}:databricksPrivateLink") or "none")

    def _arm(self) -> ArmReader:
        if self._arm_reader is None:
            subscription = str(self._out().aml_workspace_id).split("/")[2]
            self._arm_reader = self.services.arm(subscription, self.config)
        return self._arm_reader

    def _uris(self) -> MlflowUris:
        return mlflow_setup.mlflow_uris(self._out())

    def _mlflow(self) -> Any:
        if self._mlflow_client is None:
            self._mlflow_client = self.services.mlflow_client(self._out(), self._uris())
        return self._mlflow_client

    def _notebook_constant(self, name: str) -> str:
        """A module-level string constant of the notebook (EXPERIMENT, MODEL_NAME)."""
        text = (self.services.project_dir / NOTEBOOK).read_text(encoding="utf-8")
        match = re.search(rf'^{name}\s*=\s*"([^"]+)"', text, re.MULTILINE)
        if match is None:
            raise StepError(f'{NOTEBOOK} defines no {name} = "..."')
        return match.group(1)

    def _test_rows(self) -> Any:
        """A few rows with the registered model's input columns."""
        import numpy as np
        import pandas as pd
        from mlflow.models import get_model_info

        info = get_model_info(f"models:/{self.model_name}/{self.model_version.version}")
        columns = info.signature.inputs.input_names() if info.signature else []
        if not columns:
            raise StepError(f"{self.model_name} has no input signature to build test rows from")
        data = np.random.default_rng(7).normal(size=(3, len(columns)))
        return pd.DataFrame(data, columns=columns)

    def _task_error(self, run: Any) -> str:
        """The notebook's error: a failed run says only "Workload failed, see run output for
        details"; the task run's output (Jobs runs/get-output) carries the exception."""
        for task in run.tasks or []:
            try:
                output = self.client.jobs.get_run_output(task.run_id)
            except Exception:  # the output may be gone or not yet written: keep the state's
                continue
            if output.error:
                return str(output.error)
        return ""

    def _waiting(self, what: str) -> Iterator[tuple[float, bool]]:
        """(elapsed seconds, whether a progress line is due), once per poll, until the
        timeout."""
        started = last = self.services.clock()
        while True:
            now = self.services.clock()
            if now - started > self.timeout:
                raise StepError(f"{what}: not done after {self.timeout:.0f} s (--timeout)")
            due = now - last >= PROGRESS_EVERY
            if due:
                last = now
            yield now - started, due
            self.services.sleep(self.poll_seconds)

    def _wait_cluster(self, cluster_id: str) -> str:
        shown = None
        for elapsed, due in self._waiting(f"cluster {cluster_id}"):
            cluster = self.client.clusters.get(cluster_id)
            state = _state(cluster.state)
            if state == "RUNNING":
                return state
            if state in ("TERMINATED", "ERROR", "UNKNOWN"):
                message = cluster.state_message or "no message"
                raise StepError(f"cluster {cluster_id} {state.lower()}: {message}")
            if state != shown or due:
                self._print(f"        cluster {cluster_id} {state.lower()} ({elapsed:.0f} s)")
                shown = state
        raise AssertionError("unreachable")

    def _wait_run(self, run_id: int) -> Any:
        shown = None
        for elapsed, due in self._waiting(f"run {run_id}"):
            run = self.client.jobs.get_run(run_id)
            life = _state(run.state.life_cycle_state) if run.state else "UNKNOWN"
            if life in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
                return run
            if life != shown or due:
                self._print(f"        run {run_id} {life.lower()} ({elapsed:.0f} s)")
                shown = life
        raise AssertionError("unreachable")


def _run_step(name: str, step: Callable[[], str]) -> StepResult:
    try:
        return StepResult(name, PASS, step())
    except NotApplicableError as skipped:
        return StepResult(name, SKIP, str(skipped))
    except StepError as failed:
        return StepResult(name, FAIL, str(failed))
    except Exception as error:  # an SDK's error: the step failed, and says how
        text = " ".join(str(error).split()) or type(error).__name__
        return StepResult(name, FAIL, f"{type(error).__name__}: {text[:400]}")


def _provisioned(resource: dict[str, Any] | None, what: str) -> str:
    if resource is None:
        raise StepError(f"{what} does not exist")
    state = (resource.get("properties") or {}).get("provisioningState")
    if state != "Succeeded":
        raise StepError(f"{what} is {state!r}, not Succeeded")
    return "provisioned"


def _connection_states(endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    props = endpoint.get("properties") or {}
    connections = (props.get("privateLinkServiceConnections") or []) + (
        props.get("manualPrivateLinkServiceConnections") or []
    )
    return [
        (c.get("properties") or {}).get("privateLinkServiceConnectionState") or {}
        for c in connections
    ]


def _state(value: Any) -> str:
    """An SDK enum's value (State.RUNNING -> "RUNNING"), or the string itself."""
    return str(getattr(value, "value", value) or "UNKNOWN")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _stack_config(stack: str, project_dir: Path) -> Mapping[str, str]:
    config, _secrets = read_stack_config(stack, project_dir)
    return config


# --- the real services ----------------------------------------------------------------------


class _ArmReader:
    def __init__(self, arm: Any) -> None:
        self._arm = arm

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        from teardown import arm

        return arm.get_by_id(
            self._arm, resource_id, api_version, what=f"reading {resource_id}", permission="read"
        )

    def list_group(self, resource_group: str, resource_type: str) -> list[dict[str, Any]]:
        found = self._arm.resources.resources.list_by_resource_group(
            resource_group, filter=f"resourceType eq '{resource_type}'"
        )
        # The type again here: the filter is a hint some ARM endpoints ignore.
        return [item.as_dict() for item in found if str(item.type).lower() == resource_type.lower()]


def arm_reader(subscription: str, config: Mapping[str, str]) -> ArmReader:
    """ARM with the caller's login, in the stack's cloud (azure-native:environment /
    metadataHost), as teardown-check reaches it."""
    from teardown.arm import Arm
    from teardown.cloud import CloudConfig, resolve

    return _ArmReader(Arm(subscription, cloud=resolve(CloudConfig.from_stack_config(config))))


def workspace_client(outputs: StackOutputs) -> Any:
    """databricks-sdk's client for the stack's workspace, signed in with databricks-sdk's
    default chain (Azure CLI, ARM_* / AZURE_* service principal, ...): the caller's login."""
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient(
        host=outputs.databricks_workspace_url,
        azure_workspace_resource_id=outputs.databricks_workspace_id,
    )


def mlflow_client(outputs: StackOutputs, uris: MlflowUris) -> Any:
    """An MLflow client on the stack's tracking and registry URIs, also set process-wide for
    the model-URI reads. `databricks` URIs reach the stack's workspace with the caller's login
    (MLflow reads DATABRICKS_HOST through databricks-sdk's default chain)."""
    import mlflow

    if "databricks" in (uris.tracking_uri.split(":")[0], uris.registry_uri.split(":")[0]):
        os.environ.setdefault("DATABRICKS_HOST", str(outputs.databricks_workspace_url))
        if outputs.databricks_workspace_id:
            os.environ.setdefault("DATABRICKS_AZURE_RESOURCE_ID", outputs.databricks_workspace_id)
    mlflow_setup.configure_mlflow(outputs)
    return mlflow.MlflowClient(tracking_uri=uris.tracking_uri, registry_uri=uris.registry_uri)


def main(
    argv: Sequence[str] | None = None,
    *,
    services: Services | None = None,
    stdout: TextIO | None = None,
) -> int:
    args = _parser().parse_args(argv)
    smoke = Smoke(
        stack=args.stack,
        services=services or Services(),
        out=stdout or sys.stdout,
        keep=args.keep,
        timeout=args.timeout,
        batch_input=args.batch_input,
    )
    return smoke.run()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.smoke",
        description="Prove a deployed stack end to end. Exit 0 when no step failed.\n\n"
        "prerequisites, before the steps:\n"
        + "\n".join(f"  - {line} (first needed by '{step}')" for step, line in PREREQUISITES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="the deployed stack, e.g. dev")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the uploaded notebook folder (the run and model version are always kept)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for the cluster and for the run (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--batch-input",
        help="with a batch endpoint: the URI of the input to score (a CSV file or folder)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
