"""Scoring the online endpoint: a loopback server plays the AzureML MLflow deployment.

The server checks the bearer token and the documented request body (`input_data` in pandas'
split orientation), rebuilds the DataFrame and answers with the predictions of a real MLflow
model, trained like the notebook's and loaded with mlflow.pyfunc. The credential is a static
one: no test asks Entra ID (or 169.254.169.254) for a token.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from azure.core.credentials import AccessToken
from mlflow.models import infer_signature
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

from mlflow_setup import (
    OPTIONAL_OUTPUT_NAMES,
    EndpointScoringError,
    endpoint_scoring_uri,
    parse_outputs,
    score,
    scoring_request,
)
from mlflow_setup.scoring import SCORING_SCOPE
from tests.loopback import JsonHandler, serving
from tests.test_mlflow_setup import stack_outputs

FEATURES = [f"feature_{i}" for i in range(4)]
TOKEN = "entra-token-for-ml.azure.com"
SCORING_URI = "https://mlflow-dev-ep-a1b2c3.westeurope.inference.ml.azure.com/score"


class StaticCredential:
    """A TokenCredential that hands out one fixed token and records the scopes asked for."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class FakeDeployment:
    """What the server saw; `bearer` is the token (or key) it accepts."""

    uri: str
    bearer: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, pd.DataFrame, Path]:
    """The notebook's classifier, saved as an MLflow model: (model, test frame, model folder)."""
    x, y = make_classification(
        n_samples=200, n_features=len(FEATURES), n_informative=3, n_redundant=0, random_state=7
    )
    data = pd.DataFrame(x, columns=FEATURES)
    model = SGDClassifier(loss="log_loss", max_iter=20, tol=None, random_state=7)
    model.fit(data, y)
    path = tmp_path_factory.mktemp("model") / "model"
    mlflow.sklearn.save_model(
        model,
        path,
        signature=infer_signature(data, model.predict(data)),
        pip_requirements=["scikit-learn"],  # given: no inference in a second Python
    )
    frame = data.tail(12).copy()
    frame.index = range(100, 112)  # an index that is not 0..n: it travels in the request
    return model, frame, path


@pytest.fixture
def deployment(trained: tuple[Any, pd.DataFrame, Path]) -> Iterator[FakeDeployment]:
    loaded = mlflow.pyfunc.load_model(str(trained[2]))
    with serving(_handler(loaded), lambda base: FakeDeployment(f"{base}/score", TOKEN)) as fake:
        yield fake


def _handler(model: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server names them)
            fake: FakeDeployment = self.server.fake  # type: ignore[attr-defined]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.requests.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            if self.headers.get("Authorization") != f"Bearer {fake.bearer}":
                return self._answer(401, {"message": "invalid token"})
            if self.path != "/score" or self.headers.get("Content-Type") != "application/json":
                return self._answer(400, {"message": "POST application/json to /score"})
            try:
                request = json.loads(body)
                split = request["input_data"]
                assert set(request) == {"input_data"}
                assert set(split) == {"columns", "index", "data"}
                frame = pd.DataFrame(split["data"], columns=split["columns"], index=split["index"])
            except (ValueError, KeyError, TypeError, AssertionError):
                return self._answer(400, {"message": "expected input_data in split orientation"})
            return self._answer(200, [int(p) for p in model.predict(frame)])

    return Handler


# --- scoring --------------------------------------------------------------------------------


def test_scores_a_dataframe_with_the_models_own_predictions(deployment, trained):
    model, frame, _ = trained
    credential = StaticCredential()

    predictions = score(frame, deployment.uri, credential=credential)

    assert predictions == model.predict(frame).tolist()
    assert set(predictions) == {0, 1}
    assert credential.scopes == [(SCORING_SCOPE,)]
    assert SCORING_SCOPE == "https://ml.azure.com/.default"


def test_request_carries_the_bearer_token_and_the_documented_body(deployment, trained):
    _, frame, _ = trained

    score(frame, deployment.uri, credential=StaticCredential())

    (request,) = deployment.requests
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["content-type"] == "application/json"
    body = json.loads(request["body"])
    assert list(body) == ["input_data"]
    assert body["input_data"]["columns"] == FEATURES
    assert body["input_data"]["index"] == list(range(100, 112))
    assert body["input_data"]["data"] == frame.to_numpy().tolist()
    assert body == scoring_request(frame)


