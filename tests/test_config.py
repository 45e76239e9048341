"""Config rules: every rule has a failing input whose message names key, value and what's allowed."""

import json
from collections.abc import Callable

import pytest

from core.config import ModelRegistry, TrackingMode, parse_config
from core.errors import ConfigError
from tests.stacks import DEV, PRIVATE, SECRET_KEY, SECRET_KEYS, SERVICE_PRINCIPAL, with_values
from tools.offline import run_program


def refusal(parse: Callable[..., object], *args: object) -> str:
    """The message of the ConfigError `parse(*args)` raises, checked to be one line."""
    with pytest.raises(ConfigError) as caught:
        parse(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


def rejected(raw: dict, stack: str = "dev", secret_keys=SECRET_KEYS) -> str:
    return refusal(parse_config, raw, stack, secret_keys)


# --- defaults ------------------------------------------------------------------------------


def test_dev_defaults_follow_the_spec():
    config = parse_config(DEV, "dev")
    assert config.prefix == "mlflow"
    assert config.tracking_mode is TrackingMode.DUAL
    assert config.model_registry is ModelRegistry.UNITY_CATALOG
    assert config.private_link is False
    assert str(config.network.address_space) == "10.139.0.0/16"
    assert str(config.network.host_subnet) == "10.139.0.0/22"
    assert str(config.network.container_subnet) == "10.139.4.0/22"
    assert config.network.endpoint_subnet is None
    assert config.cluster.node_type == "Standard_DS3_v2"
    assert (config.cluster.min_workers, config.cluster.max_workers) == (1, 2)
    assert config.cluster.autotermination_minutes == 30
    assert config.cluster.spark_version.endswith("-scala2.13")
    assert config.purge_on_destroy is True
    assert config.protect is False
    assert config.container_registry is False
    assert dict(config.tags) == {}


def test_private_link_defaults_to_exclusive_tracking_and_azureml_registry():
    raw = {**DEV, **SERVICE_PRINCIPAL, "databricks-azureml:privateLink": "true"}
    config = parse_config(raw, "dev", SECRET_KEYS)
    assert config.tracking_mode is TrackingMode.EXCLUSIVE
    assert config.model_registry is ModelRegistry.AZUREML
    assert str(config.network.endpoint_subnet) == "10.139.8.0/26"


def test_dual_tracking_may_register_models_in_azureml_with_a_service_principal():
    config = parse_config(
        with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml"), "dev", SECRET_KEYS
    )
    assert config.tracking_mode is TrackingMode.DUAL
    assert config.model_registry is ModelRegistry.AZUREML


def test_config_tags_cannot_be_changed_after_validation():
    config = parse_config(with_values(DEV, tags={"team": "ds"}), "dev")
    with pytest.raises(TypeError):
        config.tags["x"] = "y"  # type: ignore[index]


def test_secret_value_is_kept_out_of_the_config_repr():
    config = parse_config(PRIVATE, "dev", SECRET_KEYS)
    assert config.service_principal_secret == PRIVATE[SECRET_KEY]
    assert PRIVATE[SECRET_KEY] not in repr(config)


def test_objects_set_with_path_arrive_as_json_and_are_read():
    raw = with_values(DEV, cluster={"minWorkers": 0, "maxWorkers": 0}, tags={"team": "ds"})
    config = parse_config(raw, "dev")
    assert config.cluster.single_node
    assert dict(config.tags) == {"team": "ds"}


# --- rejected values -----------------------------------------------------------------------


def test_missing_location_is_rejected_with_the_command_to_set_it():
    message = rejected({})
    assert message.startswith("azure-native:location: (not set) is required")
    assert "pulumi config set azure-native:location" in message


def test_location_display_name_is_rejected():
    assert "azure-native:location: West Europe is not an Azure region" in rejected(
        {"azure-native:location": "West Europe"}
    )


@pytest.mark.parametrize("prefix", ["M", "1abc", "ab-c", "abcdefghijk", "Mlflow"])
def test_prefix_outside_the_naming_rule_is_rejected(prefix):
    message = rejected(with_values(DEV, prefix=prefix))
    assert message.startswith(f"databricks-azureml:prefix: {prefix} is not allowed")
    assert "2-10 characters" in message


def test_prefix_and_long_stack_that_break_an_azure_name_limit_are_rejected():
    message = rejected(with_values(DEV, prefix="mlflowprod"), stack="production-eu")
    assert message.startswith("databricks-azureml:prefix: mlflowprod with stack 'production-eu'")
    assert "allowed 3-33" in message or "allowed 3-24" in message


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("trackingMode", "both", "allowed: dual, exclusive"),
        ("modelRegistry", "mlflow", "allowed: unity-catalog, databricks, azureml"),
        ("privateLink", "yes", "allowed: true, false"),
        ("containerRegistry", "1", "allowed: true, false"),
        ("protect", "on", "allowed: true, false"),
        ("purgeOnDestroy", "maybe", "allowed: true, false"),
    ],
)
def test_unknown_enum_and_boolean_values_are_rejected(key, value, allowed):
    message = rejected(with_values(DEV, **{key: value}))
    assert message.startswith(f"databricks-azureml:{key}: {value} is not")
    assert allowed in message


