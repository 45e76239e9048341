"""Scenario 1: the README's deployment path, command for command, on the real engine."""

from __future__ import annotations

import json

import pytest

from mlflow_setup.outputs import load_outputs
from tests.e2e.conftest import Deployer
from tests.fakecloud.arm import SUBSCRIPTION
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def test_readme_path_up_outputs_preview_destroy_check_up_again(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    pulumi("stack", "init", "dev")
    pulumi("config", "set", "azure-native:location", "westeurope")
    pulumi("config", "set", "--path", "databricks-azureml:tags.cost-center", "data-science")
    # The cloud the deployment targets: a custom ARM endpoint (here the loopback fake).
    pulumi("config", "set", "azure-native:metadataHost", cloud.address)

    pulumi("up", "--yes")
    outputs_file = deployer.workdir / "outputs.json"
    outputs_file.write_text(pulumi("stack", "output", "--json").stdout)
    outputs = load_outputs(outputs_file)
    raw = json.loads(outputs_file.read_text())
    workspace = cloud.arm.get(raw["amlWorkspaceId"])
    assert workspace is not None
    assert outputs.mlflow_tracking_uri == workspace["properties"]["mlFlowTrackingUri"]
    assert raw["databricksWorkspaceUrl"].startswith("https://adb-")
    host = raw["databricksWorkspaceUrl"].removeprefix("https://")
    state = cloud.databricks.snapshot()[host]
    assert list(state["clusters"]) == [raw["clusterId"]]
    assert state["scopes"] == [raw["secretScope"]]

    pulumi("preview", "--expect-no-changes")

    calls_before_destroy = len(cloud.arm.requests)
    pulumi("destroy", "--yes")
    deletes = [r.path for r in cloud.arm.requests[calls_before_destroy:] if r.method == "DELETE"]
    assert (
        deletes[-1].lower()
        == f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{raw['resourceGroupName']}"
    )
    check = deployer.run(
        "make", "teardown-check", "STACK=dev", f"SUBSCRIPTION={SUBSCRIPTION}", ok=None
    )
    assert check.code == 0, check.output

    pulumi("up", "--yes")  # the same names are free again
