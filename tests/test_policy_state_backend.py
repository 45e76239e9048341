"""The policy pack over the state bootstrap: the program as shipped passes every policy, in
preview and deployed; each state-backend rule catches the resource edited to break it, and
leaves stacks without a `pulumi-state` container alone."""

from __future__ import annotations

import dataclasses
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.bootstrap_stack import (
    ACCOUNT,
    BLOB_SERVICE,
    CONTAINER,
    KEY,
    NS,
    TEAM,
    VAULT,
    run_bootstrap,
)
from tests.test_policy_program import edited, engine_resources
from tools.offline import ProgramResult

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

import guard_engine  # noqa: E402
import guard_policies  # noqa: E402
import guard_rules as rules  # noqa: E402

STATE_POLICIES = {p.name for p in guard_policies.STATE_BACKEND_POLICIES}


@cache
def bootstrap_run(deployed: bool) -> ProgramResult:
    run = run_bootstrap(TEAM, deployed=deployed)
    assert run.error is None, run.error
    return run


def findings_of(resources) -> list[tuple[str, str]]:
    return [(f.policy, f.urn) for f in guard_engine.analyze(resources)]


def test_the_pack_holds_the_three_state_backend_policies():
    assert {
        "state-backend-blob-recovery",
        "state-backend-entra-only",
        "state-key-vault-purge-protection",
    } == STATE_POLICIES
    assert {p.name for p in guard_policies.POLICIES} >= STATE_POLICIES


@pytest.mark.parametrize("deployed", [False, True], ids=["preview", "deployed"])
def test_bootstrap_as_shipped_passes_every_policy(deployed):
    findings = guard_engine.analyze(engine_resources(bootstrap_run(deployed)))
    assert findings == [], "\n\n".join(f"{f.policy} @ {f.urn}:\n{f.message}" for f in findings)


@pytest.mark.parametrize("deployed", [False, True], ids=["preview", "deployed"])
def test_bootstrap_is_recognised_as_a_state_backend(deployed):
    run = bootstrap_run(deployed)
    declared = [rules.Declared(r.type, r.name, r.outputs, r.urn) for r in run.resources]
    assert [c.name for c in rules.state_containers(declared)] == ["state-container"]


def test_blob_versioning_turned_off_is_caught():
    resources = engine_resources(bootstrap_run(True))

    def off(props):
        props["isVersioningEnabled"] = False

    resources, urn = edited(resources, BLOB_SERVICE, off)
    findings = guard_engine.analyze(resources)
    assert [(f.policy, f.urn) for f in findings] == [("state-backend-blob-recovery", urn)]
    assert "isVersioningEnabled is False; expected true" in findings[0].message


@pytest.mark.parametrize(
    ("policy_prop", "value", "expected"),
    [
        (
            "deleteRetentionPolicy",
            {"enabled": False, "days": 30},
            "deleteRetentionPolicy.enabled is False",
        ),
        (
            "deleteRetentionPolicy",
            {"enabled": True, "days": 1},
            "deleteRetentionPolicy.days is 1; expected at least 7",
        ),
        (
            "containerDeleteRetentionPolicy",
            None,
            "containerDeleteRetentionPolicy.enabled is not set",
        ),
    ],
)
def test_soft_delete_off_or_too_short_is_caught(policy_prop, value, expected):
    def edit(props):
        if value is None:
            props.pop(policy_prop, None)
        else:
            props[policy_prop] = value

    resources, urn = edited(engine_resources(bootstrap_run(True)), BLOB_SERVICE, edit)
    findings = guard_engine.analyze(resources)
    assert [(f.policy, f.urn) for f in findings] == [("state-backend-blob-recovery", urn)]
    assert expected in findings[0].message


def test_state_account_without_blob_service_properties_is_caught():
    resources = [r for r in engine_resources(bootstrap_run(True)) if r.type != BLOB_SERVICE]
    account_urn = next(r.urn for r in resources if r.type == ACCOUNT)
    findings = guard_engine.analyze(resources)
    assert [(f.policy, f.urn) for f in findings] == [("state-backend-blob-recovery", account_urn)]
    assert "declares no blob service properties" in findings[0].message


