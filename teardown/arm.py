"""A small Azure Resource Manager client for what `pulumi destroy` cannot do by itself.

Azure only soft-deletes an AzureML workspace (14 days) and a key vault (its retention period),
and both block their names meanwhile. The functions here purge them, and answer the questions
the leftover check asks.

Every request goes through azure-core's pipeline: a client request id, retries with exponential
back-off that honour Retry-After (408, 429, 5xx), a bearer token for ARM from an injectable
credential (DefaultAzureCredential by default), and long-running operations polled with
azure-core's LRO poller through Azure-AsyncOperation or Location. A 404 on a delete or a purge
means "already gone". A 403 raises ArmPermissionError naming the Azure RBAC action the signed-in
identity lacks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import quote, urlparse

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    HttpLoggingPolicy,
    RequestIdPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import HttpTransport
from azure.core.polling import LROPoller
from azure.core.polling.base_polling import (
    LocationPolling,
    LROBasePolling,
    OperationResourcePolling,
    StatusCheckPolling,
)
from azure.core.rest import HttpRequest, HttpResponse

ARM_ENDPOINT = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"

# api-versions, each one Microsoft documents for the operation it is used for:
# Resource Groups - Get (learn.microsoft.com/rest/api/resources/resource-groups/get).
RESOURCES_API_VERSION = "2021-04-01"
# Workspaces - Get / Delete; Delete takes the `forceToPurge` query parameter from this stable
# version on (azure-rest-api-specs, machinelearningservices stable/2024-04-01/workspaceRP.json).
AML_API_VERSION = "2024-04-01"
# Vaults - Get / Delete / Get Deleted / Purge Deleted (learn.microsoft.com/rest/api/keyvault).
KEY_VAULT_API_VERSION = "2022-07-01"

# The RBAC actions a 403 on each call means the identity lacks.
RESOURCE_GROUP_READ = "Microsoft.Resources/subscriptions/resourceGroups/read"
AML_WORKSPACE_READ = "Microsoft.MachineLearningServices/workspaces/read"
AML_WORKSPACE_DELETE = "Microsoft.MachineLearningServices/workspaces/delete"
KEY_VAULT_READ = "Microsoft.KeyVault/vaults/read"
KEY_VAULT_DELETE = "Microsoft.KeyVault/vaults/delete"
DELETED_VAULT_READ = "Microsoft.KeyVault/locations/deletedVaults/read"
DELETED_VAULT_PURGE = "Microsoft.KeyVault/locations/deletedVaults/purge/action"

# azure-core retries only idempotent methods on 429 without Retry-After; a purge POST is
# idempotent (purging twice ends in the same state), so it may be retried too.
_METHODS_RETRIED_WITH_POST = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})
_SIGN_IN_HINT = (
    "sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
)
# Rounds in which a key vault is neither live nor in deletedVaults before we conclude that
# nothing is left to purge (ARM is eventually consistent right after a delete).
_ABSENT_ROUNDS = 3
# Error codes with which ARM says "no such endpoint here" rather than "no such resource".
_UNSUPPORTED_CODES = frozenset(
    {"InvalidResourceType", "NoRegisteredProviderFound", "InvalidApiVersionParameter"}
)


class ArmError(Exception):
    """ARM answered with an error, an operation failed, or ARM could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class ArmAuthError(ArmError):
    """No token could be had for ARM, or ARM rejected it (401)."""


class ArmPermissionError(ArmError):
    """ARM answered 403: the signed-in identity lacks `permission`."""

    def __init__(self, message: str, *, permission: str, code: str | None = None):
        super().__init__(message, status=403, code=code)
        self.permission = permission


class ArmUnsupportedError(ArmError):
    """The endpoint does not exist for this subscription or api-version."""


