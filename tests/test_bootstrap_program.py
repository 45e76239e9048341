"""The state bootstrap under mocks: what it declares for the team backend, and its login strings."""

from __future__ import annotations

import uuid

import pytest

from tests.bootstrap_stack import (
    ACCOUNT,
    BLOB_SERVICE,
    CI_ID,
    CONTAINER,
    GROUP,
    GROUP_ID,
    KEY,
    KEY_VERSION,
    NS,
    ROLE,
    TEAM,
    VAULT,
    run_bootstrap,
    state_access,
    state_config,
)
from tools.offline import SUBSCRIPTION_ID, TENANT_ID, UNKNOWN, ProgramResult

BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
PREVIEW_ID = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"
DEPLOY_ID = "2c3d4e5f-6071-4829-93a4-b5c6d7e8f90a"
SUBSCRIPTION = f"/subscriptions/{SUBSCRIPTION_ID}"
AZUREML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
TEAM_LOCATION = {"azure-native:location": "westeurope"}
NAMES = state_config.state_names("mlflow", SUBSCRIPTION_ID)


@pytest.fixture(scope="module")
def team() -> ProgramResult:
    run = run_bootstrap(TEAM)
    assert run.error is None, run.error
    return run


def test_state_account_is_hardened_and_takes_only_entra_auth(team):
    account = team.one(ACCOUNT).inputs
    assert account["accountName"] == NAMES.storage_account
    assert account["resourceGroupName"] == "mlflow-pulumi-state-rg"
    assert account["kind"] == "StorageV2"
    assert account["sku"] == {"name": "Standard_GRS"}
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["defaultToOAuthAuthentication"] is True


def test_blob_service_keeps_versions_and_soft_deletes_blobs_and_containers(team):
    service = team.one(BLOB_SERVICE).inputs
    assert service["accountName"] == NAMES.storage_account
    assert service["blobServicesName"] == "default"
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}


def test_soft_delete_days_come_from_config():
    run = run_bootstrap({**TEAM, f"{NS}:softDeleteDays": "90"})
    service = run.one(BLOB_SERVICE).inputs
    assert service["deleteRetentionPolicy"]["days"] == 90
    assert service["containerDeleteRetentionPolicy"]["days"] == 90


def test_state_container_is_private_and_waits_for_the_blob_service(team):
    container = team.one(CONTAINER)
    assert container.inputs["containerName"] == "pulumi-state"
    assert container.inputs["accountName"] == NAMES.storage_account
    assert container.inputs["publicAccess"] == "None"
    assert team.one(BLOB_SERVICE).urn in container.depends_on


def test_vault_uses_rbac_and_keeps_deleted_keys_under_purge_protection(team):
    vault = team.one(VAULT).inputs
    assert vault["vaultName"] == NAMES.key_vault
    props = vault["properties"]
    assert props["tenantId"] == TENANT_ID
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == 90
    assert props["enablePurgeProtection"] is True


def test_secrets_key_is_rsa_and_allows_only_the_keepers_encrypt_and_decrypt(team):
    key = team.one(KEY).inputs
    assert key["vaultName"] == NAMES.key_vault
    assert key["keyName"] == "pulumi-secrets"
    assert key["properties"]["kty"] == "RSA"
    assert key["properties"]["keySize"] == 3072
    assert sorted(key["properties"]["keyOps"]) == ["decrypt", "encrypt"]


