"""A stand-in for the Azure CLI: just what azure-identity's AzureCliCredential runs.

`az account get-access-token --output json [--resource R | --scope S] [--tenant T]` answers a
token in the CLI's JSON shape (accessToken, expiresOn, expires_on, subscription, tenant,
tokenType); `az account show` the signed-in account. The ids come from the environment the e2e
tests set (DATABRICKS_AZUREML_FAKE_*), so every process sees the same deployer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime

TOKEN = "fake-arm-token"
SUBSCRIPTION_ENV = "DATABRICKS_AZUREML_FAKE_SUBSCRIPTION"
TENANT_ENV = "DATABRICKS_AZUREML_FAKE_TENANT"


def main(argv: list[str]) -> int:
    subscription = os.environ.get(SUBSCRIPTION_ENV, "")
    tenant = os.environ.get(TENANT_ENV, "")
    if argv[:2] == ["account", "get-access-token"]:
        expires = int(time.time()) + 3600
        print(
            json.dumps(
                {
                    "accessToken": TOKEN,
                    "expiresOn": datetime.fromtimestamp(expires).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "expires_on": expires,
                    "subscription": subscription,
                    "tenant": tenant,
                    "tokenType": "Bearer",
                }
            )
        )
        return 0
    if argv[:2] == ["account", "show"]:
        print(json.dumps({"id": subscription, "tenantId": tenant, "user": {"type": "user"}}))
        return 0
    print(f"az stand-in: unsupported command: {' '.join(argv)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
