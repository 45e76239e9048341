"""Private serving: where AzureML builds an MLflow deployment's image when the stack's registry
denies public access, from config to what the program declares."""

from __future__ import annotations

from tests.conftest import program
from tests.stacks import DEV, PRIVATE, SERVICE_PRINCIPAL, with_values

WORKSPACE = "azure-native:machinelearningservices:Workspace"
COMPUTE = "azure-native:machinelearningservices:Compute"
ONLINE_DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
MODEL = {"model": "track-with-azureml-classifier", "version": 1}
PRIVATE_REGISTRY_SERVING = with_values(
    PRIVATE,
    containerRegistry=True,
    endpoint=MODEL,
    batchEndpoint=MODEL,
    amlManagedNetwork="allowOnlyApprovedOutbound",
)


def test_a_private_registry_builds_images_on_the_batch_cluster():
    result = program(PRIVATE_REGISTRY_SERVING, "private")
    assert result.one(WORKSPACE).inputs["imageBuildCompute"] == "batch-d68923"
    assert result.one(COMPUTE).inputs["computeName"] == "batch-d68923"


def test_the_online_deployment_waits_for_the_cluster_that_builds_its_image():
    result = program(PRIVATE_REGISTRY_SERVING, "private")
    assert result.one(COMPUTE).urn in result.one(ONLINE_DEPLOYMENT).depends_on


def test_without_a_private_registry_no_image_build_compute_is_named():
    private = with_values(
        PRIVATE, endpoint=MODEL, batchEndpoint=MODEL, amlManagedNetwork="allowInternetOutbound"
    )
    public = with_values(
        {**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml", containerRegistry=True,
        batchEndpoint=MODEL,
    )  # fmt: skip
    for raw, stack in ((private, "private"), (public, "dev")):
        assert "imageBuildCompute" not in program(raw, stack).one(WORKSPACE).inputs
