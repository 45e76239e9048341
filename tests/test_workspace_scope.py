"""What lives inside a workspace is replaced with it (components/workspace_scope.py), and the
Databricks workspace's private endpoints are written one at a time."""

from tests.conftest import program
from tests.stacks import DEV, SERVICE_PRINCIPAL, with_values
from tests.test_databricks_private_link import databricks_endpoints

WORKSPACE = "azure-native:databricks:Workspace"
PROVIDER = "pulumi:providers:databricks"
INSIDE_DATABRICKS = (
    "databricks:index/secretScope:SecretScope",
    "databricks:index/secret:Secret",
    "databricks:index/cluster:Cluster",
    "databricks:index/permissions:Permissions",
    "databricks:index/directory:Directory",  # the published outputs (published_outputs.py)
    "databricks:index/workspaceFile:WorkspaceFile",
    "databricks:index/secretAcl:SecretAcl",
)


def test_every_databricks_resource_and_its_provider_are_replaced_with_the_workspace():
    result = program(
        with_values({**DEV, **SERVICE_PRINCIPAL}, cluster={"users": ["alice@contoso.com"]})
    )
    workspace = result.one(WORKSPACE).urn
    for type_ in INSIDE_DATABRICKS:
        found = result.of_type(type_)
        assert found, type_
        assert all(r.replace_with == [workspace] for r in found), type_
    assert result.one(PROVIDER, "databricks-workspace").replace_with == [workspace]
    # nothing of the Databricks provider escapes the rule
    declared = {r.type for r in result.resources if r.type.startswith("databricks:")}
    assert declared <= set(INSIDE_DATABRICKS)


def test_resources_outside_the_workspaces_are_not_tied_to_them(dev):
    assert dev.one("azure-native:network:VirtualNetwork").replace_with == []
    assert dev.one("azure-native:machinelearningservices:Workspace").replace_with == []


def test_full_private_link_creates_the_workspace_endpoints_one_after_the_other():
    result = program(with_values(DEV, databricksPrivateLink="full"))
    endpoints = databricks_endpoints(result)
    first, second = endpoints["databricks_ui_api"], endpoints["browser_authentication"]
    assert first.urn in second.depends_on  # never two connections to the workspace at once
    assert second.urn not in first.depends_on
    workspace = result.one(WORKSPACE).urn
    assert first.replace_with == second.replace_with == [workspace]
