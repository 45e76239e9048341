"""What the preview tells a security reviewer: each workspace, storage account, key vault,
registry and endpoint the program declares, public or private, and through which setting."""

from __future__ import annotations

from typing import Any

from tests.conftest import program
from tests.stacks import DEV, PRIVATE, SERVICE_PRINCIPAL, with_values
from tools.exposure import PRIVATE as PRIVATE_REACH
from tools.exposure import PUBLIC, RESTRICTED, Exposure, exposures, summary
from tools.offline import UNKNOWN, DeclaredResource

STORAGE = "azure-native:storage:StorageAccount"
PE = "azure-native:network:PrivateEndpoint"


def by_kind(found: list[Exposure]) -> dict[str, Exposure]:
    kinds = [e.kind for e in found]
    assert len(kinds) == len(set(kinds)), kinds
    return {e.kind: e for e in found}


def declared(type_: str, name: str, inputs: dict[str, Any], rid: str = "") -> DeclaredResource:
    return DeclaredResource(
        urn=f"urn:pulumi:t::p::{type_}::{name}", type=type_, name=name, parent="",
        custom=True, inputs=inputs, outputs={}, id=rid,
    )  # fmt: skip


def endpoint(name: str, group: str, target: Any) -> DeclaredResource:
    connection = {"groupIds": [group], "privateLinkServiceId": target}
    return declared(PE, name, {"privateLinkServiceConnections": [connection]})


def test_dev_stack_says_azureml_its_storage_and_vault_and_databricks_are_public():
    found = exposures(program(DEV, deployed=False).resources)
    kinds = by_kind(found)
    assert list(kinds) == [
        "AzureML workspace",
        "storage account",
        "key vault",
        "Databricks workspace",
    ]
    assert all(e.reach == PUBLIC for e in found)
    assert kinds["AzureML workspace"].name == "mlflow-dev-mlw"
    assert (
        kinds["AzureML workspace"].through == "public network access Enabled, no private endpoint"
    )
    assert "firewall default action Allow" in kinds["storage account"].through
    assert "firewall default action Allow" in kinds["key vault"].through
    assert kinds["Databricks workspace"].through.startswith(
        "UI and REST API: public network access Enabled, no private endpoint"
    )
    text = summary(found)
    assert text.startswith("Public, reachable from the internet")
    for part in (
        "the AzureML workspace mlflow-dev-mlw",
        "the storage account",
        "the key vault",
        "the Databricks workspace mlflow-dev-dbw",
    ):
        assert part in text


def test_dev_workspace_storage_has_no_firewall_and_no_endpoint():
    databricks = by_kind(exposures(program(DEV).resources))["Databricks workspace"]
    assert databricks.through.endswith("workspace storage: firewall Disabled, no private endpoint")


def test_private_link_makes_azureml_its_storage_and_vault_private_through_endpoints():
    for deployed in (False, True):  # ids unknown in a preview, known once deployed
        kinds = by_kind(exposures(program(PRIVATE, deployed=deployed).resources))
        aml = kinds["AzureML workspace"]
        assert (aml.reach, aml.through) == (
            PRIVATE_REACH,
            "public network access Disabled, private endpoints: amlworkspace",
        )
        storage = kinds["storage account"]
        assert storage.reach == PRIVATE_REACH
        assert "firewall default action Deny (bypass AzureServices)" in storage.through
        assert "private endpoints: blob, file" in storage.through
        vault = kinds["key vault"]
        assert vault.reach == PRIVATE_REACH
        assert "public network access disabled" in vault.through
        assert "private endpoints: vault" in vault.through
        databricks = kinds["Databricks workspace"]
        assert databricks.reach == PUBLIC
        # its own storage's endpoints are the workspace storage's, never AzureML's account's
        assert databricks.through.endswith(
            "workspace storage: firewall Enabled, private endpoints: blob, dfs"
        )


def test_databricks_full_private_link_is_private_through_its_endpoints():
    found = exposures(program(with_values(DEV, databricksPrivateLink="full")).resources)
    databricks = by_kind(found)["Databricks workspace"]
    assert databricks.reach == PRIVATE_REACH
    assert "public network access Disabled" in databricks.through
    assert "databricks_ui_api" in databricks.through
    assert "browser_authentication" in databricks.through


