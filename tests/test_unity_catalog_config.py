"""Unity Catalog as the model registry: defaults, names, and clusters that cannot use it."""

import pytest

from core.config import ModelRegistry, UnityCatalogSpec, parse_config, workspace_catalog
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, with_values
from tests.test_config import rejected


def config(raw: dict):
    return parse_config(raw, "dev", SECRET_KEYS)


def test_dual_tracking_registers_in_the_workspace_catalogs_default_schema_by_default():
    spec = config(DEV)

    assert spec.model_registry is ModelRegistry.UNITY_CATALOG
    assert spec.unity_catalog == UnityCatalogSpec("mlflow_dev_dbw", "default")
    assert spec.unity_catalog.model_schema == "mlflow_dev_dbw.default"


def test_workspace_catalog_is_the_databricks_workspace_name_as_unity_catalog_stores_it():
    assert workspace_catalog("team", "Prod-EU") == "team_prod_eu_dbw"


def test_catalog_and_schema_are_taken_from_config():
    spec = config(with_values(DEV, unityCatalog={"catalog": "ml", "schema": "models"}))

    assert spec.unity_catalog == UnityCatalogSpec("ml", "models")


def test_exclusive_tracking_keeps_the_azureml_registry_and_no_unity_catalog():
    spec = config(PRIVATE)

    assert spec.model_registry is ModelRegistry.AZUREML
    assert spec.unity_catalog is None


def test_legacy_databricks_registry_still_works():
    spec = config(with_values(DEV, modelRegistry="databricks"))

    assert spec.model_registry is ModelRegistry.DATABRICKS
    assert spec.unity_catalog is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("catalog", "ML"),
        ("schema", "my.models"),
        ("catalog", ""),
        ("schema", "a b"),
        ("catalog", 3),
    ],
)
def test_names_unity_catalog_would_not_store_as_given_are_rejected(field, value):
    message = rejected(with_values(DEV, unityCatalog={field: value}))

    assert message.startswith(f"databricks-azureml:unityCatalog.{field}: ")
    assert "is not a Unity Catalog name: 1-255 lowercase letters, digits, '_' or '-'" in message


def test_unknown_unity_catalog_field_is_rejected():
    message = rejected(with_values(DEV, unityCatalog={"scheme": "models"}))

    assert message.startswith("databricks-azureml:unityCatalog.scheme: ")
    assert "did you mean unityCatalog.schema?" in message


def test_unity_catalog_settings_with_another_registry_are_rejected():
    raw = with_values(DEV, modelRegistry="databricks", unityCatalog={"schema": "models"})

    message = rejected(raw)

    assert message.startswith("databricks-azureml:unityCatalog: ")
    assert "only used with modelRegistry unity-catalog, not databricks" in message
    assert "pulumi config rm databricks-azureml:unityCatalog" in message


@pytest.mark.parametrize("registry", ["unity-catalog", "databricks"])
def test_ml_runtime_on_standard_access_mode_is_rejected(registry):
    raw = with_values(
        DEV, modelRegistry=registry, cluster={"sparkVersion": "17.3.x-cpu-ml-scala2.13"}
    )

    message = rejected(raw)

    assert message.startswith("databricks-azureml:cluster.sparkVersion: 17.3.x-cpu-ml-scala2.13 ")
    assert "cluster.accessMode standard does not support" in message
    assert "set cluster.accessMode dedicated (with cluster.singleUser)" in message


def test_ml_runtime_on_dedicated_access_mode_is_taken():
    cluster = {
        "sparkVersion": "17.3.x-gpu-ml-scala2.13",
        "accessMode": "dedicated",
        "singleUser": "alice@contoso.com",
    }

    spec = config(with_values(DEV, cluster=cluster))

    assert spec.cluster.spark_version == "17.3.x-gpu-ml-scala2.13"


def test_runtime_older_than_unity_catalog_supports_is_rejected_for_unity_catalog():
    message = rejected(with_values(DEV, cluster={"sparkVersion": "10.4.x-scala2.12"}))

    assert message.startswith("databricks-azureml:cluster.sparkVersion: 10.4.x-scala2.12 ")
    assert "cannot use Unity Catalog (modelRegistry unity-catalog)" in message
    assert "Databricks Runtime 13.0 or above (Python 3.10, which mlflow>=3.10 requires)" in message


def test_a_runtime_with_python_3_9_is_rejected_for_unity_catalog():
    # 12.2 LTS admits Unity Catalog, but ships Python 3.9: the notebook's mlflow>=3.10 needs 3.10.
    message = rejected(with_values(DEV, cluster={"sparkVersion": "12.2.x-scala2.12"}))

    assert message.startswith("databricks-azureml:cluster.sparkVersion: 12.2.x-scala2.12 ")
    assert "needs Databricks Runtime 13.0 or above" in message


def test_the_first_runtime_with_python_3_10_is_taken_for_unity_catalog():
    raw = with_values(DEV, cluster={"sparkVersion": "13.3.x-scala2.12"})

    assert config(raw).cluster.spark_version == "13.3.x-scala2.12"


def test_runtime_older_than_unity_catalog_is_fine_for_the_legacy_registry():
    raw = with_values(DEV, modelRegistry="databricks", cluster={"sparkVersion": "10.4.x-scala2.12"})

    assert config(raw).cluster.spark_version == "10.4.x-scala2.12"