def test_private_link_with_dual_tracking_is_rejected():
    raw = with_values(PRIVATE, trackingMode="dual")
    message = rejected(raw)
    assert message.startswith(
        "databricks-azureml:trackingMode: dual is not supported with privateLink"
    )
    assert "dual-tracking isn't supported with a private-link AzureML workspace" in message


def test_exclusive_tracking_without_service_principal_uses_a_service_credential():
    config = parse_config(with_values(DEV, trackingMode="exclusive"), "dev")
    assert config.service_principal is None
    assert config.service_credential is True


def test_azureml_registry_without_service_principal_uses_a_service_credential():
    config = parse_config(with_values(DEV, modelRegistry="azureml"), "dev")
    assert config.service_credential is True


def test_a_service_principal_keeps_the_stored_secret_path():
    config = parse_config(
        with_values({**DEV, **SERVICE_PRINCIPAL}, trackingMode="exclusive"), "dev", SECRET_KEYS
    )
    assert config.service_credential is False


def test_dual_tracking_with_a_databricks_registry_needs_no_service_credential():
    assert parse_config(DEV, "dev").service_credential is False


def test_service_credential_on_a_runtime_below_16_2_is_rejected():
    raw = with_values(DEV, trackingMode="exclusive", cluster={"sparkVersion": "15.4.x-scala2.12"})
    assert rejected(raw) == (
        "databricks-azureml:cluster.sparkVersion: 15.4.x-scala2.12 cannot use the stack's Unity "
        "Catalog service credential (exclusive tracking or modelRegistry azureml without "
        "servicePrincipal): it needs Databricks Runtime 16.2 or above; set a current runtime "
        "such as 17.3.x-scala2.13, or set servicePrincipal and servicePrincipalSecret"
    )


def test_service_credential_on_runtime_16_2_is_accepted():
    raw = with_values(DEV, modelRegistry="azureml", cluster={"sparkVersion": "16.2.x-scala2.12"})
    assert parse_config(raw, "dev").cluster.spark_version == "16.2.x-scala2.12"


def test_a_service_principal_may_keep_a_runtime_below_16_2():
    raw = with_values(
        {**DEV, **SERVICE_PRINCIPAL},
        trackingMode="exclusive",
        cluster={"sparkVersion": "15.4.x-scala2.12"},
    )
    assert parse_config(raw, "dev", SECRET_KEYS).service_credential is False


def test_service_principal_without_its_secret_is_rejected():
    raw = {
        **DEV,
        "databricks-azureml:servicePrincipal": SERVICE_PRINCIPAL[
            "databricks-azureml:servicePrincipal"
        ],
    }
    message = rejected(raw)
    assert message.startswith("databricks-azureml:servicePrincipalSecret: (not set) is required")
    assert "pulumi config set --secret databricks-azureml:servicePrincipalSecret" in message


def test_secret_without_service_principal_is_rejected():
    message = rejected({**DEV, SECRET_KEY: "x"})
    assert message.startswith(
        "databricks-azureml:servicePrincipal: (not set) is required with servicePrincipalSecret"
    )


