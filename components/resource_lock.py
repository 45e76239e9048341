"""`protect: true`: CanNotDelete management locks on what cannot be replaced, and a guard that
refuses, before any write, a change those locks would stop halfway.

Where the locks go. Pulumi's `protect` stops `pulumi destroy`; a lock also stops a delete from
the portal, the CLI or another tool. A lock applies to its scope and everything beneath it:
children and extension resources (role assignments, diagnostic settings) too (Learn, "Lock
your resources to protect your infrastructure"). So the stack locks resources, not the group:
- a lock on a group that holds an AzureML workspace stops AzureML compute clusters from
  removing unused nodes (same article, Considerations: "A cannot-delete lock on a resource
  group that contains an Azure Machine Learning workspace prevents autoscaling of Azure Machine
  Learning compute clusters"): the batch cluster would never return to zero nodes;
- locked: the Databricks workspace, the AzureML storage account (models and artifacts) and its
  key vault, and the AzureML workspace itself when it holds no compute cluster (with a batch
  endpoint its cluster lives beneath it; the workspace then relies on Pulumi's `protect` and on
  its soft delete, Learn "Workspace soft deletion": recoverable for 14 days, and its data is in
  the locked storage account and key vault);
- the resource group keeps Pulumi's `protect`; a lock on any resource in it already keeps ARM
  from deleting the group (deleting a group deletes what it holds).

What the locks refuse on day 2. Anything the stack declares beneath a locked resource cannot be
deleted while the lock stands: the diagnostic settings of the locked resources, the team's and
the batch cluster's role assignments on the storage account (and on the workspace when it is
locked), and, under a locked workspace, the online deployment a version bump replaces.
ProtectGuard records that list with every update; its `check` (preview and `up`, before any
step) refuses an update that would drop an entry while the stack is protected, with the two
commands that get past it. What is not beneath a lock changes freely: Reader assignments and
the budget on the group, the batch deployment and cluster when the workspace is unlocked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi import dynamic
from pulumi_azure_native import authorization

from components.batch_endpoint import compute_name
from components.online_endpoint import deployment_name
from core.config import StackConfig
from core.errors import NAMESPACE

LOCK_LEVEL = "CanNotDelete"
LOCK_NOTES = (
    "Set by the stack's protect: true. To delete the stack: pulumi config set protect false, "
    "pulumi up (removes the locks), then pulumi destroy."
)
GUARD_TYPE = "pulumi-python:dynamic/locks:ProtectGuard"


def lock_aml_workspace(config: StackConfig) -> bool:
    """The AzureML workspace is locked unless a compute cluster (the batch endpoint's) lives
    beneath it: a lock over the cluster keeps its nodes (see the module docstring)."""
    return config.protect and config.batch_endpoint is None


def beneath_locks(config: StackConfig) -> list[str]:
    """What the stack declares beneath its locks, one entry per change that would delete it,
    in config terms. Empty without `protect`."""
    return _entries(config, aml_locked=lock_aml_workspace(config)) if config.protect else []


def declared(config: StackConfig) -> list[str]:
    """Every entry `beneath_locks` could hold for `config`, locked or not: an entry of the
    deployed stack missing here is a delete."""
    return _entries(config, aml_locked=True)


def _entries(config: StackConfig, *, aml_locked: bool) -> list[str]:
    entries = []
    if config.diagnostics.enabled:
        entries.append("diagnostics.enabled true (diagnostic settings of the locked resources)")
    entries += [
        f"access.dataScientists {p.object_id} (role assignments on the locked storage account)"
        for p in config.access.data_scientists
    ]
    if config.batch_endpoint is not None:
        spec = config.batch_endpoint
        entries.append(
            f"batchEndpoint with instanceType {spec.instance_type} (cluster {compute_name(spec)}"
            "'s role assignment on the locked storage account)"
        )
    if aml_locked and config.service_principal is not None:
        entries.append(
            f"servicePrincipal {config.service_principal.object_id} (its role assignment on "
            "the locked AzureML workspace)"
        )
    if aml_locked and config.endpoint is not None:
        entries.append(
            f"endpoint deployment {deployment_name(config.endpoint)} (beneath the locked "
            "AzureML workspace)"
        )
    return entries


def protect_problem(olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
    """Why an update from the recorded `olds` to `news` is refused, or None: while the deployed
    stack is protected, nothing beneath its locks may be deleted, in the same update that
    removes the locks too (ARM would refuse the delete if it ran before the lock's)."""
    if not olds.get("protect"):
        return None
    kept = set(news.get("declared") or ())
    dropped = [entry for entry in olds.get("beneath") or () if entry not in kept]
    if not dropped:
        return None
    return (
        f"{NAMESPACE}:protect: this update would delete what lies beneath the stack's "
        f"CanNotDelete locks ({'; '.join(dropped)}), which Azure refuses halfway through "
        f"`pulumi up`; undo the change, run `pulumi config set {NAMESPACE}:protect false` and "
        "`pulumi up` (that removes only the locks), then make the change and set protect back"
    )


class ProtectGuardProvider(dynamic.ResourceProvider):
    """Remembers `protect` and what lies beneath the locks; `check` refuses dropping any of it
    while protected."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        problem = protect_problem(olds, news)
        failures = [dynamic.CheckFailure("beneath", problem)] if problem else []
        return dynamic.CheckResult(inputs=news, failures=failures)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(id_="protect-guard", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # `declared` is read from the new inputs only: an unprotected stack never updates
        changed = any(olds.get(k) != news.get(k) for k in ("protect", "beneath"))
        return dynamic.DiffResult(changes=changed)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=news)


class ProtectGuard(dynamic.Resource, module="locks", name="ProtectGuard"):
    """The day-2 guard, kept in the stack's state (see the module docstring)."""

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            ProtectGuardProvider(),
            name,
            {
                "protect": config.protect,
                "beneath": beneath_locks(config),
                "declared": declared(config),
            },
            opts,
        )


@dataclass(frozen=True)
class ResourceLocksArgs:
    # short name (stable: it names the lock resource) -> ARM id of the resource to lock
    targets: Mapping[str, pulumi.Input[str]]
    lock_name: str


class ResourceLocks(pulumi.ComponentResource):
    """One CanNotDelete lock per target, on the target itself; exposes the locks' ids."""

    ids: pulumi.Output[Sequence[str]]

    def __init__(
        self, name: str, args: ResourceLocksArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:locks:ResourceLocks", name, None, opts)
        locks = [
            authorization.ManagementLockByScope(
                f"{name}-{target}",
                scope=scope,
                lock_name=args.lock_name,
                level=LOCK_LEVEL,
                notes=LOCK_NOTES,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for target, scope in args.targets.items()
        ]
        self.ids = pulumi.Output.all(*(lock.id for lock in locks))
        self.register_outputs({"ids": self.ids})
