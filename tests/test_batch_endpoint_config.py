"""Config `batchEndpoint` and `amlManagedNetwork`: defaults, and every rejected value with a
message naming the key and the value."""

import pytest

from core.config import (
    BatchOutputAction,
    ManagedNetworkMode,
    batch_endpoint_name,
    parse_config,
)
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, SERVICE_PRINCIPAL, with_values
from tests.test_config import rejected
from tests.test_endpoint_config import AZUREML, MODEL, SHARED_FIELDS


def config_with(batch: object, base: dict[str, str] = AZUREML, stack: str = "dev", **more):
    return parse_config(with_values(base, batchEndpoint=batch, **more), stack, SECRET_KEYS)


def rejected_batch(batch: object, base: dict[str, str] = AZUREML) -> str:
    return rejected(with_values(base, batchEndpoint=batch))


def test_no_batch_endpoint_and_no_managed_network_by_default():
    config = parse_config(AZUREML, "dev", SECRET_KEYS)
    assert config.batch_endpoint is None
    assert config.aml_managed_network is ManagedNetworkMode.OFF


def test_batch_endpoint_defaults_scale_a_small_general_purpose_cluster():
    spec = config_with(MODEL).batch_endpoint
    assert spec is not None
    assert (spec.model, spec.version) == ("track-with-azureml-classifier", 1)
    assert spec.instance_type == "Standard_DS3_v2"
    assert spec.max_instances == 2
    assert spec.mini_batch_size is None
    assert spec.output_action is BatchOutputAction.APPEND_ROW
    assert spec.name is None


def test_every_field_is_read_numbers_given_as_strings_too():
    spec = config_with(
        {
            **SHARED_FIELDS,
            "maxInstances": "5",
            "name": "Batch-1",
            "miniBatchSize": "20",
            "outputAction": "SummaryOnly",
        }
    ).batch_endpoint
    assert spec is not None
    assert (spec.model, spec.version, spec.instance_type) == ("m.v2_x", 7, "Standard_F4s_v2")
    assert (spec.max_instances, spec.name, spec.mini_batch_size) == (5, "Batch-1", 20)
    assert spec.output_action is BatchOutputAction.SUMMARY_ONLY
    assert batch_endpoint_name(spec, "mlflow", "dev", "a1b2c3") == "Batch-1"


def test_batch_endpoint_with_the_databricks_registry_says_what_to_set():
    message = rejected_batch(MODEL, {**DEV, **SERVICE_PRINCIPAL})
    assert message.startswith("databricks-azureml:batchEndpoint: ")
    assert "only models registered in AzureML can be deployed" in message
    assert "pulumi config set databricks-azureml:modelRegistry azureml" in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("maxInstances", 0, "batchEndpoint.maxInstances: 0 is below 1; allowed: 1..100"),
        ("maxInstances", 101, "batchEndpoint.maxInstances: 101 is above 100"),
        ("maxInstances", 1.5, "batchEndpoint.maxInstances: 1.5 is not a whole number"),
        ("version", 0, "batchEndpoint.version: 0 is below 1"),
        ("version", "latest", "batchEndpoint.version: latest is not a whole number"),
        ("miniBatchSize", 0, "batchEndpoint.miniBatchSize: 0 is below 1"),
        ("miniBatchSize", 10_001, "batchEndpoint.miniBatchSize: 10001 is above 10000"),
        ("outputAction", "appendrow", "batchEndpoint.outputAction: appendrow is not allowed; allowed: AppendRow, SummaryOnly"),
        ("instanceType", "Standard DS3", "batchEndpoint.instanceType: Standard DS3 is not a VM size"),
        ("model", "my model", "batchEndpoint.model: my model is not a model name"),
        ("name", "1-batch", "batchEndpoint.name: 1-batch is not allowed: batch endpoint name"),
        ("name", "be_1", "batchEndpoint.name: be_1 is not allowed"),
        ("name", "batch-", "batchEndpoint.name: batch- is not allowed"),
        ("name", "b" * 33, "is 33 characters, allowed 3-32"),
        ("name", 12, "batchEndpoint.name: 12 is not a string"),
    ],
)  # fmt: skip
def test_bad_batch_endpoint_values_are_rejected(field, value, expected):
    message = rejected_batch({**MODEL, field: value})
    assert expected in message
    assert message.startswith(f"databricks-azureml:batchEndpoint.{field}: ")


def test_batch_endpoint_given_a_scalar_is_rejected():
    assert rejected_batch("yes").startswith(
        "databricks-azureml:batchEndpoint: yes is not an object"
    )


# --- amlManagedNetwork ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(ManagedNetworkMode))
def test_every_managed_network_mode_is_read(mode):
    config = parse_config(with_values(AZUREML, amlManagedNetwork=mode.value), "dev", SECRET_KEYS)
    assert config.aml_managed_network is mode


def test_unknown_managed_network_mode_is_rejected_with_the_allowed_ones():
    message = rejected(with_values(AZUREML, amlManagedNetwork="approvedOnly"))
    assert message == (
        "databricks-azureml:amlManagedNetwork: approvedOnly is not allowed; allowed: off, "
        "allowInternetOutbound, allowOnlyApprovedOutbound"
    )


@pytest.mark.parametrize("serving", ["endpoint", "batchEndpoint"])
def test_private_link_serving_without_a_managed_network_is_rejected_saying_it_is_one_way(serving):
    message = rejected(with_values(PRIVATE, **{serving: MODEL}))
    assert message.startswith("databricks-azureml:amlManagedNetwork: off is not allowed with ")
    assert (
        "pulumi config set databricks-azureml:amlManagedNetwork allowOnlyApprovedOutbound"
        in message
    )
    assert "cannot be turned off again" in message


def test_private_link_serving_with_a_managed_network_is_accepted():
    config = parse_config(
        with_values(
            PRIVATE, batchEndpoint=MODEL, endpoint=MODEL, amlManagedNetwork="allowInternetOutbound"
        ),
        "private",
        SECRET_KEYS,
    )
    assert config.batch_endpoint is not None and config.endpoint is not None
    assert config.aml_managed_network is ManagedNetworkMode.ALLOW_INTERNET_OUTBOUND


def test_private_link_without_serving_needs_no_managed_network():
    assert parse_config(PRIVATE, "private", SECRET_KEYS).aml_managed_network is (
        ManagedNetworkMode.OFF
    )


def test_public_workspace_serving_needs_no_managed_network():
    config = config_with(MODEL)
    assert config.aml_managed_network is ManagedNetworkMode.OFF
