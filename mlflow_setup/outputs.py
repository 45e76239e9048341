"""The stack's outputs, as notebooks see them: loaded from a file, the cluster or the Pulumi CLI.

Sources, first match wins (`load_outputs`):
1. the `path` argument: a file written by `pulumi stack output --json > outputs.json`;
2. the file named by the environment variable `STACK_OUTPUTS_FILE`;
3. on the stack's Databricks cluster (`DATABRICKS_RUNTIME_VERSION` and the stack's marker
   `DATABRICKS_AZUREML_STACK` are set), the `spark_env_vars` the stack set there:
   `MLFLOW_TRACKING_URI` (exclusive tracking only), `MLFLOW_REGISTRY_URI` and, under Unity Catalog,
   `DATABRICKS_AZUREML_MODEL_SCHEMA`, and the endpoints' names and URIs (`contract.SERVING_ENV`).
   They carry the MLflow and serving settings, not the Azure resource names: those are None.
   On any other cluster (no marker) this is an error that says what to do: the cluster's
   environment cannot tell which stack, mode or registry a run belongs to;
4. `pulumi stack output --json` when the Pulumi CLI is on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflow_setup.contract import (
    DATABRICKS,
    DATABRICKS_UC,
    MODEL_SCHEMA_ENV,
    MODEL_SCHEMA_OUTPUT,
    SERVICE_CREDENTIAL_ENV,
    SERVICE_CREDENTIAL_OUTPUT,
    SERVING_ENV,
    STACK_ENV,
    ModelRegistry,
    TrackingMode,
    tracking_settings,
)

OUTPUTS_FILE_ENV = "STACK_OUTPUTS_FILE"
DATABRICKS_RUNTIME_ENV = "DATABRICKS_RUNTIME_VERSION"
PROJECT_DIR = Path(__file__).resolve().parent.parent

# The path the azureml-mlflow plugin parses (azureml/mlflow/_internal/utils.py), anchored.
_AZUREML_PATH = re.compile(
    r"(?:/.*)?/subscriptions/(?P<subscription_id>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<workspace>[^/]+)"
)


class MlflowSetupError(Exception):
    """Base of every error this package raises."""


# What a user outside cluster.users is told to do, whichever grant they lack.
ASK_TO_BE_ADDED = (
    "Ask the stack's owner to add you (pulumi config set --path "
    "'databricks-azureml:cluster.users[0]' <you or your group>), then `pulumi up`"
)


def first_line(error: Exception) -> str:
    """An error's first line, or its type's name when it has no text: one-line messages."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class StackOutputsError(MlflowSetupError, ValueError):
    """Stack outputs missing or malformed; the message names each output and its source."""


@dataclass(frozen=True)
class AzureMLUri:
    """The parts of an AzureML MLflow URI (`azureml://<host>/mlflow/v1.0/subscriptions/...`)."""

    host: str
    subscription_id: str
    resource_group: str
    workspace: str


def parse_azureml_uri(uri: str) -> AzureMLUri | None:
    """The workspace an `azureml://` URI points at, or None when it is not one the plugin reads."""
    parts = urlsplit(uri)
    match = _AZUREML_PATH.fullmatch(parts.path)
    if parts.scheme != "azureml" or not parts.netloc or match is None:
        return None
    return AzureMLUri(parts.netloc, **match.groupdict())