def test_key_auth_sends_the_key_and_asks_for_no_token(deployment, trained):
    model, frame, _ = trained
    deployment.bearer = "endpoint-primary-key"
    credential = StaticCredential()

    predictions = score(frame, deployment.uri, key="endpoint-primary-key", credential=credential)

    assert predictions == model.predict(frame).tolist()
    assert credential.scopes == []


def test_rejected_token_names_the_scope_and_the_role(deployment, trained):
    _, frame, _ = trained

    with pytest.raises(EndpointScoringError) as caught:
        score(frame, deployment.uri, credential=StaticCredential("someone-elses-token"))

    message = str(caught.value)
    assert "answered 401" in message
    assert SCORING_SCOPE in message
    assert "onlineEndpoints/score/action" in message


def test_token_is_never_sent_over_plain_http_beyond_loopback(trained):
    credential = StaticCredential()
    with pytest.raises(EndpointScoringError, match="only sent over https"):
        score(trained[1], "http://example.invalid/score", credential=credential)
    assert credential.scopes == []


def test_unreachable_endpoint_explains_the_private_link_path(trained):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EndpointScoringError, match="private endpoint"):
        score(trained[1], f"http://127.0.0.1:{port}/score", credential=StaticCredential())


def test_answer_of_the_wrong_length_is_an_error(trained):
    class Answer:
        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def read(self) -> bytes:
            return b'{"predictions": [1]}'

    with pytest.raises(EndpointScoringError, match="expected 12 predictions"):
        score(
            trained[1],
            SCORING_URI,
            credential=StaticCredential(),
            opener=lambda *_args, **_kwargs: Answer(),
        )


def test_request_keeps_full_float_precision_ints_and_timestamps():
    frame = pd.DataFrame(
        {
            "x": [0.1234567890123456789, -2.5],
            "n": pd.Series([1, 2], dtype="int64"),
            "at": pd.to_datetime(["2026-01-02T03:04:05", "2026-01-03T00:00:00"]),
        }
    )
    split = scoring_request(frame)["input_data"]
    assert split["columns"] == ["x", "n", "at"]
    assert split["index"] == [0, 1]
    assert split["data"][0] == [0.1234567890123456789, 1, "2026-01-02T03:04:05"]
    assert json.loads(json.dumps(split)) == split


# --- the output contract ----------------------------------------------------------------------


def test_endpoint_outputs_are_read_when_present():
    outputs = parse_outputs(
        stack_outputs(endpointName="mlflow-dev-ep-a1b2c3", endpointScoringUri=SCORING_URI), "t"
    )
    assert outputs.endpoint_name == "mlflow-dev-ep-a1b2c3"
    assert endpoint_scoring_uri(outputs) == SCORING_URI
    assert OPTIONAL_OUTPUT_NAMES[:2] == ("endpointName", "endpointScoringUri")


@pytest.mark.parametrize("value", ["absent", None])
def test_endpoint_outputs_absent_or_null_mean_no_endpoint(value):
    extra = {} if value == "absent" else {"endpointName": None, "endpointScoringUri": None}
    outputs = parse_outputs(stack_outputs(**extra), "t")
    assert outputs.endpoint_name is None
    with pytest.raises(EndpointScoringError) as caught:
        endpoint_scoring_uri(outputs)
    assert str(caught.value) == (
        "t: the stack has no online endpoint; deploy one with "
        "`pulumi config set --path databricks-azureml:endpoint.model <name>`, "
        "`... endpoint.version <version>` and `pulumi up`"
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"endpointName": "ep"}, "'endpointName' is set but 'endpointScoringUri' is missing"),
        ({"endpointScoringUri": SCORING_URI}, "'endpointScoringUri' is set but 'endpointName'"),
        (
            {"endpointName": "ep", "endpointScoringUri": "http://ep/score"},
            "'endpointScoringUri' is 'http://ep/score', expected https://",
        ),
        ({"endpointName": 3, "endpointScoringUri": SCORING_URI}, "'endpointName' is 3"),
    ],
)
def test_malformed_endpoint_outputs_are_named(extra, expected):
    from mlflow_setup import StackOutputsError

    with pytest.raises(StackOutputsError, match="stack output") as caught:
        parse_outputs(stack_outputs(**extra), "t")
    assert expected in str(caught.value)
