"""The fake ARM's lock inheritance and managed-network rules, in-process: a lock on a resource
refuses deletes of its children and extension resources and of its group, AzureML compute
beneath a lock keeps its nodes, an approved-only managed network stays approved-only, and a batch
job needs the storage queue and table in the managed network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakecloud.arm import SUBSCRIPTION, FakeArm

RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-dev-rg"
ML = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-dev-mlw"
ACCOUNT = f"{RG}/providers/Microsoft.Storage/storageAccounts/mlflowdevst"
COMPUTE = f"{ML}/computes/batch-1"
LOGS = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/mlflow-dev-log"
LOCKS = "/providers/Microsoft.Authorization/locks/protect"
SETTING = "/providers/Microsoft.Insights/diagnosticSettings/to-log-analytics"
ASSIGNMENT = (
    "/providers/Microsoft.Authorization/roleAssignments/0d4c1a52-0000-4000-8000-00000000001f"
)


@pytest.fixture
def arm() -> Iterator[FakeArm]:
    fake = FakeArm()  # in-process requests only: no server needed
    fake.put(RG, {"location": "westeurope"})
    fake.put(ML, {"location": "westeurope", "properties": {"storageAccount": ACCOUNT}})
    fake.put(ACCOUNT, {"location": "westeurope", "properties": {}})
    fake.put(
        COMPUTE,
        {
            "location": "westeurope",
            "properties": {
                "computeType": "AmlCompute",
                "properties": {
                    "vmSize": "Standard_DS3_v2",
                    "scaleSettings": {"minNodeCount": 0, "maxNodeCount": 2},
                },
            },
        },
    )
    fake.put(LOGS, {"location": "westeurope", "properties": {}})
    setting = {"workspaceId": LOGS, "metrics": [{"category": "Transaction", "enabled": True}]}
    fake.put(ACCOUNT + SETTING, {"properties": setting})
    fake.put(ACCOUNT + ASSIGNMENT, {"properties": {"principalId": "p"}})
    yield fake


def _code(reply) -> str:
    return reply.body["error"]["code"]


def _nodes(compute: dict) -> int:
    return compute["properties"]["properties"]["currentNodeCount"]


# --- inheritance -----------------------------------------------------------------------------


@pytest.mark.parametrize("beneath", [SETTING, ASSIGNMENT], ids=["diagnostic", "role"])
def test_a_lock_on_a_resource_refuses_deleting_its_extension_resources(arm, beneath):
    arm.put(ACCOUNT + LOCKS, {"properties": {"level": "CanNotDelete"}})
    refused = arm.request("DELETE", ACCOUNT + beneath)
    assert (refused.status, _code(refused)) == (409, "ScopeLocked")
    assert arm.get(ACCOUNT + beneath) is not None


def test_a_lock_on_a_workspace_refuses_deleting_its_children(arm):
    arm.put(ML + LOCKS, {"properties": {"level": "CanNotDelete"}})
    assert _code(arm.request("DELETE", COMPUTE)) == "ScopeLocked"


def test_a_lock_on_a_resource_refuses_deleting_its_group(arm):
    arm.put(ACCOUNT + LOCKS, {"properties": {"level": "CanNotDelete"}})
    refused = arm.request("DELETE", RG)
    assert (refused.status, _code(refused)) == (409, "ScopeLocked")
    assert f"locked: '{ACCOUNT}'" in refused.body["error"]["message"]
    assert arm.get(ACCOUNT) is not None


def test_a_lock_elsewhere_leaves_deletes_free(arm):
    arm.put(ACCOUNT + LOCKS, {"properties": {"level": "CanNotDelete"}})
    assert arm.request("DELETE", COMPUTE).status == 200
    assert arm.request("DELETE", ACCOUNT + LOCKS).status == 200
    assert arm.request("DELETE", RG).status == 202


# --- scale in --------------------------------------------------------------------------------


def test_compute_scales_back_to_zero_after_a_job_without_a_lock(arm):
    job = arm.run_batch_job(COMPUTE, nodes=2)
    assert job["status"] == "Completed"
    assert _nodes(job["compute"]) == 0
    assert job["compute"]["properties"]["properties"]["errors"] == []
    assert _nodes(arm.request("GET", COMPUTE).body) == 0


@pytest.mark.parametrize("scope", [RG, ML], ids=["group", "workspace"])
def test_compute_beneath_a_lock_keeps_its_nodes_after_a_job(arm, scope):
    arm.put(scope + LOCKS, {"properties": {"level": "CanNotDelete"}})
    inner = arm.run_batch_job(COMPUTE, nodes=2)["compute"]["properties"]["properties"]
    assert inner["currentNodeCount"] == 2
    assert inner["nodeStateCounts"]["idleNodeCount"] == 2
    [error] = inner["errors"]
    assert error["error"]["code"] == "ScaleInBlockedByLock"
    assert _nodes(arm.request("GET", COMPUTE).body) == 2


# --- managed network -------------------------------------------------------------------------


def _network(mode: str) -> dict:
    return {"location": "westeurope", "properties": {"managedNetwork": {"isolationMode": mode}}}


def test_an_approved_only_managed_network_cannot_allow_internet_outbound(arm):
    arm.put(ML, _network("AllowOnlyApprovedOutbound"))
    refused = arm.request("PUT", ML, _network("AllowInternetOutbound"))
    assert (refused.status, _code(refused)) == (400, "BadRequest")
    assert "AllowOnlyApprovedOutbound to AllowInternetOutbound" in refused.body["error"]["message"]
    network = arm.get(ML)["properties"]["managedNetwork"]
    assert network["isolationMode"] == "AllowOnlyApprovedOutbound"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("AllowInternetOutbound", "AllowOnlyApprovedOutbound"),
        ("AllowOnlyApprovedOutbound", "AllowOnlyApprovedOutbound"),
    ],
)
def test_other_managed_network_moves_are_accepted(arm, before, after):
    arm.put(ML, _network(before))
    assert arm.request("PUT", ML, _network(after)).status == 200


def _storage_rule(target: str) -> dict:
    destination = {"serviceResourceId": ACCOUNT, "subresourceTarget": target}
    return {"type": "PrivateEndpoint", "category": "UserDefined", "destination": destination}


def _approved_only(*targets: str) -> dict:
    rules = {f"storage-{t}": _storage_rule(t) for t in targets}
    network = {"isolationMode": "AllowOnlyApprovedOutbound", "outboundRules": rules}
    return {
        "location": "westeurope",
        "properties": {"storageAccount": ACCOUNT, "managedNetwork": network},
    }


def test_a_batch_job_fails_when_the_managed_network_cannot_reach_storage_queue_and_table(arm):
    arm.put(ML, _approved_only("blob"))
    job = arm.run_batch_job(COMPUTE)
    assert job["status"] == "Failed"
    assert job["error"]["message"].startswith(
        "The job cannot reach the workspace's storage account queue, table service"
    )


def test_a_batch_job_runs_with_storage_queue_and_table_rules(arm):
    arm.put(ML, _approved_only("queue", "table"))
    assert arm.run_batch_job(COMPUTE)["status"] == "Completed"


def _cluster(public_ip: bool) -> dict:
    return {
        "location": "westeurope",
        "properties": {
            "computeType": "AmlCompute",
            "properties": {
                "vmSize": "Standard_DS3_v2",
                "enableNodePublicIp": public_ip,
                "scaleSettings": {"minNodeCount": 0, "maxNodeCount": 2},
            },
        },
    }


def test_a_cluster_without_public_ips_or_any_network_is_refused(arm):
    refused = arm.request("PUT", f"{ML}/computes/batch-2", _cluster(public_ip=False))
    assert (refused.status, _code(refused)) == (400, "BadRequest")
    assert "no outbound connectivity" in refused.body["error"]["message"]


def test_a_cluster_without_public_ips_in_a_managed_network_is_accepted(arm):
    arm.put(ML, _network("AllowInternetOutbound"))
    assert arm.request("PUT", f"{ML}/computes/batch-2", _cluster(public_ip=False)).status == 201


def test_a_cluster_with_public_ips_needs_no_network(arm):
    assert arm.request("PUT", f"{ML}/computes/batch-2", _cluster(public_ip=True)).status == 201


REGISTRY = f"{RG}/providers/Microsoft.ContainerRegistry/registries/mlflowdevcr"
DEPLOYMENT = f"{ML}/onlineEndpoints/ep/deployments/v1-abc123"


def _with_registry(arm, image_build_compute: str | None) -> None:
    arm.put(REGISTRY, {"location": "westeurope", "properties": {"publicNetworkAccess": "Disabled"}})
    props = {"storageAccount": ACCOUNT, "containerRegistry": REGISTRY}
    if image_build_compute:
        props["imageBuildCompute"] = image_build_compute
    arm.put(ML, {"location": "westeurope", "properties": props})
    arm.put(
        f"{ML}/onlineEndpoints/ep",
        {"location": "westeurope", "properties": {"authMode": "AADToken"}},
    )


def _deployment() -> dict:
    return {"location": "westeurope", "properties": {"model": "azureml:m:1"}}


def test_an_mlflow_deployment_behind_a_private_registry_without_an_image_build_compute_is_refused(
    arm,
):
    _with_registry(arm, None)
    refused = arm.request("PUT", DEPLOYMENT, _deployment())
    assert (refused.status, _code(refused)) == (400, "BadRequest")
    assert "set imageBuildCompute" in refused.body["error"]["message"]


def test_an_image_build_compute_that_does_not_exist_does_not_count(arm):
    _with_registry(arm, "missing")
    assert arm.request("PUT", DEPLOYMENT, _deployment()).status == 400


def test_an_mlflow_deployment_builds_on_the_workspace_cluster_behind_a_private_registry(arm):
    _with_registry(arm, "batch-1")
    assert arm.request("PUT", DEPLOYMENT, _deployment()).status in (200, 201)