def test_plaintext_service_principal_secret_is_rejected_without_echoing_it():
    message = rejected(PRIVATE, secret_keys=frozenset())
    assert "is stored in plaintext" in message
    assert "--secret" in message
    assert PRIVATE[SECRET_KEY] not in message


@pytest.mark.parametrize(
    ("fields", "key", "fragment"),
    [
        ({"clientId": "not-a-guid", "objectId": "66666666-7777-8888-9999-000000000000"},
         "servicePrincipal.clientId", "not-a-guid is not a GUID"),
        ({"clientId": "11111111-2222-3333-4444-555555555555"},
         "servicePrincipal.objectId", "(not set) is required"),
        ({"clientId": "11111111-2222-3333-4444-555555555555",
          "objectId": "66666666-7777-8888-9999-000000000000", "tenantId": "contoso"},
         "servicePrincipal.tenantId", "contoso is not a GUID"),
    ],
)  # fmt: skip
def test_service_principal_ids_must_be_guids(fields, key, fragment):
    raw = {**PRIVATE, "databricks-azureml:servicePrincipal": json.dumps(fields)}
    assert rejected(raw).startswith(f"databricks-azureml:{key}: {fragment}")


def test_unknown_top_level_key_is_rejected_with_a_suggestion():
    message = rejected(with_values(DEV, trakingMode="dual"))
    assert message.startswith(
        "databricks-azureml:trakingMode: (a string, not shown) is set for an unknown key"
    )
    assert "did you mean trackingMode?" in message


@pytest.mark.parametrize(
    ("key", "fields", "unknown"),
    [
        ("network", {"hostSubnets": "10.139.0.0/22"}, "network.hostSubnets"),
        ("cluster", {"workers": 3}, "cluster.workers"),
        ("servicePrincipal", {"clientId": "x", "secret": "y"}, "servicePrincipal.secret"),
    ],
)
def test_unknown_fields_inside_objects_are_rejected(key, fields, unknown):
    message = rejected(with_values(PRIVATE, **{key: fields}))
    assert message.startswith(f"databricks-azureml:{unknown}: ")
    assert "unknown key" in message


def test_object_key_given_a_scalar_is_rejected():
    assert "databricks-azureml:network: 10.0.0.0/16 is not an object" in rejected(
        with_values(DEV, network="10.0.0.0/16")
    )


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ({"hostSubnet": "10.140.0.0/22"},
         "databricks-azureml:network.hostSubnet: 10.140.0.0/22 is not inside addressSpace 10.139.0.0/16"),
        ({"hostSubnet": "10.139.0.0/27"},
         "databricks-azureml:network.hostSubnet: 10.139.0.0/27 is smaller than /26"),
        ({"containerSubnet": "10.139.2.0/23"},
         "databricks-azureml:network.containerSubnet: 10.139.2.0/23 overlaps hostSubnet 10.139.0.0/22"),
        ({"addressSpace": "20.0.0.0/16", "hostSubnet": "20.0.0.0/22", "containerSubnet": "20.0.4.0/22"},
         "databricks-azureml:network.addressSpace: 20.0.0.0/16 is not in a private range"),
        ({"addressSpace": "10.139.0.0/99"},
         "databricks-azureml:network.addressSpace: 10.139.0.0/99 is not a valid CIDR"),
        ({"hostSubnet": "10.139.0.1/22"},
         "databricks-azureml:network.hostSubnet: 10.139.0.1/22 has host bits set"),
        ({"hostSubnet": "fd00::/64"},
         "databricks-azureml:network.hostSubnet: fd00::/64 is not an IPv4 CIDR"),
        ({"addressSpace": "10.0.0.0/8"},
         "databricks-azureml:network.addressSpace: 10.0.0.0/8 must be between /16 and /24"),
        ({"hostSubnet": 42},
         "databricks-azureml:network.hostSubnet: 42 is not a CIDR string"),
    ],
)  # fmt: skip
def test_bad_network_cidrs_are_rejected(network, expected):
    assert rejected(with_values(DEV, network=network)).startswith(expected)


def test_endpoint_subnet_is_checked_only_with_private_link():
    outside = {"endpointSubnet": "10.200.0.0/26"}
    assert parse_config(with_values(DEV, network=outside), "dev").network.endpoint_subnet is None
    assert rejected(with_values(PRIVATE, network=outside)).startswith(
        "databricks-azureml:network.endpointSubnet: 10.200.0.0/26 is not inside addressSpace"
    )