def test_the_container_registry_and_the_online_endpoint_are_listed():
    raw = with_values(
        {**DEV, **SERVICE_PRINCIPAL},
        modelRegistry="azureml",
        containerRegistry=True,
        endpoint={"model": "m", "version": 1},
    )
    kinds = by_kind(exposures(program(raw, deployed=False).resources))
    registry = kinds["container registry"]
    assert registry.reach == PUBLIC
    assert "anonymous pull off" in registry.through
    online = kinds["online endpoint"]
    assert online.reach == PUBLIC
    assert online.through == "scoring URI: public network access Enabled, auth AADToken"
    private = with_values(PRIVATE, containerRegistry=True)
    assert by_kind(exposures(program(private).resources))["container registry"].reach == (
        PRIVATE_REACH
    )


def test_a_firewall_that_denies_all_but_listed_addresses_is_restricted():
    rules = {"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.0/24"}]}
    found = exposures([declared(STORAGE, "s", {"accountName": "acct", "networkRuleSet": rules})])
    assert [(e.reach, e.name) for e in found] == [(RESTRICTED, "acct")]
    assert "1 allow rule(s)" in found[0].through
    assert summary(found) == "Public endpoint limited by firewall rules: the storage account acct."


def test_settings_left_out_read_as_azures_defaults_which_are_public():
    [storage] = exposures([declared(STORAGE, "s", {"accountName": UNKNOWN})])
    assert storage.reach == PUBLIC
    assert storage.through.startswith(
        "public network access Enabled, firewall default action Allow"
    )
    assert storage.name == "" and storage.shown == "s (name known after deploy)"


def test_an_endpoint_reaches_the_account_its_id_names_when_there_are_two():
    one = declared(
        STORAGE, "one", {"accountName": "one", "publicNetworkAccess": "Disabled"}, "/a/1"
    )
    two = declared(
        STORAGE, "two", {"accountName": "two", "publicNetworkAccess": "Disabled"}, "/a/2"
    )
    found = exposures([one, two, endpoint("pe", "blob", "/a/2")])
    assert {e.name: "private endpoints: blob" in e.through for e in found} == {
        "one": False,
        "two": True,
    }
    # With both ids unknown, the group id alone cannot say which account: neither is credited.
    unknown = exposures([one, two, endpoint("pe", "blob", UNKNOWN)])
    assert all("no private endpoint" in e.through for e in unknown)


def test_nothing_public_is_said_plainly():
    found = [Exposure("key vault", "kv", "kv", PRIVATE_REACH, "public network access disabled")]
    assert summary(found).startswith("Nothing listed here is reachable from the internet")


def test_a_setting_known_only_after_deploy_counts_as_public():
    [vault] = exposures(
        [
            declared(
                "azure-native:keyvault:Vault",
                "kv",
                {"properties": {"publicNetworkAccess": UNKNOWN}},
            )
        ]
    )
    assert vault.reach == PUBLIC
    assert vault.through.startswith("public network access (known after deploy)")


def test_a_private_link_stacks_batch_endpoint_is_private_like_its_workspace():
    raw = with_values(
        PRIVATE,
        batchEndpoint={"model": "m", "version": 1},
        amlManagedNetwork="allowInternetOutbound",
    )
    batch = by_kind(exposures(program(raw, "private").resources))["batch endpoint"]
    assert batch.reach == "private"
    assert batch.through == "follows the AzureML workspace's public network access; auth Entra ID"


def _private_account(name: str, rid: str) -> DeclaredResource:
    return declared(STORAGE, name, {"accountName": name, "publicNetworkAccess": "Disabled"}, rid)


def test_an_endpoint_reaches_its_target_whatever_the_casing_of_the_id_and_group_id():
    # ARM compares resource ids and private-link group ids case-insensitively.
    accounts = [_private_account("one", "/a/rg/one"), _private_account("two", "/a/rg/two")]
    found = exposures([*accounts, endpoint("pe", "Blob", "/A/RG/TWO")])
    assert [e.name for e in found if "private endpoints: Blob" in e.through] == ["two"]
