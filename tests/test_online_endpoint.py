"""The online endpoint under the mock engine: what the program declares for each mode, the
ordering that keeps traffic on a live deployment, and the traffic resource's ARM calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from components.endpoint_traffic import (
    ENDPOINT_TRAFFIC_TYPE,
    EndpointTrafficProvider,
    traffic_body,
)
from components.online_endpoint import (
    ENDPOINT_IGNORED,
    OnlineEndpoint,
    OnlineEndpointArgs,
    deployment_name,
)
from core import naming
from core.config import EndpointAuthMode, EndpointSpec
from tests.conftest import program
from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, SERVICE_PRINCIPAL, with_values
from tests.test_teardown_arm import arm_for
from tools.offline import SUBSCRIPTION_ID, UNKNOWN, ProgramResult, StackMocks, run_program

ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
AML = "azure-native:machinelearningservices:Workspace"
AZUREML = with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml")
MODEL = {"model": "track-with-azureml-classifier", "version": 1}
SUFFIX = naming.unique_suffix(SUBSCRIPTION_ID, "mlflow-dev-rg", "dev")


def run(
    endpoint: dict[str, Any] | None, base: dict[str, str] = AZUREML, key: str = "endpoint"
) -> ProgramResult:
    """The program with config `key` (the online or the batch endpoint) set, or left unset."""
    return program(base if endpoint is None else with_values(base, **{key: endpoint}))


@dataclass(frozen=True)
class Serving:
    endpoint: Any
    deployment: Any
    traffic: Any


def serving(result: ProgramResult) -> Serving:
    return Serving(result.one(ENDPOINT), result.one(DEPLOYMENT), result.one(ENDPOINT_TRAFFIC_TYPE))


# --- what is declared ------------------------------------------------------------------------


def test_no_endpoint_declares_nothing_to_serve_and_null_outputs():
    result = run(None)
    assert result.of_type(ENDPOINT) == result.of_type(DEPLOYMENT) == []
    assert result.of_type(ENDPOINT_TRAFFIC_TYPE) == []
    assert result.outputs["endpointName"] is None
    assert result.outputs["endpointScoringUri"] is None


def test_endpoint_is_managed_with_system_identity_and_entra_auth():
    result = run(MODEL)
    s = serving(result)
    aml = result.one(AML)
    assert s.endpoint.inputs["endpointName"] == f"mlflow-dev-ep-{SUFFIX}"
    assert s.endpoint.inputs["workspaceName"] == aml.inputs["workspaceName"]
    assert s.endpoint.inputs["resourceGroupName"] == "mlflow-dev-rg"
    assert s.endpoint.inputs["location"] == "westeurope"
    assert s.endpoint.inputs["identity"] == {"type": "SystemAssigned"}
    properties = s.endpoint.inputs["properties"]
    assert properties["authMode"] == "AADToken"
    assert properties["publicNetworkAccess"] == "Enabled"
    assert "traffic" not in properties  # written by EndpointTraffic, after the deployment
    # azure-native only creates it: every later write is EndpointTraffic's
    assert set(s.endpoint.ignore_changes) >= {"tags", "properties"}
    assert set(ENDPOINT_IGNORED) <= set(s.endpoint.ignore_changes)
    assert s.endpoint.inputs["tags"] == {"environment": "dev", "managed-by": "pulumi"}


def test_deployment_serves_the_registered_model_version_without_script_or_environment():
    result = run(MODEL)
    s = serving(result)
    aml = result.one(AML)
    assert s.deployment.inputs["endpointName"] == s.endpoint.inputs["endpointName"]
    assert s.deployment.inputs["workspaceName"] == aml.inputs["workspaceName"]
    properties = s.deployment.inputs["properties"]
    assert properties["endpointComputeType"] == "Managed"
    assert properties["model"] == f"{aml.id}/models/track-with-azureml-classifier/versions/1"
    assert properties["instanceType"] == "Standard_DS3_v2"
    assert "codeConfiguration" not in properties
    assert "environmentId" not in properties
    assert s.deployment.inputs["sku"] == {"name": "Default", "capacity": 1}
    assert s.deployment.inputs["deploymentName"].startswith("v1-")
    assert s.deployment.inputs["tags"] == {"environment": "dev", "managed-by": "pulumi"}


def assert_writes_after_the_deployment(writer: Any, endpoint: Any, deployment: Any) -> None:
    """An endpoint-writing resource names the endpoint and the deployment; endpoint <-
    deployment <- writer: creates in this order, deletes in reverse."""
    assert writer.inputs["deployment_name"] == deployment.inputs["deploymentName"]
    assert writer.inputs["endpoint_name"] == endpoint.inputs["endpointName"]
    assert writer.inputs["subscription_id"] == SUBSCRIPTION_ID
    assert endpoint.urn in deployment.depends_on
    assert deployment.urn in writer.depends_on


def test_traffic_goes_all_to_the_deployment_once_it_exists():
    s = serving(run(MODEL))
    assert_writes_after_the_deployment(s.traffic, s.endpoint, s.deployment)
    assert s.traffic.inputs["workspace_name"] == s.endpoint.inputs["workspaceName"]
    assert s.traffic.inputs["resource_group_name"] == "mlflow-dev-rg"
    assert s.endpoint.urn in s.traffic.depends_on


def test_stack_outputs_name_the_endpoint_and_its_scoring_uri():
    result = run(MODEL)
    s = serving(result)
    assert result.outputs["endpointName"] == s.endpoint.inputs["endpointName"]
    assert result.outputs["endpointScoringUri"] == (s.endpoint.outputs["properties"]["scoringUri"])
    assert result.outputs["endpointScoringUri"] == (
        f"https://mlflow-dev-ep-{SUFFIX}.westeurope.inference.ml.azure.com/score"
    )


def test_private_link_turns_public_network_access_off():
    s = serving(run(MODEL, with_values(PRIVATE, amlManagedNetwork="allowOnlyApprovedOutbound")))
    assert s.endpoint.inputs["properties"]["publicNetworkAccess"] == "Disabled"


def test_key_auth_size_count_and_name_come_from_config():
    s = serving(
        run(
            {
                **MODEL,
                "authMode": "Key",
                "instanceType": "Standard_F4s_v2",
                "instanceCount": 3,
                "name": "churn-scoring",
            }
        )
    )
    assert s.endpoint.inputs["properties"]["authMode"] == "Key"
    assert s.endpoint.inputs["endpointName"] == "churn-scoring"
    assert s.deployment.inputs["properties"]["instanceType"] == "Standard_F4s_v2"
    assert s.deployment.inputs["sku"] == {"name": "Default", "capacity": 3}


def test_preview_declares_the_serving_resources_before_azure_knows_the_names():
    result = run_program(
        with_values(AZUREML, endpoint=MODEL), "dev", deployed=False, secret_keys=SECRET_KEYS
    )
    assert result.error is None
    serving(result)  # one each of endpoint, deployment and traffic
    assert result.outputs["endpointName"] is UNKNOWN  # it carries the subscription's suffix


@pytest.mark.parametrize(
    ("base", "endpoint", "expected"),
    [
        (
            {**DEV, **SERVICE_PRINCIPAL},
            MODEL,
            "databricks-azureml:endpoint: ",
        ),
        (AZUREML, {**MODEL, "instanceCount": 0}, "databricks-azureml:endpoint.instanceCount: 0"),
        (
            AZUREML,
            {**MODEL, "color": "blue"},
            "databricks-azureml:endpoint.color: (a string, not shown) is set for an unknown key",
        ),
        (AZUREML, {**MODEL, "name": "9lives"}, "databricks-azureml:endpoint.name: 9lives"),
        (AZUREML, {**MODEL, "authMode": "AMLToken"}, "databricks-azureml:endpoint.authMode"),
    ],
)
def test_rejected_endpoint_config_declares_nothing(base, endpoint, expected):
    result = run_program(with_values(base, endpoint=endpoint), "dev", secret_keys=SECRET_KEYS)
    assert result.error is not None and expected in result.error
    assert result.resources == []


# --- a version bump keeps traffic on a live deployment -------------------------------------


def test_version_bump_replaces_the_deployment_create_before_delete():
    old = serving(run(MODEL))
    new = serving(run({**MODEL, "version": 2}))

    # Same logical resource, new ARM name: Pulumi plans a replacement, not an in-place update
    # of the deployment that has the traffic.
    assert new.deployment.name == old.deployment.name
    assert new.deployment.inputs["deploymentName"] != old.deployment.inputs["deploymentName"]
    assert new.deployment.inputs["deploymentName"].startswith("v2-")
    # create-before-delete: the new deployment exists before the old one goes
    assert new.deployment.delete_before_replace is False
    # the traffic follows the new name (an update that runs after the create it depends on),
    # and the endpoint itself is untouched
    assert new.traffic.inputs["deployment_name"] == new.deployment.inputs["deploymentName"]
    assert new.deployment.urn in new.traffic.depends_on
    assert new.endpoint.inputs == old.endpoint.inputs
    assert new.traffic.name == old.traffic.name


def test_instance_count_change_scales_the_same_deployment_in_place():
    old = serving(run(MODEL))
    new = serving(run({**MODEL, "instanceCount": 2}))
    assert new.deployment.inputs["deploymentName"] == old.deployment.inputs["deploymentName"]
    assert new.deployment.inputs["sku"]["capacity"] == 2


def test_new_vm_size_is_a_new_deployment():
    old = serving(run(MODEL))
    new = serving(run({**MODEL, "instanceType": "Standard_F4s_v2"}))
    assert new.deployment.inputs["deploymentName"] != old.deployment.inputs["deploymentName"]


# --- EndpointTraffic's ARM calls ----------------------------------------------------------------

GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-dev-rg"
WORKSPACE = f"{GROUP}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-dev-mlw"
PATH = f"{WORKSPACE}/onlineEndpoints/ep"


def writer_props(endpoint: str, **extra: Any) -> dict[str, Any]:
    """The inputs of an endpoint writer (EndpointTraffic, BatchEndpointDefault) for `endpoint`
    in the dev stack's AzureML workspace, deploying v2-abcdef."""
    return {
        "subscription_id": SUBSCRIPTION,
        "resource_group_name": "mlflow-dev-rg",
        "workspace_name": "mlflow-dev-mlw",
        "endpoint_name": endpoint,
        "deployment_name": "v2-abcdef",
        **extra,
        "environment": "public",
        "metadata_host": "",
    }


