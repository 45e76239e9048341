"""Steps 11-12: the registered model scored through the stack's online and batch endpoints."""

from __future__ import annotations

from typing import Any

from tools.smoke.base import NotApplicableError, StepError
from tools.smoke.state import SmokeState


class ServingSteps(SmokeState):
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
        # This stack's outputs: without them batch_score would read the selected stack's.
        job = self.services.batch_score(self.batch_input, stack=self._out())
        result = job.wait()
        return f"{name} scored {self.batch_input}: {result}"

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
