"""Whether MLflow's AzureML tracking can sign in with a credential handed to it, such as a Unity
Catalog service credential's provider (docs/tracking.md, "No stored secret?"): the real
azureml-mlflow plugin, offline (the fixtures of tests/test_azureml_plugin.py).

azure-ai-ml's `MLClient(credential, ...).workspaces.get(name).mlflow_tracking_uri` calls
`azureml.mlflow.get_mlflow_tracking_uri_v2(workspace, {..., "auth": credential})`
(azure-ai-ml operations `WorkspaceOperations.get`, entities `Workspace._from_rest_object`); the
test makes that call itself, azure-ai-ml not being installed.
"""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit

import mlflow
from azureml.mlflow import get_mlflow_tracking_uri_v2

import tests.test_azureml_plugin as plugin_test
from tests.test_azureml_plugin import (
    AML_URI,
    ARM_SCOPE,
    ENDPOINT,
    FAKE_TOKEN,
    HOST,
    RG,
    SUB,
    WS,
    FakeCredential,
    Offline,
    only_request,
)

offline = plugin_test.offline  # its fixture: the plugin with the network out of reach


def test_plugin_signs_with_a_credential_registered_the_way_azure_ai_ml_registers_it(
    offline: Offline,
) -> None:
    offline.answers["/api/2.0/mlflow/experiments/get-by-name"] = {
        "experiment": {"experiment_id": "42", "name": "x", "lifecycle_stage": "active"}
    }
    handed = FakeCredential()  # what getServiceCredentialsProvider returns: get_token(scope)
    uri = get_mlflow_tracking_uri_v2(
        SimpleNamespace(ml_flow_tracking_uri=AML_URI),
        {
            "subscription_id": SUB,
            "resource_group_name": RG,
            "workspace_name": WS,
            "auth": handed,
            "host_url": f"https://{HOST}",
        },
    )
    mlflow.set_tracking_uri(uri)

    mlflow.MlflowClient().get_experiment_by_name("x")

    request = only_request(offline)
    assert urlsplit(request.url).path.startswith(urlsplit(ENDPOINT).path)
    assert request.headers["Authorization"] == f"Bearer {FAKE_TOKEN}"
    assert handed.scopes == [(ARM_SCOPE,)]  # the Azure Resource Manager scope
    assert offline.chain == []  # the plugin built no credential of its own
    assert offline.credential.scopes == []
