"""Steps 5-8 and 13: the Databricks workspace from here, the stack's cluster, the example
notebook uploaded and run as a one-time job, and the uploaded folder removed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import mlflow_setup
from core.serverless import serverless_blocked
from mlflow_setup.outputs import outputs_from_cluster_env
from tools.smoke.base import (
    CONNECT_TIMEOUT,
    NOTEBOOK,
    PACKAGE,
    PROGRESS_EVERY,
    StepError,
    b64,
    state_of,
)
from tools.smoke.state import SmokeState
from tools.smoke.submit import SERVERLESS, environments, task_fields


class WorkspaceSteps(SmokeState):
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
        state = state_of(cluster.state)
        if self.compute == SERVERLESS:
            state = state.lower()
            return f"{cluster_id} {state}, MLflow settings match the stack (run on serverless)"
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
        # a folder of its own per run, unless one is set (tools/smoke/job.py: the job's)
        self.folder = (
            self.folder or f"/Users/{self.user}/databricks-azureml-smoke/{self.stack}-{stamp}"
        )
        from databricks.sdk.service.workspace import ImportFormat, Language

        workspace = self.client.workspace
        workspace.mkdirs(f"{self.folder}/{PACKAGE}")
        project = self.services.project_dir
        for module in sorted((project / PACKAGE).glob("*.py")):
            # AUTO: a .py without the notebook header becomes a workspace file, importable
            # from the notebook's folder (Workspace API, "Import a workspace object").
            workspace.import_(
                f"{self.folder}/{PACKAGE}/{module.name}",
                content=b64(module.read_bytes()),
                format=ImportFormat.AUTO,
                overwrite=True,
            )
        self.notebook_path = f"{self.folder}/{NOTEBOOK.stem}"
        workspace.import_(
            self.notebook_path,
            content=b64((project / NOTEBOOK).read_bytes()),
            format=ImportFormat.SOURCE,
            language=Language.PYTHON,
            overwrite=True,
        )
        return f"{self.notebook_path} (with {PACKAGE}/ beside it)"

    def step_run(self) -> str:
        from databricks.sdk.service import jobs

        out = self._out()
        self.submitted_ms = int(self.services.wall_clock() * 1000)
        fields = task_fields(str(self.notebook_path), self.compute, out.cluster_id)
        waiter = self.client.jobs.submit(
            run_name=f"databricks-azureml smoke ({self.stack}, {self.compute})",
            tasks=[jobs.SubmitTask(**fields)],
            environments=environments(self.compute),
            timeout_seconds=int(self.timeout),
        )
        self.job_run_id = int(waiter.run_id)
        run = self.client.jobs.get_run(self.job_run_id)
        self._print(f"        run {self.job_run_id}: {run.run_page_url}")
        run = self._wait_run(self.job_run_id)
        state = run.state
        result = state_of(state.result_state) if state else "UNKNOWN"
        if result != "SUCCESS":
            message = self._task_error(run) or (state.state_message if state else "")
            why = f"run {self.job_run_id} {result}: {message or 'no message'} ({run.run_page_url})"
            if self.compute == SERVERLESS and out.private_link:
                # what make preview warned of, unless databricksAccount gave serverless its NCC
                blocked = serverless_blocked(out.location or "")
                why += f"; if the stack has no databricksAccount: {blocked}"
            raise StepError(why)
        return f"run {self.job_run_id} succeeded: {run.run_page_url}"

    def step_cleanup(self) -> str:
        if self.keep:
            return f"kept {self.folder} (--keep)"
        self.client.workspace.delete(self.folder, recursive=True)
        return f"deleted {self.folder}"

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
            state = state_of(cluster.state)
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
            life = state_of(run.state.life_cycle_state) if run.state else "UNKNOWN"
            if life in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
                return run
            if life != shown or due:
                self._print(f"        run {run_id} {life.lower()} ({elapsed:.0f} s)")
                shown = life
        raise AssertionError("unreachable")
