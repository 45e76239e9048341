"""The pack's rules on who can read a cluster's credentials, on Databricks private link, and on
what counts as a secret reference; driven through the pack's gRPC interface like the others."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.test_policy_rules import (
    CLUSTER,
    DATABRICKS_WORKSPACE,
    DELETE,
    SUB,
    TAGS,
    VNET_ID,
    Starts,
    assert_reported,
    changed,
    guard_engine,
    rules,
    run_resource_policy,
    urn,
)

CLUSTER_ID = "1126-151500-abcd1234"
DBW_ID = f"{SUB}/Microsoft.Databricks/workspaces/mlflow-dev-dbw"
DEPLOYED_CLUSTER = {**CLUSTER, "id": CLUSTER_ID, "clusterId": CLUSTER_ID}
DEPLOYED_WORKSPACE = {**DATABRICKS_WORKSPACE, "id": DBW_ID, "name": "mlflow-dev-dbw"}


@pytest.fixture(scope="module")
def pack():
    """The pack, started once for this module as the CLI starts it."""
    with guard_engine.PackProcess() as started:
        yield started


def grant(principal: dict[str, str], level: str, cluster_id: Any = CLUSTER_ID) -> dict[str, Any]:
    return {"clusterId": cluster_id, "accessControls": [{**principal, "permissionLevel": level}]}


def endpoint(group: str, target: Any = DBW_ID) -> dict[str, Any]:
    return {
        "subnet": {"id": f"{VNET_ID}/subnets/endpoints"},
        "privateLinkServiceConnections": [
            {"name": group, "privateLinkServiceId": target, "groupIds": [group]}
        ],
        "tags": TAGS,
    }


def stack_findings(
    pack: guard_engine.PackProcess,
    policy_name: str,
    resources: list[tuple[str, str, dict[str, Any]] | tuple[str, str, dict[str, Any], list[str]]],
) -> list[tuple[str, str | None]]:
    """(message without the description, urn) that the stack policy reports over (type, name,
    props[, names of the resources it depends on])."""
    stack = []
    for resource_type, name, props, *depends in resources:
        types = {n: t for t, n, *_ in resources}
        dependencies = [urn(types[d], d) for d in (depends[0] if depends else [])]
        stack.append(
            guard_engine.EngineResource(
                resource_type, name, urn(resource_type, name), props, dependencies=dependencies
            )
        )
    [description] = [p.description for p in pack.info.policies if p.name == policy_name]
    return [
        (f.message.removeprefix(description + "\n"), f.urn or None)
        for f in pack.analyze(stack)
        if f.policy == policy_name
    ]


# --- who can read the cluster's credentials -----------------------------------------------------

CREDENTIALS = "cluster-credentials-not-readable-by-all-users"


def credential_findings(
    pack: guard_engine.PackProcess,
    grants: dict[str, Any],
    cluster: dict[str, Any] = DEPLOYED_CLUSTER,
    *,
    name: str = "perms",
    depends_on: list[str] | None = None,
) -> list[tuple[str, str | None]]:
    """What the credentials rule reports over the cluster 'cluster' and the Permissions `name`
    holding `grants` (declared to depend on the resources named in `depends_on`)."""
    permissions = (
        rules.DATABRICKS_PERMISSIONS,
        name,
        grants,
        *([depends_on] if depends_on else []),
    )
    return stack_findings(
        pack, CREDENTIALS, [(rules.DATABRICKS_CLUSTER, "cluster", cluster), permissions]
    )


def test_cluster_secret_attachable_by_all_workspace_users_is_rejected(pack):
    reported = credential_findings(
        pack, grant({"groupName": "users"}, "CAN_ATTACH_TO"), name="cluster-users"
    )
    assert reported == [
        (
            "Permissions 'cluster-users' give the workspace-wide 'users' group CAN_ATTACH_TO on "
            "cluster 'cluster', whose sparkEnvVars carry AZURE_CLIENT_SECRET: anyone who can "
            "attach to a cluster can read its environment variables. Expected grants only to the "
            "groups or users who may read the credential (config cluster.users), or no credential "
            "in the cluster's environment",
            urn(rules.DATABRICKS_PERMISSIONS, "cluster-users"),
        )
    ]


@pytest.mark.parametrize("level", ["CAN_RESTART", "CAN_MANAGE"])
def test_every_level_that_includes_attaching_counts(pack, level):
    reported = credential_findings(pack, grant({"groupName": "users"}, level))
    assert [m.split(" on ")[0] for m, _ in reported] == [
        f"Permissions 'perms' give the workspace-wide 'users' group {level}"
    ]


def test_any_credential_named_variable_counts_not_only_the_client_secret(pack):
    token_only = {"id": CLUSTER_ID, "sparkEnvVars": {"HF_TOKEN": "{{secrets/s/hf}}"}}
    reported = credential_findings(pack, grant({"groupName": "users"}, "CAN_ATTACH_TO"), token_only)
    assert "whose sparkEnvVars carry HF_TOKEN:" in reported[0][0]


@pytest.mark.parametrize(
    "principal",
    [
        {"groupName": "data-scientists"},
        {"userName": "ana@example.com"},
        {"servicePrincipalName": "x"},
    ],
)
def test_grants_to_named_principals_pass(pack, principal):
    reported = credential_findings(pack, grant(principal, "CAN_RESTART"))
    assert reported == []


def test_all_users_may_attach_to_a_cluster_without_credentials(pack):
    no_credentials = changed(DEPLOYED_CLUSTER, "sparkEnvVars.AZURE_CLIENT_SECRET", DELETE)
    reported = credential_findings(
        pack, grant({"groupName": "users"}, "CAN_ATTACH_TO"), no_credentials
    )
    assert reported == []


def test_grant_on_another_cluster_is_not_this_clusters(pack):
    other = grant({"groupName": "users"}, "CAN_ATTACH_TO", cluster_id="0000-other")
    reported = credential_findings(pack, other)
    assert reported == []


def test_in_preview_the_grant_is_joined_to_the_cluster_it_depends_on(pack):
    unknown_id = grant({"groupName": "users"}, "CAN_ATTACH_TO", cluster_id=UNKNOWN_STRING_VALUE)
    depends = credential_findings(pack, unknown_id, CLUSTER, depends_on=["cluster"])
    assert [u for _, u in depends] == [urn(rules.DATABRICKS_PERMISSIONS, "perms")]
    unrelated = credential_findings(pack, unknown_id, CLUSTER)
    assert unrelated == []


# --- secret references: the whole value or nothing ----------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        " {{secrets/mlflow-dev-azureml/azure-client-secret}}",
        "{{secrets/mlflow-dev-azureml/azure-client-secret}}\n",
        "{{secrets/mlflow-dev-azureml/azure-client-secret}} s3cr3t",
        "{{secrets/mlflow-dev-azureml/key;s3cr3t}}",
        "{{secrets/mlflow-dev-azureml/azure-client-secret}}{{secrets/a/b}}",
    ],
)
def test_value_that_only_starts_like_a_secret_reference_is_rejected(pack, value):
    props = changed(CLUSTER, "sparkEnvVars.AZURE_CLIENT_SECRET", value)
    messages = run_resource_policy(
        pack, "databricks-cluster-secret-env-vars", rules.DATABRICKS_CLUSTER, props
    )
    assert [m.split(" ", 1)[0] for m in messages] == ["sparkEnvVars.AZURE_CLIENT_SECRET"]


@pytest.mark.parametrize(
    "value", ["{{secrets/team@example.com/client.secret_2}}", "{{secrets/a/b}}"]
)
def test_whole_secret_reference_with_any_allowed_name_passes(pack, value):
    props = changed(CLUSTER, "sparkEnvVars.AZURE_CLIENT_SECRET", value)
    messages = run_resource_policy(
        pack, "databricks-cluster-secret-env-vars", rules.DATABRICKS_CLUSTER, props
    )
    assert messages == []


# --- Databricks private link: back end ----------------------------------------------------------

BACKEND = "databricks-private-link-backend"
PRIVATE_NSG = changed(DEPLOYED_WORKSPACE, "requiredNsgRules", "NoAzureDatabricksRules")


FULL = "databricks-private-link-full"
CLOSED = changed(PRIVATE_NSG, "publicNetworkAccess", "Disabled")
WS, PE = rules.DATABRICKS_WORKSPACE, rules.PRIVATE_ENDPOINT
UI_API, AUTH = endpoint("databricks_ui_api"), endpoint("browser_authentication")
OTHER = f"{SUB}/Microsoft.Databricks/workspaces"
UI_API_RULES = (
    "Databricks workspace 'dbw' has requiredNsgRules {}, but private endpoint 'dbw-pe' (group "
    "'databricks_ui_api') connects to it, so it is meant to use private link; expected "
    "'NoAzureDatabricksRules', so clusters reach the control plane through the private endpoint "
    "rather than the AzureDatabricks service tag"
)
PUBLIC_AUTH = (
    "Databricks workspace 'dbw' has publicNetworkAccess {}, but private endpoint 'dbw-auth-pe' "
    "(group 'browser_authentication') connects to it, so it is meant to be reached only through "
    "private link; expected publicNetworkAccess 'Disabled'"
)
# Databricks private link, back end (BACKEND) and front end (FULL): (policy, resources, the
# (message, urn) pairs it reports).
PRIVATE_LINK = [
    pytest.param(BACKEND, [(WS, "dbw", PRIVATE_NSG), (PE, "dbw-pe", UI_API)], [], id="backend_private_link_with_nsg_setting_and_ui_api_endpoint_passes"),
    pytest.param(BACKEND, [(WS, "dbw", DEPLOYED_WORKSPACE)], [], id="public_workspace_without_private_link_passes"),
    pytest.param(BACKEND, [(WS, "dbw", PRIVATE_NSG)], [("Databricks workspace 'dbw' has no private endpoint with group 'databricks_ui_api', but requiredNsgRules is 'NoAzureDatabricksRules', so it is meant to use private link; expected one in the endpoint subnet, connected to the workspace (without it clusters cannot reach the control plane)", urn(WS, "dbw"))], id="no_azure_databricks_rules_without_ui_api_endpoint_is_rejected"),
    pytest.param(BACKEND, [(WS, "dbw", changed(DEPLOYED_WORKSPACE, "requiredNsgRules", "AllRules")), (PE, "dbw-pe", UI_API)], [(UI_API_RULES.format("'AllRules'"), urn(WS, "dbw"))], id="ui_api_endpoint_with_all_nsg_rules_is_rejected"),
    pytest.param(BACKEND, [(WS, "dbw", changed(DEPLOYED_WORKSPACE, "requiredNsgRules", DELETE)), (PE, "dbw-pe", UI_API)], [(UI_API_RULES.format("not set"), urn(WS, "dbw"))], id="ui_api_endpoint_without_nsg_rules_set_is_rejected"),
    pytest.param(BACKEND, [(WS, "dbw", changed(DEPLOYED_WORKSPACE, "publicNetworkAccess", "Disabled"))], [(Starts("Databricks workspace 'dbw' has requiredNsgRules not set, but"), urn(WS, "dbw")), (Starts("Databricks workspace 'dbw' has no private endpoint with group 'databricks_ui_api', but"), urn(WS, "dbw"))], id="disabled_public_access_needs_the_whole_back_end"),
    pytest.param(BACKEND, [(WS, "dbw", PRIVATE_NSG), (PE, "other-pe", endpoint("databricks_ui_api", f"{OTHER}/other-dbw"))], [(Starts(""), urn(WS, "dbw"))], id="ui_api_endpoint_of_another_workspace_does_not_count"),
    pytest.param(BACKEND, [(WS, "dbw", changed(DATABRICKS_WORKSPACE, "requiredNsgRules", "NoAzureDatabricksRules")), (PE, "dbw-pe", endpoint("databricks_ui_api", UNKNOWN_STRING_VALUE))], [], id="in_preview_an_endpoint_to_the_only_workspace_counts"),
    pytest.param(BACKEND, [(WS, "dbw", changed(changed(DEPLOYED_WORKSPACE, "computeMode", "Serverless"), "publicNetworkAccess", "Disabled"))], [], id="serverless_workspace_has_no_back_end_to_make_private"),
    pytest.param(BACKEND, [(WS, "dbw", CLOSED), (PE, "dbw-pe", UI_API), (PE, "dbw-auth-pe", AUTH)], [], id="full_private_link_passes_the_back_end_rule"),
    pytest.param(FULL, [(WS, "dbw", CLOSED), (PE, "dbw-pe", UI_API), (PE, "dbw-auth-pe", AUTH)], [], id="full_private_link_with_browser_authentication_endpoint_passes"),
    pytest.param(FULL, [(WS, "dbw", CLOSED), (PE, "dbw-pe", UI_API)], [("Databricks workspace 'dbw' has publicNetworkAccess 'Disabled', but the stack has no private endpoint with group 'browser_authentication'; expected one, so users can log in to the workspace's web UI through private link", urn(WS, "dbw"))], id="disabled_public_access_without_browser_authentication_endpoint_is_rejected"),
    pytest.param(FULL, [(WS, "dbw", changed(PRIVATE_NSG, "publicNetworkAccess", "Enabled")), (PE, "dbw-auth-pe", AUTH)], [(PUBLIC_AUTH.format("'Enabled'"), urn(WS, "dbw"))], id="browser_authentication_endpoint_to_a_public_workspace_is_rejected"),
    pytest.param(FULL, [(WS, "dbw", changed(PRIVATE_NSG, "publicNetworkAccess", DELETE)), (PE, "dbw-auth-pe", AUTH)], [(PUBLIC_AUTH.format("not set (Azure then allows public access)"), urn(WS, "dbw"))], id="browser_authentication_endpoint_to_a_workspace_leaving_access_unset_is_rejected"),
    pytest.param(FULL, [(WS, "dbw", CLOSED), (PE, "web-auth-pe", endpoint("browser_authentication", f"{OTHER}/web-auth"))], [], id="browser_authentication_endpoint_shared_from_another_workspace_serves_the_region"),
]  # fmt: skip


@pytest.mark.parametrize(("policy_name", "resources", "expected"), PRIVATE_LINK)
def test_databricks_private_link_rules(pack, policy_name, resources, expected):
    assert_reported(stack_findings(pack, policy_name, resources), expected)
