"""`mlflow_setup.configure()` with a stack that publishes `serviceCredential`: the notebook's
`dbutils` hands out the Unity Catalog service credential, registered with the real azureml-mlflow
plugin for the AzureML URIs; no secret is read."""

from __future__ import annotations

from typing import Any

import pytest
from azureml.mlflow._internal.service_context_loader import _AzureMLServiceContextLoader

from mlflow_setup import MlflowSetupError, ServiceCredentialAccessError, configure, parse_outputs
from tests.test_mlflow_setup import AML_URI, EXCLUSIVE, STACK_CLUSTER, mlflow_state, stack_outputs
from tests.test_mlflow_setup_anywhere import SERVERLESS, Workspace, published

__all__ = ["mlflow_state"]  # the fixture, used by name

AML_URI_V2 = AML_URI.replace("/mlflow/v1.0/", "/mlflow/v2.0/")
NAME = "mlflow-dev-azureml-a1b2c3"
REFUSED = "PERMISSION_DENIED: User does not have ACCESS on Credential 'mlflow-dev-azureml-a1b2c3'."


class Token:
    token = "connector-token"
    expires_on = 4102444800


class Provider:
    """What getServiceCredentialsProvider returns: the azure-identity `get_token` protocol."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> Token:
        self.scopes.append(scopes)
        return Token()


class Credentials:
    def __init__(self, *, access: bool = True) -> None:
        self.access = access
        self.provider = Provider()
        self.asked: list[str] = []

    def getServiceCredentialsProvider(self, name: str) -> Provider:  # noqa: N802 (dbutils' name)
        self.asked.append(name)
        if not self.access:
            raise RuntimeError(REFUSED)
        return self.provider


class Dbutils:
    def __init__(self, *, access: bool = True) -> None:
        self.credentials = Credentials(access=access)


@pytest.fixture(autouse=True)
def plugin_contexts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's registered credentials, forgotten after the test."""
    monkeypatch.setattr(_AzureMLServiceContextLoader, "_tracking_uri_to_service_context", {})


def outputs_with_credential() -> dict[str, Any]:
    return published(**EXCLUSIVE, serviceCredential=NAME)


@pytest.mark.usefixtures("mlflow_state")
def test_serverless_signs_in_with_the_service_credential_and_reads_no_secret() -> None:
    import mlflow

    ws = Workspace({"dev": outputs_with_credential()})
    dbutils = Dbutils()
    said: list[str] = []
    env = dict(SERVERLESS)
    configure(env=env, workspace=lambda: ws, dbutils=dbutils, say=said.append)

    assert dbutils.credentials.asked == [NAME]
    assert dbutils.credentials.provider.scopes == [("https://management.azure.com/.default",)]
    assert mlflow.get_tracking_uri() == AML_URI_V2
    assert mlflow.get_registry_uri() == AML_URI_V2
    assert _AzureMLServiceContextLoader.has_service_context(AML_URI_V2)
    assert ws.reads == []
    assert "AZURE_CLIENT_SECRET" not in env
    assert f"signed in as  the service credential {NAME}" in said[0]


@pytest.mark.usefixtures("mlflow_state")
def test_a_user_without_access_on_the_credential_gets_one_line_naming_who_may() -> None:
    ws = Workspace({"dev": outputs_with_credential()})
    with pytest.raises(ServiceCredentialAccessError) as refused:
        configure(env=dict(SERVERLESS), workspace=lambda: ws, dbutils=Dbutils(access=False))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"cannot use the service credential '{NAME}' (PERMISSION_DENIED")
    assert "the stack grants ACCESS on it to data-scientists." in message
    assert "databricks-azureml:cluster.users[0]" in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


@pytest.mark.usefixtures("mlflow_state")
def test_without_the_notebooks_dbutils_it_says_to_pass_it() -> None:
    ws = Workspace({"dev": outputs_with_credential()})
    with pytest.raises(MlflowSetupError, match=r"configure\(dbutils=dbutils\)"):
        configure(env=dict(SERVERLESS), workspace=lambda: ws, say=lambda _: None)


@pytest.mark.usefixtures("mlflow_state")
def test_on_the_stacks_cluster_the_credential_name_comes_from_its_environment() -> None:
    import mlflow

    env = {
        **STACK_CLUSTER,
        "MLFLOW_TRACKING_URI": AML_URI,
        "MLFLOW_REGISTRY_URI": AML_URI,
        "DATABRICKS_AZUREML_SERVICE_CREDENTIAL": NAME,
    }
    dbutils = Dbutils()
    outputs = configure(env=env, workspace=None, dbutils=dbutils, say=lambda _: None)
    assert outputs.service_credential == NAME
    assert dbutils.credentials.asked == [NAME]
    assert mlflow.get_tracking_uri() == AML_URI_V2


@pytest.mark.usefixtures("mlflow_state")
def test_a_stack_with_a_service_principal_still_reads_the_secret_scope() -> None:
    ws = Workspace({"dev": published(**EXCLUSIVE)})
    dbutils = Dbutils()
    env = dict(SERVERLESS)
    configure(env=env, workspace=lambda: ws, dbutils=dbutils, say=lambda _: None)
    assert dbutils.credentials.asked == []
    assert env["AZURE_CLIENT_SECRET"] == "s3cr3t"


def test_a_service_credential_output_that_is_not_a_name_is_refused() -> None:
    with pytest.raises(MlflowSetupError, match=r"stack output 'serviceCredential' is 42"):
        parse_outputs(stack_outputs(**EXCLUSIVE, serviceCredential=42), "test")
