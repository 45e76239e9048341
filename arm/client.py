"""The stack's ARM client, on Azure's management SDKs: the calls that `pulumi destroy` cannot
make by itself, and the reads and writes of the dynamic resources that call ARM themselves.

Azure soft-deletes an AzureML workspace (14 days) and a key vault (its retention period), and
both keep their names meanwhile; deleting a Databricks workspace does not reliably remove its
managed resource group. The functions here purge and force-delete, and answer the leftover
check's questions. azure-mgmt-resource and azure-mgmt-keyvault carry the requests (retries that
honour Retry-After, bearer tokens, long-running operations polled by ARMPolling); what is ours:
waiting for a deleted vault to show up (ARM is eventually consistent), leaving another
group's vault alone, errors that name the missing RBAC permission, and the undocumented
listing of soft-deleted AzureML workspaces.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from arm.cloud import ArmCloud, CloudConfig, resolve

# api-versions, each one Microsoft documents for the call it is used for:
# AzureML Workspaces_Delete has `forceToPurge` in stable versions from 2023-10-01 on (absent in
# 2023-04-01; azure-sdk-for-python azure-ai-ml _restclient v2023_04_01 / v2023_10_01
# build_delete_request, generated from those specs).
AML_API_VERSION = "2024-04-01"
# Databricks Workspaces_Delete has `forceDeletion` from stable 2024-05-01 on (azure-rest-api-specs
# databricks stable/2024-05-01/examples/WorkspaceDeleteForceDeletion.json; not in 2023-02-01).
DATABRICKS_API_VERSION = "2024-05-01"
KEY_VAULT_API_VERSION = "2022-07-01"  # Vaults - Delete / Get Deleted / Purge Deleted
RESOURCES_API_VERSION = "2021-04-01"  # Resource Groups - Get

AML_WORKSPACES = "Microsoft.MachineLearningServices/workspaces"
DATABRICKS_WORKSPACES = "Microsoft.Databricks/workspaces"
KEY_VAULTS = "Microsoft.KeyVault/vaults"

# The RBAC actions a 403 on each call means the identity lacks.
RESOURCE_GROUP_READ = "Microsoft.Resources/subscriptions/resourceGroups/read"
AML_WORKSPACE_READ = "Microsoft.MachineLearningServices/workspaces/read"
AML_WORKSPACE_DELETE = "Microsoft.MachineLearningServices/workspaces/delete"
DATABRICKS_WORKSPACE_DELETE = "Microsoft.Databricks/workspaces/delete"
KEY_VAULT_READ = "Microsoft.KeyVault/vaults/read"
KEY_VAULT_DELETE = "Microsoft.KeyVault/vaults/delete"
DELETED_VAULT_READ = "Microsoft.KeyVault/locations/deletedVaults/read"
DELETED_VAULT_PURGE = "Microsoft.KeyVault/locations/deletedVaults/purge/action"

_SIGN_IN_HINT = (
    "sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
)
# Polls in which a key vault is neither live nor in deletedVaults before we conclude that
# nothing is left to purge (right after a delete, deletedVaults may not show it yet).
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


class Arm:
    """ARM for one subscription and cloud. Use as a context manager, or call `close()`.

    `credential` defaults to `default_credential()`; tests pass a static one, a `transport`
    that trusts their CA, and short `polling_interval` / `timeout`. Other keyword arguments go
    to the SDK clients (e.g. `retry_total`).
    """

    def __init__(
        self,
        subscription_id: str,
        *,
        cloud: ArmCloud | None = None,
        credential: TokenCredential | None = None,
        polling_interval: float = 10.0,
        timeout: float = 3600.0,
        **client_options: Any,
    ) -> None:
        cloud = cloud or resolve(CloudConfig(), transport=client_options.get("transport"))
        self.subscription_id = subscription_id
        self.cloud = cloud
        self.polling_interval = polling_interval
        self.timeout = timeout
        credential = credential or default_credential(authority=cloud.authority)
        options = {
            "base_url": cloud.endpoint,
            "credential_scopes": [cloud.scope],
            "polling_interval": polling_interval,
            **client_options,
        }
        self.resources = ResourceManagementClient(
            credential, subscription_id, api_version=RESOURCES_API_VERSION, **options
        )
        self._key_vault = KeyVaultManagementClient(
            credential, subscription_id, api_version=KEY_VAULT_API_VERSION, **options
        )
        self.vaults = self._key_vault.vaults

    def __enter__(self) -> Arm:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.resources.close()
        self._key_vault.close()

    def sleep(self) -> None:
        time.sleep(self.polling_interval)


def default_credential(
    environ: Mapping[str, str] | None = None, *, authority: str | None = None
) -> TokenCredential:
    """DefaultAzureCredential, or the service principal azure-native was given through
    ARM_CLIENT_ID / ARM_CLIENT_SECRET / ARM_TENANT_ID (names DefaultAzureCredential ignores)."""
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    env = os.environ if environ is None else environ
    arm_principal = [env.get(f"ARM_{key}") for key in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET")]
    if all(arm_principal) and not env.get("AZURE_CLIENT_ID"):
        tenant_id, client_id, client_secret = (str(value) for value in arm_principal)
        return ClientSecretCredential(tenant_id, client_id, client_secret, authority=authority)
    return DefaultAzureCredential(authority=authority)


def purge_aml_workspace(arm: Arm, resource_group: str, name: str) -> bool:
    """Delete an AzureML workspace for good (`forceToPurge=true`), polled to its end.

    False when ARM answers 404 or 204: no workspace, or one already soft-deleted, which answers
    404 too while its name stays taken (Azure/azure-cli #33756).
    """
    return _delete_by_id(
        arm,
        resource_id(arm.subscription_id, resource_group, AML_WORKSPACES, name),
        AML_API_VERSION,
        {"forceToPurge": "true"},
        what=f"purging AzureML workspace {name} in {resource_group}",
        permission=AML_WORKSPACE_DELETE,
    )


def force_delete_databricks_workspace(arm: Arm, resource_group: str, name: str) -> bool:
    """Delete a Databricks workspace with `forceDeletion=true`, polled to its end; False when
    there was none. Learn ("Delete a workspace") warns that a plain delete may leave the
    managed resource group behind (terraform-provider-azurerm #28959)."""
    return _delete_by_id(
        arm,
        resource_id(arm.subscription_id, resource_group, DATABRICKS_WORKSPACES, name),
        DATABRICKS_API_VERSION,
        {"forceDeletion": "true"},
        what=f"deleting Databricks workspace {name} in {resource_group}",
        permission=DATABRICKS_WORKSPACE_DELETE,
    )


def _delete_by_id(
    arm: Arm, rid: str, api_version: str, params: dict[str, str], *, what: str, permission: str
) -> bool:
    statuses: list[int] = []  # the first is the DELETE's own: 204 means nothing was there
    with _calling(what, permission):
        try:
            # `params` adds query parameters to the request (azure-core's HttpRequest params).
            poller = arm.resources.resources.begin_delete_by_id(
                rid,
                api_version=api_version,
                params=params,
                raw_response_hook=lambda response: statuses.append(
                    response.http_response.status_code
                ),
            )
            poller.result(timeout=arm.timeout)
        except ResourceNotFoundError:
            return False
    if not poller.done():
        raise ArmError(f"{what}: still running after {arm.timeout:.0f} s")
    return statuses[:1] != [204]


def delete_key_vault(arm: Arm, resource_group: str, name: str) -> None:
    """Delete a key vault (Azure keeps it in deletedVaults); nothing when it is already gone."""
    what = f"deleting key vault {name} in {resource_group}"
    with _calling(what, KEY_VAULT_DELETE), suppress(ResourceNotFoundError):
        arm.vaults.delete(resource_group, name)


@dataclass(frozen=True)
class VaultPurge:
    """What `purge_key_vault` did: `purged`, `absent` (nothing to purge), `other_group` (the
    deleted vault of that name came from another resource group: left alone) or `protected`
    (purge protection: Azure keeps it until `scheduled_purge_date`)."""

    outcome: str
    scheduled_purge_date: str = ""


def purge_key_vault(arm: Arm, location: str, name: str, *, resource_group: str) -> VaultPurge:
    """Purge a deleted key vault so its name is free again at once.

    Waits for the vault to show up in deletedVaults while it is still live or ARM does not yet
    list it, then purges it and polls the operation. A vault with purge protection cannot be
    purged (keyvault.json, enablePurgeProtection): that is reported, not raised.
    """
    what = f"purging key vault {name} in {location}"
    deadline = time.monotonic() + arm.timeout
    absent_rounds = 0
    while (deleted := get_deleted_key_vault(arm, location, name)) is None:
        live = key_vault_exists(arm, resource_group, name)
        absent_rounds = 0 if live else absent_rounds + 1
        if absent_rounds >= _ABSENT_ROUNDS:
            return VaultPurge("absent")
        if time.monotonic() > deadline:
            raise ArmError(f"{what}: not in deletedVaults after {arm.timeout:.0f} s")
        arm.sleep()

    properties = deleted.properties
    if not _in_resource_group(properties.vault_id if properties else None, resource_group):
        return VaultPurge("other_group")
    purge_date = str(properties.scheduled_purge_date or "") if properties else ""
    if properties and properties.purge_protection_enabled:
        return VaultPurge("protected", purge_date)
    with _calling(what, DELETED_VAULT_PURGE):
        try:
            poller = arm.vaults.begin_purge_deleted(name, normalize_location(location))
            poller.result(timeout=arm.timeout)
        except ResourceNotFoundError:
            return VaultPurge("absent")
    if not poller.done():
        raise ArmError(f"{what}: still running after {arm.timeout:.0f} s")
    return VaultPurge("purged", purge_date)


def get_deleted_key_vault(arm: Arm, location: str, name: str) -> Any | None:
    """The deleted (not yet purged) vault (azure-mgmt-keyvault's DeletedVault), or None."""
    location = normalize_location(location)
    with _calling(f"reading deleted key vault {name} in {location}", DELETED_VAULT_READ):
        try:
            return arm.vaults.get_deleted(name, location)
        except ResourceNotFoundError:
            return None


def key_vault_exists(arm: Arm, resource_group: str, name: str) -> bool:
    with _calling(f"reading key vault {name}", KEY_VAULT_READ):
        try:
            arm.vaults.get(resource_group, name)
        except ResourceNotFoundError:
            return False
    return True


def get_resource_group(arm: Arm, name: str) -> Any | None:
    """The resource group (azure-mgmt-resource's ResourceGroup), or None when there is none."""
    with _calling(f"reading resource group {name}", RESOURCE_GROUP_READ):
        try:
            return arm.resources.resource_groups.get(name)
        except ResourceNotFoundError:
            return None


def find_soft_deleted_aml_workspace(
    arm: Arm, resource_group: str, name: str
) -> dict[str, Any] | None:
    """The soft-deleted AzureML workspace `name` of `resource_group`, or None.

    Microsoft documents listing soft-deleted workspaces only in the portal (Azure Machine
    Learning > Recently deleted). This asks the endpoint that view reads,
    `GET /subscriptions/{id}/providers/Microsoft.MachineLearningServices/deletedWorkspaces`;
    where a subscription does not offer it, ArmUnsupportedError says so.
    """
    what = "listing soft-deleted AzureML workspaces"
    url = (
        f"{arm.cloud.endpoint}/subscriptions/{_segment(arm.subscription_id)}"
        f"/providers/Microsoft.MachineLearningServices/deletedWorkspaces"
        f"?api-version={AML_API_VERSION}"
    )
    while url:
        with _calling(what, AML_WORKSPACE_READ):
            response = arm.resources.send_request(HttpRequest("GET", url))
        code, message = _error_of(response)
        if response.status_code == 404 or (
            response.status_code == 400 and code in _UNSUPPORTED_CODES
        ):
            raise ArmUnsupportedError(
                f"{what}: ARM does not offer it here ({response.status_code} {code}: "
                f"{message}); look in the portal: Azure Machine Learning > Recently deleted",
                status=response.status_code,
                code=code,
            )
        if response.status_code != 200:
            raise _error_for(response.status_code, code, message, what, AML_WORKSPACE_READ)
        body = _json(response)
        for workspace in body.get("value") or []:
            if _is_workspace(workspace, resource_group, name):
                return workspace
        url = str(body.get("nextLink") or "")
    return None


def resource_id(subscription_id: str, resource_group: str, resource_type: str, name: str) -> str:
    return (
        f"/subscriptions/{_segment(subscription_id)}/resourceGroups/{_segment(resource_group)}"
        f"/providers/{resource_type}/{_segment(name)}"
    )


def deleted_key_vault_id(subscription_id: str, location: str, name: str) -> str:
    return (
        f"/subscriptions/{_segment(subscription_id)}/providers/Microsoft.KeyVault"
        f"/locations/{_segment(normalize_location(location))}/deletedVaults/{_segment(name)}"
    )


def normalize_location(location: str) -> str:
    """ARM's form of a region: 'West Europe' -> 'westeurope'."""
    return location.replace(" ", "").lower()


@contextmanager
def _calling(what: str, permission: str) -> Iterator[None]:
    """Turn the SDKs' exceptions into ours, with `what` was being done and the permission."""
    try:
        yield
    except ClientAuthenticationError as err:
        if err.response is None:  # the credential could not get a token
            raise ArmAuthError(
                f"{what}: could not get an Azure token ({_first_line(str(err.message))}); "
                f"{_SIGN_IN_HINT}"
            ) from err
        raise _error_for(401, *_codes(err), what, permission) from err
    except HttpResponseError as err:
        raise _error_for(err.status_code or 0, *_codes(err), what, permission) from err
    except AzureError as err:
        raise ArmError(f"{what}: cannot reach ARM: {_first_line(str(err))}") from err


def _codes(err: HttpResponseError) -> tuple[str, str]:
    error = getattr(err, "error", None)
    code = str(getattr(error, "code", None) or (err.reason or "Error"))
    message = str(getattr(error, "message", None) or err.message or "no details")
    return code, _first_line(message)


def _error_for(status: int, code: str, message: str, what: str, permission: str) -> ArmError:
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
        return ArmError(f"{what}: the operation failed ({code}): {message}", code=code)
    return ArmError(f"{what}: {status} {code}: {message}", status=status, code=code)


def _error_of(response: HttpResponse) -> tuple[str, str]:
    """ARM's error code and message ({"error": {"code", "message"}}), as far as there are any."""
    body = _json(response)
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    code = str(error.get("code") or response.reason or "Error")
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


def get_by_id(
    arm: Arm, resource_id: str, api_version: str, *, what: str, permission: str
) -> dict[str, Any] | None:
    """A resource as ARM returns it (REST names, read-only properties too); None when absent."""
    with _calling(what, permission):
        try:
            found = arm.resources.resources.get_by_id(resource_id, api_version=api_version)
        except ResourceNotFoundError:
            return None
    return found.as_dict()


def put_by_id(
    arm: Arm,
    resource_id: str,
    api_version: str,
    body: Mapping[str, Any],
    *,
    what: str,
    permission: str,
) -> None:
    """PUT `body` (REST names) and wait for the operation to finish."""
    with _calling(what, permission):
        arm.resources.resources.begin_create_or_update_by_id(
            resource_id, dict(body), api_version=api_version
        ).result(timeout=arm.timeout)
