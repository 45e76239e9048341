"""Batch scoring through the stack's AzureML batch endpoint: start a job, wait for its output.

What Learn documents ("Invoke batch endpoints with REST"; "Access data from batch endpoint
jobs"): POST to the endpoint's invocation URI (`https://<name>.<region>.inference.ml.azure.com
/jobs`) with a Microsoft Entra token for `https://ml.azure.com` (batch endpoints take no keys) and
the input as `{"properties": {"InputData": {<name>: {"JobInputType": "UriFolder" | "UriFile",
"Uri": ...}}}}`; the answer is the job (`name`, `properties.status`), polled at
`<invocation URI>/<job name>` with the same token (Azure/azureml-examples,
cli/batch-score-rest.sh). A model deployment writes its predictions to the job output `score`;
`azureml-model-deployment` picks a deployment other than the endpoint's default. Standard
library only, plus azure-identity for the token, so it runs on a Databricks cluster.

    job = batch_score("azureml://datastores/workspaceblobstore/paths/batch/input/")
    print(job.wait())   # where predictions.csv is
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from mlflow_setup.outputs import MlflowSetupError, StackOutputs, load_outputs
from mlflow_setup.scoring import (
    SCORING_SCOPE,
    TokenCredential,
    carries_token,
    endpoint_token,
    required_uri,
)

INPUT_NAME = "input_data"  # a model deployment takes one input, under any name
OUTPUT_NAME = "score"  # the output a model deployment writes its predictions to
DEPLOYMENT_HEADER = "azureml-model-deployment"
# Job statuses (AzureML JobStatus): these end a job; every other one means "not yet".
SUCCEEDED = frozenset({"Completed"})
ENDED_BADLY = frozenset({"Failed", "Canceled", "NotResponding"})


class BatchScoringError(MlflowSetupError, RuntimeError):
    """The batch endpoint refused the job, the job failed or was canceled, or it timed out."""


def input_type(uri: str) -> str:
    """`UriFile` for a path to one file (a last segment with an extension), else `UriFolder`."""
    last = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1] if not uri.endswith("/") else ""
    return "UriFile" if "." in last else "UriFolder"


def job_request(input_uri: str, outputs: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The invocation body: the input, and where outputs go when not the default datastore."""
    properties: dict[str, Any] = {
        "InputData": {INPUT_NAME: {"JobInputType": input_type(input_uri), "Uri": input_uri}}
    }
    if outputs:
        properties["OutputData"] = {
            name: {"JobOutputType": input_type(uri), "Uri": uri} for name, uri in outputs.items()
        }
    return {"properties": properties}


@dataclass
class BatchJob:
    """A batch scoring job the endpoint accepted; `wait()` polls it to its end."""

    name: str
    status_uri: str
    status: str
    requested_outputs: Mapping[str, str] = field(default_factory=dict)
    _bearer: Callable[[], str] = field(repr=False, default=lambda: "")
    _opener: Callable[..., Any] = field(repr=False, default=urllib.request.urlopen)
    _sleep: Callable[[float], None] = field(repr=False, default=time.sleep)

    def wait(self, timeout: float = 3600.0, poll: float = 15.0) -> str:
        """Poll until the job ends; where its `score` output is. Raises BatchScoringError when
        it failed, was canceled or is still running after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            job = _call(self._opener, "GET", self.status_uri, self._bearer())
            properties = job.get("properties") or {}
            self.status = str(properties.get("status") or "")
            if self.status in SUCCEEDED:
                return self._output(properties)
            if self.status in ENDED_BADLY:
                detail = properties.get("errorMessage") or properties.get("error") or ""
                raise BatchScoringError(
                    f"batch job {self.name} ended {self.status}"
                    + (f": {json.dumps(detail)[:300]}" if detail else "")
                    + "; see its logs in AzureML studio (Jobs)"
                )
            if time.monotonic() + poll > deadline:
                raise BatchScoringError(
                    f"batch job {self.name} is still {self.status or 'unknown'} after "
                    f"{timeout:.0f} s; wait again, or follow it in AzureML studio (Jobs)"
                )
            self._sleep(poll)

    def _output(self, properties: Mapping[str, Any]) -> str:
        if OUTPUT_NAME in self.requested_outputs:
            return self.requested_outputs[OUTPUT_NAME]
        for key in ("outputData", "OutputData", "outputs"):
            found = (properties.get(key) or {}).get(OUTPUT_NAME) or {}
            uri = found.get("uri") or found.get("Uri")
            if uri:
                return str(uri)
        # Learn, "Access data in a job": a job's named output, wherever AzureML placed it.
        return f"azureml://jobs/{self.name}/outputs/{OUTPUT_NAME}"


def batch_endpoint_uri(outputs: StackOutputs) -> str:
    """The stack's batch endpoint invocation URI, or an error saying how to get one."""
    return required_uri(
        outputs.batch_endpoint_uri, outputs, "batch", "batchEndpoint", BatchScoringError
    )