PROPS = writer_props(
    "ep",
    settings={
        "tags": {"environment": "dev"},
        "authMode": "AADToken",
        "publicNetworkAccess": "Enabled",
    },
)


def arm_endpoint(traffic: dict[str, int]) -> dict[str, Any]:
    return {
        "id": PATH,
        "name": "ep",
        "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
        "location": "westeurope",
        "tags": {"environment": "dev"},
        "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
        "kind": "Managed",
        "systemData": {"createdBy": "someone"},
        "properties": {
            "authMode": "AADToken",
            "publicNetworkAccess": "Enabled",
            "traffic": traffic,
            "provisioningState": "Succeeded",
            "scoringUri": "https://ep.westeurope.inference.ml.azure.com/score",
            "swaggerUri": "https://ep.westeurope.inference.ml.azure.com/swagger.json",
        },
    }


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as arm_fake:
        arm_fake.put(GROUP, {"location": "westeurope"})
        yield arm_fake


def provider_for(fake: FakeArm) -> EndpointTrafficProvider:
    return EndpointTrafficProvider(lambda _subscription, _cloud: arm_for(fake))


def seed(fake: FakeArm, traffic: dict[str, int]) -> None:
    """The endpoint with `traffic`, and the deployments it and the declared one name (ARM
    refuses traffic naming a deployment the endpoint does not have)."""
    fake.put(PATH.rsplit("/onlineEndpoints/", 1)[0], {"location": "westeurope", "properties": {}})
    endpoint = arm_endpoint({})
    body = {key: endpoint[key] for key in ("location", "tags", "identity", "kind")}
    fake.put(PATH, body | {"properties": endpoint["properties"]})
    for deployment in {*traffic, PROPS["deployment_name"]}:
        fake.put(f"{PATH}/deployments/{deployment}", {"location": "westeurope", "properties": {}})
    fake.put(PATH, body | {"properties": endpoint["properties"] | {"traffic": traffic}})


