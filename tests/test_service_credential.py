"""No stored secret: without servicePrincipal, exclusive tracking and the AzureML registry sign in
with a Unity Catalog service credential (components/service_credential.py), under mocks."""

from tests.conftest import program
from tests.stacks import DEV, SERVICE_PRINCIPAL, with_values
from tools.offline import SUBSCRIPTION_ID

CONNECTOR = "azure-native:databricks:AccessConnector"
ROLE = "azure-native:authorization:RoleAssignment"
CREDENTIAL = "databricks:index/credential:Credential"
GRANTS = "databricks:index/grants:Grants"
SECRET = "databricks:index/secret:Secret"
CLUSTER = "databricks:index/cluster:Cluster"
AML = "azure-native:machinelearningservices:Workspace"

EXCLUSIVE = with_values(DEV, trackingMode="exclusive", cluster={"users": ["data-scientists"]})


def test_the_access_connector_has_a_system_assigned_identity():
    connector = program(EXCLUSIVE).one(CONNECTOR)
    assert connector.inputs["identity"] == {"type": "SystemAssigned"}
    assert connector.inputs["connectorName"] == "mlflow-dev-azureml-ac"


def test_the_connector_identity_gets_azureml_data_scientist_on_the_workspace():
    run = program(EXCLUSIVE)
    connector, aml = run.one(CONNECTOR), run.one(AML)
    (role,) = run.of_type(ROLE)
    assert role.inputs["scope"] == aml.id
    assert role.inputs["principalId"] == connector.outputs["identity"]["principalId"]
    assert role.inputs["principalType"] == "ServicePrincipal"
    assert role.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        "f6c7c914-8db3-469d-8ca1-694a8f32e121"
    )


def test_the_credential_is_a_service_credential_of_the_connector_isolated_to_the_workspace():
    run = program(EXCLUSIVE)
    credential = run.one(CREDENTIAL)
    assert credential.inputs["purpose"] == "SERVICE"
    assert credential.inputs["azureManagedIdentity"] == {"accessConnectorId": run.one(CONNECTOR).id}
    assert credential.inputs["isolationMode"] == "ISOLATION_MODE_ISOLATED"
    assert credential.inputs["name"].startswith("mlflow-dev-azureml-")


def test_cluster_users_get_access_on_the_credential():
    run = program(EXCLUSIVE)
    grants = run.one(GRANTS)
    assert grants.inputs["credential"] == run.one(CREDENTIAL).inputs["name"]
    assert grants.inputs["grants"] == [{"principal": "data-scientists", "privileges": ["ACCESS"]}]


def test_no_secret_is_stored_and_the_output_names_the_credential():
    run = program(EXCLUSIVE)
    assert run.of_type(SECRET) == []
    name = run.one(CREDENTIAL).inputs["name"]
    assert run.outputs["serviceCredential"] == name
    env = run.one(CLUSTER).inputs["sparkEnvVars"]
    assert env["DATABRICKS_AZUREML_SERVICE_CREDENTIAL"] == name
    assert not {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"} & env.keys()


def test_the_azureml_registry_with_dual_tracking_also_gets_the_credential():
    run = program(with_values(DEV, modelRegistry="azureml"))
    assert run.one(CREDENTIAL).inputs["purpose"] == "SERVICE"
    assert run.of_type(GRANTS) == []  # no cluster.users: nobody but its owner and admins


def test_a_service_principal_declares_no_service_credential():
    run = program(with_values({**DEV, **SERVICE_PRINCIPAL}, trackingMode="exclusive"))
    assert run.of_type(CREDENTIAL) == []
    assert run.of_type(CONNECTOR) == []
    assert run.outputs["serviceCredential"] is None


def test_dual_tracking_with_unity_catalog_declares_no_service_credential():
    assert program(DEV).of_type(CREDENTIAL) == []
