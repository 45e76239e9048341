"""The state bootstrap's config rules, names and login strings: pure functions, no Pulumi."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.bootstrap_stack import CI_ID, GROUP_ID, NS, PRINCIPALS
from tests.bootstrap_stack import TEAM as BASE
from tests.test_config import refusal

# isort: split
# bootstrap/ is importable once tests.bootstrap_stack has put it on sys.path
from state_config import (
    PrincipalType,
    backend_url,
    parse_config,
    secrets_provider,
    state_names,
)

SUBSCRIPTION = "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"


def raw(**values: object) -> dict[str, str]:
    """BASE plus project keys given as Python values (lists and objects as JSON, as Pulumi sends)."""
    result = dict(BASE)
    for key, value in values.items():
        if value is None:
            result.pop(f"{NS}:{key}", None)
        elif isinstance(value, bool):
            result[f"{NS}:{key}"] = "true" if value else "false"
        elif isinstance(value, dict | list):
            result[f"{NS}:{key}"] = json.dumps(value)
        else:
            result[f"{NS}:{key}"] = str(value)
    return result


def rejected(config: dict[str, str]) -> str:
    return refusal(parse_config, config, "team")


# --- accepted config ---------------------------------------------------------------------------


def test_defaults_keep_state_recoverable_and_protected():
    config = parse_config(BASE, "team")
    assert config.prefix == "mlflow"
    assert config.soft_delete_days == 30
    assert config.key_size == 3072
    assert config.storage_sku == "Standard_GRS"
    assert config.protect is True
    assert dict(config.tags) == {}
    assert [(p.object_id, p.type) for p in config.principals] == [
        (GROUP_ID, PrincipalType.GROUP),
        (CI_ID, PrincipalType.SERVICE_PRINCIPAL),
    ]


def test_values_given_as_pulumi_strings_are_typed():
    config = parse_config(
        raw(softDeleteDays="90", keySize="4096", protect="false", storageSku="Standard_ZRS"), "team"
    )
    assert (config.soft_delete_days, config.key_size, config.protect) == (90, 4096, False)
    assert config.storage_sku == "Standard_ZRS"


def test_object_ids_are_normalised_to_lowercase():
    config = parse_config(raw(principals=[{"objectId": GROUP_ID.upper(), "type": "User"}]), "t")
    assert config.principals[0].object_id == GROUP_ID


def test_config_is_frozen():
    config = parse_config(BASE, "team")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.prefix = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.tags["x"] = "y"  # type: ignore[index]


# --- every rule has a failing input --------------------------------------------------------------


def test_unknown_key_is_an_error():
    message = rejected(raw(softDeleteDay=30))
    assert message.startswith(
        f"{NS}:softDeleteDay: (a string, not shown) is set for an unknown key; known keys:"
    )
    assert message.endswith("; did you mean softDeleteDays?")


def test_location_is_required():
    config = dict(BASE)
    del config["azure-native:location"]
    assert rejected(config).startswith("azure-native:location: (not set) is required")


def test_location_must_be_a_region_name():
    message = rejected({**BASE, "azure-native:location": "West Europe"})
    assert (
        message
        == "azure-native:location: West Europe is not an Azure region name such as westeurope"
    )


@pytest.mark.parametrize("prefix", ["a", "1abc", "Mlflow", "toolongprefix", "ml-flow"])
def test_prefix_breaking_the_naming_rule_is_rejected(prefix):
    message = rejected(raw(prefix=prefix))
    assert message.startswith(f"{NS}:prefix: {prefix} is not allowed: 2-10 characters")


def test_principals_are_required():
    message = rejected(raw(principals=None))
    assert message.startswith(
        f"{NS}:principals: (not set) is required: a list of {{objectId, type}}"
    )


@pytest.mark.parametrize("value", [[], {"objectId": GROUP_ID}, 42])
def test_principals_must_be_a_non_empty_list(value):
    assert "is not allowed: expected a list of" in rejected(raw(principals=value))


def test_principals_that_are_not_json_are_rejected():
    config = {**BASE, f"{NS}:principals": "[{objectId"}
    assert rejected(config).startswith(
        f"{NS}:principals: (a string that is not valid JSON, value not shown) is not valid JSON"
    )


def test_principal_that_is_not_an_object_is_rejected():
    message = rejected(raw(principals=[GROUP_ID]))
    assert message == f"{NS}:principals[0]: {GROUP_ID} is not an object with objectId and type"


def test_principal_with_an_unknown_field_is_rejected():
    message = rejected(raw(principals=[{"objectId": GROUP_ID, "type": "Group", "role": "x"}]))
    assert message == (
        f"{NS}:principals[0].role: x is set for an unknown field; known fields: objectId, type"
    )


@pytest.mark.parametrize("object_id", ["not-a-guid", None, 42])
def test_principal_object_id_must_be_a_guid(object_id):
    entry = {"type": "Group"} if object_id is None else {"objectId": object_id, "type": "Group"}
    message = rejected(raw(principals=[entry]))
    assert message.startswith(f"{NS}:principals[0].objectId: ")
    assert message.endswith(
        " is not a GUID: the principal's object id (az ad group show / az ad sp show --query id)"
    )


def test_principal_type_must_be_known():
    message = rejected(raw(principals=[{"objectId": GROUP_ID, "type": "Application"}]))
    assert message == (
        f"{NS}:principals[0].type: Application is not allowed; allowed: Group, "
        "ServicePrincipal, User"
    )


def test_principal_listed_twice_is_rejected():
    twice = [*PRINCIPALS, {"objectId": GROUP_ID.upper(), "type": "Group"}]
    message = rejected(raw(principals=twice))
    assert message == f"{NS}:principals[2].objectId: {GROUP_ID.upper()} is listed twice"


@pytest.mark.parametrize(
    ("days", "problem"),
    [("6", "is outside 7..365"), ("366", "is outside 7..365"), ("a week", "is not a whole number")],
)
def test_soft_delete_days_outside_the_range_are_rejected(days, problem):
    assert rejected(raw(softDeleteDays=days)) == f"{NS}:softDeleteDays: {days} {problem}"


@pytest.mark.parametrize("size", ["1024", "3000", "true"])
def test_key_size_must_be_an_rsa_size_key_vault_offers(size):
    message = rejected(raw(keySize=size))
    assert (
        message == f"{NS}:keySize: {size} is not allowed; allowed RSA key sizes: 2048, 3072, 4096"
    )


def test_storage_sku_must_be_a_standard_redundancy():
    message = rejected(raw(storageSku="Premium_LRS"))
    assert message.startswith(
        f"{NS}:storageSku: Premium_LRS is not allowed; allowed: Standard_LRS,"
    )


def test_protect_must_be_a_boolean():
    assert (
        rejected(raw(protect="yes")) == f"{NS}:protect: yes is not a boolean; allowed: true, false"
    )


def test_tags_must_be_an_object():
    assert rejected(raw(tags=["a"])).startswith(f'{NS}:tags: ["a"] is not an object')


def test_stack_tag_names_cannot_be_overridden():
    message = rejected(raw(tags={"managed-by": "terraform"}))
    assert message.startswith(f"{NS}:tags.managed-by: terraform is set by the stack itself")


def test_tag_name_azure_rejects_is_rejected():
    message = rejected(raw(tags={"a/b": "x"}))
    assert message.startswith(f"{NS}:tags.a/b: x has a tag name Azure rejects")


def test_tag_value_must_be_a_short_string():
    assert "is not a string of at most 256 characters" in rejected(raw(tags={"owner": "x" * 257}))


def test_more_tags_than_a_storage_account_takes_are_rejected():
    message = rejected(raw(tags={f"t{i}": "x" for i in range(14)}))
    assert message.startswith(f"{NS}:tags: 14 tags are too many: a storage account takes 15")


# --- names and login strings -------------------------------------------------------------------


def test_names_are_stable_and_within_azure_limits():
    names = state_names("abcdefghij", SUBSCRIPTION)
    assert names == state_names("abcdefghij", SUBSCRIPTION.upper())
    assert names.resource_group == "abcdefghij-pulumi-state-rg"
    assert names.storage_account.startswith("abcdefghijstate")
    assert 3 <= len(names.storage_account) <= 24
    assert names.storage_account.isalnum() and names.storage_account.islower()
    assert names.key_vault.startswith("abcdefghij-state-")
    assert 3 <= len(names.key_vault) <= 24
    assert names.container == "pulumi-state"


def test_another_subscription_gets_other_worldwide_names():
    other = state_names("mlflow", "00000000-0000-0000-0000-000000000001")
    assert other.storage_account != state_names("mlflow", SUBSCRIPTION).storage_account


def test_backend_url_is_what_pulumi_login_takes():
    assert (
        backend_url("mlflowstate1a2b3c")
        == "azblob://pulumi-state?storage_account=mlflowstate1a2b3c"
    )


VERSION = "78deebed173b48e48f55abf87ed4cf71"
PREVIEW_ID = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"
DEPLOY_ID = "2c3d4e5f-6071-4829-93a4-b5c6d7e8f90a"


def test_secrets_provider_pins_the_key_version_of_the_vault_uri():
    uri = f"https://mlflow-state-1a2b3c.vault.azure.net/keys/pulumi-secrets/{VERSION}"
    assert secrets_provider(uri) == (
        f"azurekeyvault://mlflow-state-1a2b3c.vault.azure.net/keys/pulumi-secrets/{VERSION}"
    )
    assert (
        secrets_provider(f"https://v.vault.azure.cn/keys/k/{VERSION}")
        == f"azurekeyvault://v.vault.azure.cn/keys/k/{VERSION}"
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://mlflow-state-1a2b3c.vault.azure.net/keys/pulumi-secrets",
        "https://mlflow-state-1a2b3c.vault.azure.net/keys/pulumi-secrets/",
        "https://mlflow-state-1a2b3c.vault.azure.net/",
    ],
)
def test_secrets_provider_refuses_a_key_uri_without_a_version(uri):
    with pytest.raises(ValueError, match="not a versioned Key Vault key URI"):
        secrets_provider(uri)


def test_ci_identities_are_read_as_lowercase_object_ids():
    config = parse_config(
        raw(ci={"previewObjectId": PREVIEW_ID.upper(), "deployObjectId": DEPLOY_ID}), "team"
    )
    assert config.ci is not None
    assert (config.ci.preview, config.ci.deploy) == (PREVIEW_ID, DEPLOY_ID)
    assert parse_config(raw(), "team").ci is None


def test_one_identity_for_preview_and_deploy_is_rejected():
    message = rejected(raw(ci={"previewObjectId": DEPLOY_ID, "deployObjectId": DEPLOY_ID}))
    assert message.startswith(f"{NS}:ci.previewObjectId: {DEPLOY_ID} is the deploy identity too")


@pytest.mark.parametrize(
    ("ci", "expected"),
    [
        ("[]", f"{NS}:ci: [] is not an object with previewObjectId and deployObjectId"),
        (
            {"previewObjectId": PREVIEW_ID},
            f"{NS}:ci.deployObjectId: (not set) is not a GUID: the service principal's object id (az ad sp show --id <appId> --query id)",
        ),
        (
            {"previewObjectId": "ci-preview", "deployObjectId": DEPLOY_ID},
            f"{NS}:ci.previewObjectId: ci-preview is not a GUID",
        ),
        (
            {"previewObjectId": PREVIEW_ID, "deployObjectId": DEPLOY_ID, "readerObjectId": "x"},
            f"{NS}:ci.readerObjectId: x is set for an unknown field",
        ),
    ],
)
def test_malformed_ci_identities_are_rejected(ci, expected):
    assert rejected(raw(ci=ci)).startswith(expected)


def test_assignable_roles_must_be_role_definition_guids():
    ci = {"previewObjectId": PREVIEW_ID, "deployObjectId": DEPLOY_ID, "assignableRoles": ["Owner"]}
    assert rejected(raw(ci=ci)).startswith(
        f'{NS}:ci.assignableRoles: ["Owner"] is not a list of role definition GUIDs'
    )
