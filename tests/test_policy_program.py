"""The policy pack over what the real program declares, for the dev and private-link stacks.

`tools/offline.py` runs `__main__.py` under the SDK's mocks with each stack's config file;
`guard_engine` hands the declared resources to the pack, started as the CLI starts it, as the
Pulumi engine would during `pulumi preview --policy-pack policy` (inputs to Analyze, outputs to
AnalyzeStack) and during `pulumi up` (with Azure's outputs filled in). The stacks as shipped must raise no violation; a
stack edited to break a rule must.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from functools import cache
from pathlib import Path

import pytest
from pulumi.runtime.rpc import wrap_rpc_secret

from tests.stacks import without_placeholders
from tools.offline import ProgramResult, run_program
from tools.preview import stack_config

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

import guard_engine  # noqa: E402
import guard_rules as rules  # noqa: E402

STACKS = ("dev", "private")
MODES = {"preview": False, "deployed": True}


@cache
def program_run(stack: str, deployed: bool) -> ProgramResult:
    config, secret_keys = stack_config(stack)
    if deployed:  # as after the stack file's `pulumi config set` lines: no placeholder is deployed
        config = without_placeholders(config)
    run = run_program(config, stack, deployed=deployed, secret_keys=secret_keys)
    assert run.error is None, f"stack {stack!r} failed: {run.error}"
    return run


@pytest.fixture(scope="module")
def pack():
    """The pack, started once for this module as the CLI starts it."""
    with guard_engine.PackProcess() as started:
        yield started


def engine_resources(run: ProgramResult) -> list[guard_engine.EngineResource]:
    return [
        guard_engine.EngineResource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            inputs=r.inputs,
            outputs=r.outputs,
            parent=r.parent,
            custom=r.custom,
            dependencies=r.depends_on,
        )
        for r in run.resources
    ]


def edited(
    resources: list[guard_engine.EngineResource], resource_type: str, edit
) -> tuple[list[guard_engine.EngineResource], str]:
    """`resources` with `edit(props)` applied to the inputs and outputs of the one resource of
    `resource_type`; returns the new list and that resource's urn."""
    [target] = [r for r in resources if r.type == resource_type]
    inputs, outputs = copy.deepcopy(dict(target.inputs)), copy.deepcopy(dict(target.outputs or {}))
    edit(inputs)
    edit(outputs)
    changed = dataclasses.replace(target, inputs=inputs, outputs=outputs)
    return [changed if r is target else r for r in resources], target.urn


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", STACKS)
def test_stack_as_shipped_passes_every_policy(pack, stack, mode):
    findings = guard_engine.analyze(engine_resources(program_run(stack, MODES[mode])))
    assert findings == [], "\n\n".join(f"{f.policy} @ {f.urn}:\n{f.message}" for f in findings)


@pytest.mark.parametrize("stack", STACKS)
def test_program_declares_every_resource_the_policies_guard(stack):
    run = program_run(stack, deployed=False)
    types = [r.type for r in run.resources]
    for guarded in (
        rules.DATABRICKS_WORKSPACE,
        rules.AML_WORKSPACE,
        rules.STORAGE_ACCOUNT,
        rules.KEY_VAULT,
        rules.DATABRICKS_CLUSTER,
    ):
        assert types.count(guarded) == 1, guarded
    taggable = [r for r in run.resources if rules.is_taggable(r.type, r.inputs)]
    assert len(taggable) >= 8


def test_private_stack_is_recognised_as_private_link_and_dev_is_not():
    def aml_endpoints(stack: str) -> list[str]:
        run = program_run(stack, deployed=False)
        declared = [rules.Declared(r.type, r.name, r.outputs, r.urn) for r in run.resources]
        return [endpoint.name for endpoint in rules.aml_private_endpoints(declared)]

    assert len(aml_endpoints("private")) == 1
    assert aml_endpoints("dev") == []


