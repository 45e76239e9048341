"""Batch scoring: a loopback server plays the AzureML batch endpoint's data plane.

It checks the bearer token, the documented invocation body (`properties.InputData` with one
`UriFolder` / `UriFile` input) and the deployment header, answers the job in the documented
shape (`name`, `id`, `properties.status`), and walks each job through its statuses as the
client polls `<invocation URI>/<job name>`. The credential is a static one: no test asks
Entra ID (or 169.254.169.254) for a token.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mlflow_setup import (
    OPTIONAL_OUTPUT_NAMES,
    BatchScoringError,
    StackOutputsError,
    batch_endpoint_uri,
    batch_score,
    parse_outputs,
)
from mlflow_setup.batch import input_type, job_request
from mlflow_setup.scoring import SCORING_SCOPE
from tests.loopback import JsonHandler, serving
from tests.test_mlflow_setup import stack_outputs
from tests.test_scoring import TOKEN, StaticCredential

FOLDER = "azureml://datastores/workspaceblobstore/paths/batch/heart/"
FILE = "azureml://datastores/workspaceblobstore/paths/batch/heart/part-1.csv"
BATCH_URI = "https://mlflow-dev-be-a1b2c3.westeurope.inference.ml.azure.com/jobs"
WORKSPACE_JOBS = (
    "/subscriptions/3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21/resourceGroups/mlflow-dev-rg/providers"
    "/Microsoft.MachineLearningServices/workspaces/mlflow-dev-mlw/jobs"
)


@dataclass
class FakeBatchEndpoint:
    """What the server saw, and how its jobs go: each poll moves a job one status on."""

    uri: str
    bearer: str = TOKEN
    statuses: list[str] = field(
        default_factory=lambda: ["NotStarted", "Preparing", "Running", "Completed"]
    )
    output_uri: str | None = None  # what the job answers as its `score` output, if anything
    requests: list[dict[str, Any]] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def endpoint() -> Iterator[FakeBatchEndpoint]:
    with serving(_Handler, lambda base: FakeBatchEndpoint(f"{base}/jobs")) as fake:
        yield fake


class _Handler(JsonHandler):
    def _seen(self) -> tuple[FakeBatchEndpoint, bytes]:
        fake: FakeBatchEndpoint = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )
        return fake, body

    def do_POST(self) -> None:  # noqa: N802 (http.server names them)
        fake, body = self._seen()
        if self.headers.get("Authorization") != f"Bearer {fake.bearer}":
            return self._answer(401, {"error": {"code": "Unauthorized", "message": "bad token"}})
        if self.path != "/jobs" or self.headers.get("Content-Type") != "application/json":
            return self._answer(400, {"error": {"message": "POST application/json to /jobs"}})
        try:
            request = json.loads(body)
            assert set(request) == {"properties"}
            inputs = request["properties"]["InputData"]
            [(_name, given)] = inputs.items()
            assert set(given) == {"JobInputType", "Uri"}
            assert given["JobInputType"] in ("UriFolder", "UriFile")
            assert set(request["properties"]) <= {"InputData", "OutputData"}
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._answer(400, {"error": {"message": "expected properties.InputData"}})
        job = f"batchjob-{len(fake.polls) + 1}"
        fake.polls[job] = 0
        return self._answer(
            202,
            {"id": f"{WORKSPACE_JOBS}/{job}", "name": job, "properties": {"status": "NotStarted"}},
        )

    def do_GET(self) -> None:  # noqa: N802 (http.server names them)
        fake, _ = self._seen()
        if self.headers.get("Authorization") != f"Bearer {fake.bearer}":
            return self._answer(401, {"error": {"code": "Unauthorized", "message": "bad token"}})
        job = self.path.removeprefix("/jobs/")
        if job not in fake.polls:
            return self._answer(404, {"error": {"message": f"no job {job}"}})
        status = fake.statuses[min(fake.polls[job], len(fake.statuses) - 1)]
        fake.polls[job] += 1
        properties: dict[str, Any] = {"status": status}
        if status == "Failed":
            properties["errorMessage"] = "mini batch 3 failed: KeyError 'age'"
        if status == "Completed" and fake.output_uri:
            properties["outputData"] = {
                "score": {"jobOutputType": "UriFolder", "uri": fake.output_uri}
            }
        return self._answer(200, {"id": f"{WORKSPACE_JOBS}/{job}", "name": job,
                                  "properties": properties})  # fmt: skip


def stack_for(uri: str):
    """The stack's outputs with the batch endpoint at `uri` (the loopback server's)."""
    outputs = parse_outputs(
        stack_outputs(batchEndpointName="mlflow-dev-be-a1b2c3", batchEndpointUri=BATCH_URI), "t"
    )
    return dataclasses.replace(outputs, batch_endpoint_uri=uri)


def start(endpoint: FakeBatchEndpoint, input_uri: str = FOLDER, **kwargs: Any):
    kwargs.setdefault("credential", StaticCredential())
    return batch_score(input_uri, stack=stack_for(endpoint.uri), **kwargs)


# --- starting a job ----------------------------------------------------------------------------


def test_a_job_is_posted_with_the_token_and_the_documented_body(endpoint):
    credential = StaticCredential()
    job = start(endpoint, credential=credential)

    assert job.name == "batchjob-1"
    assert job.status == "NotStarted"
    [post] = endpoint.requests
    assert post["method"] == "POST" and post["path"] == "/jobs"
    assert post["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert "azureml-model-deployment" not in post["headers"]  # the endpoint's default serves
    assert json.loads(post["body"]) == {
        "properties": {"InputData": {"input_data": {"JobInputType": "UriFolder", "Uri": FOLDER}}}
    }
    assert credential.scopes == [(SCORING_SCOPE,)]
    assert SCORING_SCOPE == "https://ml.azure.com/.default"


def test_a_file_goes_as_uri_file_and_a_deployment_is_picked_by_header(endpoint):
    start(endpoint, FILE, deployment="v2-abcdef")
    [post] = endpoint.requests
    assert json.loads(post["body"])["properties"]["InputData"]["input_data"] == {
        "JobInputType": "UriFile",
        "Uri": FILE,
    }
    assert post["headers"]["azureml-model-deployment"] == "v2-abcdef"


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        (FOLDER, "UriFolder"),
        ("azureml://datastores/workspaceblobstore/paths/batch/heart", "UriFolder"),
        (FILE, "UriFile"),
        ("https://acct.blob.core.windows.net/data/heart.csv?sv=x", "UriFile"),
        ("https://acct.blob.core.windows.net/data/heart/", "UriFolder"),
    ],
)
def test_input_type_follows_the_uri(uri, kind):
    assert input_type(uri) == kind


def test_outputs_elsewhere_go_as_output_data_and_are_where_wait_points():
    body = job_request(FOLDER, {"score": "azureml://datastores/results/paths/heart/"})
    assert body["properties"]["OutputData"] == {
        "score": {"JobOutputType": "UriFolder", "Uri": "azureml://datastores/results/paths/heart/"}
    }


def test_rejected_token_names_the_scope_and_the_role(endpoint):
    with pytest.raises(BatchScoringError) as caught:
        start(endpoint, credential=StaticCredential("someone-elses-token"))
    message = str(caught.value)
    assert "answered 401" in message
    assert SCORING_SCOPE in message and "AzureML Data Scientist" in message


def test_token_is_never_sent_over_plain_http_beyond_loopback():
    credential = StaticCredential()
    outputs = parse_outputs(
        stack_outputs(
            batchEndpointName="be", batchEndpointUri="https://x.inference.ml.azure.com/jobs"
        ),
        "t",
    )
    plain = outputs.__class__(**{**outputs.__dict__, "batch_endpoint_uri": "http://x.example/jobs"})
    with pytest.raises(BatchScoringError, match="only sent over https"):
        batch_score(FOLDER, stack=plain, credential=credential)
    assert credential.scopes == []


def test_a_stack_without_a_batch_endpoint_says_how_to_get_one():
    outputs = parse_outputs(stack_outputs(), "t")
    with pytest.raises(BatchScoringError, match=r"batchEndpoint\.model"):
        batch_score(FOLDER, stack=outputs, credential=StaticCredential())


# --- waiting for it ----------------------------------------------------------------------------


def test_wait_polls_the_job_to_completion_and_returns_its_score_output(endpoint):
    endpoint.output_uri = "azureml://datastores/workspaceblobstore/paths/azureml/batchjob-1/score/"
    job = start(endpoint)

    assert job.wait(timeout=30, poll=0.01) == endpoint.output_uri

    polls = [r for r in endpoint.requests if r["method"] == "GET"]
    assert [r["path"] for r in polls] == ["/jobs/batchjob-1"] * 4
    assert all(r["headers"]["authorization"] == f"Bearer {TOKEN}" for r in polls)
    assert job.status == "Completed"


def test_without_an_output_in_the_answer_wait_names_the_jobs_score_output(endpoint):
    assert start(endpoint).wait(timeout=30, poll=0.01) == "azureml://jobs/batchjob-1/outputs/score"


def test_requested_outputs_are_what_wait_returns(endpoint):
    target = "azureml://datastores/workspaceblobstore/paths/results/heart/"
    job = start(endpoint, outputs={"score": target})
    assert job.wait(timeout=30, poll=0.01) == target
    body = json.loads(endpoint.requests[0]["body"])
    assert body["properties"]["OutputData"]["score"]["Uri"] == target


@pytest.mark.parametrize("ending", ["Failed", "Canceled"])
def test_a_job_that_fails_or_is_canceled_raises_with_its_status(endpoint, ending):
    endpoint.statuses = ["Running", ending]
    with pytest.raises(BatchScoringError, match=f"batchjob-1 ended {ending}") as caught:
        start(endpoint).wait(timeout=30, poll=0.01)
    if ending == "Failed":
        assert "KeyError 'age'" in str(caught.value)


def test_a_job_still_running_at_the_timeout_raises_saying_so(endpoint):
    endpoint.statuses = ["Running"]
    with pytest.raises(BatchScoringError, match="still Running after 0 s"):
        start(endpoint).wait(timeout=0.05, poll=0.02)


# --- the output contract -----------------------------------------------------------------------


def test_batch_outputs_are_part_of_the_contract_and_read_when_present():
    assert OPTIONAL_OUTPUT_NAMES[2:] == ("batchEndpointName", "batchEndpointUri")
    outputs = parse_outputs(
        stack_outputs(batchEndpointName="mlflow-dev-be-a1b2c3", batchEndpointUri=BATCH_URI), "t"
    )
    assert outputs.batch_endpoint_name == "mlflow-dev-be-a1b2c3"
    assert batch_endpoint_uri(outputs) == BATCH_URI


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"batchEndpointName": "be"}, "'batchEndpointName' is set but 'batchEndpointUri'"),
        ({"batchEndpointUri": BATCH_URI}, "'batchEndpointUri' is set but 'batchEndpointName'"),
        ({"batchEndpointName": "be", "batchEndpointUri": "ftp://x/jobs"}, "expected https://"),
        ({"batchEndpointName": "", "batchEndpointUri": BATCH_URI}, "a non-empty string"),
    ],
)
def test_malformed_batch_outputs_are_named(given, expected):
    with pytest.raises(StackOutputsError, match=expected):
        parse_outputs(stack_outputs(**given), "t")


def test_called_with_the_input_alone_it_reads_the_stack_outputs_itself(tmp_path, monkeypatch):
    from mlflow_setup import OUTPUTS_FILE_ENV

    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(stack_outputs()), encoding="utf-8")
    monkeypatch.setenv(OUTPUTS_FILE_ENV, str(path))
    with pytest.raises(BatchScoringError) as caught:
        batch_score(FOLDER)
    assert str(caught.value) == (
        f"stack outputs file '{path}': the stack has no batch endpoint; deploy one with "
        "`pulumi config set --path databricks-azureml:batchEndpoint.model <name>`, "
        "`... batchEndpoint.version <version>` and `pulumi up`"
    )