class ArmClient:
    """ARM over azure-core's pipeline. Use as a context manager, or call `close()`.

    `endpoint` and `credential` are injectable (tests point them at a local server and a static
    token; the default is `default_credential()`). `poll_interval` is the wait between polls
    when ARM sends no Retry-After; `operation_timeout` bounds every long-running operation and
    every wait loop.
    """

    def __init__(
        self,
        credential: TokenCredential | None = None,
        *,
        endpoint: str = ARM_ENDPOINT,
        scope: str = ARM_SCOPE,
        transport: HttpTransport | None = None,
        retry_total: int = 10,
        retry_backoff_factor: float = 0.8,
        retry_backoff_max: float = 60.0,
        poll_interval: float = 10.0,
        operation_timeout: float = 3600.0,
    ) -> None:
        if credential is None:
            credential = default_credential()
        self.endpoint = endpoint.rstrip("/")
        self.scope = scope
        self.poll_interval = poll_interval
        self.operation_timeout = operation_timeout
        policies = [
            RequestIdPolicy(),
            HeadersPolicy({"Accept": "application/json"}),
            UserAgentPolicy(sdk_moniker="databricks-azureml-teardown"),
            RetryPolicy(
                retry_total=retry_total,
                retry_backoff_factor=retry_backoff_factor,
                retry_backoff_max=retry_backoff_max,
            ),
            BearerTokenCredentialPolicy(credential, scope),
            HttpLoggingPolicy(),
        ]
        self._pipeline: PipelineClient = PipelineClient(
            base_url=self.endpoint, policies=policies, transport=transport
        )

    def __enter__(self) -> ArmClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._pipeline.close()

    def sleep(self) -> None:
        time.sleep(self.poll_interval)

    def send(
        self,
        method: str,
        path: str,
        *,
        api_version: str | None,
        params: Mapping[str, str] | None = None,
        retry_on_methods: Collection[str] | None = None,
        body: Any = None,
    ) -> PipelineResponse:
        """Send one request (`body`, if any, as JSON); `path` is relative to the endpoint, or a
        full URL (a nextLink)."""
        url = path if urlparse(path).scheme else self.endpoint + path
        query = dict(params or {})
        if api_version is not None:
            query["api-version"] = api_version
        options: dict[str, Any] = {}
        if retry_on_methods is not None:
            options["retry_on_methods"] = frozenset(retry_on_methods)
        try:
            return self._pipeline.send_request(
                HttpRequest(method, url, params=query, json=body),
                _return_pipeline_response=True,
                **options,
            )
        except ClientAuthenticationError as err:
            raise ArmAuthError(
                f"could not get an Azure token for {self.scope} "
                f"({_first_line(str(err.message))}); {_SIGN_IN_HINT}"
            ) from err
        except AzureError as err:
            raise ArmError(f"cannot reach {self.endpoint}: {_first_line(str(err))}") from err

    def wait_for_operation(self, initial: PipelineResponse, *, what: str, permission: str) -> None:
        """Poll a long-running operation started by `initial` until it ends; raise if it failed.

        Azure-AsyncOperation is preferred, then Location; a response with neither is done.
        """
        polling: LROBasePolling = LROBasePolling(
            timeout=self.poll_interval,
            lro_algorithms=[
                OperationResourcePolling("azure-asyncoperation"),
                LocationPolling(),
                StatusCheckPolling(),
            ],
        )
        try:
            poller: LROPoller[None] = LROPoller(
                self._pipeline, initial, lambda _response: None, polling
            )
            poller.result(timeout=self.operation_timeout)
        except ClientAuthenticationError as err:
            raise ArmAuthError(
                f"{what}: could not get an Azure token ({_first_line(str(err.message))}); "
                f"{_SIGN_IN_HINT}"
            ) from err
        except HttpResponseError as err:
            if err.response is None:
                raise ArmError(f"{what}: {_first_line(str(err))}") from err
            raise _error_for(err.response, what=what, permission=permission) from err
        except AzureError as err:
            raise ArmError(f"{what}: {_first_line(str(err))}") from err
        if not poller.done():
            raise ArmError(f"{what}: still running after {self.operation_timeout:.0f} s")

    def wait_until_gone(self, path: str, *, api_version: str, what: str, permission: str) -> None:
        """GET `path` until ARM answers 404."""
        deadline = time.monotonic() + self.operation_timeout
        while True:
            response = self.send("GET", path, api_version=api_version).http_response
            _check(response, what=what, permission=permission, ok=(200, 404))
            if response.status_code == 404:
                return
            if time.monotonic() > deadline:
                raise ArmError(f"{what}: ARM still lists it after {self.operation_timeout:.0f} s")
            self.sleep()