def test_each_principal_gets_blob_data_on_the_container_and_crypto_on_the_key(team):
    container_id = team.one(CONTAINER).id
    key_id = team.one(KEY).id
    granted = {
        (r.inputs["principalId"], r.inputs["principalType"], r.inputs["scope"],
         r.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
        for r in team.of_type(ROLE)
    }  # fmt: skip
    assert granted == {
        (GROUP_ID, "Group", container_id, BLOB_DATA_CONTRIBUTOR),
        (GROUP_ID, "Group", key_id, CRYPTO_USER),
        (CI_ID, "ServicePrincipal", container_id, BLOB_DATA_CONTRIBUTOR),
        (CI_ID, "ServicePrincipal", key_id, CRYPTO_USER),
    }
    for role in team.of_type(ROLE):
        assert role.inputs["roleDefinitionId"].startswith(
            f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        )


def grants(run: ProgramResult) -> set[tuple[str, str, str]]:
    return {
        (
            r.inputs["principalId"],
            r.inputs["scope"],
            r.inputs["roleDefinitionId"].rsplit("/", 1)[-1],
        )
        for r in run.of_type(ROLE)
    }


@pytest.fixture(scope="module")
def with_ci() -> ProgramResult:
    ci = f'{{"previewObjectId": "{PREVIEW_ID}", "deployObjectId": "{DEPLOY_ID}"}}'
    run = run_bootstrap({**TEAM, f"{NS}:ci": ci})
    assert run.error is None, run.error
    return run


def grants_to(run: ProgramResult, principal: str) -> set[tuple[str, str]]:
    """(scope, role) of each grant to `principal`; the state container and key by their type."""
    scopes = {run.one(CONTAINER).id: "container", run.one(KEY).id: "key"}
    return {
        (scopes.get(scope, scope), role) for who, scope, role in grants(run) if who == principal
    }


def test_preview_identity_reads_the_subscription_and_uses_the_backend_only(with_ci):
    assert grants_to(with_ci, PREVIEW_ID) == {
        (SUBSCRIPTION, READER),
        ("container", BLOB_DATA_CONTRIBUTOR),
        ("key", CRYPTO_USER),
    }


def test_only_the_deploy_identity_may_create_resources_and_assign_roles(with_ci):
    assert grants_to(with_ci, DEPLOY_ID) == {
        (SUBSCRIPTION, CONTRIBUTOR),
        (SUBSCRIPTION, RBAC_ADMINISTRATOR),
        ("container", BLOB_DATA_CONTRIBUTOR),
        ("key", CRYPTO_USER),
    }
    writers = {g[0] for g in grants(with_ci) if g[2] in (CONTRIBUTOR, RBAC_ADMINISTRATOR)}
    assert writers == {DEPLOY_ID}
    assert grants(with_ci) >= grants(run_bootstrap(TEAM))


def test_the_deploy_identity_may_assign_only_the_roles_the_main_stack_assigns(with_ci):
    [admin] = [
        r for r in with_ci.of_type(ROLE)
        if r.inputs["roleDefinitionId"].endswith(RBAC_ADMINISTRATOR)
    ]  # fmt: skip
    assert admin.inputs["principalId"] == DEPLOY_ID
    assert admin.inputs["conditionVersion"] == "2.0"
    allowed = (  # sorted: Storage Blob Data Reader, Reader, Blob Data Contributor, Data Scientist
        "{2a2b9908-6ea1-4ae2-8e65-a410df84e7d1, acdd72a7-3385-48ef-bd42-f606fba81ae7, "
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe, f6c7c914-8db3-469d-8ca1-694a8f32e121}"
    )
    assert admin.inputs["condition"] == (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {allowed})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {allowed}))"
    )
    others = [r for r in with_ci.of_type(ROLE) if r is not admin]
    assert all("condition" not in r.inputs for r in others)


def test_assignable_roles_from_config_are_added_to_the_condition():
    extra = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"  # User Access Administrator, say
    ci = (
        f'{{"previewObjectId": "{PREVIEW_ID}", "deployObjectId": "{DEPLOY_ID}", '
        f'"assignableRoles": ["{extra.upper()}"]}}'
    )
    run = run_bootstrap({**TEAM, f"{NS}:ci": ci})
    [condition] = [r.inputs["condition"] for r in run.of_type(ROLE) if "condition" in r.inputs]
    assert (  # sorted: the extra role, then Blob Data Reader, Reader, Blob Data Contributor, ...
        f"GuidEquals {{{extra}, 2a2b9908-6ea1-4ae2-8e65-a410df84e7d1, "
        f"{READER}, ba92f5b4-2d11-453d-a403-e96b0029c9fe, {AZUREML_DATA_SCIENTIST}}}"
    ) in condition


