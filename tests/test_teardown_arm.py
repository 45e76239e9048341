"""teardown.arm against a local HTTPS server that plays ARM, through the real azure-core pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from teardown import arm
from tests.arm_fake import (
    SUBSCRIPTION,
    TOKEN,
    FailingCredential,
    FakeArm,
    StaticCredential,
    arm_error,
    reply,
)

GROUP = "mlflow-dev-rg"
WORKSPACE = "mlflow-dev-mlw"
VAULT = "mlflow-dev-1a2b3c"
WORKSPACE_PATH = arm.aml_workspace_path(SUBSCRIPTION, GROUP, WORKSPACE)
VAULT_PATH = arm.key_vault_path(SUBSCRIPTION, GROUP, VAULT)
DELETED_VAULT_PATH = arm.deleted_key_vault_path(SUBSCRIPTION, "westeurope", VAULT)
NOT_FOUND = arm_error(404, "ResourceNotFound", "not found")


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as server:
        yield server


def deleted_vault(group: str = GROUP, **properties: object) -> dict[str, object]:
    return {
        "id": DELETED_VAULT_PATH,
        "name": VAULT,
        "properties": {
            "vaultId": arm.key_vault_path(SUBSCRIPTION, group, VAULT),
            "location": "westeurope",
            "scheduledPurgeDate": "2030-01-01T00:00:00Z",
            **properties,
        },
    }


def purge_workspace(fake: FakeArm, **client_settings: object) -> bool:
    with fake.client(**client_settings) as client:
        return arm.purge_aml_workspace(client, SUBSCRIPTION, GROUP, WORKSPACE)


def purge_vault(fake: FakeArm, resource_group: str | None = GROUP) -> bool:
    with fake.client() as client:
        return arm.purge_key_vault(
            client, SUBSCRIPTION, "West Europe", VAULT, resource_group=resource_group
        )


def test_workspace_purge_sends_delete_with_force_to_purge_and_a_bearer_token(fake):
    fake.on("DELETE", WORKSPACE_PATH, reply(200))
    fake.on("GET", WORKSPACE_PATH, NOT_FOUND)
    credential = StaticCredential()

    with fake.client(credential) as client:
        assert arm.purge_aml_workspace(client, SUBSCRIPTION, GROUP, WORKSPACE) is True

    delete, confirm = fake.requests
    assert (delete.method, delete.path) == ("DELETE", WORKSPACE_PATH)
    assert delete.path == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}"
    )
    assert delete.query == {"api-version": "2024-04-01", "forceToPurge": "true"}
    assert delete.headers["authorization"] == f"Bearer {TOKEN}"
    assert delete.headers["x-ms-client-request-id"]
    assert credential.scopes[0] == ("https://management.azure.com/.default",)
    assert (confirm.method, confirm.path, confirm.query) == (
        "GET",
        WORKSPACE_PATH,
        {"api-version": "2024-04-01"},
    )


def test_workspace_purge_polls_azure_async_operation_until_it_succeeds(fake):
    fake.on(
        "DELETE",
        WORKSPACE_PATH,
        reply(
            202,
            headers={
                "Azure-AsyncOperation": "{base}/operations/purge-1",
                "Location": "{base}/operationResults/purge-1",
            },
        ),
    )
    fake.on(
        "GET",
        "/operations/purge-1",
        reply(200, {"status": "InProgress"}),
        reply(200, {"status": "InProgress"}),
        reply(200, {"status": "Succeeded"}),
    )
    fake.on("GET", WORKSPACE_PATH, NOT_FOUND)

    assert purge_workspace(fake) is True

    assert [(r.method, r.path) for r in fake.requests] == [
        ("DELETE", WORKSPACE_PATH),
        ("GET", "/operations/purge-1"),
        ("GET", "/operations/purge-1"),
        ("GET", "/operations/purge-1"),
        ("GET", WORKSPACE_PATH),
    ]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)
    assert not fake.calls("GET", "/operationResults/purge-1")


def test_workspace_purge_follows_location_when_there_is_no_async_operation_header(fake):
    fake.on("DELETE", WORKSPACE_PATH, reply(202, headers={"Location": "{base}/results/purge-2"}))
    fake.on("GET", "/results/purge-2", reply(202), reply(202), reply(204))
    fake.on("GET", WORKSPACE_PATH, NOT_FOUND)

    assert purge_workspace(fake) is True

    assert len(fake.calls("GET", "/results/purge-2")) == 3
    assert fake.requests[-1].path == WORKSPACE_PATH


def test_failed_purge_operation_raises_with_azures_reason(fake):
    fake.on("DELETE", WORKSPACE_PATH, reply(202, headers={"Azure-AsyncOperation": "{base}/op/3"}))
    fake.on(
        "GET",
        "/op/3",
        reply(
            200,
            {"status": "Failed", "error": {"code": "Conflict", "message": "linked compute busy"}},
        ),
    )

    with pytest.raises(arm.ArmError, match="linked compute busy") as raised:
        purge_workspace(fake)

    assert raised.value.code == "Conflict"
    assert not fake.calls("GET", WORKSPACE_PATH)


def test_workspace_purge_waits_until_arm_no_longer_lists_the_workspace(fake):
    fake.on("DELETE", WORKSPACE_PATH, reply(200))
    fake.on(
        "GET",
        WORKSPACE_PATH,
        reply(200, {"properties": {"provisioningState": "Deleting"}}),
        reply(200, {"properties": {"provisioningState": "Deleting"}}),
        NOT_FOUND,
    )

    assert purge_workspace(fake) is True

    assert len(fake.calls("GET", WORKSPACE_PATH)) == 3


def test_workspace_that_is_already_gone_counts_as_done(fake):
    fake.on("DELETE", WORKSPACE_PATH, NOT_FOUND)

    assert purge_workspace(fake) is False

    assert len(fake.requests) == 1


def test_throttled_request_waits_as_long_as_retry_after_says(fake):
    fake.on(
        "DELETE",
        WORKSPACE_PATH,
        reply(429, {"error": {"code": "TooManyRequests"}}, headers={"Retry-After": "1"}),
        reply(200),
    )
    fake.on("GET", WORKSPACE_PATH, NOT_FOUND)

    assert purge_workspace(fake) is True

    first, second = fake.calls("DELETE")
    assert second.at - first.at >= 0.9  # the back-off alone would wait 0.05 s at most


def test_server_error_is_retried_then_succeeds(fake):
    fake.on(
        "DELETE",
        WORKSPACE_PATH,
        arm_error(500, "InternalServerError", "try again"),
        reply(200),
    )
    fake.on("GET", WORKSPACE_PATH, NOT_FOUND)

    assert purge_workspace(fake) is True

    assert len(fake.calls("DELETE")) == 2


def test_persistent_server_error_gives_up_after_the_retry_budget(fake):
    fake.on("DELETE", WORKSPACE_PATH, arm_error(503, "ServiceUnavailable", "down"))

    with pytest.raises(arm.ArmError, match="503") as raised:
        purge_workspace(fake, retry_total=2)

    assert raised.value.status == 503
    assert len(fake.calls("DELETE")) == 3


def test_forbidden_workspace_delete_names_the_missing_permission(fake):
    fake.on(
        "DELETE",
        WORKSPACE_PATH,
        arm_error(403, "AuthorizationFailed", "The client 'x' does not have authorization"),
    )

    with pytest.raises(arm.ArmPermissionError) as raised:
        purge_workspace(fake)

    assert raised.value.permission == "Microsoft.MachineLearningServices/workspaces/delete"
    assert "Microsoft.MachineLearningServices/workspaces/delete" in str(raised.value)
    assert "AuthorizationFailed" in str(raised.value)
    assert len(fake.requests) == 1  # a 403 is not retried


def test_failed_sign_in_raises_auth_error_before_anything_is_sent(fake):
    with (
        fake.client(FailingCredential()) as client,
        pytest.raises(arm.ArmAuthError, match="az login") as raised,
    ):
        arm.purge_aml_workspace(client, SUBSCRIPTION, GROUP, WORKSPACE)

    assert "\n" not in str(raised.value)
    assert fake.requests == []


def test_rejected_token_raises_auth_error(fake):
    fake.on(
        "GET",
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}",
        arm_error(401, "InvalidAuthenticationToken", "The access token is invalid."),
    )

    with fake.client() as client, pytest.raises(arm.ArmAuthError, match="401"):
        arm.get_resource_group(client, SUBSCRIPTION, GROUP)


def test_key_vault_purge_posts_to_deleted_vaults_and_polls_the_operation(fake):
    fake.on("GET", DELETED_VAULT_PATH, reply(200, deleted_vault()), NOT_FOUND)
    fake.on(
        "POST",
        DELETED_VAULT_PATH + "/purge",
        reply(202, headers={"Location": "{base}/kv-operations/9", "Retry-After": "0"}),
    )
    fake.on("GET", "/kv-operations/9", reply(202), reply(200))

    assert purge_vault(fake) is True

    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", DELETED_VAULT_PATH),
        ("POST", DELETED_VAULT_PATH + "/purge"),
        ("GET", "/kv-operations/9"),
        ("GET", "/kv-operations/9"),
        ("GET", DELETED_VAULT_PATH),
    ]
    post = fake.calls("POST")[0]
    assert post.path == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.KeyVault"
        f"/locations/westeurope/deletedVaults/{VAULT}/purge"
    )
    assert post.query == {"api-version": "2022-07-01"}
    assert post.headers["authorization"] == f"Bearer {TOKEN}"


def test_key_vault_purge_waits_for_a_vault_still_being_deleted(fake):
    fake.on("GET", DELETED_VAULT_PATH, NOT_FOUND, NOT_FOUND, reply(200, deleted_vault()), NOT_FOUND)
    fake.on("GET", VAULT_PATH, reply(200, {"name": VAULT}))
    fake.on("POST", DELETED_VAULT_PATH + "/purge", reply(200))

    assert purge_vault(fake) is True

    assert len(fake.calls("GET", VAULT_PATH)) == 2
    assert len(fake.calls("POST")) == 1


def test_key_vault_purge_finds_nothing_when_the_vault_is_gone_everywhere(fake):
    fake.on("GET", DELETED_VAULT_PATH, NOT_FOUND)
    fake.on("GET", VAULT_PATH, NOT_FOUND)

    assert purge_vault(fake) is False

    assert not fake.calls("POST")


def test_key_vault_purge_leaves_a_deleted_vault_of_another_resource_group_alone(fake):
    fake.on("GET", DELETED_VAULT_PATH, reply(200, deleted_vault(group="someone-elses-rg")))

    assert purge_vault(fake) is False

    assert not fake.calls("POST")


def test_key_vault_with_purge_protection_is_a_clear_error(fake):
    fake.on("GET", DELETED_VAULT_PATH, reply(200, deleted_vault(purgeProtectionEnabled=True)))

    with pytest.raises(arm.ArmError, match="purge protection") as raised:
        purge_vault(fake)

    assert "2030-01-01" in str(raised.value)
    assert not fake.calls("POST")


def test_forbidden_key_vault_purge_names_the_purge_permission(fake):
    fake.on("GET", DELETED_VAULT_PATH, reply(200, deleted_vault()))
    fake.on("POST", DELETED_VAULT_PATH + "/purge", arm_error(403, "AuthorizationFailed", "no"))

    with pytest.raises(arm.ArmPermissionError) as raised:
        purge_vault(fake)

    assert "Microsoft.KeyVault/locations/deletedVaults/purge/action" in str(raised.value)


def test_throttled_purge_post_is_retried_even_without_retry_after(fake):
    fake.on("GET", DELETED_VAULT_PATH, reply(200, deleted_vault()), NOT_FOUND)
    fake.on(
        "POST",
        DELETED_VAULT_PATH + "/purge",
        arm_error(429, "TooManyRequests", "slow down"),
        reply(200),
    )

    assert purge_vault(fake) is True

    assert len(fake.calls("POST")) == 2


def test_key_vault_delete_reports_whether_the_vault_existed(fake):
    fake.on("DELETE", VAULT_PATH, reply(200), NOT_FOUND)

    with fake.client() as client:
        assert arm.delete_key_vault(client, SUBSCRIPTION, GROUP, VAULT) is True
        assert arm.delete_key_vault(client, SUBSCRIPTION, GROUP, VAULT) is False

    assert fake.calls("DELETE")[0].query == {"api-version": "2022-07-01"}


def test_resource_group_lookup_distinguishes_present_from_absent(fake):
    fake.on(
        "GET",
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}",
        reply(200, {"name": GROUP, "properties": {"provisioningState": "Deleting"}}),
    )
    fake.on("GET", f"/subscriptions/{SUBSCRIPTION}/resourcegroups/other-rg", NOT_FOUND)

    with fake.client() as client:
        found = arm.get_resource_group(client, SUBSCRIPTION, GROUP)
        assert arm.get_resource_group(client, SUBSCRIPTION, "other-rg") is None

    assert found is not None and found["properties"]["provisioningState"] == "Deleting"
    assert fake.requests[0].query == {"api-version": "2021-04-01"}


DELETED_WORKSPACES = (
    f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/deletedWorkspaces"
)


def test_soft_deleted_workspace_is_found_across_pages_and_matched_by_group(fake):
    other_group = arm.aml_workspace_path(SUBSCRIPTION, "other-rg", WORKSPACE)
    fake.on(
        "GET",
        DELETED_WORKSPACES,
        reply(
            200,
            {
                "value": [{"name": WORKSPACE, "id": other_group}],
                "nextLink": "{base}/page-2?api-version=2024-04-01&$skiptoken=x".replace(
                    "{base}", fake.base_url
                ),
            },
        ),
    )
    fake.on("GET", "/page-2", reply(200, {"value": [{"name": WORKSPACE, "id": WORKSPACE_PATH}]}))

    with fake.client() as client:
        found = arm.find_soft_deleted_aml_workspace(client, SUBSCRIPTION, GROUP, WORKSPACE)

    assert found == {"name": WORKSPACE, "id": WORKSPACE_PATH}
    assert fake.calls("GET", "/page-2")[0].query == {
        "api-version": "2024-04-01",
        "$skiptoken": "x",
    }


def test_soft_deleted_workspace_listing_unavailable_is_reported_as_such(fake):
    fake.on(
        "GET",
        DELETED_WORKSPACES,
        arm_error(400, "InvalidResourceType", "The resource type could not be found"),
    )

    with fake.client() as client, pytest.raises(arm.ArmUnsupportedError, match="Recently deleted"):
        arm.find_soft_deleted_aml_workspace(client, SUBSCRIPTION, GROUP, WORKSPACE)


def test_default_credential_uses_the_service_principal_given_to_azure_native():
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    principal = {"ARM_TENANT_ID": "t", "ARM_CLIENT_ID": "c", "ARM_CLIENT_SECRET": "s"}

    assert isinstance(arm.default_credential(principal), ClientSecretCredential)
    assert isinstance(arm.default_credential({}), DefaultAzureCredential)
    assert isinstance(
        arm.default_credential({**principal, "AZURE_CLIENT_ID": "c"}), DefaultAzureCredential
    )
