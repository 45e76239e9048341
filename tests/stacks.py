"""Raw config of the stacks the tests run, as the Pulumi CLI hands it to the program."""

import json

SECRET_KEY = "databricks-azureml:servicePrincipalSecret"
SECRET_VALUE = "s3cr3t-never-in-clear"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
OBJECT_ID = "66666666-7777-8888-9999-000000000000"

DEV = {"azure-native:location": "westeurope"}
SERVICE_PRINCIPAL = {
    "databricks-azureml:servicePrincipal": json.dumps(
        {"clientId": CLIENT_ID, "objectId": OBJECT_ID}
    ),
    SECRET_KEY: SECRET_VALUE,
}
PRIVATE = {
    **DEV,
    **SERVICE_PRINCIPAL,
    "databricks-azureml:privateLink": "true",
    "databricks-azureml:trackingMode": "exclusive",
}
SECRET_KEYS = frozenset({SECRET_KEY})


def with_values(base: dict[str, str], **values: object) -> dict[str, str]:
    """`base` plus project keys given as Python values (objects become JSON, as Pulumi sends)."""
    raw = dict(base)
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict | list):
            value = json.dumps(value)
        raw[f"databricks-azureml:{key}"] = str(value)
    return raw


def without_placeholders(raw: dict[str, str]) -> dict[str, str]:
    """A shipped stack's config with its placeholder service principal ids replaced by the
    tests' ids, as a user does before `pulumi up` (core/placeholders.py)."""
    key = "databricks-azureml:servicePrincipal"
    if key not in raw:
        return dict(raw)
    ids = json.loads(raw[key])
    ids.update(clientId=CLIENT_ID, objectId=OBJECT_ID)
    return {**raw, key: json.dumps(ids)}
