"""Mistakes that used to pass the preview and fail later (or never): each refused with one line
that says what to do, and a secret never shown."""

from __future__ import annotations

import json

import pytest

from core.config import parse_config
from core.errors import ConfigError
from tests.stacks import DEV, SECRET_KEYS, SERVICE_PRINCIPAL, with_values

AZUREML = with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml")
MODEL = {"model": "track-with-azureml-classifier", "version": 1}


def rejected(raw: dict[str, str], secret_keys: frozenset[str] = SECRET_KEYS) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "dev", secret_keys)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- endpoint names --------------------------------------------------------------------------


def test_online_and_batch_endpoint_with_one_name_are_refused():
    raw = with_values(
        AZUREML,
        endpoint={**MODEL, "name": "scorer"},
        batchEndpoint={**MODEL, "name": "Scorer"},
    )
    message = rejected(raw)
    assert message.startswith("databricks-azureml:batchEndpoint.name: Scorer is endpoint.name too")
    assert "https://<name>.<region>.inference.ml.azure.com" in message


def test_an_online_endpoint_named_like_the_batch_default_is_refused():
    raw = with_values(AZUREML, endpoint={**MODEL, "name": "mlflow-dev-be-a1b2c3"})
    message = rejected(raw)
    assert message.startswith("databricks-azureml:endpoint.name: mlflow-dev-be-a1b2c3 has the form")
    assert "batch endpoint's default name (mlflow-dev-be-<suffix>)" in message


def test_a_batch_endpoint_named_like_the_online_default_is_refused():
    raw = with_values(AZUREML, batchEndpoint={**MODEL, "name": "MLflow-dev-ep-0f0f0f"})
    message = rejected(raw)
    assert "batchEndpoint.name: MLflow-dev-ep-0f0f0f has the form of the online endpoint's" in (
        message
    )


def test_distinct_endpoint_names_and_own_kind_defaults_pass():
    config = parse_config(
        with_values(
            AZUREML,
            endpoint={**MODEL, "name": "mlflow-dev-ep-a1b2c3"},
            batchEndpoint={**MODEL, "name": "nightly-scoring"},
        ),
        "dev",
        SECRET_KEYS,
    )
    assert config.endpoint is not None and config.endpoint.name == "mlflow-dev-ep-a1b2c3"
    assert config.batch_endpoint is not None and config.batch_endpoint.name == "nightly-scoring"


# --- secret tag values -----------------------------------------------------------------------


def test_a_secure_tag_value_is_refused_and_not_shown():
    raw = with_values(DEV, tags={"costCenter": "S3CR3T-cc-4711"})
    message = rejected(raw, SECRET_KEYS | {"databricks-azureml:tags"})
    assert message.startswith("databricks-azureml:tags: ")
    assert "holds a `secure:` value" in message
    assert "S3CR3T" not in message


def test_plain_tag_values_pass():
    config = parse_config(with_values(DEV, tags={"costCenter": "4711"}), "dev", SECRET_KEYS)
    assert dict(config.tags) == {"costCenter": "4711"}


# --- the runtime's Scala suffix --------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("17.3.x-scala2.31", "names Scala 2.31, but Databricks Runtime 17.3 ships with Scala 2.13"),
        ("17.3.x-scala2.12", "use 17.3.x-scala2.13"),
        ("15.4.x-scala2.13", "Databricks Runtime 15.4 ships with Scala 2.12: use 15.4.x-scala2.12"),
        ("16.4.x-scala2.11", "ships with Scala 2.12 or 2.13"),
    ],
)
def test_a_scala_suffix_databricks_does_not_ship_is_refused(version, expected):
    message = rejected(with_values(DEV, cluster={"sparkVersion": version}))
    assert message.startswith(f"databricks-azureml:cluster.sparkVersion: {version} names Scala")
    assert expected in message


@pytest.mark.parametrize("version", ["17.3.x-scala2.13", "16.4.x-scala2.12", "15.4.x-scala2.12"])
def test_the_scala_suffixes_databricks_ships_pass(version):
    config = parse_config(with_values(DEV, cluster={"sparkVersion": version}), "dev", SECRET_KEYS)
    assert config.cluster.spark_version == version


def test_a_malformed_runtime_key_suggests_a_runtime_the_default_access_mode_runs():
    message = rejected(with_values(DEV, cluster={"sparkVersion": "17.3"}))
    assert "such as 17.3.x-scala2.13 " in message
    assert "-ml-" not in message


# --- hints that sent users the wrong way -----------------------------------------------------


def test_a_client_secret_under_service_principal_points_to_the_encrypted_key():
    principal = json.loads(SERVICE_PRINCIPAL["databricks-azureml:servicePrincipal"])
    raw = with_values(
        {**DEV, **SERVICE_PRINCIPAL},
        servicePrincipal={**principal, "clientSecret": "S3CR3T-plain"},
    )
    message = rejected(raw)
    assert message.startswith("databricks-azureml:servicePrincipal.clientSecret: ")
    assert "pulumi config set --secret databricks-azureml:servicePrincipalSecret" in message
    assert "clientId" not in message
    assert "S3CR3T" not in message


def test_an_unknown_service_principal_field_still_gets_its_near_miss():
    principal = json.loads(SERVICE_PRINCIPAL["databricks-azureml:servicePrincipal"])
    raw = with_values({**DEV, **SERVICE_PRINCIPAL}, servicePrincipal={**principal, "tenant": "x"})
    assert "did you mean servicePrincipal.tenantId?" in rejected(raw)


# --- a stack name longer than the prefix allows ----------------------------------------------


def test_a_too_long_stack_name_is_refused_with_the_prefix_and_stack_that_fit():
    with pytest.raises(ConfigError) as caught:
        parse_config(DEV, "staging-weu", SECRET_KEYS)
    message = str(caught.value)
    assert message.startswith(
        "databricks-azureml:prefix: mlflow with stack 'staging-weu': the key vault name "
        "'mlflow-staging-weu-000000' is 25 characters, allowed 3-24"
    )
    assert "a prefix of at most 5 characters with this stack " in message
    assert "(pulumi config set databricks-azureml:prefix mlflo)" in message
    assert "a stack name of at most 10 characters with prefix 'mlflow'" in message
    assert "(pulumi stack init staging-we, " in message


def test_the_suggested_prefix_and_stack_name_do_fit():
    parse_config(with_values(DEV, prefix="mlflo"), "staging-weu", SECRET_KEYS)
    parse_config(DEV, "staging-we", SECRET_KEYS)


def test_prefix_and_stack_share_sixteen_characters():
    parse_config(with_values(DEV, prefix="abcdefgh"), "abcdefgh", SECRET_KEYS)
    with pytest.raises(ConfigError, match=r"key vault name 'abcdefgh-abcdefghi-000000'"):
        parse_config(with_values(DEV, prefix="abcdefgh"), "abcdefghi", SECRET_KEYS)
