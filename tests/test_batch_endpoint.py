"""The batch endpoint under the mock engine: what the program declares, the ordering that keeps
a default deployment through a version bump, and BatchEndpointDefault's ARM calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from components.batch_default import (
    BATCH_DEFAULT_TYPE,
    BatchEndpointDefaultProvider,
)
from components.batch_endpoint import (
    ENDPOINT_IGNORED,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    compute_name,
    endpoint_revision,
)
from components.online_endpoint import deployment_name
from core.config import BatchEndpointSpec, BatchOutputAction
from tests.fakecloud.arm import FakeArm
from tests.stacks import with_values
from tests.test_online_endpoint import (
    AML,
    AZUREML,
    GROUP,
    MODEL,
    SUFFIX,
    WORKSPACE,
    assert_writes_after_the_deployment,
    writer_props,
)
from tests.test_online_endpoint import run as run_serving
from tests.test_teardown_arm import arm_for
from tools.offline import ProgramResult

COMPUTE = "azure-native:machinelearningservices:Compute"
ENDPOINT = "azure-native:machinelearningservices:BatchEndpoint"
DEPLOYMENT = "azure-native:machinelearningservices:BatchDeployment"
ROLE = "azure-native:authorization:RoleAssignment"
STORAGE = "azure-native:storage:StorageAccount"


run = partial(run_serving, key="batchEndpoint")


@dataclass(frozen=True)
class Batch:
    compute: Any
    endpoint: Any
    deployment: Any
    default: Any
    role: Any


def batch(result: ProgramResult) -> Batch:
    return Batch(
        result.one(COMPUTE),
        result.one(ENDPOINT),
        result.one(DEPLOYMENT),
        result.one(BATCH_DEFAULT_TYPE),
        result.one(ROLE, "batch-compute-storage"),
    )


def test_no_batch_endpoint_declares_nothing_and_null_outputs():
    result = run(None)
    assert result.of_type(COMPUTE) == result.of_type(ENDPOINT) == result.of_type(DEPLOYMENT) == []
    assert result.of_type(BATCH_DEFAULT_TYPE) == []
    assert result.outputs["batchEndpointName"] is None
    assert result.outputs["batchEndpointUri"] is None


def test_cluster_scales_to_zero_with_a_system_identity_and_no_remote_login():
    b = batch(run(MODEL))
    assert b.compute.inputs["computeName"] == compute_name(
        BatchEndpointSpec(model="m", version=1, max_instances=2)
    )
    assert b.compute.inputs["identity"] == {"type": "SystemAssigned"}
    properties = b.compute.inputs["properties"]
    assert properties["computeType"] == "AmlCompute"
    assert properties["disableLocalAuth"] is True
    inner = properties["properties"]
    assert inner["vmSize"] == "Standard_DS3_v2"
    assert inner["scaleSettings"]["minNodeCount"] == 0
    assert inner["scaleSettings"]["maxNodeCount"] == 2
    assert inner["remoteLoginPortPublicAccess"] == "Disabled"


def test_without_a_managed_network_the_cluster_nodes_get_public_ips_as_their_way_out():
    # Neither a VNet nor a managed network: a no-public-IP cluster would have no outbound.
    inner = batch(run(MODEL)).compute.inputs["properties"]["properties"]
    assert inner["enableNodePublicIp"] is True


@pytest.mark.parametrize("mode", ["allowInternetOutbound", "allowOnlyApprovedOutbound"])
def test_with_a_managed_network_the_cluster_nodes_have_no_public_ip(mode):
    base = with_values(AZUREML, amlManagedNetwork=mode)
    inner = batch(run(MODEL, base)).compute.inputs["properties"]["properties"]
    assert inner["enableNodePublicIp"] is False


def test_endpoint_takes_entra_tokens_and_leaves_its_default_to_the_default_resource():
    result = run(MODEL)
    b = batch(result)
    assert b.endpoint.inputs["endpointName"] == f"mlflow-dev-be-{SUFFIX}"
    assert b.endpoint.inputs["workspaceName"] == result.one(AML).inputs["workspaceName"]
    assert b.endpoint.inputs["properties"]["authMode"] == "AADToken"
    assert "defaults" not in b.endpoint.inputs["properties"]
    assert set(ENDPOINT_IGNORED) <= set(b.endpoint.ignore_changes)
    assert b.endpoint.inputs["tags"] == {"environment": "dev", "managed-by": "pulumi"}


def test_deployment_is_no_code_mlflow_of_the_registered_version_on_the_cluster():
    result = run({**MODEL, "miniBatchSize": 5})
    b = batch(result)
    aml = result.one(AML)
    properties = b.deployment.inputs["properties"]
    assert properties["model"] == {
        "referenceType": "Id",
        "assetId": f"{aml.id}/models/track-with-azureml-classifier/versions/1",
    }
    assert properties["compute"] == b.compute.id
    assert properties["resources"] == {"instanceCount": 2}
    assert properties["miniBatchSize"] == 5
    assert properties["outputAction"] == "AppendRow"
    assert properties["outputFileName"] == "predictions.csv"
    assert "codeConfiguration" not in properties and "environmentId" not in properties
    assert b.deployment.inputs["location"] == "westeurope"
    assert b.deployment.inputs["deploymentName"].startswith("v1-")


def test_default_deployment_is_set_once_endpoint_and_deployment_exist():
    b = batch(run(MODEL))
    assert_writes_after_the_deployment(b.default, b.endpoint, b.deployment)
    assert b.compute.urn in b.deployment.depends_on


def test_cluster_identity_may_read_and_write_the_workspace_storage():
    result = run(MODEL)
    b = batch(result)
    assert b.role.inputs["scope"] == result.one(STORAGE).id
    assert b.role.inputs["roleDefinitionId"].endswith(STORAGE_BLOB_DATA_CONTRIBUTOR)
    assert b.role.inputs["principalId"] == b.compute.outputs["identity"]["principalId"]
    assert b.role.inputs["principalType"] == "ServicePrincipal"


def test_stack_outputs_name_the_batch_endpoint_and_its_invocation_uri():
    result = run(MODEL)
    assert result.outputs["batchEndpointName"] == f"mlflow-dev-be-{SUFFIX}"
    assert result.outputs["batchEndpointUri"] == (
        f"https://mlflow-dev-be-{SUFFIX}.westeurope.inference.ml.azure.com/jobs"
    )


def test_version_bump_replaces_the_deployment_create_before_delete_and_moves_the_default():
    old, new = batch(run(MODEL)), batch(run({**MODEL, "version": 2}))
    assert new.deployment.name == old.deployment.name
    assert new.deployment.inputs["deploymentName"].startswith("v2-")
    assert new.deployment.delete_before_replace is False
    assert new.default.inputs["deployment_name"] == new.deployment.inputs["deploymentName"]
    assert new.endpoint.inputs == old.endpoint.inputs
    assert new.compute.inputs == old.compute.inputs


def test_new_vm_size_is_a_new_cluster_and_a_new_deployment():
    old, new = batch(run(MODEL)), batch(run({**MODEL, "instanceType": "Standard_F4s_v2"}))
    assert new.compute.inputs["computeName"] != old.compute.inputs["computeName"]
    assert new.deployment.inputs["deploymentName"] != old.deployment.inputs["deploymentName"]


def test_names_follow_version_and_vm_size_only():
    spec = BatchEndpointSpec(
        model="m",
        version=3,
        max_instances=4,
        mini_batch_size=9,
        output_action=BatchOutputAction.SUMMARY_ONLY,
    )
    same = BatchEndpointSpec(model="m", version=3, max_instances=1, name="x")
    assert deployment_name(spec) == deployment_name(same)
    assert len(compute_name(spec)) <= 16  # AmlCompute names: 2-16 characters


# --- BatchEndpointDefault's ARM calls ----------------------------------------------------------

PATH = f"{WORKSPACE}/batchEndpoints/be"
PROPS = writer_props("be", endpoint_revision="r1")


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as arm_fake:
        arm_fake.put(GROUP, {"location": "westeurope"})
        arm_fake.put(WORKSPACE, {"location": "westeurope", "properties": {}})
        arm_fake.put(
            f"{WORKSPACE}/computes/batch-1",
            {
                "location": "westeurope",
                "properties": {
                    "computeType": "AmlCompute",
                    "properties": {
                        "vmSize": "Standard_DS3_v2",
                        "scaleSettings": {"maxNodeCount": 2},
                    },
                },
            },
        )
        arm_fake.put(PATH, {"location": "westeurope", "properties": {"authMode": "AADToken"}})
        yield arm_fake


def deploy(fake: FakeArm, name: str) -> None:
    fake.put(
        f"{PATH}/deployments/{name}",
        {
            "location": "westeurope",
            "properties": {
                "compute": f"{WORKSPACE}/computes/batch-1",
                "model": {"referenceType": "Id", "assetId": f"{WORKSPACE}/models/m/versions/1"},
            },
        },
    )


def provider_for(fake: FakeArm) -> BatchEndpointDefaultProvider:
    return BatchEndpointDefaultProvider(lambda _subscription, _cloud: arm_for(fake))


def default_of(fake: FakeArm) -> str | None:
    return (fake.get(PATH)["properties"].get("defaults") or {}).get("deploymentName")


def test_create_puts_the_endpoint_back_with_its_default_deployment(fake):
    deploy(fake, "v2-abcdef")
    result = provider_for(fake).create(dict(PROPS))
    assert result.id == f"{PATH}/defaults"
    [put] = fake.calls("PUT", PATH)
    assert put.query["api-version"] == "2025-12-01"  # the SDK's BatchEndpoint
    assert put.body["properties"]["authMode"] == "AADToken"
    assert "scoringUri" not in put.body["properties"]
    assert default_of(fake) == "v2-abcdef"


def test_update_moves_the_default_to_the_new_deployment(fake):
    deploy(fake, "v1-123456")
    deploy(fake, "v2-abcdef")
    provider_for(fake).update("id", {}, {**PROPS, "deployment_name": "v1-123456"})
    provider_for(fake).update("id", {}, dict(PROPS))
    assert default_of(fake) == "v2-abcdef"


def test_default_naming_a_missing_deployment_is_refused_by_arm(fake):
    from arm.client import ArmError

    with pytest.raises(ArmError, match="does not exist on this endpoint"):
        provider_for(fake).create(dict(PROPS))


def test_delete_clears_the_default_and_tolerates_a_gone_endpoint(fake):
    deploy(fake, "v2-abcdef")
    provider = provider_for(fake)
    provider.create(dict(PROPS))
    provider.delete("id", dict(PROPS))
    assert default_of(fake) is None
    fake.request("DELETE", PATH)
    provider.delete("id", dict(PROPS))  # nothing left to clear: no error


def test_pulumi_ignores_the_endpoints_default_which_the_default_resource_writes():
    b = batch(run(MODEL))
    assert "properties.defaults" in b.endpoint.ignore_changes


def test_endpoint_revision_changes_with_the_endpoints_tags_and_auth_mode():
    @dataclass
    class Properties:
        auth_mode: str

    dev = endpoint_revision({"environment": "dev"}, Properties("AADToken"))
    assert endpoint_revision({"environment": "dev"}, Properties("AADToken")) == dev
    assert endpoint_revision({"environment": "prod"}, Properties("AADToken")) != dev
    assert endpoint_revision({"environment": "dev"}, Properties("Key")) != dev
