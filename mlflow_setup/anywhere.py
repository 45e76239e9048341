"""`mlflow_setup.configure()`: MLflow set up for the stack on any compute of its workspace.

    import mlflow_setup
    outputs = mlflow_setup.configure()       # or configure(stack="dev") beside other stacks

Where the outputs come from, first match wins:
1. `STACK_OUTPUTS_FILE`, a file written by `pulumi stack output --json`;
2. on the stack's cluster (its marker `DATABRICKS_AZUREML_STACK`): the cluster's environment;
3. anywhere else in Databricks (serverless, job and personal clusters): the file the stack
   publishes in the workspace, `/Shared/databricks-azureml/<stack>/outputs.json`
   (components/published_outputs.py), read through the Workspace API with the notebook's own
   login; with several stacks there, `stack=` says which;
4. outside Databricks: `pulumi stack output --json` (mlflow_setup.outputs.load_outputs).

Exclusive tracking and the AzureML registry need an Azure identity. A stack without a service
principal publishes `serviceCredential`: the notebook's `dbutils` (pass `dbutils=dbutils`) hands
out its Unity Catalog service credential, registered with azureml-mlflow for the AzureML URIs
(mlflow_setup/service_credential.py); who may use it is `cluster.users`, anyone else gets a
ServiceCredentialAccessError. With a service principal, the stack's cluster has it in its
environment; elsewhere it is read from the stack's secret scope with `dbutils.secrets` (the
notebook's, or databricks-sdk's outside a notebook) into the AZURE_* variables azure-identity
reads, never from the outputs. Who may read the scope is `cluster.users`: anyone else gets a
SecretScopeAccessError that names them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import replace
from typing import Any, Protocol

from mlflow_setup.configure import MlflowUris, configure_mlflow
from mlflow_setup.contract import (
    CLIENT_ID_KEY,
    CLIENT_SECRET_KEY,
    PUBLISHED_FOLDER,
    SCOPE_READERS_KEY,
    STACK_ENV,
    TENANT_ID_KEY,
    ModelRegistry,
    TrackingMode,
    published_path,
)
from mlflow_setup.outputs import (
    ASK_TO_BE_ADDED,
    DATABRICKS_RUNTIME_ENV,
    OUTPUTS_FILE_ENV,
    MlflowSetupError,
    StackOutputs,
    StackOutputsError,
    first_line,
    load_outputs,
    outputs_from_cluster_env,
    parse_outputs,
    pulumi_stack_output,
)
from mlflow_setup.service_credential import sign_in_with_service_credential

# What the stack's cluster carries and azure-identity's EnvironmentCredential reads.
CREDENTIAL_ENV = {
    "AZURE_TENANT_ID": TENANT_ID_KEY,
    "AZURE_CLIENT_ID": CLIENT_ID_KEY,
    "AZURE_CLIENT_SECRET": CLIENT_SECRET_KEY,
}


class SecretScopeAccessError(MlflowSetupError, PermissionError):
    """The caller may not read the stack's secret scope (not one of `cluster.users`)."""


class Workspace(Protocol):
    """What the helper reads from the Databricks workspace."""

    def stacks(self) -> list[str]: ...  # the stacks that published their outputs here

    def read(self, path: str) -> bytes: ...

    def secret(self, scope: str, key: str) -> str: ...


class SdkWorkspace:
    """The workspace through databricks-sdk, signed in as the notebook's user (its notebook
    context on Databricks); secrets through `dbutils` when the notebook passes its own."""

    def __init__(self, dbutils: Any = None) -> None:
        from databricks.sdk import WorkspaceClient

        self.client = WorkspaceClient()
        self.dbutils = dbutils

    def stacks(self) -> list[str]:
        from databricks.sdk.errors import NotFound

        try:
            found = list(self.client.workspace.list(PUBLISHED_FOLDER))
        except NotFound:
            return []
        return sorted(str(o.path).rsplit("/", 1)[-1] for o in found if o.path)

    def read(self, path: str) -> bytes:
        import base64

        from databricks.sdk.service.workspace import ExportFormat

        exported = self.client.workspace.export(path, format=ExportFormat.AUTO)
        return base64.b64decode(exported.content or "")

    def secret(self, scope: str, key: str) -> str:
        utils = self.dbutils if self.dbutils is not None else self.client.dbutils
        return str(utils.secrets.get(scope=scope, key=key))


def configure(
    stack: str | None = None,
    *,
    dbutils: Any = None,
    env: MutableMapping[str, str] = os.environ,
    workspace: Callable[[], Workspace] | None = None,
    say: Callable[[str], None] = print,
) -> StackOutputs:
    """Find the stack's outputs, point MLflow at its tracking and registry, and give AzureML's
    plugin the service principal where the mode needs it; returns the outputs."""
    connected: list[Workspace] = []

    def connect() -> Workspace:  # once, and only where the workspace is read
        if not connected:
            connected.append(workspace() if workspace else SdkWorkspace(dbutils))
        return connected[0]

    outputs = find_outputs(stack, env=env, workspace=connect)
    uris = configure_mlflow(outputs)
    credential = _sign_in(outputs, env, connect, dbutils)
    say(_summary(outputs, uris, credential))
    return outputs