def test_endpoint_subnet_overlapping_a_databricks_subnet_is_rejected():
    message = rejected(with_values(PRIVATE, network={"endpointSubnet": "10.139.4.0/26"}))
    assert message.startswith(
        "databricks-azureml:network.endpointSubnet: 10.139.4.0/26 overlaps containerSubnet"
    )


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        ({"minWorkers": -1}, "databricks-azureml:cluster.minWorkers: -1 is outside 0..10000"),
        ({"minWorkers": 3, "maxWorkers": 2},
         "databricks-azureml:cluster.minWorkers: 3 is greater than cluster.maxWorkers 2"),
        ({"maxWorkers": "two"}, "databricks-azureml:cluster.maxWorkers: two is not a whole number"),
        ({"autoterminationMinutes": 5}, "databricks-azureml:cluster.autoterminationMinutes: 5 is outside 10..10000"),
        ({"autoterminationMinutes": 10001},
         "databricks-azureml:cluster.autoterminationMinutes: 10001 is outside 10..10000"),
        ({"maxWorkers": 10001}, "databricks-azureml:cluster.maxWorkers: 10001 is outside 0..10000"),
        ({"accessMode": "shared"},
         "databricks-azureml:cluster.accessMode: shared is not allowed; allowed: standard, dedicated"),
        ({"accessMode": "dedicated"},
         "databricks-azureml:cluster.singleUser: (not set) is required with cluster.accessMode dedicated"),
        ({"accessMode": "dedicated", "singleUser": " alice@contoso.com"},
         "databricks-azureml:cluster.singleUser: ' alice@contoso.com' is not a user or group name"),
        ({"users": "data-scientists"},
         "databricks-azureml:cluster.users: data-scientists is not a list of Databricks user or group names"),
        ({"users": ["ok", ""]},
         "databricks-azureml:cluster.users: [\"ok\", \"\"] has an empty user or group name"),
        ({"autoterminationMinutes": True},
         "databricks-azureml:cluster.autoterminationMinutes: true is not a whole number"),
        ({"sparkVersion": ""}, "databricks-azureml:cluster.sparkVersion: '' is not a non-empty string"),
        ({"nodeType": 3}, "databricks-azureml:cluster.nodeType: 3 is not a non-empty string"),
    ],
)  # fmt: skip
def test_bad_cluster_values_are_rejected(cluster, expected):
    assert rejected(with_values(DEV, cluster=cluster)).startswith(expected)


def test_upper_bounds_are_inclusive():
    config = parse_config(
        with_values(DEV, cluster={"maxWorkers": 10000, "autoterminationMinutes": 10000}), "dev"
    )
    assert (config.cluster.max_workers, config.cluster.autotermination_minutes) == (10000, 10000)


@pytest.mark.parametrize(
    "name", ["users", "Users", "USERS", "account users", "Account Users", "account  users"]
)
def test_groups_of_every_user_cannot_attach_to_a_cluster_holding_a_secret(name):
    raw = with_values({**DEV, **SERVICE_PRINCIPAL}, cluster={"users": ["data-science", name]})
    message = rejected(raw)
    assert message.startswith(
        f"databricks-azureml:cluster.users: {name} is a group of every user of the workspace"
    )
    assert "secret" in message


@pytest.mark.parametrize("name", ["users", "Users", "account users"])
def test_a_cluster_holding_a_secret_cannot_be_dedicated_to_a_group_of_every_user(name):
    cluster = {"accessMode": "dedicated", "singleUser": name}
    message = rejected(with_values({**DEV, **SERVICE_PRINCIPAL}, cluster=cluster))
    assert message.startswith(
        f"databricks-azureml:cluster.singleUser: {name} is a group of every user of the workspace"
    )


def test_a_user_name_with_spaces_around_it_is_named_as_such_not_as_a_bad_list():
    message = rejected(with_values({**DEV, **SERVICE_PRINCIPAL}, cluster={"users": [" users"]}))
    assert message == (
        "databricks-azureml:cluster.users: ' users' is a user or group name with leading or "
        "trailing spaces"
    )


