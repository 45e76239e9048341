"""The `dbutils` a notebook gets from the fake Databricks runtime (tests/fakecloud/notebook_runner.py).

- `dbutils.credentials.getServiceCredentialsProvider(name)`: a credential with the azure-identity
  `get_token(*scopes)` protocol (Learn, "Use Unity Catalog service credentials to connect to
  external cloud services": Azure SDK clients take it as their `credential`). Service credentials
  need Databricks Runtime 16.2 or above (Learn, same page, Requirements: 15.4 LTS only in Public
  Preview, which the fake does not offer): on an older cluster runtime the call is refused.
  Serverless (`client.<version>`) runs a current runtime. Its tokens come from the workspace's
  "Generate a temporary service credential" API, signed in as the run's user, so a user without
  ACCESS on the credential is refused there (tests/fakecloud/databricks_credentials.py); a token
  is reused until it is about to expire, as azure-identity's credentials cache theirs.
- `dbutils.secrets`: databricks-sdk's remote `dbutils.secrets` (the Secrets API as the run's user).
- `dbutils.library.restartPython()`: nothing to restart, the runner's venv has the pins already.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

MIN_RUNTIME = (16, 2)
_RUNTIME = re.compile(r"(\d+)\.(\d+)")


class AccessToken(NamedTuple):  # azure.core.credentials.AccessToken's shape
    token: str
    expires_on: int


class ServiceCredentialProvider:
    def __init__(self, name: str) -> None:
        self.name = name
        self._token: AccessToken | None = None

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        if self._token is None or self._token.expires_on < time.time() + 300:
            from databricks.sdk import WorkspaceClient

            answer = WorkspaceClient().api_client.do(
                "POST",
                "/api/2.1/unity-catalog/temporary-service-credentials",
                body={"credential_name": self.name},
            )
            token = str(answer["azure_aad"]["aad_token"])
            self._token = AccessToken(token, int(answer["expiration_time"]) // 1000)
        return self._token


class Credentials:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.runtime = env.get("DATABRICKS_RUNTIME_VERSION", "")

    def getServiceCredentialsProvider(self, name: str) -> ServiceCredentialProvider:  # noqa: N802
        match = _RUNTIME.match(self.runtime)
        if not self.runtime.startswith("client.") and (
            match is None or (int(match[1]), int(match[2])) < MIN_RUNTIME
        ):
            raise RuntimeError(
                f"Service credentials are not supported on Databricks Runtime {self.runtime}: "
                "use Databricks Runtime 16.2 or above"
            )
        return ServiceCredentialProvider(name)


class Library:
    def restartPython(self) -> None:  # noqa: N802 (dbutils' name)
        return None


class FakeDbutils:
    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self.credentials = Credentials(env)
        self.library = Library()
        self._secrets: Any = None

    @property
    def secrets(self) -> Any:
        if self._secrets is None:
            from databricks.sdk import WorkspaceClient

            self._secrets = WorkspaceClient().dbutils.secrets
        return self._secrets