def batch_score(
    input_uri: str,
    *,
    outputs: Mapping[str, str] | None = None,
    credential: TokenCredential | None = None,
    deployment: str | None = None,
    stack: StackOutputs | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> BatchJob:
    """Start a batch scoring job of `input_uri` (a folder or a file: `azureml://...`, or an
    https:// blob URL) on the stack's batch endpoint.

    `outputs` maps job output names to URIs (`{"score": "azureml://datastores/<store>/paths/
    out/"}`) when the predictions should go elsewhere than the default datastore. `credential`
    defaults to DefaultAzureCredential (on the cluster: its service principal); `deployment`
    picks one other than the endpoint's default; `stack` defaults to `load_outputs()`.
    """
    requested: Mapping[str, str] = dict(outputs or {})
    uri = batch_endpoint_uri(stack or load_outputs())
    _check_https(uri)
    if not isinstance(input_uri, str) or not input_uri.strip():
        raise BatchScoringError(
            f"input_uri {input_uri!r} is not a URI (azureml://... or https://...)"
        )

    def bearer() -> str:
        return endpoint_token(credential)

    headers = {DEPLOYMENT_HEADER: deployment} if deployment else {}
    job = _call(opener, "POST", uri, bearer(), job_request(input_uri, requested), headers)
    name = str(job.get("name") or str(job.get("id") or "").rsplit("/", 1)[-1])
    if not name:
        raise BatchScoringError(f"{uri} accepted the job but named none: {json.dumps(job)[:200]}")
    return BatchJob(
        name=name,
        status_uri=f"{uri.rstrip('/')}/{quote(name, safe='')}",
        status=str((job.get("properties") or {}).get("status") or ""),
        requested_outputs=requested,
        _bearer=bearer,
        _opener=opener,
    )


def _check_https(uri: str) -> None:
    if not carries_token(uri):
        raise BatchScoringError(
            f"batch endpoint URI {uri!r} is not https://<endpoint>.<region>.inference.ml.azure.com"
            "/jobs (a token is only sent over https)"
        )


def _call(
    opener: Callable[..., Any],
    method: str,
    uri: str,
    bearer: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    request = urllib.request.Request(
        uri,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Accept": "application/json",
            "Authorization": f"Bearer {bearer}",
            **({"Content-Type": "application/json"} if body is not None else {}),
            **(headers or {}),
        },
    )
    try:
        with opener(request, timeout=90.0) as answer:
            payload = json.loads(answer.read().decode() or "{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace").strip().splitlines()
        text = (
            f"{method} {uri} answered {error.code}: {detail[0][:300] if detail else error.reason}"
        )
        if error.code in (401, 403):
            text += (
                f"; the caller needs a Microsoft Entra token for {SCORING_SCOPE} and a role "
                "that may start batch jobs on the workspace (AzureML Data Scientist)"
            )
        raise BatchScoringError(text) from None
    except urllib.error.URLError as error:
        raise BatchScoringError(
            f"cannot reach {urlsplit(uri).netloc} ({error.reason}); with privateLink the "
            "endpoint answers only inside the stack's VNet (run this on the stack's cluster)"
        ) from None
    except json.JSONDecodeError as error:
        raise BatchScoringError(f"{uri} answered no JSON ({error.msg})") from None
    if not isinstance(payload, dict):
        raise BatchScoringError(f"{uri} answered {json.dumps(payload)[:200]}, expected a job")
    return payload
