"""The contract between the stack and its notebooks, and the config defaults, stated once."""

import subprocess
import sys
from pathlib import Path

import yaml

from core.config import DEFAULTS
from mlflow_setup import contract

ROOT = Path(__file__).resolve().parent.parent


def test_pulumi_yaml_declares_the_defaults_the_program_applies():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert {key: spec["default"] for key, spec in declared.items()} == DEFAULTS
    types = {bool: "boolean", str: "string", int: "integer"}
    for key, spec in declared.items():
        assert spec["type"] == types[type(DEFAULTS[key])], key
        assert spec["description"], key


def test_notebook_helper_works_without_the_pulumi_sdks():
    """On a Databricks cluster only mlflow_setup is there: it must not import Pulumi."""
    code = (
        "import sys\n"
        "for name in ('pulumi', 'pulumi_azure_native', 'pulumi_databricks', 'core'):\n"
        "    sys.modules[name] = None\n"
        "import mlflow_setup\n"
        "print(mlflow_setup.OUTPUT_NAMES[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "resourceGroupName"


def test_output_names_are_unique_and_camel_case():
    names = contract.OUTPUT_NAMES
    assert len(set(names)) == len(names)
    assert all(name[0].islower() and "_" not in name for name in names)