@pytest.mark.parametrize("value", [True, None])
def test_state_account_taking_shared_keys_is_caught(value):
    def edit(props):
        if value is None:
            props.pop("allowSharedKeyAccess", None)
        else:
            props["allowSharedKeyAccess"] = value

    resources, urn = edited(engine_resources(bootstrap_run(True)), ACCOUNT, edit)
    findings = guard_engine.analyze(resources)
    assert [(f.policy, f.urn) for f in findings] == [("state-backend-entra-only", urn)]
    assert "expected false" in findings[0].message


def test_state_key_vault_without_purge_protection_is_caught():
    def edit(props):
        props["properties"].pop("enablePurgeProtection")

    resources, urn = edited(engine_resources(bootstrap_run(True)), VAULT, edit)
    findings = guard_engine.analyze(resources)
    assert [(f.policy, f.urn) for f in findings] == [("state-key-vault-purge-protection", urn)]
    assert "enablePurgeProtection not set; expected true" in findings[0].message


def test_rules_apply_only_to_the_account_that_holds_the_state_container():
    resources = engine_resources(bootstrap_run(True))
    other = next(r for r in resources if r.type == ACCOUNT)
    other_inputs = {**other.inputs, "accountName": "otheraccount", "allowSharedKeyAccess": True}
    other_outputs = {**(other.outputs or {}), **other_inputs, "name": "otheraccount"}
    unrelated = dataclasses.replace(
        other, urn=other.urn + "-other", name="other", inputs=other_inputs, outputs=other_outputs
    )
    assert findings_of([*resources, unrelated]) == []


def test_rules_ignore_stacks_without_a_state_container():
    resources = engine_resources(bootstrap_run(True))

    def rename(props):
        props["containerName"] = "artifacts"
        props["name"] = "artifacts"

    resources, _ = edited(resources, CONTAINER, rename)
    resources, _ = edited(resources, ACCOUNT, lambda p: p.update(allowSharedKeyAccess=True))
    resources, _ = edited(resources, VAULT, lambda p: p["properties"].pop("enablePurgeProtection"))
    resources, _ = edited(resources, BLOB_SERVICE, lambda p: p.update(isVersioningEnabled=False))
    assert findings_of(resources) == []


def test_names_are_read_from_arm_ids_when_only_outputs_are_known():
    # What AnalyzeStack sees of a deployed stack: azure-native outputs carry `name` and `id`, not
    # the path inputs (accountName, vaultName).
    run = bootstrap_run(True)
    declared = []
    for r in run.resources:
        props = {
            k: v
            for k, v in r.outputs.items()
            if k not in ("accountName", "vaultName", "containerName")
        }
        declared.append(rules.Declared(r.type, r.name, props, r.urn))
    assert [c.name for c in rules.state_containers(declared)] == ["state-container"]
    vault = next(d for d in declared if d.resource_type == rules.KEY_VAULT)
    no_purge = {
        **vault.props,
        "properties": {**vault.props["properties"], "enablePurgeProtection": False},
    }
    broken = [dataclasses.replace(d, props=no_purge) if d is vault else d for d in declared]
    assert [v.urn for v in rules.state_key_vault_purge_protection(broken)] == [vault.urn]
    assert rules.state_key_vault_purge_protection(declared) == []


def test_config_with_a_short_soft_delete_is_refused_before_the_policy_sees_it():
    run = run_bootstrap({**TEAM, f"{NS}:softDeleteDays": "3"})
    assert run.error == f"{NS}:softDeleteDays: 3 is outside 7..365"


def test_key_is_what_marks_a_vault_as_the_secrets_key_vault():
    resources = [r for r in engine_resources(bootstrap_run(True)) if r.type != KEY]

    def edit(props):
        props["properties"].pop("enablePurgeProtection")

    resources, _ = edited(resources, VAULT, edit)
    assert ("state-key-vault-purge-protection",) not in {(p,) for p, _ in findings_of(resources)}
