"""Serving: the online and the batch endpoint, and the AzureML managed network they need under
private link."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import ConfigDict

import core.config.schema as schema
from core import azure_names, naming
from core.config.enums import ManagedNetworkMode, ModelRegistry
from core.config.readers import _object, _reject_unknown, _required_match, read_fields
from core.errors import NAMESPACE, ConfigError


class EndpointSpec(schema.Endpoint):
    """A managed online endpoint serving one version of a model registered in AzureML; name
    None: endpoint_name() builds it from prefix, stack and a unique suffix."""

    model_config = ConfigDict(use_enum_values=False)


# --- online endpoint ----------------------------------------------------------------------

# Endpoint names are unique per Azure region (the scoring URI is
# https://<name>.<region>.inference.ml.azure.com/score), so the default name carries the stack's
# subscription-derived suffix, like the storage account's.
# azure-ai-ml's OnlineEndpoint name check (`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`, 3-32
# characters): a trailing '-' is refused.
# azure-ai-ml validates online and batch endpoint names alike:
# ^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$, 3-32 characters.
_ENDPOINT_NAME = re.compile(r"[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?")
_ENDPOINT_NAME_ALLOWED = (
    "letters, digits and '-', starting with a letter and ending with a letter or digit; "
    "unique within the Azure region"
)
ENDPOINT_NAME_RULE = naming.NameRule(
    "online endpoint", 3, 32, _ENDPOINT_NAME, _ENDPOINT_NAME_ALLOWED
)
# AzureML asset names: letters, digits, '-', '_' and '.', starting with a letter or digit.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
_VM_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def endpoint_name(spec: EndpointSpec, prefix: str, stack: str, suffix: str) -> str:
    """The endpoint's name: `endpoint.name`, or prefix, stack and the stack's unique suffix."""
    return spec.name or f"{prefix}-{naming.stack_slug(stack)}-ep-{suffix}"


def _endpoint(
    ours: Mapping[str, Any], prefix: str, stack: str, registry: ModelRegistry
) -> EndpointSpec | None:
    given = _object(ours, "endpoint")
    if given is None:
        return None
    values = _deployment("endpoint", given, schema.Endpoint, registry, ENDPOINT_NAME_RULE)
    return EndpointSpec.model_construct(**values)


def _deployment(
    key: str,
    given: Mapping[str, Any],
    model: type[schema.Section],
    registry: ModelRegistry,
    name_rule: naming.NameRule,
) -> dict[str, Any]:
    """An online or a batch endpoint's fields, read and checked: a model registered in AzureML,
    its version, the VM size and an optional name, as both kinds have."""
    if registry is not ModelRegistry.AZUREML:
        _reject_unknown(f"{key}.", given, schema.keys(model))
        raise ConfigError(
            key,
            json.dumps(given),
            f"needs modelRegistry azureml: with modelRegistry {registry.value} the notebook "
            "registers models in Databricks, and only models registered in AzureML can be "
            "deployed to it; "
            f"set `pulumi config set {NAMESPACE}:modelRegistry azureml`, register the model "
            f"again, then set {key}",
        )
    values = read_fields(model, given, f"{key}.")
    _required_match(
        f"{key}.model",
        values["model"],
        _MODEL_NAME,
        "a model name",
        "the name the model is registered under in AzureML (registered_model_name; letters, "
        "digits, '-', '_' and '.')",
    )
    instance_type = values["instance_type"]
    if not isinstance(instance_type, str) or not _VM_SIZE.fullmatch(instance_type):
        raise ConfigError(
            f"{key}.instanceType", instance_type, "is not a VM size such as Standard_DS3_v2"
        )
    azure_names.check_vm_size(f"{key}.instanceType", instance_type)
    name = values["name"]
    if name is not None:  # the default always fits: the key vault's rule is stricter
        if not isinstance(name, str):
            raise ConfigError(f"{key}.name", name, "is not a string")
        problem = name_rule.problem(name)
        if problem:
            raise ConfigError(f"{key}.name", name, f"is not allowed: {problem}")
    return values


# --- batch endpoint -----------------------------------------------------------------------


class BatchEndpointSpec(schema.BatchEndpoint):
    """A batch endpoint scoring files with one version of a model registered in AzureML; name
    None: batch_endpoint_name() builds it; mini_batch_size None: AzureML's default (10)."""

    model_config = ConfigDict(use_enum_values=False)


