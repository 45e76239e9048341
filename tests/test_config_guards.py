"""Keys and values that would otherwise slip past: other namespaces, provider keys, flat paths,
regions, runtimes and VM sizes Azure would reject only after the workspace exists."""

import pytest

from core import config_keys
from core.config import parse_config
from core.regions import REGIONS
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, with_values
from tests.test_config import rejected

# --- namespaces ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("databricks-azure-ml:privateLink", "databricks-azureml:privateLink"),
        ("databricks_azureml:privateLink", "databricks-azureml:privateLink"),
        ("Databricks-AzureML:privateLink", "databricks-azureml:privateLink"),
        ("databricks-azurml:privateLink", "databricks-azureml:privateLink"),
        ("azure:location", "azure-native:location"),
        ("azure-nativ:location", "azure-native:location"),
        ("azure_native:location", "azure-native:location"),
        ("azurenative:location", "azure-native:location"),
    ],
)
def test_a_namespace_that_nearly_is_ours_is_refused_with_what_was_meant(key, meant):
    message = rejected({**DEV, key: "true"})
    assert message.startswith(f"{key}: (a string, not shown) is in namespace")
    assert f"did you mean {meant}?" in message


def test_other_providers_namespaces_are_left_alone():
    raw = {**DEV, "databricks:host": "https://adb-1.azuredatabricks.net", "pulumi:tags": "x"}
    assert parse_config(raw, "dev").location == "westeurope"


def test_an_unknown_azure_native_key_is_refused_with_a_suggestion():
    message = rejected({**DEV, "azure-native:locaton": "northeurope"})
    assert message.startswith(
        "azure-native:locaton: (a string, not shown) is not a key the azure-native provider takes"
    )
    assert "did you mean azure-native:location?" in message


def test_the_azure_native_providers_own_keys_are_accepted():
    raw = {
        **DEV,
        "azure-native:subscriptionId": "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21",
        "azure-native:useOidc": "true",
        "azure-native:clientSecret": "hunter2",
    }
    assert parse_config(raw, "dev").location == "westeurope"


def test_the_provider_keys_come_from_the_installed_provider():
    keys = config_keys.azure_native_keys()
    assert {"location", "subscriptionId", "tenantId", "clientId", "useOidc"} <= set(keys)
    assert set(keys) >= set(config_keys.AZURE_NATIVE_KEYS)  # the fallback is not out of date


# --- flat keys set without --path ----------------------------------------------------------


def test_a_flat_key_named_like_a_path_says_to_set_it_with_path():
    message = rejected({**DEV, "databricks-azureml:cluster.maxWorkers": "4"})
    assert message.startswith(
        "databricks-azureml:cluster.maxWorkers: (a string, not shown) is a flat key named like "
        "a path; set it with `--path`"
    )
    assert "pulumi config set --path databricks-azureml:cluster.maxWorkers <value>" in message


def test_a_flat_key_with_a_typo_in_its_field_says_both():
    message = rejected({**DEV, "databricks-azureml:cluster.maxWorker": "4"})
    assert "cluster has no 'maxWorker'; did you mean maxWorkers?" in message
    assert "set it with `--path`" in message


def test_a_flat_tag_key_says_to_set_it_with_path():
    message = rejected({**DEV, "databricks-azureml:tags.owner": "alice"})
    assert "pulumi config set --path databricks-azureml:tags.owner <value>" in message


def test_a_dotted_key_that_is_no_path_is_an_unknown_key():
    message = rejected({**DEV, "databricks-azureml:clusters.maxWorkers": "4"})
    assert "is set for an unknown key" in message


# --- regions -------------------------------------------------------------------------------


def test_a_misspelled_region_is_refused_with_a_suggestion():
    message = rejected({"azure-native:location": "westeurop"})
    assert message.startswith("azure-native:location: westeurop is not an Azure region")
    assert "did you mean westeurope?" in message
    assert "databricks-azureml:unlistedRegion westeurop" in message


def test_a_region_newer_than_the_list_is_allowed_by_naming_it():
    raw = with_values({"azure-native:location": "marsnorth"}, unlistedRegion="marsnorth")
    assert parse_config(raw, "dev").location == "marsnorth"


def test_unlisted_region_must_name_the_stacks_location():
    raw = with_values({"azure-native:location": "marsnorth"}, unlistedRegion="marssouth")
    message = rejected(raw)
    assert message.startswith(
        "databricks-azureml:unlistedRegion: marssouth is not azure-native:location (marsnorth)"
    )


@pytest.mark.parametrize("region", ["westeurope", "swedencentral", "eastus2", "usgovvirginia"])
def test_listed_regions_are_accepted(region):
    assert parse_config({"azure-native:location": region}, "dev").location == region


def test_the_region_list_holds_only_region_names():
    assert all(name.isalnum() and name.islower() for name in REGIONS)


# --- runtime versions and VM sizes ---------------------------------------------------------


