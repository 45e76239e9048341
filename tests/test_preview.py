"""The offline preview: `python -m tools.preview`, what `make preview` runs."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests import preloaded
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
    return preloaded.python("-m", "tools.preview", *args, cwd=ROOT, timeout=120)


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
    # Names the program gives are known before deploy, as the resource settings above show.
    assert outputs["resourceGroupName"] == "mlflow-dev-rg"
    assert outputs["amlWorkspaceName"] == "mlflow-dev-mlw"
    assert outputs["trackingMode"] == "dual"
    assert outputs["mlflowRegistryUri"] == "databricks-uc"
    assert outputs["modelSchema"] == "mlflow_dev_dbw.default"
    assert outputs["privateLink"] is False


def test_dev_preview_notes_where_unity_catalog_registers_models(dev_json):
    assert any(
        "registered in Unity Catalog as mlflow_dev_dbw.default.<model>" in note
        for note in dev_json["notes"]
    )


def test_preview_of_the_legacy_registry_warns_about_new_accounts():
    notes = preview.registry_notes({"modelRegistry": "databricks"})

    assert len(notes) == 1
    assert "legacy workspace model registry is disabled" in notes[0]
    assert "created since April 2024" in notes[0]
    assert preview.registry_notes({"modelRegistry": "azureml"}) == []


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


def test_text_preview_ends_with_the_count_outputs_and_exposure():
    done = run_preview()
    assert done.returncode == 0, done.stderr
    assert (
        "Resources: 34 to create: 17 Azure resources, 4 Databricks workspace objects, 1 provider, "
        "6 helpers (dynamic resources that purge or wait on Azure), 6 components"
    ) in done.stdout
    assert '    mlflowTrackingUri: "(known after deploy)"' in done.stdout
    exposure = done.stdout.split("\nExposure (what the internet can reach once deployed):\n")[1]
    lines = exposure.splitlines()
    assert lines[0].split()[:4] == ["PUBLIC", "AzureML", "workspace", "mlflow-dev-mlw:"]
    assert lines[-1].startswith("    Public, reachable from the internet")
    assert "the Databricks workspace mlflow-dev-dbw" in lines[-1]


def test_json_counts_azure_resources_apart_from_providers_helpers_and_components(dev_json):
    assert (
        dev_json["counts"]
        == {
            "azure": 17,  # 4 of them diagnostic settings
            "databricks": 4,  # + the published outputs' folder and file
            "providers": 1,
            "helpers": 6,  # two purges, the forced delete, the managed-network, protect and encryption guards
            "components": 6,
        }
    )
    assert sum(dev_json["counts"].values()) == dev_json["count"]


def test_json_ends_with_the_exposure_of_each_workspace_store_and_vault(dev_json):
    exposure = dev_json["exposure"]
    assert [(e["kind"], e["reach"]) for e in exposure["resources"]] == [
        ("AzureML workspace", "public"),
        ("storage account", "public"),
        ("key vault", "public"),
        ("Databricks workspace", "public"),
    ]
    assert exposure["resources"][0]["name"] == "mlflow-dev-mlw"
    assert exposure["resources"][1]["name"] is None  # carries the subscription's suffix
    assert exposure["summary"].startswith("Public, reachable from the internet")


def test_private_text_preview_says_what_stays_public():
    done = run_preview("--stack", "private")
    assert done.returncode == 0, done.stderr
    tail = done.stdout.split("\nExposure (what the internet can reach once deployed):\n")[1]
    assert "PRIVATE    AzureML workspace mlflow-private-mlw: public network access Disabled" in tail
    assert tail.splitlines()[-1] == (
        "    Public, reachable from the internet (Entra ID and RBAC decide who gets in): "
        "the Databricks workspace mlflow-private-dbw."
    )


@pytest.mark.parametrize("args", [[], ["--no-print-directory", "-C", str(ROOT)]])
def test_make_preview_json_prints_only_json_on_stdout(args, tmp_path):
    # As from a shell: under `make test` the inherited MAKELEVEL would make the inner make
    # print "Entering directory" lines, which no user's `make preview-json` prints.
    shell_env = {
        k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    }
    # The recipe's Python forked from one that imported the SDKs (what it prints is the same).
    shell_env.update(preloaded.launcher_env())
    done = subprocess.run(
        ["make", *args, f"PY={preloaded.LAUNCHER}", "preview-json"],
        cwd=ROOT if not args else tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=shell_env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stack"] == "dev"


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
    assert "on any compute, from the secret scope: data-scientists (READ)" in note
    assert "CAN_READ" not in note  # reading the published outputs is no access to the secret
    assert preview.secret_readers(program(DEV, deployed=False).resources) is None


def test_preview_says_who_can_use_the_service_credential_and_that_no_secret_is_stored():
    from tests.conftest import program
    from tests.stacks import DEV, with_values

    raw = with_values(DEV, trackingMode="exclusive", cluster={"users": ["data-scientists"]})
    resources = program(raw, deployed=False).resources
    note = preview.credential_users(resources)
    assert note is not None
    assert note.startswith("no secret is stored: notebooks sign in to AzureML with the Unity")
    assert "usable by data-scientists (ACCESS), its owner (the deployer)" in note
    assert preview.secret_readers(resources) is None
    assert preview.credential_users(program(DEV, deployed=False).resources) is None


def test_preview_warns_when_the_databricks_workspace_is_private_only():
    from tests.conftest import program
    from tests.stacks import DEV, with_values

    result = program(with_values(DEV, databricksPrivateLink="full"), deployed=False)
    assert any("public network access is off" in note for note in preview.notes(result.resources))
    assert not any("public network" in note for note in preview.notes(program(DEV).resources))
