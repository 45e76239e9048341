"""The notebook helper: stack outputs loaded and checked, MLflow configured, experiments named."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import mlflow
import mlflow.tracking._model_registry.utils as registry_utils
import mlflow.tracking._tracking_service.utils as tracking_utils
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlflow_setup import (
    OUTPUT_NAMES,
    AzureMLPluginMissingError,
    ExperimentNameError,
    ModelLoggingError,
    ModelNameError,
    ModelRegistry,
    StackOutputsError,
    TrackingMode,
    configure_mlflow,
    experiment_name,
    load_outputs,
    log_model_files,
    parse_azureml_uri,
    pulumi_stack_output,
    registered_model_name,
    registers_from_files,
)
from mlflow_setup.outputs import outputs_from_cluster_env, parse_outputs
from mlflow_setup.scoring import EndpointScoringError, endpoint_scoring_uri

SUB = "00000000-1111-2222-3333-444444444444"
RG = "mlflow-dev-rg"
WS = "mlflow-dev-aml"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
AML_ID = f"{RG_ID}/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
AML_URI = f"azureml://westeurope.api.azureml.ms/mlflow/v1.0{AML_ID}"
ADB_ID = f"{RG_ID}/providers/Microsoft.Databricks/workspaces/mlflow-dev-adb"


def no_cli() -> None:
    """A Pulumi CLI that is not installed."""
    return None


def stack_outputs(**overrides: Any) -> dict[str, Any]:
    """What `pulumi stack output --json` prints for the dev stack (dual, databricks registry)."""
    outputs = {
        "resourceGroupName": RG,
        "location": "westeurope",
        "trackingMode": "dual",
        "modelRegistry": "databricks",
        "privateLink": False,
        "amlWorkspaceName": WS,
        "amlWorkspaceId": AML_ID,
        "mlflowTrackingUri": AML_URI,
        "mlflowRegistryUri": "databricks",
        "databricksWorkspaceUrl": "https://adb-1234567890123456.7.azuredatabricks.net",
        "databricksWorkspaceId": ADB_ID,
        "clusterId": "0101-120000-abcdefgh",
        "secretScope": "mlflow-dev-scope",
    }
    outputs.update(overrides)
    return outputs


EXCLUSIVE = {"trackingMode": "exclusive", "modelRegistry": "azureml", "mlflowRegistryUri": AML_URI}
# The environment of the stack's cluster (dev stack): the marker and, per registry, the rest.
STACK_CLUSTER = {"DATABRICKS_RUNTIME_VERSION": "17.3", "DATABRICKS_AZUREML_STACK": "dev"}
UC_CLUSTER = {
    **STACK_CLUSTER,
    "MLFLOW_REGISTRY_URI": "databricks-uc",
    "DATABRICKS_AZUREML_MODEL_SCHEMA": "mlflow_dev_dbw.default",
}


def write(path: Path, outputs: Any) -> Path:
    path.write_text(json.dumps(outputs), encoding="utf-8")
    return path


def problem_with(outputs: dict[str, Any]) -> str:
    with pytest.raises(StackOutputsError) as caught:
        parse_outputs(outputs, "test outputs")
    return str(caught.value)


@pytest.fixture
def mlflow_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's process-wide URIs (and the env vars it mirrors them in) restored after the test."""
    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(name, raising=False)


# --- reading and checking the outputs ---------------------------------------------------------


