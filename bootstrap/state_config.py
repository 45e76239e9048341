"""Config of the state bootstrap: read once, validated into frozen, typed objects.

Pulumi runs this project from `bootstrap/`; the keys are declared with the main project's schema
machinery and read with its readers (`core/config/`), found one folder up, so both projects
refuse and word mistakes alike and never show a secret. `parse_config` is pure; `load_config`
feeds it the runtime's config. Names and the two login strings are plain functions too, so tests
call them directly.
"""

# ruff: noqa: E402  (core/ is importable only once the repository is on the path)
from __future__ import annotations

import sys
from pathlib import Path

_REPOSITORY = str(Path(__file__).resolve().parent.parent)
if _REPOSITORY not in sys.path:
    sys.path.append(_REPOSITORY)  # after bootstrap/: nothing here is shadowed

import hashlib
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field

import core.config.schema as schema
from core.config.enterprise import Principal, read_principal_type
from core.config.enums import PrincipalType
from core.config.readers import _GUID, _bool, _int, _reject_unknown
from core.errors import ConfigError, config_namespace

__all__ = ["ConfigError", "Principal", "PrincipalType"]

NAMESPACE = "databricks-azureml-state"
LOCATION_KEY = "azure-native:location"
STATE_CONTAINER = "pulumi-state"
SECRETS_KEY_NAME = "pulumi-secrets"
SUFFIX_LENGTH = 6
STACK_TAG_KEYS = ("environment", "managed-by")
MAX_TAGS = 15  # storage accounts take at most 15 tags


class Ci(schema.Section):
    """The workflow's service principals: Reader, and Contributor + RBAC Administrator
    (conditioned to the main stack's roles), on the subscription."""

    preview_object_id: str = Field(description="Object id of the pull-request preview identity.")
    deploy_object_id: str = Field(description="Object id of the deploy identity.")
    assignable_roles: list[str] = Field(
        [], description="Role definition GUIDs the deploy identity may assign beyond the stack's."
    )


class StateSchema(schema.Section):
    """Namespace databricks-azureml-state:, the state bootstrap's keys."""

    prefix: str = Field(
        "mlflow",
        description="Starts the resource names (2-10 chars, a lowercase letter, then lowercase "
        "letters or digits).",
    )
    principals: list[schema.Principal] = Field(
        min_length=1, description="The deployers' group (the CI identities go in ci)."
    )
    ci: Ci | None = Field(None, description=Ci.__doc__)
    soft_delete_days: int = Field(
        30,
        ge=7,
        le=365,
        description="Days a deleted or overwritten state blob, or a deleted container, can be "
        "recovered (7-365).",
    )
    key_size: Literal[2048, 3072, 4096] = Field(
        3072, description="Size of the RSA secrets key (2048, 3072 or 4096)."
    )
    storage_sku: Literal[
        "Standard_LRS",
        "Standard_ZRS",
        "Standard_GRS",
        "Standard_RAGRS",
        "Standard_GZRS",
        "Standard_RAGZRS",
    ] = Field(
        "Standard_GRS",
        description="Redundancy of the state storage account (Standard_LRS, _ZRS, _GRS, _RAGRS, "
        "_GZRS, _RAGZRS).",
    )
    protect: bool = Field(
        True,
        description="Protect the resource group, storage account, container, vault and key so "
        "that pulumi destroy refuses.",
    )
    tags: dict[str, str] = Field({}, description="Added beside environment and managed-by.")


class ProviderKeys(schema.Section):
    """The azure-native provider's keys the bootstrap reads."""

    location: str = Field(
        description="Azure region of the backend.", json_schema_extra={"x-default": "required"}
    )


def _choices(key: str) -> tuple[Any, ...]:
    name = next(n for n, i in StateSchema.model_fields.items() if i.alias == key)
    return typing.get_args(StateSchema.model_fields[name].annotation)


KNOWN_KEYS = schema.keys(StateSchema)
PRINCIPAL_FIELDS = schema.keys(schema.Principal)
CI_FIELDS = schema.keys(Ci)
_DEFAULTS = schema.defaults(StateSchema)
KEY_SIZES: tuple[int, ...] = _choices("keySize")
STORAGE_SKUS: tuple[str, ...] = _choices("storageSku")
MIN_SOFT_DELETE_DAYS, MAX_SOFT_DELETE_DAYS = schema.bounds(StateSchema, "softDeleteDays")

_PREFIX = re.compile(r"[a-z][a-z0-9]{1,9}")
_LOCATION = re.compile(r"[a-z][a-z0-9]+")
_TAG_NAME_FORBIDDEN = re.compile(r"[<>%&\\?/]")
# A versioned Key Vault key identifier, as the key's `keyUriWithVersion` reads.
_KEY_URI_WITH_VERSION = re.compile(r"https://([^/]+)/keys/([^/]+)/([0-9a-fA-F]{32})")


