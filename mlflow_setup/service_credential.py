"""Signing in to AzureML with the stack's Unity Catalog service credential: no stored secret.

`dbutils.credentials.getServiceCredentialsProvider('<name>')` returns a credential Azure SDK
clients take (Learn, "Use Unity Catalog service credentials to connect to external cloud
services"; it needs the ACCESS privilege on the credential). azureml-mlflow signs MLflow's
requests with a credential registered for a tracking URI through
`azureml.mlflow.get_mlflow_tracking_uri_v2`, the call azure-ai-ml's
`MLClient(...).workspaces.get()` makes (docs/tracking.md, "No stored secret";
tests/test_service_credential_tracking.py): it asks it for Azure Resource Manager tokens only.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from mlflow_setup.outputs import (
    ASK_TO_BE_ADDED,
    MlflowSetupError,
    StackOutputs,
    first_line,
    parse_azureml_uri,
)

ARM_SCOPE = "https://management.azure.com/.default"  # the scope azureml-mlflow asks for


class ServiceCredentialAccessError(MlflowSetupError, PermissionError):
    """The caller may not use the stack's service credential (no ACCESS on it)."""


def service_credential_provider(dbutils: Any, name: str, users: Iterable[str]) -> Any:
    """The credential's provider, checked with one token now rather than at MLflow's first call;
    a refusal is one line that says who may use it."""
    try:
        provider = dbutils.credentials.getServiceCredentialsProvider(name)
        provider.get_token(ARM_SCOPE)
    except Exception as error:  # dbutils' errors are Py4J or HTTP errors: one clear message
        raise ServiceCredentialAccessError(_refusal(name, error, list(users))) from None
    return provider


def register_credential(uri: str, credential: Any) -> str:
    """Register `credential` with azureml-mlflow for the AzureML URI `uri`; returns the URI to
    give MLflow (the plugin's v2.0 form, under which it keeps the credential)."""
    parsed = parse_azureml_uri(uri)
    if parsed is None:  # a plain MLflow tracking server: nothing of AzureML's to sign
        return uri
    from azureml.mlflow import get_mlflow_tracking_uri_v2

    return str(
        get_mlflow_tracking_uri_v2(
            SimpleNamespace(ml_flow_tracking_uri=uri),
            {
                "subscription_id": parsed.subscription_id,
                "resource_group_name": parsed.resource_group,
                "workspace_name": parsed.workspace,
                "auth": credential,
                "host_url": f"https://{parsed.host}",
            },
        )
    )


def sign_in_with_service_credential(outputs: StackOutputs, dbutils: Any) -> str:
    """Point MLflow's AzureML tracking and registry URIs at the service credential; what was
    done, for the summary."""
    name = outputs.service_credential
    if not name:
        raise MlflowSetupError(f"{outputs.source}: no 'serviceCredential' to sign in with")
    if dbutils is None or not hasattr(dbutils, "credentials"):
        raise MlflowSetupError(
            f"signing in with the service credential {name!r} needs the notebook's dbutils: "
            "call mlflow_setup.configure(dbutils=dbutils) in a Databricks notebook"
        )
    provider = service_credential_provider(dbutils, name, outputs.scope_readers)
    import mlflow

    tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    if tracking.startswith("azureml:"):
        mlflow.set_tracking_uri(register_credential(tracking, provider))
    if registry.startswith("azureml:"):
        mlflow.set_registry_uri(register_credential(registry, provider))
    return f"the service credential {name}"


def _refusal(name: str, error: Exception, users: list[str]) -> str:
    who = ", ".join(users) if users else "the users in the stack's cluster.users config"
    return (
        f"cannot use the service credential {name!r} ({first_line(error)}): the stack grants "
        f"ACCESS on it to {who}. {ASK_TO_BE_ADDED}"
    )