def _is_tracking_server(uri: str) -> bool:
    """An MLflow tracking server's http(s) URI: stands in for AzureML in tests and local runs."""
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class StackOutputs:
    """The stack outputs a notebook needs, parsed and checked.

    Read from a cluster's environment, only the MLflow settings are known and the Azure resource
    fields are None; from a file or the Pulumi CLI every output is required.
    """

    source: str  # where these came from, for messages
    tracking_mode: TrackingMode
    model_registry: ModelRegistry
    mlflow_tracking_uri: str | None  # the AzureML URI (None: dual mode, read from the cluster)
    mlflow_registry_uri: str  # "databricks-uc", "databricks" or the AzureML URI
    private_link: bool | None = None
    resource_group_name: str | None = None
    location: str | None = None
    aml_workspace_name: str | None = None
    aml_workspace_id: str | None = None
    databricks_workspace_url: str | None = None
    databricks_workspace_id: str | None = None
    cluster_id: str | None = None
    secret_scope: str | None = None
    endpoint_name: str | None = None  # None: the stack serves no model (no `endpoint` config)
    endpoint_scoring_uri: str | None = None
    batch_endpoint_name: str | None = None  # None: no `batchEndpoint` config
    batch_endpoint_uri: str | None = None  # https://<name>.<region>.inference.ml.azure.com/jobs
    model_schema: str | None = None  # `<catalog>.<schema>` under unity-catalog
    stack: str | None = None  # the stack's name: its cluster's marker, or where it published
    # who may read the secret scope (`cluster.users`), from the published outputs
    scope_readers: tuple[str, ...] = ()
    # the Unity Catalog service credential to sign in to AzureML with (no service principal)
    service_credential: str | None = None


# Output name -> StackOutputs field, in the order of the output contract.
_STRING_OUTPUTS = {
    "resourceGroupName": "resource_group_name",
    "location": "location",
    "amlWorkspaceName": "aml_workspace_name",
    "amlWorkspaceId": "aml_workspace_id",
    "databricksWorkspaceUrl": "databricks_workspace_url",
    "databricksWorkspaceId": "databricks_workspace_id",
    "clusterId": "cluster_id",
}


