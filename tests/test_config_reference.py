"""The reference, Pulumi.yaml and the stack files' JSON Schema are generated from the schema;
the repository's stack files keep to that JSON Schema."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import Field

from core.config import reference, schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_LINE = "# yaml-language-server: $schema=./docs/stack.schema.json"


@pytest.mark.parametrize("path", ["docs/configuration.md", "Pulumi.yaml", "docs/stack.schema.json"])
def test_generated_file_is_what_the_schema_generates(path):
    assert (ROOT / path).read_text() == reference.generated(ROOT)[path], (
        f"{path} is stale: run python -m core.config.reference"
    )


def test_check_fails_when_a_generated_file_is_stale(tmp_path, monkeypatch, capsys):
    for path, text in reference.generated(ROOT).items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text)
    for name in ("Pulumi.dev.yaml", "Pulumi.private.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(reference, "ROOT", tmp_path)
    assert reference.main(["--check"]) == 0
    (tmp_path / "docs/configuration.md").write_text("# Configuration reference\n")
    assert reference.main(["--check"]) == 1
    assert "docs/configuration.md is stale" in capsys.readouterr().err


# --- a new key is one field in the schema ------------------------------------------------------


class WithNewKey(schema.StackSchema):
    spot_instances: bool = Field(False, description="Run the cluster on spot VMs.")


def test_a_key_added_to_the_schema_is_in_the_reference():
    assert (
        "| `spotInstances` | boolean | `false` | Run the cluster on spot VMs. |"
        in reference.markdown(WithNewKey)
    )


def test_a_key_added_to_the_schema_is_declared_in_pulumi_yaml():
    project = yaml.safe_load(reference.pulumi_yaml((ROOT / "Pulumi.yaml").read_text(), WithNewKey))
    assert project["config"]["spotInstances"] == {
        "type": "boolean",
        "default": False,
        "description": "Run the cluster on spot VMs.",
    }


def test_a_key_added_to_the_schema_is_accepted_by_the_json_schema():
    validator = jsonschema.Draft202012Validator(reference.stack_schema(WithNewKey))
    assert validator.is_valid({"config": {"databricks-azureml:spotInstances": True}})
    assert not validator.is_valid({"config": {"databricks-azureml:spotInstance": True}})


# --- Pulumi.yaml ----------------------------------------------------------------------------------


def test_pulumi_yaml_declares_the_scalar_keys_with_their_literal_defaults():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert {key: spec["default"] for key, spec in declared.items()} == {
        "prefix": "mlflow",
        "privateLink": False,
        "databricksPrivateLink": "none",
        "containerRegistry": False,
        "protect": False,
        "purgeOnDestroy": True,
        "amlManagedNetwork": "off",
        "requireInfrastructureEncryption": False,
    }


def test_pulumi_yaml_documents_the_keys_it_cannot_declare():
    text = (ROOT / "Pulumi.yaml").read_text()
    for key in ("azure-native:location", "trackingMode", "cluster", "servicePrincipalSecret"):
        assert f"#   {key} " in text


# --- the stack files' JSON Schema -----------------------------------------------------------------


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads((ROOT / "docs/stack.schema.json").read_text())
    )


@pytest.mark.parametrize("name", ["Pulumi.dev.yaml", "Pulumi.private.yaml"])
def test_stack_file_names_the_schema_on_its_first_line_and_keeps_to_it(name):
    text = (ROOT / name).read_text()
    assert text.splitlines()[0] == SCHEMA_LINE
    assert list(validator().iter_errors(yaml.safe_load(text))) == []


def test_the_check_reports_no_problem_with_the_repositorys_stack_files():
    assert reference.stack_file_problems(ROOT) == []


@pytest.mark.parametrize(
    "config",
    [
        {"databricks-azureml:privatLink": True},  # a typo'd key
        {"privatLink": True},  # the same, unqualified
        {"databricks-azureml:privateLink": "maybe"},
        {"databricks-azureml:trackingMode": "both"},
        {"databricks-azureml:cluster": {"maxWorker": 2}},
        {"databricks-azureml:cluster": {"minWorkers": -1}},
        {"databricks-azureml:diagnostics": {"retentionDays": 731}},
        {"databricks-azureml:servicePrincipalSecret": "in-clear"},
        {"databricks-azureml:access": {"readers": [{"objectId": "x", "type": "Robot"}]}},
        {"databricks-azureml:budget": {"amount": 10, "contactEmails": ["a@b.c"],
                                       "thresholds": [{"percent": 1001}]}},
        {"azure-native:location": "West Europe"},
    ],
)  # fmt: skip
def test_the_json_schema_refuses_a_stack_file_mistake(config):
    assert not validator().is_valid({"config": {"azure-native:location": "westeurope", **config}})


@pytest.mark.parametrize(
    "config",
    [
        {"databricks-azureml:privateLink": "true"},  # as `pulumi config set` writes it
        {"databricks-azureml:cluster": {"maxWorkers": "0"}},
        {"databricks-azureml:servicePrincipalSecret": {"secure": "v1:abc"}},
        {"databricks-azureml:prefix": {"secure": "v1:abc"}},
        {"databricks:host": "https://adb-1.azuredatabricks.net"},  # another provider's key
        {"azure-native:subscriptionId": "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"},
        {"databricks-azureml:budget": {"amount": 10, "contactEmails": ["a@b.c"],
                                       "thresholds": [{"percent": 1000}]}},
    ],
)  # fmt: skip
def test_the_json_schema_accepts_what_pulumi_writes(config):
    stack = {"config": {"azure-native:location": "westeurope", **config}}
    assert list(validator().iter_errors(stack)) == []


def test_the_bootstrap_declares_its_scalar_keys_with_their_literal_defaults():
    declared = yaml.safe_load((ROOT / "bootstrap/Pulumi.yaml").read_text())["config"]
    assert {key: spec["default"] for key, spec in declared.items()} == {
        "prefix": "mlflow",
        "softDeleteDays": 30,
        "keySize": 3072,
        "storageSku": "Standard_GRS",
        "protect": True,
    }


# --- the state bootstrap's stack file ------------------------------------------------------------


def bootstrap_example() -> str:
    """The `Pulumi.team.yaml` the bootstrap's README shows."""
    readme = (ROOT / "bootstrap/README.md").read_text()
    return readme.split("looks like this", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]


def state_validator() -> jsonschema.Draft202012Validator:
    text = (ROOT / "docs/state-stack.schema.json").read_text()
    return jsonschema.Draft202012Validator(json.loads(text))


def test_the_bootstraps_example_stack_file_names_its_schema_and_keeps_to_it():
    example = bootstrap_example()
    assert example.splitlines()[0] == (
        "# yaml-language-server: $schema=../docs/state-stack.schema.json"
    )
    assert list(state_validator().iter_errors(yaml.safe_load(example))) == []


@pytest.mark.parametrize(
    "config",
    [
        {"databricks-azureml-state:softDeleteDay": 30},
        {"databricks-azureml-state:keySize": 1024},
        {"databricks-azureml-state:storageSku": "Premium_LRS"},
        {"databricks-azureml-state:principals": []},
        {"databricks-azureml-state:ci": {"previewObjectId": "x"}},
    ],
)
def test_the_bootstraps_json_schema_refuses_a_stack_file_mistake(config):
    principals = [{"objectId": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "type": "Group"}]
    stack = {
        "config": {
            "azure-native:location": "westeurope",
            "databricks-azureml-state:principals": principals,
            **config,
        }
    }
    assert not state_validator().is_valid(stack)
