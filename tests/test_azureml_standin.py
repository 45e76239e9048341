"""The AzureML-shaped filter refuses exactly what AzureML's MLflow server does not implement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakecloud.azureml_mlflow import API, AzureMLRules, Request

RUN = "0a1b2c3d"


def request(method: str, path: str, body: dict | None = None, **query: str) -> Request:
    return Request(
        method, f"{API}/{path}", {k: [v] for k, v in query.items()}, json.dumps(body or {}).encode()
    )


@pytest.fixture
def rules(tmp_path: Path) -> AzureMLRules:
    model = tmp_path / "1" / RUN / "artifacts" / "model"
    model.mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "1" / RUN / "artifacts" / "notes").mkdir()
    return AzureMLRules(tmp_path)


def run_uri(run_id: str) -> str | None:
    return f"mlflow-artifacts:/1/{run_id}/artifacts" if run_id == RUN else None


def check(rules: AzureMLRules, req: Request):
    return rules.check(req, run_uri)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "logged-models"),
        ("GET", "logged-models/m-123"),
        ("PATCH", "logged-models/m-123/tags"),
        ("POST", "logged-models/search"),
    ],
)
def test_logged_models_answer_404_with_an_empty_body(rules, method, path):
    refusal = check(rules, request(method, path))

    assert (refusal.status, refusal.body) == (404, b"")
    assert rules.refused == [f"{method} {API}/{path}"]


@pytest.mark.parametrize(
    ("req", "what"),
    [
        (request("POST", "registered-models/rename", {"name": "a", "new_name": "b"}), "Renaming a"),
        (request("DELETE", "registered-models/delete", {"name": "a"}), "Deleting a registered"),
        (request("GET", "registered-models/search", filter="name LIKE 'a%'"), "LIKE/ILIKE"),
        (request("GET", "registered-models/search", filter="name ilike 'a%'"), "LIKE/ILIKE"),
        (request("GET", "registered-models/search", filter="tags.team = 'x'"), "by tag"),
        (request("POST", "runs/search", {"filter": "params.a = '1' OR params.b = '2'"}), "OR"),
        (request("POST", "runs/search", {"filter": "tags.team != 'x'"}), "!= on tags"),
        (request("POST", "runs/search", {"order_by": ["metrics.accuracy DESC"]}), "Ordering"),
        (request("POST", "runs/search", {"order_by": ["params.epochs"]}), "Ordering"),
        (request("POST", "experiments/update", {"experiment_id": "1", "new_name": "b"}), "Renam"),
    ],
)
def test_documented_unsupported_operations_are_refused(rules, req, what):
    refusal = check(rules, req)

    assert refusal is not None and refusal.status == 400
    message = json.loads(refusal.body)["message"]
    assert what in message
    assert message.endswith("is not supported by Azure Machine Learning's MLflow tracking server")


@pytest.mark.parametrize(
    "req",
    [
        request("GET", "registered-models/search", filter="name = 'iris'"),
        request("POST", "runs/search", {"filter": "params.a = '1' AND metrics.b > 0.5"}),
        request("POST", "runs/search", {"order_by": ["attributes.start_time DESC"]}),
        request("POST", "runs/search", {"filter": "tags.team = 'x'"}),
        request("DELETE", "model-versions/delete", {"name": "iris", "version": "2"}),
        request("POST", "registered-models/create", {"name": "iris"}),
        request("POST", "registered-models/get-latest-versions", {"name": "iris"}),
        request("POST", "runs/log-metric", {"run_id": RUN, "key": "accuracy", "value": 1}),
    ],
)
def test_what_azureml_supports_passes_through(rules, req):
    assert check(rules, req) is None
    assert rules.refused == []


@pytest.mark.parametrize(
    "source",
    [f"mlflow-artifacts:/1/{RUN}/artifacts/model", f"runs:/{RUN}/model"],
)
def test_an_mlflow_model_of_a_run_here_is_registered(rules, source):
    assert (
        check(rules, request("POST", "model-versions/create", {"name": "m", "source": source}))
        is None
    )


@pytest.mark.parametrize(
    ("source", "what"),
    [
        (f"mlflow-artifacts:/1/{RUN}/artifacts/notes", "not in MLflow format"),
        (f"runs:/{RUN}/notes", "not in MLflow format"),
        ("runs:/ffffffff/model", "not a run of this workspace"),
        ("models:/m-0123456789", "not a run of this workspace"),
        ("file:///tmp/model", "not a run of this workspace"),
        ("mlflow-artifacts:/../../etc", "not a run of this workspace"),
    ],
)
def test_other_model_sources_are_refused(rules, source, what):
    refusal = check(
        rules, request("POST", "model-versions/create", {"name": "m", "source": source})
    )

    assert refusal is not None and refusal.status == 400
    assert what in json.loads(refusal.body)["message"]
