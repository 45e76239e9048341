"""Steps 9-10: the run the notebook made, read back through MLflow (dual: from both
trackers), and the model version it registered, by the name the notebook registered."""

from __future__ import annotations

import re
from typing import Any

import mlflow_setup
from mlflow_setup import MlflowUris, TrackingMode
from mlflow_setup.models import SOURCE_RUN_TAG
from tools.smoke.base import CLOCK_SKEW_MS, NOTEBOOK, StepError
from tools.smoke.state import SmokeState


class TrackingSteps(SmokeState):
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
        where = self._uris().tracking_uri
        if out.tracking_mode is TrackingMode.DUAL:
            where = f"{where} and in AzureML ({self._read_back_from_azureml(run, name)})"
        return f"run {run.info.run_id} in {name}: {params}; {metrics}; found in {where}"

    def _read_back_from_azureml(self, run: Any, experiment: str) -> str:
        """Dual tracking: the linked AzureML workspace holds the run too (seed, "Track in both
        Azure Databricks workspace and Azure Machine Learning workspace"). Read by its id,
        else by its experiment name and its parameters and metrics."""
        out = self._out()
        aml_uri = str(out.mlflow_tracking_uri or "")
        if not aml_uri:
            raise StepError("dual tracking, but the stack output 'mlflowTrackingUri' is empty")
        from mlflow.exceptions import MlflowException

        client = self.services.mlflow_client(out, MlflowUris(aml_uri, aml_uri))
        try:
            found = client.get_run(run.info.run_id)
        except MlflowException:  # RESOURCE_DOES_NOT_EXIST: mirrored under another id
            found = None
        if found is not None:
            return f"{aml_uri}, run {found.info.run_id}"
        twin = client.get_experiment_by_name(experiment)
        since = self.submitted_ms - CLOCK_SKEW_MS
        for candidate in client.search_runs([twin.experiment_id]) if twin else []:
            same = (candidate.data.params, candidate.data.metrics) == (
                run.data.params,
                run.data.metrics,
            )
            if same and (candidate.info.start_time or 0) >= since:
                return f"{aml_uri}, run {candidate.info.run_id}"
        raise StepError(
            f"run {run.info.run_id} is in the Databricks workspace but not in the linked AzureML "
            f"workspace ({aml_uri}): dual tracking did not reach AzureML"
        )

    def step_model_version(self) -> str:
        client = self._mlflow()
        run_id = self.mlflow_run.info.run_id
        # The name the notebook registered under (three-level under Unity Catalog).
        self.model_name = mlflow_setup.registered_model_name(
            self._out(), self._notebook_constant("MODEL_NAME")
        )
        versions = [
            v
            for v in client.search_model_versions(f"name = '{self.model_name}'")
            if from_run(v, run_id)
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

    def _notebook_constant(self, name: str) -> str:
        """A module-level string constant of the notebook (EXPERIMENT, MODEL_NAME)."""
        text = (self.services.project_dir / NOTEBOOK).read_text(encoding="utf-8")
        match = re.search(rf'^{name}\s*=\s*"([^"]+)"', text, re.MULTILINE)
        if match is None:
            raise StepError(f'{NOTEBOOK} defines no {name} = "..."')
        return match.group(1)


def from_run(version: Any, run_id: str) -> bool:
    """Whether a registered version came from the run: its `run_id`, or for a version
    registered from its files (dual tracking, AzureML registry: mlflow_setup.models) the run
    named in its tags. Unity Catalog's search results have no tags (`tags` is a method that
    raises: mlflow.entities.model_registry.ModelVersionSearch), and always a run id."""
    if version.run_id:
        return version.run_id == run_id
    tags = getattr(version, "tags", None)
    return isinstance(tags, dict) and tags.get(SOURCE_RUN_TAG) == run_id
