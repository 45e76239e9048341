"""`protect`: locks on what cannot be replaced, never over the batch cluster, and the guard that
refuses, before any write, a day-2 change the locks would stop halfway."""

from __future__ import annotations

from typing import Any

import pytest

from components.resource_lock import ProtectGuardProvider, beneath_locks, declared
from core.config import parse_config
from tests.conftest import program
from tests.stacks import DEV, SECRET_KEYS, SERVICE_PRINCIPAL, with_values

LOCK = "azure-native:authorization:ManagementLockByScope"
GROUP = "azure-native:resources:ResourceGroup"
COMPUTE = "azure-native:machinelearningservices:Compute"
GUARD = "pulumi-python:dynamic/locks:ProtectGuard"
RG = "/subscriptions/3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21/resourceGroups/mlflow-dev-rg/providers/"
SCIENTIST = {"objectId": "aaaaaaaa-1111-2222-3333-444444444444", "type": "Group"}
READER = {"objectId": "bbbbbbbb-1111-2222-3333-444444444444", "type": "User"}
MODEL = {"model": "track-with-azureml-classifier", "version": 1}
# A protected stack with both endpoints, team access, a budget and diagnostics.
FULL = with_values(
    {**DEV, **SERVICE_PRINCIPAL},
    protect=True,
    modelRegistry="azureml",
    endpoint=MODEL,
    batchEndpoint=MODEL,
    access={"dataScientists": [SCIENTIST], "readers": [READER]},
    budget={"amount": 500, "contactEmails": ["finops@contoso.com"]},
)
ONLINE_ONLY = with_values(
    {**DEV, **SERVICE_PRINCIPAL}, protect=True, modelRegistry="azureml", endpoint=MODEL
)


def _scopes(raw: dict[str, str]) -> list[str]:
    return sorted(lock.inputs["scope"].removeprefix(RG) for lock in program(raw).of_type(LOCK))


# --- where the locks go ----------------------------------------------------------------------


def test_protect_locks_both_workspaces_the_storage_account_and_the_key_vault():
    assert _scopes(with_values(DEV, protect=True)) == [
        "Microsoft.Databricks/workspaces/mlflow-dev-dbw",
        "Microsoft.KeyVault/vaults/mlflow-dev-3dc9b8",
        "Microsoft.MachineLearningServices/workspaces/mlflow-dev-mlw",
        "Microsoft.Storage/storageAccounts/mlflowdev3dc9b8",
    ]
    lock = program(with_values(DEV, protect=True)).one(LOCK, "storage")
    assert lock.inputs["level"] == "CanNotDelete"
    assert lock.inputs["lockName"] == "protect"
    assert not lock.protect  # `protect: false` + `pulumi up` must be able to remove it


def test_with_a_batch_cluster_the_azureml_workspace_is_not_locked_so_the_cluster_scales_in():
    assert _scopes(FULL) == [
        "Microsoft.Databricks/workspaces/mlflow-dev-dbw",
        "Microsoft.KeyVault/vaults/mlflow-dev-3dc9b8",
        "Microsoft.Storage/storageAccounts/mlflowdev3dc9b8",
    ]
    compute = program(FULL).one(COMPUTE)
    assert compute.inputs["properties"]["properties"]["scaleSettings"]["minNodeCount"] == 0


def test_no_lock_is_on_the_group_or_over_the_cluster():
    for lock in program(FULL).of_type(LOCK):
        assert "/providers/" in lock.inputs["scope"]  # a resource, never the group
        assert "/workspaces/mlflow-dev-mlw" not in lock.inputs["scope"]


def test_the_protect_guard_comes_before_the_group():
    result = program(with_values(DEV, protect=True))
    guard = result.one(GUARD)
    assert guard.urn in result.one(GROUP).depends_on
    assert guard.inputs["protect"] is True


# --- day-2 changes under protect -------------------------------------------------------------