# Learn, "Deploy models for scoring in batch endpoints": endpoint names are unique within the
# Azure region (the invocation URI is https://<name>.<region>.inference.ml.azure.com/jobs);
# the characters as for online endpoints.
BATCH_ENDPOINT_NAME_RULE = naming.NameRule(
    "batch endpoint", 3, 32, _ENDPOINT_NAME, _ENDPOINT_NAME_ALLOWED
)


def batch_endpoint_name(spec: BatchEndpointSpec, prefix: str, stack: str, suffix: str) -> str:
    """`batchEndpoint.name`, or prefix, stack and the stack's unique suffix ('-be-')."""
    return spec.name or f"{prefix}-{naming.stack_slug(stack)}-be-{suffix}"


def _batch_endpoint(ours: Mapping[str, Any], registry: ModelRegistry) -> BatchEndpointSpec | None:
    given = _object(ours, "batchEndpoint")
    if given is None:
        return None
    values = _deployment(
        "batchEndpoint", given, schema.BatchEndpoint, registry, BATCH_ENDPOINT_NAME_RULE
    )
    return BatchEndpointSpec.model_construct(**values)


def check_endpoint_names(
    endpoint: EndpointSpec | None, batch: BatchEndpointSpec | None, prefix: str, stack: str
) -> None:
    """An online and a batch endpoint never share a name: both would answer at
    https://<name>.<region>.inference.ml.azure.com (names are host names: case-insensitive).
    A given name may not take the form of the other kind's default either."""
    online, batched = endpoint.name if endpoint else None, batch.name if batch else None
    if online and batched and online.lower() == batched.lower():
        raise ConfigError(
            "batchEndpoint.name",
            batched,
            "is endpoint.name too: an online and a batch endpoint would share the host "
            "https://<name>.<region>.inference.ml.azure.com; give them different names",
        )
    base = f"{prefix}-{naming.stack_slug(stack)}"
    for key, spec, other, kind in (
        ("endpoint", endpoint, "be", "batch"),
        ("batchEndpoint", batch, "ep", "online"),
    ):
        derived = re.compile(rf"{re.escape(base)}-{other}-[0-9a-f]{{{naming.SUFFIX_LENGTH}}}")
        if spec and spec.name and derived.fullmatch(spec.name.lower()):
            raise ConfigError(
                f"{key}.name",
                spec.name,
                f"has the form of the {kind} endpoint's default name ({base}-{other}-<suffix>), "
                "which that endpoint takes when it has no name; choose another",
            )


# --- the AzureML workspace's managed network ----------------------------------------------

# ARM's spelling (workspaceRP ManagedNetworkSettings.isolationMode).
ISOLATION_MODES: Mapping[ManagedNetworkMode, str] = MappingProxyType(
    {
        ManagedNetworkMode.OFF: "Disabled",
        ManagedNetworkMode.ALLOW_INTERNET_OUTBOUND: "AllowInternetOutbound",
        ManagedNetworkMode.ALLOW_ONLY_APPROVED_OUTBOUND: "AllowOnlyApprovedOutbound",
    }
)
ONE_WAY_NOTE = (
    "it cannot be turned off again (Learn, Managed virtual network isolation: once enabled, "
    "a workspace's managed network cannot be disabled)"
)


def _managed_network(
    mode: ManagedNetworkMode, private_link: bool, *, serving: bool
) -> ManagedNetworkMode:
    """amlManagedNetwork as read, checked against privateLink and serving."""
    if private_link and serving and mode is ManagedNetworkMode.OFF:
        raise ConfigError(
            "amlManagedNetwork",
            mode.value,
            "is not allowed with privateLink and an endpoint or batchEndpoint: deployments reach "
            "the private workspace only through its managed network; set `pulumi config set "
            f"{NAMESPACE}:amlManagedNetwork allowOnlyApprovedOutbound` (or "
            f"allowInternetOutbound); {ONE_WAY_NOTE}",
        )
    return mode
