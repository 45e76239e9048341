"""The real azureml-mlflow plugin reads the azureml:// URI the stack exports, without network.

MLflow resolves `azureml://` through the plugin's entry points; the plugin turns the URI into an
https endpoint of the workspace and signs each request with an Entra ID token. Here its credential
is a fake that hands out a fixed token, and HTTP stops at the transport, where the request that
would go to Azure is recorded and answered.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import azureml.mlflow._internal.utils as plugin_utils
import mlflow
import mlflow.tracking._model_registry.utils as registry_utils
import mlflow.tracking._tracking_service.utils as tracking_utils
import mlflow.tracking.fluent as fluent
import pytest
import requests
from azure.core.credentials import AccessToken
from azureml.mlflow._internal.service_context_loader import _AzureMLServiceContextLoader
from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry

from mlflow_setup import (
    azureml_plugin_installed,
    configure_mlflow,
    experiment_name,
    parse_outputs,
)

SUB = "00000000-1111-2222-3333-444444444444"
RG = "mlflow-dev-rg"
WS = "mlflow-dev-aml"
HOST = "westeurope.api.azureml.ms"
WORKSPACE_PATH = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}"
    f"/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
)
AML_URI = f"azureml://{HOST}/mlflow/v1.0{WORKSPACE_PATH}"
# The plugin speaks the v2.0 MLflow API of the workspace for MLflow 2 and 3 clients.
ENDPOINT = f"https://{HOST}/mlflow/v2.0{WORKSPACE_PATH}"
FAKE_TOKEN = "fake-entra-token"
ARM_SCOPE = "https://management.azure.com/.default"

OUTPUTS = {
    "resourceGroupName": RG,
    "location": "westeurope",
    "trackingMode": "exclusive",
    "modelRegistry": "azureml",
    "privateLink": True,
    "amlWorkspaceName": WS,
    "amlWorkspaceId": WORKSPACE_PATH,
    "mlflowTrackingUri": AML_URI,
    "mlflowRegistryUri": AML_URI,
    "databricksWorkspaceUrl": "https://adb-1234567890123456.7.azuredatabricks.net",
    "databricksWorkspaceId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
    "Microsoft.Databricks/workspaces/mlflow-dev-adb",
    "clusterId": "0101-120000-abcdefgh",
    "secretScope": "mlflow-dev-scope",
}


class FakeCredential:
    """An Entra ID credential that returns a fixed token and remembers the scopes asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(FAKE_TOKEN, int(time.time()) + 3600)


@dataclass
class Offline:
    """What the plugin tried to do, with the network out of reach."""

    credential: FakeCredential
    chain: list[Any] = field(default_factory=list)  # the credentials the plugin chained
    requests: list[requests.PreparedRequest] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # API path -> JSON body


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Offline]:
    state = Offline(credential=FakeCredential())

    def chained(*credentials: Any) -> FakeCredential:
        state.chain.extend(credentials)
        return state.credential

    def send(adapter: Any, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        state.requests.append(request)
        api = urlsplit(request.url).path.removeprefix(urlsplit(ENDPOINT).path)
        response = requests.Response()
        response.status_code = 200 if api in state.answers else 404
        missing = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"no answer for {api}"}
        response._content = json.dumps(state.answers.get(api, missing)).encode()
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = request.url or "", request
        return response

    def no_network(*args: Any, **_: Any) -> None:
        state.connections.append(args)
        raise OSError(f"network access in an offline test: {args}")

    # The one place the plugin builds its credential: its chain of DefaultAzureCredential & co.
    monkeypatch.setattr(plugin_utils, "ChainedTokenCredential", chained)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    # The plugin looks its cloud's endpoints up online unless told which cloud it is in.
    monkeypatch.setenv("AZUREML_CURRENT_CLOUD", "AzureCloud")
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    # Process-wide state of the plugin and of MLflow, restored afterwards.
    monkeypatch.setattr(_AzureMLServiceContextLoader, "_tracking_uri_to_service_context", {})
    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(name, raising=False)
    forget_stores()
    yield state
    forget_stores()
    assert state.connections == [], "the plugin tried to reach the network"


