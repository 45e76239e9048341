"""The fake cloud's Unity Catalog service credentials: the credentials API, ACCESS grants, the
tokens a credential hands out, the notebook runtime's `dbutils.credentials` and AzureML's check of
a token's role (rules and sources: tests/fakecloud/databricks_credentials.py, notebook_dbutils.py,
azureml_auth.py)."""

from __future__ import annotations

import pytest

from tests.fakecloud.azureml_auth import refusal, role_holders
from tests.fakecloud.databricks_credentials import ServiceCredentials
from tests.fakecloud.notebook_dbutils import Credentials
from tests.test_fake_databricks import Api
from tests.test_fake_databricks_any_compute import MEMBER, OUTSIDER, as_user

CONNECTOR = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Databricks/accessConnectors/ac"
PRINCIPAL = "11111111-2222-3333-4444-555555555555"
API = "/api/2.1/unity-catalog"


def with_credentials(api: Api) -> Api:
    known = {CONNECTOR.lower(): PRINCIPAL}
    api.fake.service_credentials = ServiceCredentials(lambda c: known.get(c.lower()))
    return api


def create(api: Api, name: str = "cred", **extra: object):
    body = {
        "name": name,
        "purpose": "SERVICE",
        "azure_managed_identity": {"access_connector_id": CONNECTOR},
        **extra,
    }
    return api("POST", f"{API}/credentials", body)


def grant(api: Api, principal: str, *add: str):
    return api(
        "PATCH",
        f"{API}/permissions/credential/cred",
        {"changes": [{"principal": principal, "add": list(add)}]},
    )


def token_for(api: Api):
    return api("POST", f"{API}/temporary-service-credentials", {"credential_name": "cred"})


def test_a_service_credential_is_created_owned_by_its_creator() -> None:
    api = with_credentials(Api())
    answer = create(api)
    assert answer.status == 200
    assert answer.body["owner"] == "deployer@contoso.com"
    assert api("GET", f"{API}/credentials/cred").body["purpose"] == "SERVICE"


def test_a_second_credential_of_the_same_name_is_refused() -> None:
    api = with_credentials(Api())
    create(api)
    answer = create(api)
    assert (answer.status, answer.body["error_code"]) == (409, "RESOURCE_ALREADY_EXISTS")


def test_a_credential_naming_a_missing_connector_is_refused() -> None:
    api = with_credentials(Api())
    answer = create(api, azure_managed_identity={"access_connector_id": CONNECTOR + "x"})
    assert answer.status == 400
    assert "does not exist" in answer.body["message"]


def test_an_unknown_credential_does_not_exist() -> None:
    api = with_credentials(Api())
    answer = api("GET", f"{API}/credentials/nope")
    assert (answer.status, answer.body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_a_user_with_access_gets_a_token_of_the_connectors_identity() -> None:
    api = with_credentials(Api())
    create(api)
    grant(api, MEMBER, "ACCESS")
    answer = token_for(as_user(api, MEMBER))
    assert answer.status == 200
    assert answer.body["azure_aad"]["aad_token"].startswith(f"fake-aad-mi.{PRINCIPAL}.")


def test_a_member_of_a_group_with_access_gets_a_token() -> None:
    api = with_credentials(Api())
    api.fake.groups["data-scientists"] = {MEMBER}
    create(api)
    grant(api, "data-scientists", "ACCESS")
    assert token_for(as_user(api, MEMBER)).status == 200


def test_a_user_without_access_is_refused_a_token() -> None:
    api = with_credentials(Api())
    create(api)
    grant(api, MEMBER, "ACCESS")
    answer = token_for(as_user(api, OUTSIDER))
    assert (answer.status, answer.body["error_code"]) == (403, "PERMISSION_DENIED")
    assert answer.body["message"] == "User does not have ACCESS on Credential 'cred'."


def test_only_the_owner_or_an_admin_may_grant() -> None:
    api = with_credentials(Api())
    create(api)
    answer = grant(as_user(api, OUTSIDER), OUTSIDER, "ACCESS")
    assert (answer.status, answer.body["error_code"]) == (403, "PERMISSION_DENIED")


def test_a_privilege_a_credential_does_not_take_is_refused() -> None:
    api = with_credentials(Api())
    create(api)
    assert grant(api, MEMBER, "SELECT").status == 400


def test_deleting_a_credential_drops_its_grants() -> None:
    api = with_credentials(Api())
    create(api)
    grant(api, MEMBER, "ACCESS")
    assert api("DELETE", f"{API}/credentials/cred").status == 200
    assert api.fake.service_credentials.grants == {}


@pytest.mark.parametrize("runtime", ["15.4.x-scala2.12", "16.1"])
def test_a_runtime_below_16_2_cannot_get_a_service_credential(runtime: str) -> None:
    with pytest.raises(RuntimeError, match=r"use Databricks Runtime 16\.2 or above"):
        Credentials({"DATABRICKS_RUNTIME_VERSION": runtime}).getServiceCredentialsProvider("c")


@pytest.mark.parametrize("runtime", ["16.2", "17.3.x-scala2.13", "client.4"])
def test_current_runtimes_and_serverless_get_a_provider(runtime: str) -> None:
    credentials = Credentials({"DATABRICKS_RUNTIME_VERSION": runtime})
    assert credentials.getServiceCredentialsProvider("c").name == "c"


WORKSPACE = (
    "/subscriptions/s/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w"
)


def arm_with_role(role: str, scope: str = WORKSPACE) -> dict:
    return {
        WORKSPACE: {
            "type": "Microsoft.MachineLearningServices/workspaces",
            "properties": {"mlFlowTrackingUri": "azureml://x/mlflow/v1.0" + WORKSPACE},
        },
        f"{scope}/providers/microsoft.authorization/roleassignments/r": {
            "type": "Microsoft.MachineLearningServices/workspaces/providers/roleAssignments",
            "properties": {
                "principalId": PRINCIPAL,
                "roleDefinitionId": f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{role}",
            },
        },
    }


def test_azureml_lets_in_a_token_whose_identity_is_data_scientist_on_the_workspace() -> None:
    holders = role_holders(arm_with_role("f6c7c914-8db3-469d-8ca1-694a8f32e121"))
    [allowed] = holders.values()
    assert refusal(f"fake-aad-mi.{PRINCIPAL}.n", WORKSPACE, allowed) is None


def test_azureml_inherits_a_role_from_the_resource_group() -> None:
    scope = "/subscriptions/s/resourcegroups/rg"
    holders = role_holders(arm_with_role("b24988ac-6180-42a0-ab88-20f7382dd24c", scope))
    assert list(holders.values()) == [[PRINCIPAL]]


def test_azureml_refuses_a_token_whose_identity_has_only_reader() -> None:
    holders = role_holders(arm_with_role("acdd72a7-3385-48ef-bd42-f606fba81ae7"))
    [allowed] = holders.values()
    message = refusal(f"fake-aad-mi.{PRINCIPAL}.n", WORKSPACE, allowed)
    assert message is not None and message.startswith(
        f"AuthorizationFailed: The client '{PRINCIPAL}' with object id '{PRINCIPAL}' does not "
        "have authorization"
    )
