"""Scenario 2: the private-link stack, with the policy pack run by the real analyzer."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import CLIENT_SECRET, outputs, stack_with_principal
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def test_private_link_stack_passes_the_pack_and_a_stricter_pack_config_stops_up(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, "private", policy_pack=True)

    strict = deployer.workdir / "strict-policy.json"
    strict.write_text(
        json.dumps({"databricks-cluster-auto-termination": {"maxAutoterminationMinutes": 20}})
    )
    refused = pulumi(
        "up", "--yes", "--policy-pack", "policy", "--policy-pack-config", str(strict), ok=False
    )
    assert "databricks-cluster-auto-termination" in refused.output
    assert cloud.databricks.snapshot() == {}  # stopped before any cluster

    pulumi("preview", "--policy-pack", "policy")
    pulumi("up", "--yes", "--policy-pack", "policy")
    result = outputs(deployer)
    assert result["trackingMode"] == "exclusive"
    assert result["privateLink"] is True
    workspace = cloud.arm.get(result["amlWorkspaceId"])
    assert workspace is not None
    assert workspace["properties"]["publicNetworkAccess"] == "Disabled"
    host = result["databricksWorkspaceUrl"].removeprefix("https://")
    cluster = cloud.databricks.snapshot()[host]["clusters"][result["clusterId"]]
    env = cluster["spark_env_vars"]
    assert env["MLFLOW_TRACKING_URI"] == workspace["properties"]["mlFlowTrackingUri"]
    assert env["AZURE_CLIENT_SECRET"].startswith("{{secrets/")
    # The engine keeps the client secret encrypted: not in the stack file, not in the state.
    assert CLIENT_SECRET not in (deployer.workdir / "Pulumi.private.yaml").read_text()
    state = deployer.workdir.parent / "state"
    for path in state.rglob("*.json"):
        assert CLIENT_SECRET not in path.read_text(), path
    pulumi("destroy", "--yes", "--skip-preview")