def puts(fake: FakeArm) -> list[Any]:
    return fake.calls("PUT", PATH)


def test_create_puts_the_endpoint_back_with_all_traffic_on_the_deployment(fake):
    seed(fake, {})
    result = provider_for(fake).create(dict(PROPS))

    assert result.id == f"{PATH}/traffic"
    [put] = puts(fake)
    assert put.query["api-version"] == "2025-12-01"  # the SDK's OnlineEndpoint
    body = put.body
    assert body["properties"]["traffic"] == {"v2-abcdef": 100}
    assert body["properties"]["authMode"] == "AADToken"
    assert body["identity"] == {"type": "SystemAssigned"}
    assert body["location"] == "westeurope"
    for read_only in ("provisioningState", "scoringUri", "swaggerUri"):
        assert read_only not in body["properties"]
    assert "systemData" not in body and "id" not in body
    assert fake.get(PATH)["properties"]["traffic"] == {"v2-abcdef": 100}


def test_update_moves_all_traffic_from_the_old_deployment_to_the_new(fake):
    seed(fake, {"v1-123456": 100})
    provider_for(fake).update("id", {}, dict(PROPS))
    assert fake.get(PATH)["properties"]["traffic"] == {"v2-abcdef": 100}


def test_traffic_already_right_is_not_written_again(fake):
    seed(fake, {"v2-abcdef": 100})
    provider_for(fake).update("id", {}, dict(PROPS))
    assert puts(fake) == []


def test_delete_clears_the_traffic_so_the_deployment_can_go(fake):
    seed(fake, {"v2-abcdef": 100})
    provider_for(fake).delete("id", dict(PROPS))
    assert fake.get(PATH)["properties"]["traffic"] == {}