def test_outputs_file_is_parsed_into_every_field(tmp_path: Path) -> None:
    path = write(tmp_path / "outputs.json", stack_outputs())

    outputs = load_outputs(path, env={}, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.DUAL
    assert outputs.model_registry is ModelRegistry.DATABRICKS
    assert outputs.mlflow_tracking_uri == AML_URI
    assert outputs.mlflow_registry_uri == "databricks"
    assert outputs.private_link is False
    assert outputs.resource_group_name == RG
    assert outputs.location == "westeurope"
    assert outputs.aml_workspace_name == WS
    assert outputs.aml_workspace_id == AML_ID
    assert outputs.databricks_workspace_url == "https://adb-1234567890123456.7.azuredatabricks.net"
    assert outputs.databricks_workspace_id == ADB_ID
    assert outputs.cluster_id == "0101-120000-abcdefgh"
    assert outputs.secret_scope == "mlflow-dev-scope"
    assert str(path) in outputs.source


def test_exclusive_private_link_outputs_with_azureml_registry_are_accepted() -> None:
    outputs = parse_outputs(stack_outputs(privateLink=True, **EXCLUSIVE), "test")

    assert outputs.tracking_mode is TrackingMode.EXCLUSIVE
    assert outputs.model_registry is ModelRegistry.AZUREML
    assert outputs.mlflow_registry_uri == AML_URI
    assert outputs.private_link is True


def test_outputs_are_frozen() -> None:
    outputs = parse_outputs(stack_outputs(), "test")
    with pytest.raises(AttributeError):
        outputs.tracking_mode = TrackingMode.EXCLUSIVE  # type: ignore[misc]


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_missing_output_is_named(name: str) -> None:
    outputs = stack_outputs()
    del outputs[name]

    assert f"stack output '{name}' is missing" in problem_with(outputs)


def test_outputs_the_helper_does_not_know_are_ignored() -> None:
    outputs = parse_outputs(stack_outputs(somethingNew="x"), "test")

    assert outputs.tracking_mode is TrackingMode.DUAL


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("trackingMode", "both", "'trackingMode' is 'both', expected 'dual' or 'exclusive'"),
        ("modelRegistry", "mlflow", "'modelRegistry' is 'mlflow', expected 'unity-catalog' or "),
        ("privateLink", "false", "'privateLink' is 'false', expected true or false"),
        ("clusterId", 42, "'clusterId' is 42, expected a non-empty string"),
        ("location", "  ", "'location' is '  ', expected a non-empty string"),
        ("mlflowTrackingUri", "databricks", "'mlflowTrackingUri' is 'databricks', expected the "),
        ("mlflowTrackingUri", AML_URI.split("/resourceGroups")[0],
         "'mlflowTrackingUri' is 'azureml://westeurope"),
        ("mlflowTrackingUri", "azureml:///subscriptions/s/resourceGroups/r/providers/"
         "Microsoft.MachineLearningServices/workspaces/w", "'mlflowTrackingUri' is 'azureml:///"),
        ("mlflowTrackingUri", "file:///tmp/mlruns", "'mlflowTrackingUri' is 'file:///tmp/mlruns'"),
        ("databricksWorkspaceUrl", "adb-1.7.azuredatabricks.net", "expected https://<host>"),
        ("amlWorkspaceId", WS, f"'amlWorkspaceId' is {WS!r}, expected an ARM id"),
        ("databricksWorkspaceId", "adb-1", "'databricksWorkspaceId' is 'adb-1', expected an ARM"),
    ],
)  # fmt: skip
def test_malformed_output_is_named_with_its_value(name: str, value: Any, expected: str) -> None:
    assert expected in problem_with(stack_outputs(**{name: value}))


def test_every_problem_is_reported_at_once_with_the_source(tmp_path: Path) -> None:
    path = write(tmp_path / "outputs.json", stack_outputs(trackingMode="both", clusterId=None))

    with pytest.raises(StackOutputsError) as caught:
        load_outputs(path, env={}, run_cli=no_cli)

    message = str(caught.value)
    assert str(path) in message
    assert "'trackingMode' is 'both'" in message
    assert "'clusterId' is missing" in message


def test_tracking_uri_of_another_workspace_is_rejected() -> None:
    other = AML_URI.replace(f"workspaces/{WS}", "workspaces/someone-else")

    message = problem_with(stack_outputs(mlflowTrackingUri=other))

    assert "points at workspace 'someone-else', but 'amlWorkspaceName' is" in message