def _guard_inputs(raw: dict[str, str]) -> dict[str, Any]:
    config = parse_config(raw, "dev", SECRET_KEYS & raw.keys())
    return {
        "protect": config.protect,
        "beneath": beneath_locks(config),
        "declared": declared(config),
    }


def _check(before: dict[str, str], after: dict[str, str]) -> list[str]:
    result = ProtectGuardProvider().check(_guard_inputs(before), _guard_inputs(after))
    return [failure.reason for failure in result.failures]


def _refusal(before: dict[str, str], after: dict[str, str]) -> str:
    [reason] = _check(before, after)
    assert reason.startswith("databricks-azureml:protect: this update would delete")
    assert "`pulumi config set databricks-azureml:protect false` and `pulumi up`" in reason
    assert "\n" not in reason
    return reason


def test_turning_diagnostics_off_under_protect_is_refused_up_front():
    reason = _refusal(FULL, with_values(FULL, diagnostics={"enabled": False}))
    assert "diagnostics.enabled true" in reason


def test_removing_a_data_scientist_under_protect_is_refused_up_front():
    after = with_values(FULL, access={"readers": [READER]})
    assert SCIENTIST["objectId"] in _refusal(FULL, after)


def test_a_batch_vm_size_change_under_protect_is_refused_up_front():
    after = with_values(FULL, batchEndpoint={**MODEL, "instanceType": "Standard_DS4_v2"})
    assert "batchEndpoint with instanceType Standard_DS3_v2" in _refusal(FULL, after)


def test_removing_the_batch_endpoint_under_protect_is_refused_up_front():
    after = with_values(FULL)
    after.pop("databricks-azureml:batchEndpoint")
    assert "batchEndpoint with instanceType" in _refusal(FULL, after)


def test_an_online_version_bump_under_a_locked_workspace_is_refused_up_front():
    after = with_values(ONLINE_ONLY, endpoint={**MODEL, "version": 2})
    assert "endpoint deployment v1-" in _refusal(ONLINE_ONLY, after)


def test_the_refusal_holds_when_protect_is_turned_off_in_the_same_update():
    after = with_values(FULL, protect=False, diagnostics={"enabled": False})
    assert "diagnostics.enabled true" in _refusal(FULL, after)


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": {**MODEL, "version": 2}},  # the workspace holds the batch cluster: unlocked
        {"batchEndpoint": {**MODEL, "version": 2}},  # a new deployment, same cluster
        {"access": {"dataScientists": [SCIENTIST]}},  # Reader is on the group: not locked
        {"protect": False},  # removes the locks and nothing else
    ],
    ids=["online-version", "batch-version", "reader-removed", "unprotect"],
)
def test_changes_nothing_locked_covers_pass_the_guard(change):
    assert _check(FULL, with_values(FULL, **change)) == []


def test_removing_the_budget_under_protect_passes_the_guard():
    after = dict(FULL)
    after.pop("databricks-azureml:budget")
    assert _check(FULL, after) == []


def test_adding_a_batch_endpoint_which_unlocks_the_workspace_passes_the_guard():
    assert _check(ONLINE_ONLY, with_values(ONLINE_ONLY, batchEndpoint=MODEL)) == []


def test_once_unprotected_every_change_passes():
    unprotected = with_values(FULL, protect=False)
    assert _check(unprotected, with_values(unprotected, diagnostics={"enabled": False})) == []


def test_the_guard_of_an_unprotected_stack_stays_the_same_through_day_2_changes():
    before = _guard_inputs(with_values(FULL, protect=False))
    after = _guard_inputs(with_values(FULL, protect=False, endpoint={**MODEL, "version": 2}))
    assert after["declared"] != before["declared"]
    assert ProtectGuardProvider().diff("protect-guard", before, after).changes is False


def test_the_guard_records_a_change_of_what_lies_beneath_the_locks():
    before = _guard_inputs(FULL)
    after = _guard_inputs(
        with_values(FULL, batchEndpoint={**MODEL, "instanceType": "Standard_DS4_v2"})
    )
    assert ProtectGuardProvider().diff("protect-guard", before, after).changes is True