def default_credential(environ: Mapping[str, str] | None = None) -> TokenCredential:
    """DefaultAzureCredential, or the service principal azure-native was given through
    ARM_CLIENT_ID / ARM_CLIENT_SECRET / ARM_TENANT_ID (names DefaultAzureCredential ignores)."""
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    env = os.environ if environ is None else environ
    arm_principal = [env.get(f"ARM_{key}") for key in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET")]
    if all(arm_principal) and not env.get("AZURE_CLIENT_ID"):
        tenant_id, client_id, client_secret = (str(value) for value in arm_principal)
        return ClientSecretCredential(tenant_id, client_id, client_secret)
    return DefaultAzureCredential()


def purge_aml_workspace(
    client: ArmClient, subscription_id: str, resource_group: str, name: str
) -> bool:
    """Delete an AzureML workspace permanently, skipping soft delete, and wait until it is gone.

    `DELETE ...?forceToPurge=true`, the long-running operation polled to its end, then GET until
    404. Returns False when there was no workspace to delete (404 or 204).
    """
    path = aml_workspace_path(subscription_id, resource_group, name)
    what = f"purging AzureML workspace {name} in {resource_group}"
    initial = client.send(
        "DELETE", path, api_version=AML_API_VERSION, params={"forceToPurge": "true"}
    )
    response = initial.http_response
    if response.status_code in (204, 404):
        return False
    _check(response, what=what, permission=AML_WORKSPACE_DELETE, ok=(200, 202))
    client.wait_for_operation(initial, what=what, permission=AML_WORKSPACE_DELETE)
    client.wait_until_gone(
        path, api_version=AML_API_VERSION, what=what, permission=AML_WORKSPACE_READ
    )
    return True


def delete_key_vault(
    client: ArmClient, subscription_id: str, resource_group: str, name: str
) -> bool:
    """Delete a key vault (Azure keeps it in deletedVaults). False when it did not exist."""
    response = client.send(
        "DELETE",
        key_vault_path(subscription_id, resource_group, name),
        api_version=KEY_VAULT_API_VERSION,
    ).http_response
    _check(
        response,
        what=f"deleting key vault {name} in {resource_group}",
        permission=KEY_VAULT_DELETE,
        ok=(200, 204, 404),
    )
    return response.status_code == 200


def purge_key_vault(
    client: ArmClient,
    subscription_id: str,
    location: str,
    name: str,
    *,
    resource_group: str | None = None,
) -> bool:
    """Purge a deleted key vault so its name is free again at once.

    Waits for the vault to show up in deletedVaults while its delete is still under way (the live
    vault is watched when `resource_group` is given), then `POST .../purge` and polls the
    operation. With `resource_group`, a deleted vault of that name that came from another
    resource group is left alone. Returns False when there was nothing to purge.
    """
    what = f"purging key vault {name} in {location}"
    deleted_path = deleted_key_vault_path(subscription_id, location, name)
    deadline = time.monotonic() + client.operation_timeout
    absent_rounds = 0
    while (deleted := get_deleted_key_vault(client, subscription_id, location, name)) is None:
        live = resource_group is not None and key_vault_exists(
            client, subscription_id, resource_group, name
        )
        absent_rounds = 0 if live else absent_rounds + 1
        if absent_rounds >= _ABSENT_ROUNDS:
            return False
        if time.monotonic() > deadline:
            raise ArmError(
                f"{what}: the vault is still not in deletedVaults after "
                f"{client.operation_timeout:.0f} s"
            )
        client.sleep()

    properties = deleted.get("properties") or {}
    if resource_group is not None and not _in_resource_group(
        properties.get("vaultId"), resource_group
    ):
        return False
    if properties.get("purgeProtectionEnabled"):
        raise ArmError(
            f"{what}: the vault has purge protection, so Azure keeps it until "
            f"{properties.get('scheduledPurgeDate', 'its retention period ends')}; "
            "purge protection must stay off where purgeOnDestroy is true",
            code="PurgeProtectionEnabled",
        )

    initial = client.send(
        "POST",
        deleted_path + "/purge",
        api_version=KEY_VAULT_API_VERSION,
        retry_on_methods=_METHODS_RETRIED_WITH_POST,
    )
    response = initial.http_response
    if response.status_code == 404:
        return False
    _check(response, what=what, permission=DELETED_VAULT_PURGE, ok=(200, 202))
    client.wait_for_operation(initial, what=what, permission=DELETED_VAULT_PURGE)
    client.wait_until_gone(
        deleted_path, api_version=KEY_VAULT_API_VERSION, what=what, permission=DELETED_VAULT_READ
    )
    return True


def get_resource_group(client: ArmClient, subscription_id: str, name: str) -> dict[str, Any] | None:
    """The resource group as ARM returns it, or None when it does not exist."""
    return _get_or_none(
        client,
        f"/subscriptions/{_segment(subscription_id)}/resourcegroups/{_segment(name)}",
        api_version=RESOURCES_API_VERSION,
        what=f"reading resource group {name}",
        permission=RESOURCE_GROUP_READ,
    )


def key_vault_exists(
    client: ArmClient, subscription_id: str, resource_group: str, name: str
) -> bool:
    return (
        _get_or_none(
            client,
            key_vault_path(subscription_id, resource_group, name),
            api_version=KEY_VAULT_API_VERSION,
            what=f"reading key vault {name}",
            permission=KEY_VAULT_READ,
        )
        is not None
    )


def get_deleted_key_vault(
    client: ArmClient, subscription_id: str, location: str, name: str
) -> dict[str, Any] | None:
    """The deleted (not yet purged) vault as ARM returns it, or None."""
    return _get_or_none(
        client,
        deleted_key_vault_path(subscription_id, location, name),
        api_version=KEY_VAULT_API_VERSION,
        what=f"reading deleted key vault {name} in {location}",
        permission=DELETED_VAULT_READ,
    )


def find_soft_deleted_aml_workspace(
    client: ArmClient, subscription_id: str, resource_group: str, name: str
) -> dict[str, Any] | None:
    """The soft-deleted AzureML workspace `name` of `resource_group`, or None.

    Microsoft documents listing soft-deleted workspaces only in the portal (Azure Machine
    Learning > Recently deleted). This asks the endpoint that view reads,
    `GET /subscriptions/{id}/providers/Microsoft.MachineLearningServices/deletedWorkspaces`;
    where a subscription does not offer it, ArmUnsupportedError says so.
    """
    path = (
        f"/subscriptions/{_segment(subscription_id)}"
        "/providers/Microsoft.MachineLearningServices/deletedWorkspaces"
    )
    what = "listing soft-deleted AzureML workspaces"
    api_version: str | None = AML_API_VERSION
    while path:
        response = client.send("GET", path, api_version=api_version).http_response
        if response.status_code in (400, 404):
            code, message = _error_of(response)
            if response.status_code == 404 or code in _UNSUPPORTED_CODES:
                raise ArmUnsupportedError(
                    f"{what}: ARM does not offer it here ({response.status_code} {code}: "
                    f"{message}); look in the portal: Azure Machine Learning > Recently deleted",
                    status=response.status_code,
                    code=code,
                )
        _check(response, what=what, permission=AML_WORKSPACE_READ, ok=(200,))
        body = _json(response)
        for workspace in body.get("value") or []:
            if _is_workspace(workspace, resource_group, name):
                return workspace
        path, api_version = body.get("nextLink") or "", None
    return None


def aml_workspace_path(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{_segment(subscription_id)}/resourceGroups/{_segment(resource_group)}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{_segment(name)}"
    )


def key_vault_path(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{_segment(subscription_id)}/resourceGroups/{_segment(resource_group)}"
        f"/providers/Microsoft.KeyVault/vaults/{_segment(name)}"
    )


def deleted_key_vault_path(subscription_id: str, location: str, name: str) -> str:
    return (
        f"/subscriptions/{_segment(subscription_id)}/providers/Microsoft.KeyVault"
        f"/locations/{_segment(normalize_location(location))}/deletedVaults/{_segment(name)}"
    )


def normalize_location(location: str) -> str:
    """ARM's form of a region: 'West Europe' -> 'westeurope'."""
    return location.replace(" ", "").lower()


def _get_or_none(
    client: ArmClient, path: str, *, api_version: str, what: str, permission: str
) -> dict[str, Any] | None:
    response = client.send("GET", path, api_version=api_version).http_response
    _check(response, what=what, permission=permission, ok=(200, 404))
    return None if response.status_code == 404 else _json(response)


def _check(response: HttpResponse, *, what: str, permission: str, ok: Collection[int]) -> None:
    if response.status_code not in ok:
        raise _error_for(response, what=what, permission=permission)


def _error_for(response: HttpResponse, *, what: str, permission: str) -> ArmError:
    status = response.status_code
    code, message = _error_of(response)
    if status == 401:
        return ArmAuthError(
            f"{what}: ARM rejected the token (401 {code}): {message}", status=401, code=code
        )
    if status == 403:
        return ArmPermissionError(
            f"{what}: permission denied (403 {code}); the signed-in identity needs "
            f"{permission}. ARM said: {message}",
            permission=permission,
            code=code,
        )
    if status < 400:  # a long-running operation that ended Failed or Canceled
        return ArmError(
            f"{what}: the operation failed ({code}): {message}", status=status, code=code
        )
    return ArmError(f"{what}: {status} {code}: {message}", status=status, code=code)


def _error_of(response: HttpResponse) -> tuple[str, str]:
    """ARM's error code and message ({"error": {"code", "message"}}), as far as there are any."""
    body = _json(response)
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    code = str(error.get("code") or body.get("status") or response.reason or "Error")
    message = str(error.get("message") or _first_line(response.text()) or "no details")
    return code, _first_line(message)


def _json(response: HttpResponse) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_workspace(workspace: Mapping[str, Any], resource_group: str, name: str) -> bool:
    if str(workspace.get("name", "")).lower() != name.lower():
        return False
    workspace_id = workspace.get("id")
    return workspace_id is None or _in_resource_group(workspace_id, resource_group)


def _in_resource_group(resource_id: object, resource_group: str) -> bool:
    """True when the ARM id names `resource_group` (ARM compares them case-insensitively)."""
    parts = str(resource_id or "").split("/")
    lowered = [part.lower() for part in parts]
    if "resourcegroups" not in lowered:
        return False
    index = lowered.index("resourcegroups") + 1
    return index < len(parts) and parts[index].lower() == resource_group.lower()


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an ARM path segment may not be empty")
    return quote(value, safe="")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""