@pytest.mark.parametrize(
    ("registry", "registry_uri", "expected"),
    [
        ("databricks", AML_URI, "with modelRegistry 'databricks' it must be 'databricks'"),
        ("azureml", "databricks", f"with modelRegistry 'azureml' it must be {AML_URI!r}"),
        ("azureml", AML_URI.replace("westeurope", "eastus"), "it must be"),
    ],
)
def test_registry_uri_must_match_the_model_registry(
    registry: str, registry_uri: str, expected: str
) -> None:
    outputs = stack_outputs(modelRegistry=registry, mlflowRegistryUri=registry_uri)

    assert expected in problem_with(outputs)


def test_private_link_with_dual_tracking_is_rejected() -> None:
    message = problem_with(stack_outputs(privateLink=True))

    assert "dual-tracking isn't supported with a private-link AzureML workspace" in message


def test_tracking_uri_as_azureml_returns_it_with_a_query_is_accepted() -> None:
    uri = AML_URI + "?"
    outputs = parse_outputs(stack_outputs(mlflowTrackingUri=uri), "test")

    assert outputs.mlflow_tracking_uri == uri


def test_an_http_tracking_server_may_stand_in_for_azureml() -> None:
    server = "http://127.0.0.1:5000"
    outputs = stack_outputs(mlflowTrackingUri=server, **{**EXCLUSIVE, "mlflowRegistryUri": server})

    assert parse_outputs(outputs, "test").mlflow_tracking_uri == server


def test_missing_outputs_file_names_the_path_and_the_command(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"

    with pytest.raises(StackOutputsError, match="pulumi stack output --json") as caught:
        load_outputs(path, env={}, run_cli=no_cli)

    assert str(path) in str(caught.value)


def test_outputs_file_that_is_not_json_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text("Current stack outputs (13):\n", encoding="utf-8")

    with pytest.raises(StackOutputsError, match="is not JSON"):
        load_outputs(path, env={}, run_cli=no_cli)


def test_outputs_file_holding_a_list_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "outputs.json", [stack_outputs()])

    with pytest.raises(
        StackOutputsError, match="expected a JSON object of stack outputs, got list"
    ):
        load_outputs(path, env={}, run_cli=no_cli)


# --- where the outputs come from --------------------------------------------------------------


