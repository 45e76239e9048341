"""The pure CIDR and naming rules, with property-based tests."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import cidr, naming
from core.config import parse_config
from core.errors import ConfigError
from tests.stacks import DEV, with_values

prefixes = st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True)
stacks = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
guids = st.uuids().map(str)


@given(prefixes, stacks, guids)
def test_suffix_is_stable_and_names_keep_it(prefix, stack, subscription):
    group = naming.resource_group_name(prefix, stack)
    suffix = naming.unique_suffix(subscription, group, stack)
    assert suffix == naming.unique_suffix(subscription.upper(), group, stack)
    assert len(suffix) == naming.SUFFIX_LENGTH
    names = naming.global_names(prefix, stack, suffix)
    assert names.storage_account.endswith(suffix)
    assert names.key_vault.endswith(suffix)


def test_suffix_differs_between_subscriptions_and_stacks():
    group = naming.resource_group_name("mlflow", "dev")
    first = naming.unique_suffix("3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21", group, "dev")
    assert first != naming.unique_suffix("0b8e2f4c-1a3d-4e5f-8a7b-9c0d1e2f3a4b", group, "dev")
    assert first != naming.unique_suffix("3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21", group, "dev2")


def test_suffix_of_a_known_stack_is_pinned():
    """Every deployed stack's storage account, key vault and endpoint carry this suffix: a
    change to how it is derived renames them, so Azure replaces them (data lost)."""
    subscription = "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"
    assert naming.unique_suffix(subscription, "mlflow-dev-rg", "dev") == "3dc9b8"
    assert naming.unique_suffix(subscription.upper(), "mlflow-dev-rg", "dev") == "3dc9b8"
    names = naming.global_names("mlflow", "dev", "3dc9b8")
    assert (names.storage_account, names.key_vault) == ("mlflowdev3dc9b8", "mlflow-dev-3dc9b8")


@given(prefixes, stacks, guids)
def test_names_valid_for_the_zero_suffix_are_valid_for_any_suffix(prefix, stack, subscription):
    if naming.name_problems(prefix, stack):
        return
    suffix = naming.unique_suffix(subscription, naming.resource_group_name(prefix, stack), stack)
    assert naming.global_names(prefix, stack, suffix).problems() == []


@given(prefixes, stacks)
def test_config_accepts_exactly_the_prefixes_whose_names_are_valid(prefix, stack):
    problems = naming.name_problems(prefix, stack)
    try:
        parse_config(with_values(DEV, prefix=prefix), stack)
    except ConfigError as error:
        assert problems and error.key == "databricks-azureml:prefix"
    else:
        assert problems == []


def test_storage_account_rule_rejects_uppercase_and_length():
    rule = naming.RULES["storage_account"]
    assert rule.problem("mlflowdev0a1b2c") is None
    assert "not allowed" in (rule.problem("MlflowDev") or "")
    assert "is 25 characters" in (rule.problem("a" * 25) or "")


def test_key_vault_rule_rejects_double_hyphen_and_trailing_hyphen():
    rule = naming.RULES["key_vault"]
    assert rule.problem("mlflow-dev-0a1b2c") is None
    assert rule.problem("mlflow--dev") is not None
    assert rule.problem("mlflow-dev-") is not None
    assert rule.problem("1mlflow") is not None


def test_stack_slug_lowercases_and_replaces_other_characters():
    assert naming.stack_slug("Prod_EU.1") == "prod-eu-1"


subnet_sizes = st.integers(min_value=16, max_value=24)


@given(
    subnet_sizes, st.integers(min_value=0, max_value=255), st.integers(min_value=0, max_value=255)
)
def test_subnets_carved_from_the_space_are_accepted(size, a, b):
    space = ipaddress.ip_network(f"10.{a}.{b}.0/{size}", strict=False)
    first, second = list(space.subnets(new_prefix=26))[:2]
    cidr.check_address_space("network.addressSpace", space)
    cidr.check_subnets(
        "network.addressSpace",
        space,
        {"network.hostSubnet": first, "network.containerSubnet": second},
        databricks={"network.hostSubnet", "network.containerSubnet"},
    )


@given(st.integers(min_value=0, max_value=255), st.integers(min_value=27, max_value=32))
def test_databricks_subnets_smaller_than_26_are_rejected(a, size):
    space = ipaddress.ip_network(f"10.{a}.0.0/16")
    subnet = next(space.subnets(new_prefix=size))
    try:
        cidr.check_subnets(
            "network.addressSpace",
            space,
            {"network.hostSubnet": subnet},
            databricks={"network.hostSubnet"},
        )
    except ConfigError as error:
        assert "smaller than /26" in str(error)
    else:
        raise AssertionError("accepted a subnet smaller than /26")


RFC1918 = tuple(
    ipaddress.ip_network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)  # stated here, not read from the code under test


@given(st.ip_addresses(v=4), st.integers(min_value=16, max_value=24))
def test_public_address_spaces_are_rejected(address, size):
    space = ipaddress.ip_network(f"{address}/{size}", strict=False)
    private = any(space.subnet_of(r) for r in RFC1918)
    try:
        cidr.check_address_space("network.addressSpace", space)
    except ConfigError as error:
        assert not private and "private range" in str(error)
    else:
        assert private


@given(st.integers(min_value=0, max_value=63))
def test_overlapping_subnets_are_rejected(offset):
    space = ipaddress.ip_network("10.139.0.0/16")
    host = ipaddress.ip_network("10.139.0.0/22")
    inside = ipaddress.ip_network(f"10.139.{offset % 4}.0/26")
    try:
        cidr.check_subnets(
            "network.addressSpace",
            space,
            {"network.hostSubnet": host, "network.containerSubnet": inside},
            databricks={"network.hostSubnet", "network.containerSubnet"},
        )
    except ConfigError as error:
        assert "overlaps hostSubnet" in str(error)
    else:
        raise AssertionError("accepted overlapping subnets")


@pytest.mark.parametrize(
    ("space", "private"),
    [
        ("172.15.0.0/16", False),
        ("172.16.0.0/16", True),
        ("172.31.0.0/16", True),
        ("172.32.0.0/16", False),
        ("192.169.0.0/16", False),
        ("11.0.0.0/16", False),
    ],
)
def test_private_range_edges(space, private):
    network = ipaddress.ip_network(space)
    if private:
        cidr.check_address_space("network.addressSpace", network)
    else:
        with pytest.raises(ConfigError, match="not in a private range"):
            cidr.check_address_space("network.addressSpace", network)


def test_key_vault_names_may_have_24_characters_not_25():
    rule = naming.RULES["key_vault"]
    assert rule.problem("a" * 24) is None
    assert "25 characters" in (rule.problem("a" * 25) or "")