@dataclass(frozen=True)
class CiIdentities:
    """The two service principals of the workflow: pull-request previews run as `preview`
    (Reader), deployments behind the GitHub environments as `deploy`."""

    preview: str  # object ids, lowercase GUIDs
    deploy: str
    assignable_roles: tuple[str, ...] = ()  # role definition GUIDs beyond the main stack's own


@dataclass(frozen=True)
class StateConfig:
    stack: str
    location: str
    prefix: str
    principals: tuple[Principal, ...]
    ci: CiIdentities | None
    soft_delete_days: int
    key_size: int
    storage_sku: str
    protect: bool
    tags: Mapping[str, str]


@dataclass(frozen=True)
class StateNames:
    resource_group: str
    storage_account: str
    key_vault: str
    container: str = STATE_CONTAINER
    key: str = SECRETS_KEY_NAME


def resource_group_name(prefix: str) -> str:
    return f"{prefix}-pulumi-state-rg"


def state_names(prefix: str, subscription_id: str) -> StateNames:
    """Names for one subscription; storage account and vault carry a stable suffix, since
    Azure wants them unique worldwide."""
    group = resource_group_name(prefix)
    digest = hashlib.sha256(f"{subscription_id.lower()}/{group}".encode()).hexdigest()
    suffix = digest[:SUFFIX_LENGTH]
    return StateNames(
        resource_group=group,
        storage_account=f"{prefix}state{suffix}",  # at most 21 lowercase alphanumerics
        key_vault=f"{prefix}-state-{suffix}",  # at most 23 characters
    )


def backend_url(storage_account: str, container: str = STATE_CONTAINER) -> str:
    """What `pulumi login` takes: gocloud's azblob URL, the account as a query parameter."""
    return f"azblob://{container}?storage_account={storage_account}"


def secrets_provider(key_uri_with_version: str) -> str:
    """What `--secrets-provider` takes, from the key's versioned URI
    (`https://<vault>.vault.azure.net/keys/<key>/<version>`), so a sovereign cloud's vault domain
    comes out right too.

    The version is pinned: without it gocloud's keeper encrypts and decrypts with the key's
    latest version (gocloud.dev secrets/azurekeyvault, "the /{key-version} suffix is optional;
    it defaults to the latest version"), so rotating the key would leave every stack's data key
    undecryptable."""
    match = _KEY_URI_WITH_VERSION.fullmatch(key_uri_with_version)
    if not match:
        raise ValueError(f"{key_uri_with_version!r} is not a versioned Key Vault key URI")
    host, key, version = match.groups()
    return f"azurekeyvault://{host}/keys/{key}/{version}"


def parse_config(raw: Mapping[str, Any], stack: str) -> StateConfig:
    """Validate raw config (full keys) into a StateConfig. Raises ConfigError on the first
    rejected value."""
    with config_namespace(NAMESPACE):
        return _parse_config(raw, stack)


def _parse_config(raw: Mapping[str, Any], stack: str) -> StateConfig:
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    _reject_unknown("", ours, KNOWN_KEYS)

    location = raw.get(LOCATION_KEY)
    if not location:
        raise ConfigError(
            LOCATION_KEY,
            None,
            f"is required: an Azure region (pulumi config set {LOCATION_KEY} westeurope)",
        )
    if not isinstance(location, str) or not _LOCATION.fullmatch(location):
        raise ConfigError(LOCATION_KEY, location, "is not an Azure region name such as westeurope")

    prefix = ours.get("prefix", _DEFAULTS["prefix"])
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ConfigError(
            "prefix",
            prefix,
            "is not allowed: 2-10 characters, a lowercase letter first, then lowercase letters "
            "or digits",
        )

    return StateConfig(
        stack=stack,
        location=location,
        prefix=prefix,
        principals=_principals(ours.get("principals")),
        ci=_ci(ours.get("ci")),
        soft_delete_days=_int(
            "softDeleteDays",
            ours.get("softDeleteDays", _DEFAULTS["softDeleteDays"]),
            MIN_SOFT_DELETE_DAYS,
            MAX_SOFT_DELETE_DAYS,
        ),
        key_size=_key_size(ours.get("keySize", _DEFAULTS["keySize"])),
        storage_sku=_choice(
            "storageSku", ours.get("storageSku", _DEFAULTS["storageSku"]), STORAGE_SKUS
        ),
        protect=_bool(ours, "protect", _DEFAULTS["protect"]),
        tags=_tags(ours.get("tags")),
    )