def test_dual_tracking_added_to_the_private_stack_is_caught(pack):
    resources = engine_resources(program_run("private", deployed=True))
    aml_id = next(r.outputs["id"] for r in resources if r.type == rules.AML_WORKSPACE)

    def link(props):
        props.setdefault("parameters", {})["amlWorkspaceId"] = {"value": aml_id}

    resources, workspace_urn = edited(resources, rules.DATABRICKS_WORKSPACE, link)
    findings = guard_engine.analyze(resources, pack=pack)
    assert [(f.policy, f.urn) for f in findings] == [
        ("no-dual-tracking-with-private-link", workspace_urn)
    ]
    assert "isn't supported with a private-link AzureML workspace" in findings[0].message


def test_public_aml_workspace_in_the_private_stack_is_caught(pack):
    resources = engine_resources(program_run("private", deployed=True))

    def open_up(props):
        props["publicNetworkAccess"] = "Enabled"

    resources, aml_urn = edited(resources, rules.AML_WORKSPACE, open_up)
    findings = guard_engine.analyze(resources, pack=pack)
    assert [(f.policy, f.urn) for f in findings] == [
        ("aml-workspace-private-when-private-link", aml_urn)
    ]


def test_resource_without_managed_by_tag_in_the_dev_stack_is_caught(pack):
    resources = engine_resources(program_run("dev", deployed=False))

    def untag(props):
        props["tags"] = {k: v for k, v in props.get("tags", {}).items() if k != "managed-by"}

    resources, vault_urn = edited(resources, rules.KEY_VAULT, untag)
    findings = guard_engine.analyze(resources, pack=pack)
    assert [(f.policy, f.urn) for f in findings] == [("azure-resources-tagged", vault_urn)]


def test_client_secret_leaked_in_clear_into_the_private_cluster_is_caught(pack):
    resources = engine_resources(program_run("private", deployed=True))

    def leak(props):
        props["sparkEnvVars"]["AZURE_CLIENT_SECRET"] = wrap_rpc_secret("s3cr3t-in-clear")

    resources, cluster_urn = edited(resources, rules.DATABRICKS_CLUSTER, leak)
    findings = guard_engine.analyze(resources, pack=pack)
    assert [(f.policy, f.urn) for f in findings] == [
        ("databricks-cluster-secret-env-vars", cluster_urn)
    ]
    assert "sparkEnvVars.AZURE_CLIENT_SECRET is not a secret reference" in findings[0].message
    assert "s3cr3t" not in findings[0].message


def test_workspace_users_granted_the_private_clusters_secret_is_caught(pack):
    # In `pulumi up`, when the cluster's environment and id are known (in preview the program's
    # sparkEnvVars is one unknown value, left to `up` like every unknown).
    run = program_run("private", deployed=True)
    [declared] = run.of_type(rules.DATABRICKS_CLUSTER)
    assert "AZURE_CLIENT_SECRET" in declared.outputs["sparkEnvVars"]
    resources = [
        dataclasses.replace(r, outputs={**r.outputs, "id": declared.id})
        if r.urn == declared.urn
        else r
        for r in engine_resources(run)
    ]
    urn = declared.urn.replace(rules.DATABRICKS_CLUSTER, rules.DATABRICKS_PERMISSIONS) + "-users"
    permissions = guard_engine.EngineResource(
        rules.DATABRICKS_PERMISSIONS,
        f"{declared.name}-users",
        urn,
        # what `databricks.Permissions(cluster_id=cluster.id, access_controls=[...])` declares
        {
            "clusterId": declared.id,
            "accessControls": [{"groupName": "users", "permissionLevel": "CAN_ATTACH_TO"}],
        },
        parent=declared.parent,
        dependencies=(declared.urn,),
    )
    findings = guard_engine.analyze([*resources, permissions], pack=pack)
    assert [(f.policy, f.urn) for f in findings] == [
        ("cluster-credentials-not-readable-by-all-users", urn)
    ]
