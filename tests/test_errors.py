"""How a config error shows a value: the value when it cannot be a secret, else only its kind."""

import pytest

from core.errors import ConfigError, hidden_keys, render_value, secret_like


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (True, "a boolean"),
        (3, "a number"),
        (2.5, "a number"),
        ("x", "a string"),
        ('{"a": 1}', "an object"),
        ("[1]", "a list"),
        ({"a": 1}, "an object"),
        ([1], "a list"),
        ((1,), "a list"),
        (b"x", "a bytes"),
    ],
)
def test_an_unknown_keys_value_is_shown_only_as_its_kind(value, kind):
    assert render_value("databricks-azureml:typo", value, known=False) == f"({kind}, not shown)"


@pytest.mark.parametrize(
    "key",
    [
        "servicePrincipalSecret",
        "servicePrincipal.clientSecret",
        "dbPassword",
        "apiToken",
        "storageKey",
        "sas",
        "tags.api_key",
        "privateKeyPem",
        # misspelt: a typo does not make the value any less secret
        "tags.servicePrincipalSecrte",
        "clientSecet",
        "apiTokn",
        "dbPasword",
    ],
)
def test_keys_named_like_a_secret_hide_their_value(key):
    assert secret_like(key)
    assert render_value(key, "hunter2") == "(a string, value hidden)"


@pytest.mark.parametrize(
    "key",
    [
        "privateLink",
        "databricksPrivateLink",
        "cluster.users",
        "prefix",
        "keyvaultName",
        # close in letters to a secret word, not a misspelling of one
        "tags.sector",
        "tags.content",
        "tags.created-by",
        "databricksCompliance.enhancedSecurityMonitoring",
    ],
)
def test_ordinary_keys_show_their_value(key):
    assert not secret_like(key)
    assert render_value(key, "westeurope") == "westeurope"


def test_a_key_stored_secure_hides_its_value_and_everything_under_it():
    with hidden_keys({"databricks-azureml:cluster"}):
        assert render_value("databricks-azureml:cluster.users", ["a"]) == "(a list, value hidden)"
        assert render_value("databricks-azureml:clusterName", "x") == "x"
    assert render_value("databricks-azureml:cluster.users", ["a"]) == '["a"]'


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"b": 1, "a": 2}, "(an object with keys b, a)"),
        ('{"b": 1}', "(an object with keys b)"),
        ({}, "(an object with keys (none))"),
        (["a", 1, True], '["a", 1, true]'),
        ([{"token": "x"}], "(a list of 1 items, not all of them names or numbers)"),
        ('{"token": "x"', "(a string that is not valid JSON, value not shown)"),
        (" padded", "' padded'"),
        ("", "''"),
        (False, "false"),
        (None, "(not set)"),
    ],
)
def test_a_known_keys_value_is_shown_unless_it_can_carry_other_values(value, shown):
    assert render_value("databricks-azureml:cluster", value) == shown


def test_an_error_keeps_the_value_only_when_its_message_shows_it():
    assert ConfigError("prefix", "Bad", "is not allowed").value == "Bad"
    assert ConfigError("typo", "hunter2", "is unknown", known=False).value is None
    assert ConfigError("servicePrincipalSecret", "hunter2", "is plaintext").value is None


def test_a_message_is_one_line_whatever_the_text():
    error = ConfigError("prefix", "a\nb", "is not\nallowed\u2028here")
    assert str(error) == "databricks-azureml:prefix: 'a\\nb' is not allowed here"
