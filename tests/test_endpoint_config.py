"""Config `endpoint`: defaults, and every rejected value with a message naming key and value."""

import pytest

from core.config import (
    BATCH_ENDPOINT_NAME_RULE,
    ENDPOINT_NAME_RULE,
    EndpointAuthMode,
    batch_endpoint_name,
    endpoint_name,
    parse_config,
)
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, SERVICE_PRINCIPAL, with_values
from tests.test_config import rejected as rejected_config

# An AzureML registry needs the service principal (a rule of its own).
AZUREML = with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml")
MODEL = {"model": "track-with-azureml-classifier", "version": 1}
# The fields online and batch endpoints share, each set, numbers given as strings.
SHARED_FIELDS = {"model": "m.v2_x", "version": "7", "instanceType": "Standard_F4s_v2"}


def config_with(endpoint: object, base: dict[str, str] = AZUREML, stack: str = "dev"):
    return parse_config(with_values(base, endpoint=endpoint), stack, SECRET_KEYS)


def rejected(endpoint: object, base: dict[str, str] = AZUREML, stack: str = "dev") -> str:
    return rejected_config(with_values(base, endpoint=endpoint), stack)


def test_no_endpoint_by_default():
    assert parse_config(AZUREML, "dev", SECRET_KEYS).endpoint is None


def test_endpoint_defaults():
    spec = config_with(MODEL).endpoint
    assert spec is not None
    assert (spec.model, spec.version) == ("track-with-azureml-classifier", 1)
    assert spec.instance_type == "Standard_DS3_v2"
    assert spec.instance_count == 1
    assert spec.auth_mode is EndpointAuthMode.AAD_TOKEN
    assert spec.name is None


def test_every_field_is_read_numbers_given_as_strings_too():
    spec = config_with(
        {
            **SHARED_FIELDS,
            "instanceCount": "3",
            "name": "Scoring-1",
            "authMode": "Key",
        }
    ).endpoint
    assert spec is not None
    assert (spec.model, spec.version, spec.instance_type) == ("m.v2_x", 7, "Standard_F4s_v2")
    assert (spec.instance_count, spec.name, spec.auth_mode) == (
        3,
        "Scoring-1",
        EndpointAuthMode.KEY,
    )
    assert endpoint_name(spec, "mlflow", "dev", "a1b2c3") == "Scoring-1"


def test_private_link_stack_takes_an_endpoint():
    private = with_values(PRIVATE, amlManagedNetwork="allowInternetOutbound")
    assert config_with(MODEL, private).endpoint is not None


@pytest.mark.parametrize("registry", ["unity-catalog", "databricks"])
def test_endpoint_with_a_databricks_registry_is_rejected_with_what_to_set(registry):
    message = rejected(MODEL, with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry=registry))
    assert message.startswith("databricks-azureml:endpoint: ")
    assert f"with modelRegistry {registry} the notebook registers models in Databricks" in message
    assert "only models registered in AzureML can be deployed" in message
    assert "pulumi config set databricks-azureml:modelRegistry azureml" in message


def test_endpoint_in_plain_dev_stack_is_rejected_for_its_registry():
    assert "needs modelRegistry azureml" in rejected(MODEL, DEV)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("instanceCount", 0, "endpoint.instanceCount: 0 is below 1; allowed: 1..1000"),
        ("instanceCount", "0", "endpoint.instanceCount: 0 is below 1"),
        ("instanceCount", 1.5, "endpoint.instanceCount: 1.5 is not a whole number"),
        ("instanceCount", 1001, "endpoint.instanceCount: 1001 is above 1000"),
        ("version", 0, "endpoint.version: 0 is below 1"),
        ("version", -2, "endpoint.version: -2 is below 1"),
        ("version", "latest", "endpoint.version: latest is not a whole number"),
        ("version", True, "endpoint.version: true is not a whole number"),
        ("authMode", "AMLToken", "endpoint.authMode: AMLToken is not allowed; allowed: AADToken, Key"),
        ("authMode", "key", "endpoint.authMode: key is not allowed"),
        ("instanceType", "Standard DS3", "endpoint.instanceType: Standard DS3 is not a VM size"),
        ("model", "my model", "endpoint.model: my model is not a model name"),
        ("name", "1-endpoint", "endpoint.name: 1-endpoint is not allowed: online endpoint name"),
        ("name", "ep_1", "endpoint.name: ep_1 is not allowed"),
        ("name", "ep", "endpoint.name: ep is not allowed: online endpoint name 'ep' is 2 characters"),
        ("name", "e" * 33, "is 33 characters, allowed 3-32"),
        ("name", "serving-", "endpoint.name: serving- is not allowed: online endpoint name"),
        ("name", "ep-", "ending with a letter or digit"),
    ],
)  # fmt: skip
def test_bad_endpoint_values_are_rejected(field, value, expected):
    message = rejected({**MODEL, field: value})
    assert expected in message
    assert message.startswith(f"databricks-azureml:endpoint.{field}: ")


