"""The offline preview: `python -m tools.preview`, what `make preview` runs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools import preview
from tools.offline import ROOT


def write_stack(folder: Path, name: str, body: str) -> None:
    (folder / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (folder / f"Pulumi.{name}.yaml").write_text(body)


def test_stack_config_applies_project_defaults_and_stringifies_like_the_cli(tmp_path):
    write_stack(
        tmp_path,
        "t",
        "config:\n  azure-native:location: westeurope\n  databricks-azureml:privateLink: true\n"
        "  databricks-azureml:cluster:\n    minWorkers: 0\n    maxWorkers: 0\n  prefix: abc\n",
    )
    config, secret_keys = preview.stack_config("t", tmp_path)
    assert config["databricks-azureml:purgeOnDestroy"] == "true"  # default from Pulumi.yaml
    assert config["databricks-azureml:privateLink"] == "true"
    assert config["databricks-azureml:prefix"] == "abc"  # unqualified keys are the project's
    assert json.loads(config["databricks-azureml:cluster"]) == {"minWorkers": 0, "maxWorkers": 0}
    assert secret_keys == set()


def test_secure_values_are_never_decrypted(tmp_path):
    write_stack(
        tmp_path,
        "t",
        "config:\n  databricks-azureml:servicePrincipalSecret:\n    secure: v1:abc==\n",
    )
    config, secret_keys = preview.stack_config("t", tmp_path)
    assert config["databricks-azureml:servicePrincipalSecret"] == "[secret]"
    assert secret_keys == {"databricks-azureml:servicePrincipalSecret"}


def run_preview(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.preview", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def dev_json() -> dict:
    done = run_preview("--stack", "dev", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_dev_preview_lists_the_resource_tree_with_key_settings(dev_json):
    types = {r["type"] for r in dev_json["resources"]}
    assert {
        "azure-native:resources:ResourceGroup",
        "azure-native:network:VirtualNetwork",
        "azure-native:databricks:Workspace",
        "azure-native:machinelearningservices:Workspace",
        "databricks:index/cluster:Cluster",
        "databricks:index/secretScope:SecretScope",
    } <= types
    assert dev_json["count"] == len(dev_json["resources"])
    dbw = next(r for r in dev_json["resources"] if r["type"] == "azure-native:databricks:Workspace")
    assert dbw["settings"]["sku.name"] == "premium"
    assert dbw["settings"]["parameters"]["enableNoPublicIp"] == {"value": True}
    assert dbw["depth"] == 1 and dbw["parent"].endswith(
        "databricks-azureml:databricks:Workspace::databricks"
    )
    group = next(
        r for r in dev_json["resources"] if r["type"] == "azure-native:resources:ResourceGroup"
    )
    assert group["settings"]["tags"] == {
        "cost-center": "data-science",
        "environment": "dev",
        "managed-by": "pulumi",
    }


def test_dev_preview_shows_outputs_only_azure_knows_as_known_after_deploy(dev_json):
    outputs = dev_json["outputs"]
    for key in ("amlWorkspaceId", "mlflowTrackingUri", "databricksWorkspaceUrl", "clusterId"):
        assert outputs[key] == "(known after deploy)"
    assert outputs["trackingMode"] == "dual"
    assert outputs["mlflowRegistryUri"] == "databricks"
    assert outputs["privateLink"] is False


def test_private_preview_shows_the_secret_as_secret_and_the_private_endpoints():
    done = run_preview("--stack", "private", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    secret = next(r for r in document["resources"] if r["type"] == "databricks:index/secret:Secret")
    assert secret["settings"]["stringValue"] == "[secret]"
    groups = {
        r["settings"]["privateLinkServiceConnections"][0]["groupIds"][0]
        for r in document["resources"]
        if r["type"] == "azure-native:network:PrivateEndpoint"
    }
    # blob and dfs also for the firewalled Databricks workspace storage
    assert groups == {"amlworkspace", "blob", "file", "vault", "dfs"}
    assert document["outputs"]["trackingMode"] == "exclusive"


def test_text_preview_ends_with_the_count_and_outputs():
    done = run_preview()
    assert done.returncode == 0, done.stderr
    assert "Resources: " in done.stdout and " to create" in done.stdout
    assert '    mlflowTrackingUri: "(known after deploy)"' in done.stdout


def test_config_error_prints_one_line_to_stderr_and_exits_2(tmp_path):
    write_stack(
        tmp_path,
        "bad",
        "config:\n  azure-native:location: westeurope\n  databricks-azureml:network:\n    hostSubnet: 10.140.0.0/22\n",
    )
    done = run_preview("--stack", "bad", "--project-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "error: databricks-azureml:network.hostSubnet: 10.140.0.0/22 is not inside addressSpace 10.139.0.0/16"
    )


def test_missing_stack_file_exits_2():
    done = run_preview("--stack", "no-such-stack")
    assert done.returncode == 2
    assert "no stack config file Pulumi.no-such-stack.yaml" in done.stderr


def test_preview_says_who_can_read_the_service_principal_secret():
    from tests.conftest import program
    from tests.stacks import DEV, SERVICE_PRINCIPAL, with_values

    raw = with_values({**DEV, **SERVICE_PRINCIPAL}, cluster={"users": ["data-scientists"]})
    note = preview.secret_readers(program(raw, deployed=False).resources)
    assert note is not None
    assert "data-scientists (CAN_RESTART)" in note
    assert "workspace admins" in note
    assert preview.secret_readers(program(DEV, deployed=False).resources) is None


def test_preview_warns_when_the_databricks_workspace_is_private_only():
    from tests.conftest import program
    from tests.stacks import DEV, with_values

    result = program(with_values(DEV, databricksPrivateLink="full"), deployed=False)
    assert any("public network access is off" in note for note in preview.notes(result.resources))
    assert not any("public network" in note for note in preview.notes(program(DEV).resources))
