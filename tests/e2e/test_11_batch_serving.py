"""Scenario 11: batch scoring on a live stack, and the managed network's one-way switch.

`batchEndpoint` set on a stack that is up; a version bump moves the endpoint's default to a new
deployment before the old one goes; `pulumi config rm batchEndpoint` removes endpoint,
deployment and cluster. Then the managed network goes on, and turning it off again is refused
before any resource is touched.
"""

from __future__ import annotations

import pytest

from tests.e2e import helpers as e2e
from tests.e2e.conftest import Deployer
from tests.e2e.helpers import applied_steps, arm_types, outputs
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
AML = "microsoft.machinelearningservices/workspaces"
COMPUTES = AML + "/computes"
ENDPOINTS = AML + "/batchendpoints"
DEPLOYMENTS = ENDPOINTS + "/deployments"


def names(cloud: FakeCloud, kind: str) -> list[str]:
    return sorted(r["name"] for r in e2e.of_type(cloud, kind))


def test_batch_endpoint_on_a_live_stack_version_bump_removal_and_one_way_network(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    e2e.stack_with_principal(deployer, cloud, registry="azureml")
    pulumi("up", "--yes", "--skip-preview")
    assert arm_types(cloud)[ENDPOINTS] == arm_types(cloud)[COMPUTES] == 0

    # the notebook has registered the model: score it in batch, version 1
    e2e.serve(deployer, "batchEndpoint")
    pulumi("up", "--yes", "--skip-preview")
    served = outputs(deployer)
    endpoint = e2e.one_of_type(cloud, ENDPOINTS)
    assert served["batchEndpointName"] == endpoint["name"]
    assert served["batchEndpointUri"] == endpoint["properties"]["scoringUri"]
    assert served["batchEndpointUri"].endswith(".inference.ml.azure.com/jobs")
    [first] = names(cloud, DEPLOYMENTS)
    assert endpoint["properties"]["defaults"] == {"deploymentName": first}
    compute = e2e.one_of_type(cloud, COMPUTES)
    assert compute["properties"]["properties"]["scaleSettings"]["minNodeCount"] == 0
    assert compute["identity"]["type"] == "SystemAssigned"

    # a version bump: a new deployment, the default moved to it, then the old one deleted
    pulumi("config", "set", "--path", "databricks-azureml:batchEndpoint.version", "2")
    before = len(cloud.arm.calls())
    steps = applied_steps(deployer)
    assert [op for urn, op in steps.items() if "BatchDeployment" in urn] == ["replace"]
    assert [op for urn, op in steps.items() if "Compute" in urn] == ["same"]  # same cluster
    [second] = names(cloud, DEPLOYMENTS)
    assert second != first
    endpoint = e2e.one_of_type(cloud, ENDPOINTS)
    assert endpoint["properties"]["defaults"] == {"deploymentName": second}
    # a default deployment at every step
    assert e2e.replaced_in_order(cloud, before, endpoint["id"], first, second)

    pulumi("config", "rm", "databricks-azureml:batchEndpoint")
    pulumi("up", "--yes", "--skip-preview")
    types = arm_types(cloud)
    assert types[ENDPOINTS] == types[DEPLOYMENTS] == types[COMPUTES] == 0
    assert outputs(deployer).get("batchEndpointUri") is None

    # the managed network: on (with a warning that it is one-way), provisioned ...
    pulumi("config", "set", "databricks-azureml:amlManagedNetwork", "allowInternetOutbound")
    turned_on = pulumi("up", "--yes", "--skip-preview")
    assert "cannot be turned off again" in turned_on.output
    workspace = e2e.one_of_type(cloud, AML)
    assert workspace["properties"]["managedNetwork"]["isolationMode"] == "AllowInternetOutbound"
    assert workspace["properties"]["managedNetwork"]["status"]["status"] == "Active"
    # ... and refused off again, before any resource is touched
    pulumi("config", "set", "databricks-azureml:amlManagedNetwork", "off")
    before = len(cloud.arm.calls())
    refused = pulumi("up", "--yes", "--skip-preview", ok=False)
    assert "amlManagedNetwork: off is refused" in refused.output
    assert [c for c in cloud.arm.calls()[before:] if c.method in ("PUT", "PATCH", "DELETE")] == []
    assert "cannot be turned off again" in pulumi("preview", ok=False).output

    pulumi("config", "set", "databricks-azureml:amlManagedNetwork", "allowInternetOutbound")
    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