def load_config() -> StateConfig:
    """Read the running program's config from the Pulumi runtime."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    return parse_config(raw, pulumi.get_stack())


# --- readers ------------------------------------------------------------------------------


def _json(key: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(
                key, value, "is not valid JSON (set it as a YAML list or object in the stack file)"
            ) from None
    return value


def _principals(value: Any) -> tuple[Principal, ...]:
    how = (
        "a list of {objectId, type} with type Group, ServicePrincipal or User: the deployers' "
        "group (the CI identities go in ci)"
    )
    if value is None:
        raise ConfigError("principals", None, f"is required: {how}")
    given = _json("principals", value)
    if not isinstance(given, list) or not given:
        raise ConfigError("principals", value, f"is not allowed: expected {how}")
    principals: list[Principal] = []
    for index, entry in enumerate(given):
        path = f"principals[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(path, entry, "is not an object with objectId and type")
        _reject_unknown_fields(path, entry, PRINCIPAL_FIELDS)
        object_id = _object_id(
            f"{path}.objectId",
            entry.get("objectId"),
            "the principal's object id (az ad group show / az ad sp show --query id)",
        )
        principal_type = read_principal_type(f"{path}.type", entry.get("type"))
        if any(p.object_id == object_id for p in principals):
            raise ConfigError(f"{path}.objectId", entry["objectId"], "is listed twice")
        principals.append(Principal(object_id, principal_type))
    return tuple(principals)


def _object_id(path: str, value: Any, what: str) -> str:
    """`value` as a lower-case object id, or an error saying it is not a GUID and what it is."""
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise ConfigError(path, value, f"is not a GUID: {what}")
    return value.lower()


def _reject_unknown_fields(path: str, given: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    for field in given:
        if field not in fields:
            raise ConfigError(
                f"{path}.{field}",
                given[field],
                f"is set for an unknown field; known fields: {', '.join(fields)}",
            )


def _ci(value: Any) -> CiIdentities | None:
    if value is None:
        return None
    given = _json("ci", value)
    if not isinstance(given, dict):
        raise ConfigError("ci", value, "is not an object with previewObjectId and deployObjectId")
    _reject_unknown_fields("ci", given, CI_FIELDS)
    ids = []
    for field in CI_FIELDS[:2]:
        hint = "the service principal's object id (az ad sp show --id <appId> --query id)"
        ids.append(_object_id(f"ci.{field}", given.get(field), hint))
    preview, deploy = ids
    if preview == deploy:
        raise ConfigError(
            "ci.previewObjectId",
            given["previewObjectId"],
            "is the deploy identity too: pull-request previews would run with the rights to "
            "deploy; use a second app registration",
        )
    roles = given.get("assignableRoles", [])
    if not isinstance(roles, list) or not all(
        isinstance(role, str) and _GUID.fullmatch(role) for role in roles
    ):
        raise ConfigError(
            "ci.assignableRoles",
            roles,
            "is not a list of role definition GUIDs (az role definition list --name <role> "
            "--query [].name)",
        )
    return CiIdentities(preview, deploy, tuple(role.lower() for role in roles))


def _key_size(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in KEY_SIZES:
        allowed = ", ".join(str(size) for size in KEY_SIZES)
        raise ConfigError("keySize", value, f"is not allowed; allowed RSA key sizes: {allowed}")
    return int(value)


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(key, value, f"is not allowed; allowed: {', '.join(allowed)}")
    return str(value)


def _tags(value: Any) -> Mapping[str, str]:
    given = _json("tags", value) if value is not None else {}
    if not isinstance(given, dict):
        raise ConfigError("tags", value, "is not an object of tag names to strings")
    if len(given) + len(STACK_TAG_KEYS) > MAX_TAGS:
        raise ConfigError(
            "tags",
            f"{len(given)} tags",
            f"are too many: a storage account takes {MAX_TAGS}, counting the stack's "
            f"{len(STACK_TAG_KEYS)} ({', '.join(STACK_TAG_KEYS)})",
        )
    for name, tag in given.items():
        key = f"tags.{name}"
        if name.lower() in STACK_TAG_KEYS:
            raise ConfigError(key, tag, f"is set by the stack itself ({', '.join(STACK_TAG_KEYS)})")
        if not 1 <= len(name) <= 128 or _TAG_NAME_FORBIDDEN.search(name):
            raise ConfigError(
                key, tag, "has a tag name Azure rejects (1-128 chars, none of <>%&\\?/)"
            )
        if not isinstance(tag, str) or len(tag) > 256:
            raise ConfigError(key, tag, "is not a string of at most 256 characters")
    return MappingProxyType(dict(given))


def stack_tags(config: StateConfig) -> dict[str, str]:
    """Config tags beside the stack's own, as on every resource of the main stack."""
    return {**config.tags, "environment": config.stack, "managed-by": "pulumi"}