def find_outputs(
    stack: str | None,
    *,
    env: Mapping[str, str],
    workspace: Callable[[], Workspace],
) -> StackOutputs:
    """The stack's outputs from the first source that has them (see the module's doc)."""
    if env.get(OUTPUTS_FILE_ENV) or not env.get(DATABRICKS_RUNTIME_ENV):
        return load_outputs(env=env, run_cli=lambda: pulumi_stack_output(stack))
    marker = env.get(STACK_ENV)
    if marker and stack in (None, marker):
        return outputs_from_cluster_env(env)
    return published_outputs(workspace(), stack)


def published_outputs(workspace: Workspace, stack: str | None) -> StackOutputs:
    """The outputs a stack published in this workspace; `stack` picks one of several."""
    try:
        stacks = workspace.stacks()
    except Exception as error:  # the SDK's sign-in or HTTP errors: one clear message
        raise StackOutputsError(
            f"cannot list {PUBLISHED_FOLDER} in this workspace ({first_line(error)}): "
            f"set {OUTPUTS_FILE_ENV} to a file written by `pulumi stack output --json`"
        ) from None
    if stack is None:
        if not stacks:
            raise StackOutputsError(
                f"no stack has published its outputs in this workspace ({PUBLISHED_FOLDER} "
                "is empty or missing): run `pulumi up` for the stack, or set "
                f"{OUTPUTS_FILE_ENV} to a file written by `pulumi stack output --json`"
            )
        if len(stacks) > 1:
            raise StackOutputsError(
                f"{len(stacks)} stacks published their outputs in this workspace "
                f"({', '.join(stacks)}): say which, e.g. configure(stack={stacks[0]!r})"
            )
        stack = stacks[0]
    elif stack not in stacks:
        known = ", ".join(stacks) or "none"
        raise StackOutputsError(
            f"stack {stack!r} has published no outputs in this workspace (stacks here: {known})"
        )
    path = published_path(stack)
    try:
        raw = json.loads(workspace.read(path))
    except ValueError as error:
        raise StackOutputsError(f"{path} is not JSON ({error})") from None
    outputs = parse_outputs(raw, f"the outputs stack {stack!r} published at {path}")
    return _with_stack(outputs, stack, raw.get(SCOPE_READERS_KEY))


def _with_stack(outputs: StackOutputs, stack: str, readers: Any) -> StackOutputs:
    names = tuple(str(r) for r in readers) if isinstance(readers, list) else ()
    return replace(outputs, stack=stack, scope_readers=names)


def needs_service_principal(outputs: StackOutputs) -> bool:
    """Exclusive tracking and the AzureML registry reach AzureML as the service principal."""
    return (
        outputs.tracking_mode is TrackingMode.EXCLUSIVE
        or outputs.model_registry is ModelRegistry.AZUREML
    )


def _sign_in(
    outputs: StackOutputs,
    env: MutableMapping[str, str],
    workspace: Callable[[], Workspace],
    dbutils: Any = None,
) -> str | None:
    """The stack's service credential (mlflow_setup/service_credential.py), or the service
    principal's AZURE_* variables from the secret scope unless the compute has them already
    (the stack's cluster); what was done, for the summary."""
    if not needs_service_principal(outputs):
        return None
    if env.get("AZURE_CLIENT_SECRET"):
        return "the service principal from the cluster's environment"
    if not env.get(DATABRICKS_RUNTIME_ENV):  # off Databricks: the user's own Azure login
        return "your own Azure login (azure-identity's DefaultAzureCredential)"
    if outputs.service_credential:
        return sign_in_with_service_credential(outputs, dbutils)
    scope = outputs.secret_scope
    if not scope:
        raise MlflowSetupError(f"{outputs.source}: no 'secretScope' to read the credential from")
    values = read_credential(workspace(), scope, outputs.scope_readers)
    env.update(values)
    return f"the service principal {values['AZURE_CLIENT_ID']} from secret scope {scope!r}"


def read_credential(workspace: Workspace, scope: str, readers: Iterable[str]) -> dict[str, str]:
    """AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET from the stack's scope."""
    values = {}
    for variable, key in CREDENTIAL_ENV.items():
        try:
            values[variable] = workspace.secret(scope, key)
        except Exception as error:  # dbutils' and the SDK's errors differ: one clear message
            raise SecretScopeAccessError(_refusal(scope, key, error, list(readers))) from None
    return values


def _refusal(scope: str, key: str, error: Exception, readers: list[str]) -> str:
    who = ", ".join(readers) if readers else "nobody but the workspace admins and the deployer"
    return (
        f"cannot read {key!r} from secret scope {scope!r} ({first_line(error)}): the stack's "
        f"service principal is for the users in its cluster.users config, who may read the "
        f"scope: {who}. {ASK_TO_BE_ADDED}"
    )


def _summary(outputs: StackOutputs, uris: MlflowUris, credential: str | None) -> str:
    lines = [
        f"stack {outputs.stack or '?'!s}: {outputs.source}",
        f"tracking URI  {uris.tracking_uri} ({outputs.tracking_mode.value} tracking)",
        f"registry URI  {uris.registry_uri}",
    ]
    if credential:
        lines.append(f"signed in as  {credential}")
    return "\n".join(lines)