@pytest.mark.parametrize(
    "version",
    [
        "17.3.x-scala2.13",
        "17.3.x-cpu-ml-scala2.13",
        "16.4.x-gpu-ml-scala2.12",
        "15.4.x-photon-scala2.12",
        "15.4.x-aarch64-photon-scala2.12",
    ],
)
def test_documented_runtime_version_keys_are_accepted(version):
    # ML runtimes need dedicated access mode (tested in test_unity_catalog_config.py)
    cluster = {"sparkVersion": version, "accessMode": "dedicated", "singleUser": "ana@contoso.com"}
    config = parse_config(with_values(DEV, cluster=cluster), "dev")
    assert config.cluster.spark_version == version


@pytest.mark.parametrize(
    "version", ["13", "17.3", "17.3.x", "17.3 LTS", "17.3.x-scala", "17.3.x-banana-scala2.13"]
)
def test_runtime_versions_of_another_shape_are_refused(version):
    message = rejected(with_values(DEV, cluster={"sparkVersion": version}))
    assert message.startswith(
        f"databricks-azureml:cluster.sparkVersion: {version} is not a Databricks runtime version"
    )
    assert "such as 17.3.x-scala2.13 " in message


@pytest.mark.parametrize(
    "size", ["banana", "DS3_v2", "standard_DS3_v2", "Standard_", "Standard DS3 v2"]
)
def test_node_types_that_are_no_vm_size_are_refused(size):
    message = rejected(with_values(DEV, cluster={"nodeType": size}))
    assert message.startswith(f"databricks-azureml:cluster.nodeType: {size} is not an Azure VM")


@pytest.mark.parametrize(
    "size", ["Standard_DS3_v2", "Standard_NC24ads_A100_v4", "Standard_E8ds_v5"]
)
def test_vm_sizes_azure_names_are_accepted(size):
    assert (
        parse_config(with_values(DEV, cluster={"nodeType": size}), "dev").cluster.node_type == size
    )


# --- values read as Pulumi hands them ------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [("True", True), ("TRUE", True), ("False", False)])
def test_booleans_are_read_in_any_case(given, expected):
    raw = with_values(DEV, containerRegistry=given, cluster={"waitForRunning": given})
    config = parse_config(raw, "dev")
    assert config.container_registry is expected
    assert config.cluster.wait_for_running is expected


def test_single_user_with_standard_access_is_refused_not_silently_dropped():
    message = rejected(with_values(DEV, cluster={"singleUser": "alice@contoso.com"}))
    assert message.startswith(
        "databricks-azureml:cluster.singleUser: alice@contoso.com applies only with "
        "cluster.accessMode dedicated (accessMode is standard)"
    )


def test_a_tag_named_like_a_secret_is_refused_without_its_value():
    message = rejected(with_values(DEV, tags={"db-password": "hunter2"}))
    assert message.startswith(
        "databricks-azureml:tags.db-password: (a string, value hidden) has a name that says it "
        "holds a secret"
    )
    assert "hunter2" not in message


@pytest.mark.parametrize("name", ["servicePrincipalSecrte", "servicePrincipalSecet"])
def test_a_tag_named_like_a_misspelled_secret_key_is_refused_without_its_value(name):
    message = rejected(with_values(DEV, tags={name: "S3CR3T-hunter2"}))
    assert message.startswith(
        f"databricks-azureml:tags.{name}: (a string, value hidden) has a name that says it "
        "holds a secret"
    )
    assert "hunter2" not in message


def test_a_tag_named_after_the_service_principal_itself_passes():
    config = parse_config(with_values(DEV, tags={"servicePrincipal": "ml-deployer"}), "dev")
    assert dict(config.tags) == {"servicePrincipal": "ml-deployer"}


# --- edges the mutation run found untested -------------------------------------------------


def test_a_tag_value_of_256_characters_is_accepted_and_257_refused():
    assert parse_config(with_values(DEV, tags={"a": "x" * 256}), "dev").tags["a"] == "x" * 256
    message = rejected(with_values(DEV, tags={"a": "x" * 257}))
    assert message.endswith("is not a string of at most 256 characters")


def test_an_empty_secret_is_refused_without_showing_it():
    raw = {**PRIVATE, "databricks-azureml:servicePrincipalSecret": ""}
    assert rejected(raw) == (
        "databricks-azureml:servicePrincipalSecret: (a string, value hidden) is not a non-empty "
        "string"
    )


def test_an_endpoint_instance_type_of_the_wrong_case_is_refused_under_its_key():
    raw = {
        **PRIVATE,
        "databricks-azureml:endpoint": '{"model": "iris", "version": 1, '
        '"instanceType": "standard_DS3_v2"}',
    }
    assert rejected(raw).startswith(
        "databricks-azureml:endpoint.instanceType: standard_DS3_v2 is not an Azure VM size"
    )


def test_a_service_principal_without_tenant_id_uses_the_deployers_tenant():
    assert parse_config(PRIVATE, "dev", SECRET_KEYS).service_principal.tenant_id is None


def test_cluster_users_given_as_json_text_are_read_as_a_list():
    raw = with_values(DEV, cluster={"users": '["alice@contoso.com", "data-science"]'})
    assert parse_config(raw, "dev").cluster.users == ("alice@contoso.com", "data-science")
