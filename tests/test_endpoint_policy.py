"""Policy `online-endpoint-private-when-private-link`: the rule alone, and over the program."""

from __future__ import annotations

import pytest

from tests.stacks import PRIVATE, SECRET_KEYS, with_values
from tests.test_policy_program import engine_resources, guard_engine, rules
from tests.test_policy_rules import (
    AML_PRIVATE_ENDPOINT,
    AML_WORKSPACE,
    run_stack_policy,
    urn,
)
from tools.offline import run_program

POLICY = "online-endpoint-private-when-private-link"
ENDPOINT = {
    "endpointName": "mlflow-dev-ep-a1b2c3",
    "identity": {"type": "SystemAssigned"},
    "properties": {"authMode": "AADToken", "publicNetworkAccess": "Enabled"},
}
PRIVATE_AML = {**AML_WORKSPACE, "publicNetworkAccess": "Disabled"}


@pytest.fixture(scope="module")
def pack():
    """The pack, started once for this module as the CLI starts it."""
    with guard_engine.PackProcess() as started:
        yield started


def endpoint(public_network_access: object) -> dict:
    properties = {"authMode": "AADToken"}
    if public_network_access is not None:
        properties["publicNetworkAccess"] = public_network_access
    return {**ENDPOINT, "properties": properties}


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Enabled", "'Enabled'"), (None, "not set (Azure then allows public access)")],
)
def test_public_endpoint_in_a_private_link_stack_is_rejected(pack, value, shown):
    reported = run_stack_policy(
        pack,
        POLICY,
        [
            (rules.PRIVATE_ENDPOINT, "mlw-pe", AML_PRIVATE_ENDPOINT),
            (rules.AML_WORKSPACE, "mlw", PRIVATE_AML),
            (rules.ONLINE_ENDPOINT, "serving-endpoint", endpoint(value)),
        ],
    )
    assert reported == [
        (
            f"online endpoint 'serving-endpoint' has publicNetworkAccess {shown}, but the AzureML "
            "workspace is private-link: private endpoint 'mlw-pe' connects to an AzureML "
            "workspace (group 'amlworkspace'); expected publicNetworkAccess 'Disabled' (scoring "
            "then goes through the workspace's private endpoint)",
            urn(rules.ONLINE_ENDPOINT, "serving-endpoint"),
        )
    ]


def test_private_endpoint_in_a_private_link_stack_passes(pack):
    reported = run_stack_policy(
        pack,
        POLICY,
        [
            (rules.PRIVATE_ENDPOINT, "mlw-pe", AML_PRIVATE_ENDPOINT),
            (rules.AML_WORKSPACE, "mlw", PRIVATE_AML),
            (rules.ONLINE_ENDPOINT, "serving-endpoint", endpoint("Disabled")),
        ],
    )
    assert reported == []


def test_public_endpoint_without_private_link_passes(pack):
    reported = run_stack_policy(
        pack,
        POLICY,
        [
            (rules.AML_WORKSPACE, "mlw", AML_WORKSPACE),
            (rules.ONLINE_ENDPOINT, "serving-endpoint", endpoint("Enabled")),
        ],
    )
    assert reported == []


@pytest.mark.parametrize("deployed", [False, True], ids=["preview", "deployed"])
def test_private_stack_serving_a_model_raises_no_violation(deployed):
    model = {"model": "track-with-azureml-classifier", "version": 1}
    run = run_program(
        with_values(PRIVATE, endpoint=model, amlManagedNetwork="allowOnlyApprovedOutbound"),
        "dev",
        deployed=deployed,
        secret_keys=SECRET_KEYS,
    )
    assert run.error is None
    resources = engine_resources(run)
    assert any(r.type == rules.ONLINE_ENDPOINT for r in resources)
    assert guard_engine.analyze(resources) == []
