"""Policies `private-link-serving-has-managed-network` and `private-link-managed-network-not-off`:
each rule through the pack's analyzer, and over the program."""

from __future__ import annotations

import pytest

from tests.stacks import PRIVATE, SECRET_KEYS, with_values
from tests.test_policy_program import engine_resources, guard_engine, rules
from tests.test_policy_rules import AML_PRIVATE_ENDPOINT, AML_WORKSPACE, run_stack_policy, urn
from tools.offline import run_program

SERVING = "private-link-serving-has-managed-network"
NOT_OFF = "private-link-managed-network-not-off"
BATCH_ENDPOINT = "azure-native:machinelearningservices:BatchEndpoint"
ONLINE_ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
PRIVATE_AML = {**AML_WORKSPACE, "publicNetworkAccess": "Disabled"}
ENDPOINT = {"endpointName": "be", "properties": {"authMode": "AADToken"}}
MODEL = {"model": "track-with-azureml-classifier", "version": 1}


@pytest.fixture(scope="module")
def pack():
    with guard_engine.PackProcess() as started:
        yield started


def workspace(isolation_mode: str | None) -> dict:
    if isolation_mode is None:
        return dict(PRIVATE_AML)
    return {**PRIVATE_AML, "managedNetwork": {"isolationMode": isolation_mode}}


@pytest.mark.parametrize("endpoint_type", [ONLINE_ENDPOINT, BATCH_ENDPOINT])
def test_private_link_endpoint_without_a_managed_network_is_rejected(pack, endpoint_type):
    reported = run_stack_policy(
        pack,
        SERVING,
        [
            (rules.PRIVATE_ENDPOINT, "mlw-pe", AML_PRIVATE_ENDPOINT),
            (rules.AML_WORKSPACE, "mlw", workspace(None)),
            (endpoint_type, "serving", ENDPOINT),
        ],
    )
    assert reported == [
        (
            "AzureML workspace 'mlw' is private-link and serves through 'serving', but has no "
            "managed network: deployments reach a private workspace only through its managed "
            "network; expected managedNetwork.isolationMode AllowOnlyApprovedOutbound or "
            "AllowInternetOutbound (config amlManagedNetwork)",
            urn(rules.AML_WORKSPACE, "mlw"),
        )
    ]


def test_private_link_endpoint_with_a_disabled_managed_network_is_rejected_by_both(pack):
    resources = [
        (rules.AML_WORKSPACE, "mlw", workspace("Disabled")),
        (BATCH_ENDPOINT, "batch", ENDPOINT),
    ]
    [(serving, _)] = run_stack_policy(pack, SERVING, resources)
    assert "but has managedNetwork 'Disabled'" in serving
    [(off, where)] = run_stack_policy(pack, NOT_OFF, resources)
    assert off.startswith("AzureML workspace 'mlw' is private-link and declares ")
    assert where == urn(rules.AML_WORKSPACE, "mlw")


@pytest.mark.parametrize("mode", ["AllowOnlyApprovedOutbound", "AllowInternetOutbound"])
def test_private_link_endpoint_with_a_managed_network_passes(pack, mode):
    resources = [
        (rules.PRIVATE_ENDPOINT, "mlw-pe", AML_PRIVATE_ENDPOINT),
        (rules.AML_WORKSPACE, "mlw", workspace(mode)),
        (ONLINE_ENDPOINT, "serving", ENDPOINT),
    ]
    assert run_stack_policy(pack, SERVING, resources) == []
    assert run_stack_policy(pack, NOT_OFF, resources) == []


def test_public_workspace_or_no_endpoint_needs_no_managed_network(pack):
    public = [(rules.AML_WORKSPACE, "mlw", AML_WORKSPACE), (BATCH_ENDPOINT, "b", ENDPOINT)]
    assert run_stack_policy(pack, SERVING, public) == []
    private_only = [(rules.AML_WORKSPACE, "mlw", workspace(None))]
    assert run_stack_policy(pack, SERVING, private_only) == []
    assert run_stack_policy(pack, NOT_OFF, private_only) == []


@pytest.mark.parametrize("deployed", [False, True], ids=["preview", "deployed"])
def test_private_stack_serving_in_both_ways_raises_no_violation(deployed):
    raw = with_values(
        PRIVATE, endpoint=MODEL, batchEndpoint=MODEL, amlManagedNetwork="allowOnlyApprovedOutbound"
    )
    run = run_program(raw, "private", deployed=deployed, secret_keys=SECRET_KEYS)
    assert run.error is None
    resources = engine_resources(run)
    assert any(r.type == BATCH_ENDPOINT for r in resources)
    assert guard_engine.analyze(resources) == []