class _Reader:
    """Reads outputs from `raw`, noting every problem instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            self.problems.append(f"stack output '{name}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"stack output '{name}' is {value!r}, expected a non-empty string")
            return None
        return value

    def choice(self, name: str, allowed: type[StrEnum]) -> str | None:
        value = self.text(name)
        if value is not None and value not in {member.value for member in allowed}:
            expected = " or ".join(repr(member.value) for member in allowed)
            self.problems.append(f"stack output '{name}' is {value!r}, expected {expected}")
            return None
        return value

    def flag(self, name: str) -> bool | None:
        value = self.raw.get(name)
        if value is None:
            self.problems.append(f"stack output '{name}' is missing")
        elif not isinstance(value, bool):
            self.problems.append(f"stack output '{name}' is {value!r}, expected true or false")
            return None
        return value


def parse_outputs(raw: Any, source: str) -> StackOutputs:
    """Check the JSON object `pulumi stack output --json` prints; every problem in one error."""
    if not isinstance(raw, Mapping):
        raise StackOutputsError(
            f"{source}: expected a JSON object of stack outputs, got {type(raw).__name__}"
        )
    read = _Reader(raw)
    mode = read.choice("trackingMode", TrackingMode)
    registry = read.choice("modelRegistry", ModelRegistry)
    tracking_mode = TrackingMode(mode) if mode else None
    model_registry = ModelRegistry(registry) if registry else None
    private_link = read.flag("privateLink")
    strings = {field: read.text(name) for name, field in _STRING_OUTPUTS.items()}
    secret_scope = read.text("secretScope")
    tracking_uri = read.text("mlflowTrackingUri")
    registry_uri = read.text("mlflowRegistryUri")
    problems = read.problems
    if tracking_uri is not None:
        problems += _tracking_uri_problems(tracking_uri, strings["aml_workspace_name"])
    if registry_uri and tracking_uri and model_registry and tracking_mode:
        expected = tracking_settings(tracking_mode, model_registry, tracking_uri).registry_uri
        if registry_uri != expected:
            problems.append(
                f"stack output 'mlflowRegistryUri' is {registry_uri!r}, but with modelRegistry "
                f"{model_registry.value!r} it must be {expected!r}"
            )
    if private_link and tracking_mode is TrackingMode.DUAL:
        problems.append(
            "stack outputs 'privateLink' true and 'trackingMode' 'dual' contradict each other: "
            "dual-tracking isn't supported with a private-link AzureML workspace"
        )
    problems += _shape_problems(raw, strings["databricks_workspace_url"])
    endpoint = _endpoint_outputs(raw, problems)
    batch = _batch_endpoint_outputs(raw, problems)
    model_schema = _model_schema_output(raw, model_registry, problems)
    service_credential = _service_credential_output(raw, problems)

    if problems or tracking_mode is None or model_registry is None or registry_uri is None:
        raise StackOutputsError(f"{source}: " + "; ".join(problems))
    return StackOutputs(
        source=source,
        tracking_mode=tracking_mode,
        model_registry=model_registry,
        mlflow_tracking_uri=tracking_uri,
        mlflow_registry_uri=registry_uri,
        private_link=private_link,
        secret_scope=secret_scope,
        **strings,
        **endpoint,
        **batch,
        model_schema=model_schema,
        service_credential=service_credential,
    )


def _tracking_uri_problems(tracking_uri: str, workspace: str | None) -> list[str]:
    """The tracking URI is the AzureML workspace's (or a tracking server's), and names the
    workspace the outputs name (AzureML names are case-insensitive)."""
    parsed = parse_azureml_uri(tracking_uri)
    if parsed is None and not _is_tracking_server(tracking_uri):
        return [
            f"stack output 'mlflowTrackingUri' is {tracking_uri!r}, expected the AzureML "
            "workspace's azureml://<host>/mlflow/v1.0/subscriptions/<id>/resourceGroups/<rg>"
            "/providers/Microsoft.MachineLearningServices/workspaces/<name> URI "
            "(or an http(s) MLflow tracking server standing in for it)"
        ]
    if parsed and workspace and parsed.workspace.lower() != workspace.lower():
        return [
            f"stack output 'mlflowTrackingUri' points at workspace {parsed.workspace!r}, "
            f"but 'amlWorkspaceName' is {workspace!r}"
        ]
    return []


def _shape_problems(raw: Mapping[str, Any], url: str | None) -> list[str]:
    """The workspace ids are ARM ids and the Databricks URL is https."""
    problems = []
    for name in ("amlWorkspaceId", "databricksWorkspaceId"):
        value = raw.get(name)
        if isinstance(value, str) and value.strip() and not value.startswith("/subscriptions/"):
            problems.append(
                f"stack output '{name}' is {value!r}, expected an ARM id (/subscriptions/...)"
            )
    if url is not None and not _is_https(url):
        problems.append(
            f"stack output 'databricksWorkspaceUrl' is {url!r}, expected https://<host>"
        )
    return problems


def _is_https(url: str) -> bool:
    return url.startswith("https://") and bool(urlsplit(url).netloc)


def _model_schema_output(
    raw: Mapping[str, Any], registry: ModelRegistry | None, problems: list[str]
) -> str | None:
    """`modelSchema`: `<catalog>.<schema>` under unity-catalog, absent or null otherwise."""
    value = raw.get(MODEL_SCHEMA_OUTPUT)
    if registry is ModelRegistry.UNITY_CATALOG:
        if not _is_model_schema(value):
            problems.append(
                f"stack output '{MODEL_SCHEMA_OUTPUT}' is {value!r}, expected "
                "'<catalog>.<schema>' with modelRegistry 'unity-catalog'"
            )
            return None
        return value
    if value is not None and registry is not None:
        problems.append(
            f"stack output '{MODEL_SCHEMA_OUTPUT}' is {value!r}, but modelRegistry "
            f"{registry.value!r} registers no models in Unity Catalog"
        )
    return None


def _service_credential_output(raw: Mapping[str, Any], problems: list[str]) -> str | None:
    """`serviceCredential`: the credential's name, or absent or null (a service principal)."""
    value = raw.get(SERVICE_CREDENTIAL_OUTPUT)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(
            f"stack output '{SERVICE_CREDENTIAL_OUTPUT}' is {value!r}, expected the name of "
            "the stack's Unity Catalog service credential or null"
        )
        return None
    return value


def _is_model_schema(value: Any) -> bool:
    return isinstance(value, str) and len(value.split(".")) == 2 and all(value.split("."))