def test_delete_after_the_endpoint_is_gone_does_nothing(fake):
    provider_for(fake).delete("id", dict(PROPS))
    assert puts(fake) == []


def test_create_on_a_missing_endpoint_fails_saying_so(fake):
    from arm.client import ArmError

    with pytest.raises(ArmError, match=r"does not exist"):
        provider_for(fake).create(dict(PROPS))


def test_a_refused_write_names_the_missing_permission(fake):
    from arm.client import ArmError

    seed(fake, {})
    fake.fail(PATH, 403, method="PUT", code="AuthorizationFailed", message="no write")
    with pytest.raises(ArmError, match="onlineEndpoints/write"):
        provider_for(fake).create(dict(PROPS))


def test_diff_replaces_only_for_another_endpoint():
    provider = EndpointTrafficProvider()
    bumped = provider.diff("id", dict(PROPS), {**PROPS, "deployment_name": "v3-000000"})
    assert bumped.changes and not bumped.replaces
    moved = provider.diff("id", dict(PROPS), {**PROPS, "endpoint_name": "other"})
    assert moved.replaces == ["endpoint_name"] and moved.delete_before_replace is False
    assert not provider.diff("id", dict(PROPS), dict(PROPS)).changes


def test_endpoint_settings_the_program_declares_are_what_endpoint_traffic_writes():
    s = serving(run(MODEL))
    declared = s.endpoint.inputs["properties"]
    assert s.traffic.inputs["settings"] == {
        "tags": s.endpoint.inputs["tags"],
        "authMode": declared["authMode"],
        "publicNetworkAccess": declared["publicNetworkAccess"],
        "description": declared["description"],
    }


def test_serving_resources_are_replaced_with_the_azureml_workspace():
    result = run(MODEL)
    workspace = result.one(AML).urn
    s = serving(result)
    for resource in (s.endpoint, s.deployment, s.traffic):
        assert resource.replace_with == [workspace], resource.type


def test_a_setting_change_is_written_with_the_live_traffic_kept_on_the_deployment(fake):
    # The write azure-native would have made with replayed inputs: here the read-modify-write
    # keeps every property ARM has and names only the deployment it was given.
    seed(fake, {"v2-abcdef": 100})
    settings = {**PROPS["settings"], "tags": {"environment": "dev", "team": "ml"}}
    provider_for(fake).update("id", dict(PROPS), {**PROPS, "settings": settings})
    [put] = puts(fake)
    assert put.body["tags"] == {"environment": "dev", "team": "ml"}
    assert put.body["properties"]["traffic"] == {"v2-abcdef": 100}
    assert put.body["properties"]["authMode"] == "AADToken"
    assert fake.get(PATH)["tags"] == {"environment": "dev", "team": "ml"}


def test_settings_already_right_are_not_written_again(fake):
    seed(fake, {"v2-abcdef": 100})
    provider_for(fake).update("id", dict(PROPS), dict(PROPS))
    assert puts(fake) == []


def test_traffic_body_keeps_user_assigned_identities_as_references():
    endpoint = arm_endpoint({})
    endpoint["identity"] = {
        "type": "UserAssigned",
        "userAssignedIdentities": {"/sub/id1": {"principalId": "p", "clientId": "c"}},
    }
    assert traffic_body(endpoint, {})["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": {"/sub/id1": {}},
    }


# --- the component's own outputs ----------------------------------------------------------------


@pulumi.runtime.test
def test_component_exposes_name_id_scoring_uri_and_identity():
    pulumi.runtime.set_mocks(StackMocks(deployed=True), project="databricks-azureml", stack="dev")
    workspace_id = (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg/providers"
        "/Microsoft.MachineLearningServices/workspaces/mlw"
    )
    spec = EndpointSpec(
        model="m", version=3, instance_count=1, auth_mode=EndpointAuthMode.AAD_TOKEN
    )
    component = OnlineEndpoint(
        "serving",
        OnlineEndpointArgs(
            resource_group_name="rg",
            location="northeurope",
            workspace_name="mlw",
            workspace_id=workspace_id,
            subscription_id=SUBSCRIPTION_ID,
            endpoint_name="scoring-ep",
            spec=spec,
            private_link=False,
        ),
    )

    def check(values: list[Any]) -> None:
        name, resource_id, scoring_uri, deployment, principal = values
        assert name == "scoring-ep"
        assert resource_id == f"{workspace_id}/onlineEndpoints/scoring-ep"
        assert scoring_uri == "https://scoring-ep.northeurope.inference.ml.azure.com/score"
        assert deployment == deployment_name(spec)
        assert principal

    return pulumi.Output.all(
        component.endpoint_name,
        component.resource_id,
        component.scoring_uri,
        component.deployment_name,
        component.system_assigned_mi_principal_id,
    ).apply(check)
