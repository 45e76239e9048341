"""Config of the Databricks account, for serverless compute's network connectivity
configuration."""

import pytest

from core.config import parse_config
from core.errors import ConfigError
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, with_values

ACCOUNT_ID = "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"


def rejected(raw: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "private", SECRET_KEYS)
    return str(caught.value)


def test_no_databricks_account_by_default():
    assert parse_config(DEV, "dev").databricks_account is None


def test_databricks_account_reads_the_id_and_defaults_to_the_public_account_console():
    raw = with_values(PRIVATE, databricksAccount={"accountId": ACCOUNT_ID})
    account = parse_config(raw, "private", SECRET_KEYS).databricks_account
    assert account is not None
    assert account.account_id == "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
    assert account.host == "https://accounts.azuredatabricks.net"


def test_databricks_account_takes_a_sovereign_cloud_console_and_a_capitalised_id():
    given = {"accountId": ACCOUNT_ID.upper(), "host": "https://accounts.azuredatabricks.us/"}
    account = parse_config(
        with_values(PRIVATE, databricksAccount=given), "private", SECRET_KEYS
    ).databricks_account
    assert account.account_id == "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
    assert account.host == "https://accounts.azuredatabricks.us"


def test_databricks_account_refuses_an_account_id_that_is_not_a_uuid():
    message = rejected(with_values(PRIVATE, databricksAccount={"accountId": "my-account"}))
    assert message.startswith("databricks-azureml:databricksAccount.accountId:")
    assert "is not a Databricks account id: a UUID" in message


def test_databricks_account_refuses_a_missing_account_id():
    message = rejected(with_values(PRIVATE, databricksAccount={"host": "https://x.example"}))
    assert message.startswith("databricks-azureml:databricksAccount.accountId:")


def test_databricks_account_refuses_a_host_that_is_not_https():
    given = {"accountId": ACCOUNT_ID, "host": "http://accounts.azuredatabricks.net"}
    message = rejected(with_values(PRIVATE, databricksAccount=given))
    assert message.startswith("databricks-azureml:databricksAccount.host:")
    assert "is not an https URL with no path" in message


def test_databricks_account_refuses_a_host_with_a_path():
    given = {"accountId": ACCOUNT_ID, "host": "https://accounts.azuredatabricks.net/api/2.0"}
    message = rejected(with_values(PRIVATE, databricksAccount=given))
    assert message.startswith("databricks-azureml:databricksAccount.host:")


def test_databricks_account_refuses_an_unknown_field():
    given = {"accountId": ACCOUNT_ID, "acountId": ACCOUNT_ID}
    message = rejected(with_values(PRIVATE, databricksAccount=given))
    assert "databricksAccount.acountId" in message
    assert "unknown key" in message


def test_databricks_account_refuses_a_value_that_is_not_an_object():
    message = rejected(with_values(PRIVATE, databricksAccount=ACCOUNT_ID))
    assert message.startswith("databricks-azureml:databricksAccount:")