def forget_stores() -> None:
    """Drop the stores MLflow caches per URI, so each test's plugin store sees its own fakes."""
    TrackingStoreRegistry._get_store_with_resolved_uri.cache_clear()
    ModelRegistryStoreRegistry._get_store_with_resolved_uri.cache_clear()


def only_request(offline: Offline) -> requests.PreparedRequest:
    assert len(offline.requests) == 1, [r.url for r in offline.requests]
    return offline.requests[0]


def test_plugin_is_installed_where_the_helper_looks_for_it() -> None:
    assert azureml_plugin_installed()


def test_tracking_call_goes_to_the_workspace_https_endpoint_with_the_token(
    offline: Offline,
) -> None:
    offline.answers["/api/2.0/mlflow/experiments/get-by-name"] = {
        "experiment": {
            "experiment_id": "42",
            "name": "iris-classifier",
            "lifecycle_stage": "active",
        }
    }
    configure_mlflow(parse_outputs(OUTPUTS, "test"))

    experiment = mlflow.MlflowClient().get_experiment_by_name("iris-classifier")

    request = only_request(offline)
    url = urlsplit(request.url)
    assert (url.scheme, url.netloc) == ("https", HOST)
    assert url.path == urlsplit(ENDPOINT).path + "/api/2.0/mlflow/experiments/get-by-name"
    assert parse_qs(url.query) == {"experiment_name": ["iris-classifier"]}
    assert request.headers["Authorization"] == f"Bearer {FAKE_TOKEN}"
    assert offline.credential.scopes == [(ARM_SCOPE,)]
    assert experiment is not None and experiment.experiment_id == "42"


def test_plugin_chains_the_environment_credential_the_clusters_service_principal_feeds(
    offline: Offline,
) -> None:
    offline.answers["/api/2.0/mlflow/experiments/get-by-name"] = {
        "experiment": {"experiment_id": "42", "name": "x", "lifecycle_stage": "active"}
    }
    configure_mlflow(parse_outputs(OUTPUTS, "test"))

    mlflow.MlflowClient().get_experiment_by_name("x")

    assert type(offline.chain[0]).__name__ == "EnvironmentCredential"


def test_set_experiment_sends_azureml_the_plain_experiment_name(offline: Offline) -> None:
    offline.answers["/api/2.0/mlflow/experiments/get-by-name"] = {
        "experiment": {"experiment_id": "7", "name": "iris-classifier", "lifecycle_stage": "active"}
    }
    outputs = parse_outputs(OUTPUTS, "test")
    configure_mlflow(outputs)

    experiment = mlflow.set_experiment(experiment_name(outputs, "iris-classifier", user="alice"))

    url = urlsplit(only_request(offline).url)
    assert parse_qs(url.query) == {"experiment_name": ["iris-classifier"]}
    assert experiment.experiment_id == "7"


def test_registry_call_goes_to_the_same_workspace_endpoint(offline: Offline) -> None:
    offline.answers["/api/2.0/mlflow/registered-models/get"] = {
        "registered_model": {"name": "iris-classifier", "creation_timestamp": 1}
    }
    uris = configure_mlflow(parse_outputs(OUTPUTS, "test"))

    model = mlflow.MlflowClient(registry_uri=uris.registry_uri).get_registered_model(
        "iris-classifier"
    )

    request = only_request(offline)
    url = urlsplit(request.url)
    assert url.scheme + "://" + url.netloc + url.path == (
        ENDPOINT + "/api/2.0/mlflow/registered-models/get"
    )
    assert parse_qs(url.query) == {"name": ["iris-classifier"]}
    assert request.headers["Authorization"] == f"Bearer {FAKE_TOKEN}"
    assert model.name == "iris-classifier"