def _endpoint_outputs(raw: Mapping[str, Any], problems: list[str]) -> dict[str, str | None]:
    """`endpointName` and `endpointScoringUri`: both strings, or both absent or null."""
    name, uri = _named_uri(
        raw, problems, ("endpointName", "endpointScoringUri"), "inference.ml.azure.com/score"
    )
    return {"endpoint_name": name, "endpoint_scoring_uri": uri}


def _batch_endpoint_outputs(raw: Mapping[str, Any], problems: list[str]) -> dict[str, str | None]:
    """`batchEndpointName` and `batchEndpointUri`: both strings, or both absent or null."""
    name, uri = _named_uri(
        raw, problems, ("batchEndpointName", "batchEndpointUri"), "inference.ml.azure.com/jobs"
    )
    return {"batch_endpoint_name": name, "batch_endpoint_uri": uri}


def _named_uri(
    raw: Mapping[str, Any], problems: list[str], keys: tuple[str, str], shape: str
) -> tuple[str | None, str | None]:
    """An endpoint's name and https URI: both strings, or both absent or null (and both None
    with a problem noted)."""
    name_key, uri_key = keys
    name, uri = raw.get(name_key), raw.get(uri_key)
    for key, value in ((name_key, name), (uri_key, uri)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            problems.append(f"stack output '{key}' is {value!r}, expected a non-empty string")
            return None, None
    if (name is None) != (uri is None):
        given, missing = (name_key, uri_key) if uri is None else (uri_key, name_key)
        problems.append(f"stack output '{given}' is set but '{missing}' is missing")
        return None, None
    if uri is not None and not _is_https(uri):
        problems.append(
            f"stack output '{uri_key}' is {uri!r}, expected https://<endpoint>.<region>.{shape}"
        )
        return None, None
    return name, uri


def outputs_from_cluster_env(env: Mapping[str, str]) -> StackOutputs:
    """The MLflow settings the stack put into its cluster's `spark_env_vars`."""
    stack = env.get(STACK_ENV, "").strip()
    if not stack:
        raise StackOutputsError(
            "this Databricks cluster is not the stack's (no "
            f"{STACK_ENV} in its environment), so its environment does not say where runs and "
            "models go: attach the notebook to the stack's cluster (stack output 'clusterId'), "
            f"or set {OUTPUTS_FILE_ENV} to a file written by `pulumi stack output --json` "
            "(or pass its path to load_outputs)"
        )
    source = f"the environment of the cluster of stack {stack!r}"
    problems: list[str] = []
    uris: dict[str, str | None] = {}
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        value = env.get(name, "").strip()
        if value in ("", DATABRICKS, DATABRICKS_UC):
            uris[name] = None
        elif parse_azureml_uri(value) is None and not _is_tracking_server(value):
            problems.append(
                f"{name} is {value!r}, expected 'databricks' or the AzureML workspace's "
                "azureml://<host>/mlflow/v1.0/subscriptions/.../workspaces/<name> URI"
            )
        else:
            uris[name] = value
    tracking_uri = uris.get("MLFLOW_TRACKING_URI")
    registry_uri = uris.get("MLFLOW_REGISTRY_URI")
    registry_value = env.get("MLFLOW_REGISTRY_URI", "").strip()
    if not registry_value:
        problems.append(
            "MLFLOW_REGISTRY_URI is not set; the stack sets it on its cluster: run `pulumi up`"
        )
    if tracking_uri and registry_uri and tracking_uri != registry_uri:
        problems.append(
            f"MLFLOW_REGISTRY_URI is {registry_uri!r}, but the stack sets it to the tracking URI "
            f"{tracking_uri!r}"
        )
    registry = (
        ModelRegistry.AZUREML
        if registry_uri
        else ModelRegistry.UNITY_CATALOG
        if registry_value == DATABRICKS_UC
        else ModelRegistry.DATABRICKS
    )
    model_schema = env.get(MODEL_SCHEMA_ENV, "").strip() or None
    if registry is ModelRegistry.UNITY_CATALOG and not _is_model_schema(model_schema):
        problems.append(
            f"{MODEL_SCHEMA_ENV} is {model_schema!r}, expected '<catalog>.<schema>' with "
            f"MLFLOW_REGISTRY_URI {DATABRICKS_UC}"
        )
    serving = _serving_from_env(env, problems)
    if problems:
        raise StackOutputsError(f"{source}: " + "; ".join(problems))
    parsed = parse_azureml_uri(tracking_uri or registry_uri or "")
    return StackOutputs(
        source=source,
        tracking_mode=TrackingMode.EXCLUSIVE if tracking_uri else TrackingMode.DUAL,
        model_registry=registry,
        mlflow_tracking_uri=tracking_uri or registry_uri,
        mlflow_registry_uri=registry_uri or registry_value,
        resource_group_name=parsed.resource_group if parsed else None,
        aml_workspace_name=parsed.workspace if parsed else None,
        model_schema=model_schema if registry is ModelRegistry.UNITY_CATALOG else None,
        stack=stack,
        service_credential=env.get(SERVICE_CREDENTIAL_ENV, "").strip() or None,
        **serving,
    )


def _serving_from_env(env: Mapping[str, str], problems: list[str]) -> dict[str, str | None]:
    """The endpoints' names and URIs the stack put on its cluster (contract.SERVING_ENV), checked
    like the stack outputs they copy; absent when the stack has no such endpoint."""
    raw = {output: env[var].strip() or None for var, output in SERVING_ENV.items() if var in env}
    return {**_endpoint_outputs(raw, problems), **_batch_endpoint_outputs(raw, problems)}


def read_outputs_file(path: str | os.PathLike[str]) -> StackOutputs:
    """Parse a file written by `pulumi stack output --json`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise StackOutputsError(
            f"cannot read stack outputs file {str(path)!r}: {error.strerror or error}; "
            "write it with `pulumi stack output --json > outputs.json`"
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise StackOutputsError(
            f"stack outputs file {str(path)!r} is not JSON ({error.msg} at line {error.lineno}); "
            "write it with `pulumi stack output --json`"
        ) from None
    return parse_outputs(raw, f"stack outputs file {str(path)!r}")


def pulumi_stack_output(stack: str | None = None, cwd: Path | None = None) -> str | None:
    """`pulumi stack output --json` of the project's selected (or given) stack.

    Run in `cwd`, by default this repository when the helper runs from it, else the current
    folder (the helper installed with pip). None when the Pulumi CLI is not on PATH; a
    StackOutputsError when it fails.
    """
    if cwd is None and (PROJECT_DIR / "Pulumi.yaml").is_file():
        cwd = PROJECT_DIR
    exe = shutil.which("pulumi")
    if exe is None:
        return None
    command = [exe, "stack", "output", "--json", *(["--stack", stack] if stack else [])]
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired:
        raise StackOutputsError("`pulumi stack output --json` did not answer in 120 s") from None
    if done.returncode != 0:
        detail = done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}"
        raise StackOutputsError(f"`pulumi stack output --json` failed: {detail}")
    return done.stdout


def load_outputs(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] = os.environ,
    run_cli: Callable[[], str | None] = pulumi_stack_output,
) -> StackOutputs:
    """The stack outputs from the first source that has them (see the module's doc)."""
    if path is not None:
        return read_outputs_file(path)
    if env.get(OUTPUTS_FILE_ENV):
        return read_outputs_file(env[OUTPUTS_FILE_ENV])
    if env.get(DATABRICKS_RUNTIME_ENV):
        return outputs_from_cluster_env(env)
    text = run_cli()
    if text is None:
        raise StackOutputsError(
            "no stack outputs found: pass a path, set "
            f"{OUTPUTS_FILE_ENV}=<file written by `pulumi stack output --json`>, run on the "
            "stack's Databricks cluster, or install the Pulumi CLI and select the stack"
        )
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise StackOutputsError(
            f"`pulumi stack output --json` printed no JSON ({error.msg})"
        ) from None
    return parse_outputs(raw, "`pulumi stack output --json`")
