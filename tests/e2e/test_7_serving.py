"""Scenario 7: serving a registered model, the README's two-phase workflow.

First `pulumi up` without an endpoint (the notebook then registers the model), then `endpoint`
set and `pulumi up` again; a version bump moves traffic to a new deployment before the old one
goes; `pulumi config rm endpoint` removes the serving resources.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import (
    applied_steps,
    arm_types,
    of_type,
    one_of_type,
    outputs,
    replaced_in_order,
    serve,
    stack_with_principal,
)
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
ENDPOINTS = "microsoft.machinelearningservices/workspaces/onlineendpoints"
DEPLOYMENTS = "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments"


def endpoint_resource(cloud: FakeCloud) -> dict:
    return one_of_type(cloud, ENDPOINTS)


def deployment_names(cloud: FakeCloud) -> list[str]:
    return sorted(r["name"] for r in of_type(cloud, DEPLOYMENTS))


def test_two_phase_serving_version_bump_and_removal(deployer: Deployer, cloud: FakeCloud) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, registry="azureml")
    pulumi("up", "--yes", "--skip-preview")
    assert outputs(deployer).get("endpointName") is None  # null outputs are not listed
    assert arm_types(cloud)[ENDPOINTS] == 0

    # the notebook has registered the model: serve version 1
    serve(deployer, "endpoint")
    pulumi("up", "--yes", "--skip-preview")
    served = outputs(deployer)
    assert served["endpointName"] == endpoint_resource(cloud)["name"]
    assert served["endpointScoringUri"].startswith("https://")
    [first] = deployment_names(cloud)
    assert endpoint_resource(cloud)["properties"]["traffic"] == {first: 100}

    # a version bump: a new deployment, all traffic moved to it, then the old one deleted
    pulumi("config", "set", "--path", "databricks-azureml:endpoint.version", "2")
    before = len(cloud.arm.calls())
    steps = applied_steps(deployer)
    assert [op for urn, op in steps.items() if "OnlineDeployment" in urn] == ["replace"]
    [second] = deployment_names(cloud)
    assert second != first
    assert endpoint_resource(cloud)["properties"]["traffic"] == {second: 100}
    # traffic always on a live deployment
    assert replaced_in_order(cloud, before, endpoint_resource(cloud)["id"], first, second)

    pulumi("config", "rm", "databricks-azureml:endpoint")
    pulumi("up", "--yes", "--skip-preview")
    assert arm_types(cloud)[ENDPOINTS] == arm_types(cloud)[DEPLOYMENTS] == 0
    assert outputs(deployer).get("endpointScoringUri") is None

    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