@pytest.mark.parametrize(
    "cluster",
    [
        {"users": ["data-science", "account users"]},
        {"accessMode": "dedicated", "singleUser": "users"},
    ],
)
def test_a_group_of_every_user_cannot_get_access_on_the_service_credential(cluster):
    message = rejected(with_values(DEV, trackingMode="exclusive", cluster=cluster))
    key = "cluster.users" if "users" in cluster else "cluster.singleUser"
    assert message.startswith(f"databricks-azureml:{key}: ")
    assert (
        "is a group of every user of the workspace: it would get ACCESS on the stack's" in message
    )


def test_workspace_wide_users_group_may_attach_when_the_cluster_holds_no_secret():
    config = parse_config(with_values(DEV, cluster={"users": ["users"]}), "dev")
    assert config.cluster.users == ("users",)


def test_autoscaling_from_zero_workers_is_accepted():
    """The Clusters API asks only max_workers > min_workers of an autoscale range."""
    config = parse_config(with_values(DEV, cluster={"minWorkers": 0, "maxWorkers": 2}), "dev")
    assert (config.cluster.min_workers, config.cluster.max_workers) == (0, 2)
    assert not config.cluster.single_node


def test_worker_counts_given_as_strings_are_accepted():
    config = parse_config(with_values(DEV, cluster={"minWorkers": "2", "maxWorkers": "4"}), "dev")
    assert (config.cluster.min_workers, config.cluster.max_workers) == (2, 4)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (
            {"environment": "prod"},
            "databricks-azureml:tags.environment: prod is set by the stack itself",
        ),
        ({"managed-by": "me"}, "databricks-azureml:tags.managed-by: me is set by the stack itself"),
        ({"a/b": "x"}, "databricks-azureml:tags.a/b: x has a tag name Azure rejects"),
        ({"team": 3}, "databricks-azureml:tags.team: 3 is not a string"),
        ({"team": "x" * 257}, "is not a string of at most 256 characters"),
        ({"k" * 129: "x"}, "has a tag name Azure rejects (1-128 characters"),
        ({f"t{i}": "x" for i in range(14)},
         "databricks-azureml:tags: 14 tags are too many: Azure storage accounts take at most 15 tags"),
    ],
)  # fmt: skip
def test_bad_tags_are_rejected(tags, expected):
    assert expected in rejected(with_values(DEV, tags=tags))


def test_thirteen_tags_with_128_character_names_fit_the_strictest_resource():
    tags = {f"{i:02d}" + "k" * 126: "x" for i in range(13)}
    assert len(parse_config(with_values(DEV, tags=tags), "dev").tags) == 13


# --- the program: bad config fails before any resource ---------------------------------------


def test_bad_config_declares_no_resource_and_reports_one_message():
    run = run_program(with_values(DEV, trackingMode="both"), "dev", deployed=False)
    assert (
        run.error
        == "databricks-azureml:trackingMode: both is not allowed; allowed: dual, exclusive"
    )
    assert run.resources == []
    assert run.outputs == {}


def test_forbidden_combination_fails_at_config_time_not_half_way_through_the_graph():
    run = run_program(with_values(PRIVATE, trackingMode="dual"), "dev", secret_keys=SECRET_KEYS)
    assert run.error is not None and "privateLink" in run.error
    assert run.resources == []


def test_a_guid_followed_by_more_text_is_not_a_guid():
    principal = {"clientId": "11111111-2222-3333-4444-555555555555-x", "objectId": "x"}
    message = rejected(with_values(DEV, servicePrincipal=principal))
    assert message.startswith("databricks-azureml:servicePrincipal.clientId: ")
    assert "is not a GUID" in message


def test_unknown_databricks_private_link_value_is_rejected():
    message = rejected(with_values(DEV, databricksPrivateLink="frontend"))
    assert message == (
        "databricks-azureml:databricksPrivateLink: frontend is not allowed; "
        "allowed: none, backend, full"
    )


def test_databricks_private_link_alone_brings_the_endpoint_subnet():
    config = parse_config(with_values(DEV, databricksPrivateLink="backend"), "dev")
    assert str(config.network.endpoint_subnet) == "10.139.8.0/26"
    assert parse_config(DEV, "dev").network.endpoint_subnet is None
