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
    init_stack,
    outputs,
    set_service_principal,
)
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
ENDPOINTS = "microsoft.machinelearningservices/workspaces/onlineendpoints"
DEPLOYMENTS = "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments"
MODEL = "track-with-azureml-classifier"


def endpoint_resource(cloud: FakeCloud) -> dict:
    [endpoint] = [r for r in cloud.arm.dump()["resources"] if r["type"].lower() == ENDPOINTS]
    return endpoint


def deployment_names(cloud: FakeCloud) -> list[str]:
    return sorted(
        r["name"] for r in cloud.arm.dump()["resources"] if r["type"].lower() == DEPLOYMENTS
    )


def test_two_phase_serving_version_bump_and_removal(deployer: Deployer, cloud: FakeCloud) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    set_service_principal(deployer)
    pulumi("config", "set", "databricks-azureml:modelRegistry", "azureml")
    pulumi("up", "--yes", "--skip-preview")
    assert outputs(deployer).get("endpointName") is None  # null outputs are not listed
    assert arm_types(cloud)[ENDPOINTS] == 0

    # the notebook has registered the model: serve version 1
    pulumi("config", "set", "--path", "databricks-azureml:endpoint.model", MODEL)
    pulumi("config", "set", "--path", "databricks-azureml:endpoint.version", "1")
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
    calls = [(c.method, c.path.lower()) for c in cloud.arm.calls()[before:]]
    endpoint_path = endpoint_resource(cloud)["id"].lower()
    created = calls.index(("PUT", f"{endpoint_path}/deployments/{second}".lower()))
    moved = calls.index(("PUT", endpoint_path), created)
    deleted = calls.index(("DELETE", f"{endpoint_path}/deployments/{first}".lower()))
    assert created < moved < deleted  # traffic always on a live deployment

    pulumi("config", "rm", "databricks-azureml:endpoint")
    pulumi("up", "--yes", "--skip-preview")
    assert arm_types(cloud)[ENDPOINTS] == arm_types(cloud)[DEPLOYMENTS] == 0
    assert outputs(deployer).get("endpointScoringUri") is None

    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
