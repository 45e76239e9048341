"""Scenario 9: a change that replaces both workspaces on a live stack (`prefix`).

Everything inside a workspace is replaced with it (components/workspace_scope.py): the cluster,
its secret scope and secret, and the Databricks provider with the Databricks workspace; the
online endpoint, its deployment and its traffic with the AzureML workspace. Afterwards exactly
one cluster exists, in the new workspace, and it is the one in the outputs; the old one was
deleted through the old workspace; the stack is at rest; `destroy` leaves nothing, soft-deleted
workspace and vault included.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import applied_steps, outputs, short, up_with_online_endpoint
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
INSIDE = (
    "databricks:index/cluster:Cluster::tracking-cluster",
    "databricks:index/secretScope:SecretScope::tracking-scope",
    "databricks:index/secret:Secret::tracking-client-secret",
    "pulumi:providers:databricks::databricks-workspace",
    "azure-native:machinelearningservices:OnlineEndpoint::serving-endpoint",
    "azure-native:machinelearningservices:OnlineDeployment::serving-deployment",
    "pulumi-python:dynamic/serving:EndpointTraffic::serving-traffic",
)


def clusters(cloud: FakeCloud) -> list[tuple[str, str]]:
    """(workspace host, cluster id) for every cluster the Databricks fake holds."""
    return sorted(
        (host, cluster_id)
        for host, workspace in cloud.databricks.snapshot().items()
        for cluster_id in workspace["clusters"]
    )


def test_prefix_change_replaces_both_workspaces_and_what_lives_in_them(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    up_with_online_endpoint(deployer, cloud)
    before = outputs(deployer)
    old_host = before["databricksWorkspaceUrl"].removeprefix("https://")
    assert clusters(cloud) == [(old_host, before["clusterId"])]

    pulumi("config", "set", "databricks-azureml:prefix", "mlops")
    steps = applied_steps(deployer)
    ops = {short(urn): op for urn, op in steps.items()}
    print("\nprefix mlflow -> mlops")
    for name, op in sorted(ops.items()):
        if op != "same":
            print(f"  {op:<10} {name}")
    assert ops["azure-native:databricks:Workspace::databricks-dbw"] == "replace"
    assert ops["azure-native:machinelearningservices:Workspace::azureml-mlw"] == "replace"
    for name in INSIDE:
        assert ops[name] == "replace", name

    after = outputs(deployer)
    new_host = after["databricksWorkspaceUrl"].removeprefix("https://")
    assert new_host != old_host
    assert after["amlWorkspaceName"].startswith("mlops-")
    # one cluster, in the new workspace, the one in the outputs; the old one was deleted
    # through the old workspace (the old provider), not sent to the new one
    assert clusters(cloud) == [(new_host, after["clusterId"])]
    assert after["clusterId"] != before["clusterId"]
    assert after["endpointName"].startswith("mlops-")
    pulumi("preview", "--expect-no-changes")

    pulumi("destroy", "--yes", "--skip-preview")
    state = cloud.arm.dump()
    assert state["resources"] == []
    assert state["deletedVaults"] == []
    assert state["softDeletedWorkspaces"] == []
