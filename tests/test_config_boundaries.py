"""Config limits at their edges, and ids Azure compares without regard to case.

Each boundary is written here as the literal the platform documents, so a limit that drifts by
one in the program fails a test.
"""

import pytest

from core.config import parse_config
from tests.stacks import DEV, SECRET_KEYS, with_values
from tests.test_config import rejected

SCIENTISTS = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
BUDGET = {"amount": 100, "contactEmails": ["finops@contoso.com"]}


def config(raw: dict):
    return parse_config(raw, "dev", SECRET_KEYS)


# --- Unity Catalog: runtime floor and name length ----------------------------------------------
# Unity Catalog takes Databricks Runtime 11.3 LTS (Learn, "Unity Catalog requirements"), but the
# notebook's mlflow>=3.10 needs Python 3.10, which the runtime ships from 13.0 on.


def test_unity_catalog_accepts_databricks_runtime_13_0_itself():
    raw = with_values(DEV, cluster={"sparkVersion": "13.0.x-scala2.12"})
    assert config(raw).cluster.spark_version == "13.0.x-scala2.12"


def test_unity_catalog_refuses_databricks_runtime_12_2_whose_python_is_3_9():
    message = rejected(with_values(DEV, cluster={"sparkVersion": "12.2.x-scala2.12"}))
    assert message.startswith("databricks-azureml:cluster.sparkVersion: 12.2.x-scala2.12 ")
    assert "cannot use Unity Catalog" in message


def test_unity_catalog_refuses_runtime_12_9_whose_minor_is_above_the_floors():
    message = rejected(with_values(DEV, cluster={"sparkVersion": "12.9.x-scala2.12"}))
    assert "cannot use Unity Catalog" in message


# Unity Catalog names: at most 255 characters (Learn, "Names").
@pytest.mark.parametrize("field", ["catalog", "schema"])
def test_a_unity_catalog_name_of_255_characters_is_accepted(field):
    spec = config(with_values(DEV, unityCatalog={field: "a" * 255})).unity_catalog
    assert getattr(spec, field) == "a" * 255


@pytest.mark.parametrize("field", ["catalog", "schema"])
def test_a_unity_catalog_name_of_256_characters_is_refused(field):
    message = rejected(with_values(DEV, unityCatalog={field: "a" * 256}))
    assert message.startswith(f"databricks-azureml:unityCatalog.{field}: ")
    assert "is not a Unity Catalog name: 1-255 lowercase letters" in message


# --- access: object ids are GUIDs, which Entra ID compares without regard to case ---------------


@pytest.mark.parametrize("team", ["dataScientists", "readers"])
def test_the_same_principal_in_another_case_is_refused_as_listed_twice(team):
    principals = [
        {"objectId": SCIENTISTS, "type": "Group"},
        {"objectId": SCIENTISTS.upper(), "type": "Group"},
    ]
    message = rejected(with_values(DEV, access={team: principals}))
    assert message == (
        f"databricks-azureml:access.{team}[1].objectId: 0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D "
        "is listed twice"
    )


def test_an_upper_case_object_id_is_read_in_lower_case():
    raw = with_values(DEV, access={"readers": [{"objectId": SCIENTISTS.upper(), "type": "User"}]})
    assert config(raw).access.readers[0].object_id == "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


# --- budget: a notification threshold is 0..1000 percent (consumption 2023-11-01) --------------


def test_a_budget_threshold_of_exactly_1000_percent_is_accepted():
    raw = with_values(DEV, budget={**BUDGET, "thresholds": [{"percent": 1000}]})
    assert [t.percent for t in config(raw).budget.thresholds] == [1000]


def test_a_budget_threshold_just_above_1000_percent_is_refused():
    message = rejected(with_values(DEV, budget={**BUDGET, "thresholds": [{"percent": 1000.5}]}))
    assert message.startswith("databricks-azureml:budget.thresholds[0].percent: 1000.5 ")


# --- resource ids: ARM compares them without regard to case -------------------------------------


def test_a_log_analytics_workspace_id_in_another_case_is_accepted_as_given():
    workspace = (
        "/SUBSCRIPTIONS/3F2A8C71-5D4E-4B9A-9C1F-7E6D5A4B3C21/resourcegroups/SOC-RG/PROVIDERS/"
        "microsoft.operationalinsights/WORKSPACES/Central"
    )
    raw = with_values(DEV, diagnostics={"workspaceId": workspace})
    assert config(raw).diagnostics.workspace_id == workspace


# --- namespaces and provider keys ----------------------------------------------------------------


def test_the_classic_azure_providers_location_is_refused_as_the_wrong_provider():
    message = rejected({**DEV, "Azure:location": "westeurope"})
    assert message.startswith("Azure:location: (a string, not shown) is in namespace 'Azure'")
    assert "did you mean azure-native:location?" in message


def test_azure_native_keys_are_matched_with_their_case():
    message = rejected({**DEV, "azure-native:Location": "westeurope"})
    assert message.startswith(
        "azure-native:Location: (a string, not shown) is not a key the azure-native provider takes"
    )
    assert "did you mean azure-native:location?" in message
