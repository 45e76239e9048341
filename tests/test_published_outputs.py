"""The stack's outputs published in its Databricks workspace, as the program declares them: the
file, its content, who may read it and the secret scope."""

import base64
import json

import pytest

from tests.conftest import program
from tests.stacks import CLIENT_ID, DEV, SECRET_VALUE, SERVICE_PRINCIPAL, with_values
from tools.offline import TENANT_ID, secret_value

FILE = "databricks:index/workspaceFile:WorkspaceFile"
FOLDER = "databricks:index/directory:Directory"
PERMISSIONS = "databricks:index/permissions:Permissions"
SECRET_ACL = "databricks:index/secretAcl:SecretAcl"
SECRET = "databricks:index/secret:Secret"
USERS = ["data-scientists", "alice@contoso.com"]
EXCLUSIVE = with_values(
    {**DEV, **SERVICE_PRINCIPAL}, trackingMode="exclusive", cluster={"users": USERS}
)


@pytest.fixture(scope="module")
def exclusive():
    return program(EXCLUSIVE)


@pytest.fixture(scope="module")
def default():
    return program(DEV)


def content(run) -> dict:
    return json.loads(base64.b64decode(run.one(FILE).inputs["contentBase64"]))


def test_outputs_are_a_workspace_file_in_the_stacks_shared_folder(default):
    assert default.one(FILE).inputs["path"] == "/Shared/databricks-azureml/dev/outputs.json"
    provider = default.one("pulumi:providers:databricks")  # the new workspace's, like the cluster's
    assert default.one(FILE).provider.startswith(provider.urn)
    folder = default.one(FOLDER).inputs
    assert folder == {"path": "/Shared/databricks-azureml/dev", "deleteRecursive": True}


def test_the_file_holds_every_stack_output_and_who_may_read_the_scope(exclusive):
    published = content(exclusive)
    assert set(published) == {
        "resourceGroupName", "location", "trackingMode", "modelRegistry", "privateLink",
        "amlWorkspaceName", "amlWorkspaceId", "mlflowTrackingUri", "mlflowRegistryUri",
        "databricksWorkspaceUrl", "databricksWorkspaceId", "clusterId", "secretScope",
        "modelSchema", "endpointName", "endpointScoringUri", "batchEndpointName",
        "batchEndpointUri", "serviceCredential", "secretScopeReaders",
    }  # fmt: skip
    assert {k: v for k, v in published.items() if k != "secretScopeReaders"} == exclusive.outputs
    assert published["secretScopeReaders"] == ["data-scientists", "alice@contoso.com"]
    assert published["trackingMode"] == "exclusive"
    assert published["secretScope"] == "mlflow-dev-azureml"


def test_the_file_carries_no_secret_and_no_service_principal_id(exclusive):
    text = base64.b64decode(exclusive.one(FILE).inputs["contentBase64"]).decode()
    assert SECRET_VALUE not in text
    assert CLIENT_ID not in text
    assert TENANT_ID not in text


def test_cluster_users_may_read_the_file_and_the_secret_scope(exclusive):
    grants = exclusive.one(PERMISSIONS, "published").inputs
    assert grants["workspaceFilePath"] == "/Shared/databricks-azureml/dev/outputs.json"
    assert grants["accessControls"] == [
        {"groupName": "data-scientists", "permissionLevel": "CAN_READ"},
        {"userName": "alice@contoso.com", "permissionLevel": "CAN_READ"},
    ]
    acls = sorted(
        (a.inputs["scope"], a.inputs["principal"], a.inputs["permission"])
        for a in exclusive.of_type(SECRET_ACL)
    )
    assert acls == [
        ("mlflow-dev-azureml", "alice@contoso.com", "READ"),
        ("mlflow-dev-azureml", "data-scientists", "READ"),
    ]


def test_the_service_principals_ids_join_its_secret_in_the_scope(exclusive):
    ids = {
        s.inputs["key"]: secret_value(s.inputs["stringValue"])
        for s in exclusive.of_type(SECRET)
        if s.inputs["key"] != "azure-client-secret"
    }
    assert ids == {"azure-client-id": CLIENT_ID, "azure-tenant-id": TENANT_ID}
    assert {s.inputs["scope"] for s in exclusive.of_type(SECRET)} == {"mlflow-dev-azureml"}


def test_without_cluster_users_nobody_else_is_granted_and_no_ids_are_stored(default):
    assert not [r for r in default.of_type(PERMISSIONS) if "published" in r.name]
    assert default.of_type(SECRET_ACL) == []
    assert default.of_type(SECRET) == []
    assert content(default)["secretScopeReaders"] == []


def test_a_dedicated_clusters_single_user_may_read_the_scope():
    run = program(
        with_values(DEV, cluster={"accessMode": "dedicated", "singleUser": "bob@contoso.com"})
    )
    [acl] = run.of_type(SECRET_ACL)
    assert (acl.inputs["principal"], acl.inputs["permission"]) == ("bob@contoso.com", "READ")


def test_without_a_service_principal_the_file_names_the_service_credential_and_no_ids_are_stored():
    run = program(with_values(DEV, trackingMode="exclusive", cluster={"users": USERS}))
    published = content(run)
    assert published["serviceCredential"].startswith("mlflow-dev-azureml-")
    assert published["serviceCredential"] == run.outputs["serviceCredential"]
    assert run.of_type("databricks:index/secret:Secret") == []
