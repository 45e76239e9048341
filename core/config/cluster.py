"""The tracking cluster: runtime, size, access mode and who may attach."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

import core.config.schema as schema
from core import azure_names
from core.config.enums import AccessMode
from core.config.readers import _object, read_fields
from core.config.schema import DEFAULT_NODE_TYPE, DEFAULT_SPARK_VERSION
from core.errors import NAMESPACE, ConfigError

__all__ = ["DEFAULT_NODE_TYPE", "DEFAULT_SPARK_VERSION"]

WORKSPACE_USERS_GROUP = "users"  # every user of the Databricks workspace
# Names Databricks resolves to everyone in the workspace: the workspace's `users` group and the
# account-level `account users` group. Databricks compares group names case-insensitively.
EVERYONE_GROUPS = frozenset({WORKSPACE_USERS_GROUP, "account users"})


class ClusterSpec(schema.Cluster):
    """The tracking cluster: the schema's `cluster` fields, read and checked."""

    model_config = ConfigDict(use_enum_values=False)

    @property
    def single_node(self) -> bool:
        return self.max_workers == 0

    @property
    def principals(self) -> tuple[str, ...]:
        """Who may use the cluster: `users` and the dedicated `single_user`, each once."""
        named = (*self.users, *((self.single_user,) if self.single_user else ()))
        return tuple(dict.fromkeys(named))


def _cluster(ours: Mapping[str, Any]) -> ClusterSpec:
    values = read_fields(schema.Cluster, _object(ours, "cluster") or {}, "cluster.")
    for name in ("spark_version", "node_type"):
        if not isinstance(values[name], str) or not values[name].strip():
            raise ConfigError(
                f"cluster.{to_camel(name)}", values[name], "is not a non-empty string"
            )
    azure_names.check_spark_version("cluster.sparkVersion", values["spark_version"])
    azure_names.check_vm_size("cluster.nodeType", values["node_type"])
    if values["min_workers"] > values["max_workers"]:
        raise ConfigError(
            "cluster.minWorkers",
            values["min_workers"],
            f"is greater than cluster.maxWorkers {values['max_workers']}",
        )
    access_mode, single_user = values["access_mode"], values["single_user"]
    if access_mode is AccessMode.DEDICATED and single_user is None:
        raise ConfigError(
            "cluster.singleUser",
            None,
            "is required with cluster.accessMode dedicated: the Databricks user or group the "
            "cluster is dedicated to (pulumi config set --path "
            f"{NAMESPACE}:cluster.singleUser alice@contoso.com)",
        )
    if single_user is not None and not _principal_name(single_user):
        raise ConfigError("cluster.singleUser", single_user, "is not a user or group name")
    if single_user is not None and access_mode is not AccessMode.DEDICATED:
        raise ConfigError(
            "cluster.singleUser",
            single_user,
            f"applies only with cluster.accessMode dedicated (accessMode is {access_mode.value}); "
            f"set `pulumi config set --path {NAMESPACE}:cluster.accessMode dedicated`, or remove "
            f"it: `pulumi config rm --path {NAMESPACE}:cluster.singleUser`",
        )
    return ClusterSpec.model_construct(
        **{**values, "users": _principal_names("cluster.users", values["users"])}
    )


def _principal_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value == value.strip()


def _principal_names(key: str, given: Any) -> tuple[str, ...]:
    value = given
    if isinstance(given, str):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(given)
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            key, given, "is not a list of Databricks user or group names (set with --path)"
        )
    for item in value:
        if not item.strip():
            raise ConfigError(key, value, "has an empty user or group name")
        if item != item.strip():
            raise ConfigError(key, item, "is a user or group name with leading or trailing spaces")
    return tuple(dict.fromkeys(value))


def everyone_group(name: str) -> bool:
    """Whether a principal name is a group that holds every user (any case, any spacing)."""
    return " ".join(name.split()).casefold() in EVERYONE_GROUPS


# Why a group of every user may not hold the service principal's secret (the cluster's
# environment) or ACCESS on the service credential.
SECRET_ON_CLUSTER = (
    "anyone who can attach to the cluster can read its environment, the service principal's "
    "secret included; name the groups or users who need the cluster"
)


def check_no_everyone_group(cluster: ClusterSpec, why: str = SECRET_ON_CLUSTER) -> None:
    """`cluster.users` and `cluster.singleUser` get what signs in to AzureML (the cluster's
    secret or the service credential's ACCESS): never a group that holds every user."""
    for name in cluster.users:
        if everyone_group(name):
            raise ConfigError(
                "cluster.users", name, f"is a group of every user of the workspace: {why}"
            )
    if cluster.single_user is not None and everyone_group(cluster.single_user):
        raise ConfigError(
            "cluster.singleUser",
            cluster.single_user,
            f"is a group of every user of the workspace: {why}",
        )