def test_explicit_path_wins_over_the_outputs_file_variable(tmp_path: Path) -> None:
    given_path = write(tmp_path / "given.json", stack_outputs(**EXCLUSIVE))
    env_path = write(tmp_path / "env.json", stack_outputs())

    outputs = load_outputs(given_path, env={"STACK_OUTPUTS_FILE": str(env_path)}, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.EXCLUSIVE


def test_outputs_file_variable_wins_over_the_cluster_environment(tmp_path: Path) -> None:
    path = write(tmp_path / "outputs.json", stack_outputs(**EXCLUSIVE))
    env = {"STACK_OUTPUTS_FILE": str(path), "DATABRICKS_RUNTIME_VERSION": "17.3"}

    outputs = load_outputs(env=env, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.EXCLUSIVE
    assert outputs.cluster_id == "0101-120000-abcdefgh"


def test_exclusive_cluster_environment_gives_azureml_tracking_and_registry() -> None:
    env = {
        **STACK_CLUSTER,
        "MLFLOW_TRACKING_URI": AML_URI,
        "MLFLOW_REGISTRY_URI": AML_URI,
    }

    outputs = load_outputs(env=env, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.EXCLUSIVE
    assert outputs.model_registry is ModelRegistry.AZUREML
    assert outputs.mlflow_tracking_uri == AML_URI
    assert outputs.aml_workspace_name == WS
    assert outputs.resource_group_name == RG
    assert outputs.cluster_id is None  # the cluster's env does not carry it
    assert outputs.source == "the environment of the cluster of stack 'dev'"
    assert outputs.stack == "dev"


def test_exclusive_cluster_registering_in_databricks_keeps_the_databricks_registry() -> None:
    env = {
        **STACK_CLUSTER,
        "MLFLOW_TRACKING_URI": AML_URI,
        "MLFLOW_REGISTRY_URI": "databricks",
    }

    outputs = load_outputs(env=env, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.EXCLUSIVE
    assert outputs.model_registry is ModelRegistry.DATABRICKS
    assert outputs.mlflow_registry_uri == "databricks"


def test_dual_cluster_with_the_legacy_registry_is_dual_with_the_databricks_registry() -> None:
    env = {**STACK_CLUSTER, "MLFLOW_REGISTRY_URI": "databricks"}

    outputs = load_outputs(env=env, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.DUAL
    assert outputs.model_registry is ModelRegistry.DATABRICKS
    assert outputs.mlflow_registry_uri == "databricks"
    assert outputs.mlflow_tracking_uri is None
    assert outputs.model_schema is None


def test_dual_cluster_with_unity_catalog_registers_in_the_stacks_schema() -> None:
    env = {**UC_CLUSTER}

    outputs = load_outputs(env=env, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.DUAL
    assert outputs.model_registry is ModelRegistry.UNITY_CATALOG
    assert outputs.mlflow_registry_uri == "databricks-uc"
    assert outputs.model_schema == "mlflow_dev_dbw.default"
    assert registered_model_name(outputs, "Iris") == "mlflow_dev_dbw.default.iris"


def test_stack_cluster_with_endpoints_gives_their_names_and_uris() -> None:
    env = {
        **UC_CLUSTER,
        "DATABRICKS_AZUREML_ENDPOINT_NAME": "mlflow-dev-ep-abc123",
        "DATABRICKS_AZUREML_ENDPOINT_SCORING_URI": (
            "https://mlflow-dev-ep-abc123.westeurope.inference.ml.azure.com/score"
        ),
        "DATABRICKS_AZUREML_BATCH_ENDPOINT_NAME": "mlflow-dev-be-abc123",
        "DATABRICKS_AZUREML_BATCH_ENDPOINT_URI": (
            "https://mlflow-dev-be-abc123.westeurope.inference.ml.azure.com/jobs"
        ),
    }

    outputs = load_outputs(env=env, run_cli=no_cli)

    assert outputs.endpoint_name == "mlflow-dev-ep-abc123"
    assert endpoint_scoring_uri(outputs) == (
        "https://mlflow-dev-ep-abc123.westeurope.inference.ml.azure.com/score"
    )
    assert outputs.batch_endpoint_name == "mlflow-dev-be-abc123"
    assert outputs.batch_endpoint_uri == (
        "https://mlflow-dev-be-abc123.westeurope.inference.ml.azure.com/jobs"
    )


def test_stack_cluster_without_endpoint_variables_has_no_endpoint() -> None:
    outputs = load_outputs(env=UC_CLUSTER, run_cli=no_cli)

    assert outputs.endpoint_scoring_uri is None
    assert outputs.batch_endpoint_uri is None
    with pytest.raises(EndpointScoringError, match=r"of stack 'dev': the stack has no online"):
        endpoint_scoring_uri(outputs)


def test_stack_cluster_with_an_endpoint_name_but_no_uri_is_rejected() -> None:
    env = {**UC_CLUSTER, "DATABRICKS_AZUREML_ENDPOINT_NAME": "mlflow-dev-ep-abc123"}

    with pytest.raises(StackOutputsError, match=r"'endpointName' is set but 'endpointScoringUri'"):
        load_outputs(env=env, run_cli=no_cli)


def test_stack_cluster_with_a_plain_http_batch_uri_is_rejected() -> None:
    env = {
        **UC_CLUSTER,
        "DATABRICKS_AZUREML_BATCH_ENDPOINT_NAME": "b",
        "DATABRICKS_AZUREML_BATCH_ENDPOINT_URI": "http://b.westeurope.inference.ml.azure.com/jobs",
    }

    with pytest.raises(StackOutputsError, match=r"'batchEndpointUri' is 'http://"):
        load_outputs(env=env, run_cli=no_cli)


def test_unity_catalog_cluster_without_its_schema_is_rejected() -> None:
    env = {**STACK_CLUSTER, "MLFLOW_REGISTRY_URI": "databricks-uc"}

    with pytest.raises(StackOutputsError, match=r"DATABRICKS_AZUREML_MODEL_SCHEMA is None"):
        load_outputs(env=env, run_cli=no_cli)


def test_stack_cluster_without_registry_variable_is_rejected_not_guessed() -> None:
    with pytest.raises(StackOutputsError, match=r"MLFLOW_REGISTRY_URI is not set.*pulumi up"):
        load_outputs(env=STACK_CLUSTER, run_cli=no_cli)


@pytest.mark.parametrize(
    "env",
    [
        {"DATABRICKS_RUNTIME_VERSION": "17.3"},
        {"DATABRICKS_RUNTIME_VERSION": "17.3", "MLFLOW_REGISTRY_URI": "databricks-uc"},
        {"DATABRICKS_RUNTIME_VERSION": "17.3", "MLFLOW_TRACKING_URI": AML_URI},
    ],
    ids=["bare", "registry-only", "tracking-only"],
)
def test_a_cluster_that_is_not_the_stacks_is_refused_with_what_to_do(env) -> None:
    """A personal cluster says nothing about the stack's mode: no guess, an instruction."""
    with pytest.raises(StackOutputsError) as caught:
        load_outputs(env=env, run_cli=lambda: pytest.fail("the CLI is not asked on a cluster"))

    message = str(caught.value)
    assert "not the stack's (no DATABRICKS_AZUREML_STACK" in message
    assert "stack output 'clusterId'" in message
    assert "STACK_OUTPUTS_FILE" in message


def test_dual_cluster_with_registry_variable_registers_in_azureml() -> None:
    env = {**STACK_CLUSTER, "MLFLOW_REGISTRY_URI": AML_URI}

    outputs = load_outputs(env=env, run_cli=no_cli)

    assert outputs.tracking_mode is TrackingMode.DUAL
    assert outputs.model_registry is ModelRegistry.AZUREML
    assert outputs.mlflow_registry_uri == AML_URI


def test_cluster_tracking_uri_that_is_not_azureml_is_rejected() -> None:
    env = {
        **STACK_CLUSTER,
        "MLFLOW_TRACKING_URI": "azureml://westeurope.api.azureml.ms/mlflow/v1.0",
    }

    with pytest.raises(StackOutputsError, match=r"MLFLOW_TRACKING_URI is 'azureml://westeurope"):
        outputs_from_cluster_env(env)


def test_cluster_registry_uri_other_than_the_tracking_uri_is_rejected() -> None:
    other = AML_URI.replace(WS, "other-ws")
    env = {**STACK_CLUSTER, "MLFLOW_TRACKING_URI": AML_URI, "MLFLOW_REGISTRY_URI": other}

    with pytest.raises(StackOutputsError, match=r"MLFLOW_REGISTRY_URI is .*other-ws"):
        outputs_from_cluster_env(env)


def test_mlflow_variables_off_a_cluster_are_not_taken_for_stack_outputs() -> None:
    env = {"MLFLOW_TRACKING_URI": AML_URI}

    with pytest.raises(StackOutputsError, match="no stack outputs found") as caught:
        load_outputs(env=env, run_cli=no_cli)

    assert "STACK_OUTPUTS_FILE" in str(caught.value)


def test_pulumi_cli_outputs_are_used_last() -> None:
    outputs = load_outputs(env={}, run_cli=lambda: json.dumps(stack_outputs(**EXCLUSIVE)))

    assert outputs.tracking_mode is TrackingMode.EXCLUSIVE
    assert "pulumi stack output" in outputs.source


def test_pulumi_cli_printing_no_json_is_rejected() -> None:
    with pytest.raises(StackOutputsError, match="printed no JSON"):
        load_outputs(env={}, run_cli=lambda: "error: no stack selected")


def fake_pulumi(bin_dir: Path, script: str) -> None:
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def test_pulumi_stack_output_runs_the_cli_in_the_project_for_the_given_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs_file = write(tmp_path / "outputs.json", stack_outputs())
    args_file = tmp_path / "args.txt"
    fake_pulumi(
        tmp_path / "bin",
        f'echo "$* @ $(pwd)" > {args_file}\nexec cat {outputs_file}\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    text = pulumi_stack_output(stack="dev", cwd=tmp_path)

    assert json.loads(text or "") == stack_outputs()
    assert (
        args_file.read_text(encoding="utf-8").strip()
        == f"stack output --json --stack dev @ {tmp_path}"
    )


def test_failing_pulumi_cli_reports_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_pulumi(tmp_path / "bin", "echo 'error: no stack named dev found' >&2\nexit 255\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))

    with pytest.raises(StackOutputsError, match="failed: error: no stack named dev found"):
        pulumi_stack_output(stack="dev", cwd=tmp_path)


def test_pulumi_stack_output_is_none_without_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert pulumi_stack_output() is None


@given(
    host=st.from_regex(r"[a-z0-9]+(\.[a-z0-9]+){0,4}", fullmatch=True),
    subscription=st.uuids().map(str),
    group=st.from_regex(r"[A-Za-z0-9_\-.()]{0,89}[A-Za-z0-9_\-()]", fullmatch=True),
    workspace=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_\-]{2,32}", fullmatch=True),
)
def test_azureml_uri_gives_back_the_workspace_it_was_built_from(
    host: str, subscription: str, group: str, workspace: str
) -> None:
    uri = (
        f"azureml://{host}/mlflow/v1.0/subscriptions/{subscription}/resourceGroups/{group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}"
    )

    parsed = parse_azureml_uri(uri)

    assert parsed is not None
    assert (parsed.host, parsed.subscription_id, parsed.resource_group, parsed.workspace) == (
        host,
        subscription,
        group,
        workspace,
    )


# --- configuring MLflow -----------------------------------------------------------------------


@pytest.mark.usefixtures("mlflow_state")
def test_exclusive_mode_points_tracking_and_registry_at_azureml() -> None:
    outputs = parse_outputs(stack_outputs(privateLink=True, **EXCLUSIVE), "test")

    uris = configure_mlflow(outputs, plugin_installed=lambda: True)

    assert (uris.tracking_uri, uris.registry_uri) == (AML_URI, AML_URI)
    assert mlflow.get_tracking_uri() == AML_URI
    assert mlflow.get_registry_uri() == AML_URI


@pytest.mark.usefixtures("mlflow_state")
def test_dual_mode_keeps_tracking_and_registry_in_databricks() -> None:
    outputs = parse_outputs(stack_outputs(), "test")

    uris = configure_mlflow(outputs, plugin_installed=lambda: False)

    assert (uris.tracking_uri, uris.registry_uri) == ("databricks", "databricks")
    assert mlflow.get_tracking_uri() == "databricks"
    assert mlflow.get_registry_uri() == "databricks"  # the workspace registry, not databricks-uc


@pytest.mark.usefixtures("mlflow_state")
def test_dual_mode_with_azureml_registry_tracks_in_databricks_and_registers_in_azureml() -> None:
    outputs = parse_outputs(
        stack_outputs(modelRegistry="azureml", mlflowRegistryUri=AML_URI), "test"
    )

    uris = configure_mlflow(outputs, plugin_installed=lambda: True)

    assert (uris.tracking_uri, uris.registry_uri) == ("databricks", AML_URI)
    assert mlflow.get_registry_uri() == AML_URI


@pytest.mark.usefixtures("mlflow_state")
def test_dual_cluster_environment_configures_mlflow_for_databricks() -> None:
    outputs = outputs_from_cluster_env(UC_CLUSTER)

    uris = configure_mlflow(outputs, plugin_installed=lambda: False)

    assert (uris.tracking_uri, uris.registry_uri) == ("databricks", "databricks-uc")


@pytest.mark.usefixtures("mlflow_state")
@pytest.mark.parametrize(
    "overrides",
    [EXCLUSIVE, {"modelRegistry": "azureml", "mlflowRegistryUri": AML_URI}],
    ids=["exclusive", "dual-azureml-registry"],
)
def test_azureml_uri_without_the_plugin_is_refused_before_mlflow_changes(
    overrides: dict[str, Any],
) -> None:
    mlflow.set_tracking_uri("http://127.0.0.1:1")
    outputs = parse_outputs(stack_outputs(**overrides), "test")

    with pytest.raises(ImportError) as caught:
        configure_mlflow(outputs, plugin_installed=lambda: False)

    assert isinstance(caught.value, AzureMLPluginMissingError)
    assert AML_URI in str(caught.value)
    assert "pip install azureml-mlflow" in str(caught.value)
    assert mlflow.get_tracking_uri() == "http://127.0.0.1:1"


@pytest.mark.usefixtures("mlflow_state")
def test_http_stand_in_needs_no_plugin() -> None:
    server = "http://127.0.0.1:5000"
    outputs = parse_outputs(
        stack_outputs(mlflowTrackingUri=server, **{**EXCLUSIVE, "mlflowRegistryUri": server}),
        "test",
    )

    uris = configure_mlflow(outputs, plugin_installed=lambda: False)

    assert mlflow.get_tracking_uri() == uris.tracking_uri == server


# --- naming experiments -----------------------------------------------------------------------

DUAL_OUTPUTS = parse_outputs(stack_outputs(), "test")
EXCLUSIVE_OUTPUTS = parse_outputs(stack_outputs(**EXCLUSIVE), "test")


def test_dual_mode_names_the_experiment_by_its_databricks_user_path() -> None:
    name = experiment_name(DUAL_OUTPUTS, "iris-classifier", user="alice@contoso.com")

    assert name == "/Users/alice@contoso.com/iris-classifier"


def test_exclusive_mode_names_the_experiment_plainly_for_azureml() -> None:
    name = experiment_name(EXCLUSIVE_OUTPUTS, "iris-classifier", user="alice@contoso.com")

    assert name == "iris-classifier"


def test_dual_mode_without_a_user_says_how_to_get_one() -> None:
    with pytest.raises(ExperimentNameError, match=r"current_user\(\)"):
        experiment_name(DUAL_OUTPUTS, "iris-classifier")


@pytest.mark.parametrize("outputs", [DUAL_OUTPUTS, EXCLUSIVE_OUTPUTS], ids=["dual", "exclusive"])
@pytest.mark.parametrize("name", ["", "/Users/alice@contoso.com/iris", "team/iris", " iris"])
def test_experiment_name_must_be_plain(outputs: Any, name: str) -> None:
    with pytest.raises(ExperimentNameError, match="must be a plain name"):
        experiment_name(outputs, name, user="alice@contoso.com")


@pytest.mark.parametrize("user", ["", "alice/bob", " alice"])
def test_dual_mode_rejects_a_user_that_is_no_user_name(user: str) -> None:
    with pytest.raises(ExperimentNameError, match="must be the Databricks user name"):
        experiment_name(DUAL_OUTPUTS, "iris-classifier", user=user)


@given(
    name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\- ]{0,60}[A-Za-z0-9]", fullmatch=True),
    user=st.emails().filter(lambda email: "/" not in email),
)
def test_experiment_names_follow_the_mode(name: str, user: str) -> None:
    assert experiment_name(EXCLUSIVE_OUTPUTS, name, user=user) == name
    assert experiment_name(DUAL_OUTPUTS, name, user=user) == f"/Users/{user}/{name}"


# --- Unity Catalog names and logging the model ----------------------------------------------

UC = {"modelRegistry": "unity-catalog", "mlflowRegistryUri": "databricks-uc"}


def test_unity_catalog_outputs_give_three_level_model_names() -> None:
    outputs = parse_outputs(stack_outputs(**UC, modelSchema="ml.models"), "test")

    assert outputs.model_registry is ModelRegistry.UNITY_CATALOG
    assert registered_model_name(outputs, "track-with-azureml-classifier") == (
        "ml.models.track-with-azureml-classifier"
    )


def test_unity_catalog_outputs_without_model_schema_are_rejected() -> None:
    with pytest.raises(StackOutputsError, match=r"'modelSchema' is None, expected '<catalog>"):
        parse_outputs(stack_outputs(**UC), "test")


def test_unity_catalog_outputs_with_the_legacy_registry_uri_are_rejected() -> None:
    raw = stack_outputs(**{**UC, "mlflowRegistryUri": "databricks"}, modelSchema="ml.models")

    with pytest.raises(StackOutputsError, match=r"'mlflowRegistryUri' is 'databricks'.*"):
        parse_outputs(raw, "test")


def test_model_schema_with_another_registry_is_rejected() -> None:
    with pytest.raises(StackOutputsError, match=r"'modelSchema' is 'ml.models', but modelRegistry"):
        parse_outputs(stack_outputs(modelSchema="ml.models"), "test")


@pytest.mark.parametrize("registry", ["databricks", "azureml"])
def test_other_registries_take_the_plain_model_name(registry: str) -> None:
    uri = AML_URI if registry == "azureml" else "databricks"
    outputs = parse_outputs(stack_outputs(modelRegistry=registry, mlflowRegistryUri=uri), "test")

    assert registered_model_name(outputs, "iris") == "iris"


@pytest.mark.parametrize("name", ["", " iris", "ml.iris", "a/b", "two words"])
def test_model_names_that_cannot_be_registered_are_refused(name: str) -> None:
    outputs = parse_outputs(stack_outputs(), "test")

    with pytest.raises(ModelNameError, match="must be a plain name"):
        registered_model_name(outputs, name)


@pytest.mark.usefixtures("mlflow_state")
def test_logging_model_files_needs_an_active_run() -> None:
    with pytest.raises(ModelLoggingError, match=r"inside `with mlflow\.start_run"):
        log_model_files(lambda path: None)


def test_a_save_function_that_writes_no_mlflow_model_is_refused(monkeypatch) -> None:
    class Run:
        class info:  # noqa: N801
            run_id = "0123"

    monkeypatch.setattr(mlflow, "active_run", lambda: Run)
    monkeypatch.setattr(mlflow, "log_artifacts", lambda *a: pytest.fail("nothing to log"))

    with pytest.raises(ModelLoggingError, match="wrote no MLflow model"):
        log_model_files(lambda path: os.makedirs(path))


AML_WORKSPACE_URI = (
    "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/rg"
    "/providers/Microsoft.MachineLearningServices/workspaces/aml"
)


def test_an_azureml_registry_beside_databricks_tracking_registers_from_the_files() -> None:
    assert registers_from_files("databricks", AML_WORKSPACE_URI)


@pytest.mark.parametrize(
    ("tracking", "registry"),
    [
        (AML_WORKSPACE_URI, AML_WORKSPACE_URI),  # exclusive: the run is in AzureML
        (AML_WORKSPACE_URI.upper(), AML_WORKSPACE_URI + "/"),  # the same workspace
        ("databricks", "databricks-uc"),
        ("databricks", "databricks"),
    ],
)
def test_a_registry_that_can_read_the_run_registers_from_the_run(
    tracking: str, registry: str
) -> None:
    assert not registers_from_files(tracking, registry)