def test_every_role_the_main_stack_assigns_is_one_the_deploy_identity_may_assign():
    from tests.conftest import program
    from tests.stacks import PRIVATE, SERVICE_PRINCIPAL, with_values

    group = {"objectId": PREVIEW_ID, "type": "Group"}
    everything = with_values(
        {**SERVICE_PRINCIPAL, **TEAM_LOCATION},
        trackingMode="exclusive",
        modelRegistry="azureml",
        batchEndpoint={"model": "m", "version": 1},
        access={"dataScientists": [group], "readers": [group]},
    )
    assigned = {
        r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        for raw in (with_values({**SERVICE_PRINCIPAL, **TEAM_LOCATION}), PRIVATE, everything)
        for r in program(raw).of_type(ROLE)
    }
    assert assigned
    assert assigned <= set(state_access.DEPLOY_ASSIGNABLE_ROLES)


def test_nothing_is_granted_on_the_storage_account_or_the_vault(with_ci):
    scopes = {r.inputs["scope"] for r in with_ci.of_type(ROLE)}
    assert scopes == {with_ci.one(CONTAINER).id, with_ci.one(KEY).id, SUBSCRIPTION}


def test_role_assignment_names_are_deterministic_uuids(team):
    names = [r.inputs["roleAssignmentName"] for r in team.of_type(ROLE)]
    assert len(set(names)) == 4
    for name in names:
        assert str(uuid.UUID(name)) == name
    again = run_bootstrap(TEAM)
    assert sorted(r.inputs["roleAssignmentName"] for r in again.of_type(ROLE)) == sorted(names)


def test_stateful_resources_are_protected_by_default(team):
    for resource_type in (GROUP, ACCOUNT, CONTAINER, VAULT, KEY):
        assert team.one(resource_type).protect is True, resource_type


def test_protect_false_leaves_them_destroyable():
    run = run_bootstrap({**TEAM, f"{NS}:protect": "false"})
    assert not any(r.protect for r in run.resources)


def test_every_taggable_resource_carries_the_stack_tags(team):
    for resource_type in (GROUP, ACCOUNT, VAULT, KEY):
        tags = team.one(resource_type).inputs["tags"]
        assert tags["environment"] == "team"
        assert tags["managed-by"] == "pulumi"


def test_outputs_are_the_exact_login_and_secrets_provider_strings(team):
    account = team.one(ACCOUNT).inputs["accountName"]
    vault = team.one(VAULT).inputs["vaultName"]
    assert team.outputs["backendUrl"] == f"azblob://pulumi-state?storage_account={account}"
    assert team.outputs["login"] == f"pulumi login azblob://pulumi-state?storage_account={account}"
    assert team.outputs["secretsProvider"] == (
        f"azurekeyvault://{vault}.vault.azure.net/keys/pulumi-secrets/{KEY_VERSION}"
    )
    assert team.outputs["resourceGroupName"] == "mlflow-pulumi-state-rg"


def test_preview_before_login_declares_the_same_resources_with_names_unknown():
    run = run_bootstrap(TEAM, deployed=False)
    assert run.error is None
    assert sorted(r.type for r in run.resources if r.custom) == sorted(
        r.type for r in run_bootstrap(TEAM).resources if r.custom
    )
    assert run.outputs["login"] is UNKNOWN


def test_bad_config_fails_before_any_resource():
    run = run_bootstrap({**TEAM, f"{NS}:keySize": "1024"})
    assert run.error == (
        f"{NS}:keySize: 1024 is not allowed; allowed RSA key sizes: 2048, 3072, 4096"
    )
    assert run.resources == []