def test_zero_instances_message_says_how_to_stop_serving_instead():
    assert "pulumi config rm databricks-azureml:endpoint" in rejected({**MODEL, "instanceCount": 0})


def test_bad_name_message_says_names_are_unique_per_region():
    assert "unique within the Azure region" in rejected({**MODEL, "name": "-x-"})


@pytest.mark.parametrize("name", ["abc", "a-1", "Serving-Ep-2", "e" * 32])
def test_endpoint_names_azure_ai_ml_accepts_pass(name):
    assert ENDPOINT_NAME_RULE.problem(name) is None


def test_name_that_is_not_a_string_is_rejected():
    assert rejected({**MODEL, "name": 12}).startswith(
        "databricks-azureml:endpoint.name: 12 is not a string"
    )


def test_endpoint_given_a_scalar_is_rejected():
    assert rejected("yes").startswith("databricks-azureml:endpoint: yes is not an object")


def test_a_version_below_1_is_not_told_to_remove_the_endpoint():
    message = rejected({**MODEL, "version": 0})
    assert message == "databricks-azureml:endpoint.version: 0 is below 1; allowed: 1..1000000000"


# --- what online and batch endpoints share ------------------------------------------------------
# (config key, the spec's attribute, its name function, its name rule, the default name)
SERVING = [
    pytest.param("endpoint", "endpoint", endpoint_name, ENDPOINT_NAME_RULE, "mlflow-dev-ep-a1b2c3", id="online"),
    pytest.param("batchEndpoint", "batch_endpoint", batch_endpoint_name, BATCH_ENDPOINT_NAME_RULE, "mlflow-dev-be-a1b2c3", id="batch"),
]  # fmt: skip
SERVING_FIELDS = ("key", "attribute", "name_of", "rule", "default_name")


def serving_spec(key: str, attribute: str, prefix: str = "mlflow", stack: str = "dev"):
    spec = getattr(
        parse_config(with_values(AZUREML, prefix=prefix, **{key: MODEL}), stack, SECRET_KEYS),
        attribute,
    )
    assert spec is not None
    return spec


@pytest.mark.parametrize(SERVING_FIELDS, SERVING)
def test_default_name_carries_prefix_stack_and_suffix_within_the_rule(
    key, attribute, name_of, rule, default_name
):
    name = name_of(serving_spec(key, attribute), "mlflow", "dev", "a1b2c3")
    assert name == default_name
    assert rule.problem(name) is None


@pytest.mark.parametrize(("prefix", "stack"), [("abcdefghij", "abcdef"), ("mlflow", "staging-12")])
@pytest.mark.parametrize(SERVING_FIELDS, SERVING)
def test_default_name_fits_whenever_prefix_and_stack_pass_their_own_rules(
    key, attribute, name_of, rule, default_name, prefix, stack
):
    # The key vault's 24 characters bound prefix + stack more tightly than an endpoint's 32.
    spec = serving_spec(key, attribute, prefix, stack)
    assert rule.problem(name_of(spec, prefix, stack, "f" * 6)) is None


@pytest.mark.parametrize("missing", ["model", "version"])
@pytest.mark.parametrize("key", ["endpoint", "batchEndpoint"])
def test_model_and_version_are_required(key, missing):
    given = {field: value for field, value in MODEL.items() if field != missing}
    message = rejected_config(with_values(AZUREML, **{key: given}))
    assert message.startswith(f"databricks-azureml:{key}.{missing}: (not set) is required")


@pytest.mark.parametrize(
    ("key", "typo", "expected", "suggestion"),
    [
        ("endpoint", "instanceCnt", "databricks-azureml:endpoint.instanceCnt: (a number, not shown) is set for an unknown key", "did you mean endpoint.instanceCount?"),
        ("batchEndpoint", "maxInstance", "databricks-azureml:batchEndpoint.maxInstance: (a number, not shown) is set for an unknown key", "did you mean batchEndpoint.maxInstances?"),
    ],
)  # fmt: skip
def test_unknown_serving_field_is_rejected_with_a_suggestion(key, typo, expected, suggestion):
    message = rejected_config(with_values(AZUREML, **{key: {**MODEL, typo: 2}}))
    assert message.startswith(expected)
    assert suggestion in message
