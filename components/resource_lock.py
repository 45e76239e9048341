"""A CanNotDelete management lock on the resource group, for `protect: true`.

Pulumi's `protect` stops `pulumi destroy`; the lock also stops a delete from the portal, the CLI
or another tool (Learn, "Lock your resources to protect your infrastructure"). It applies to
the group and everything in it, so it is created before any other resource and removed after
all of them: `lock_first` makes every resource declared later depend on it. A lock on this group
does not reach the Databricks managed resource group; a deny assignment Azure Databricks places
there already keeps anyone but Databricks from changing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

LOCK_LEVEL = "CanNotDelete"


@dataclass(frozen=True)
class ResourceGroupLockArgs:
    resource_group_name: pulumi.Input[str]
    lock_name: str


class ResourceGroupLock(pulumi.ComponentResource):
    """Exposes the lock's id."""

    id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ResourceGroupLockArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:locks:ResourceGroupLock", name, None, opts)
        lock = authorization.ManagementLockAtResourceGroupLevel(
            f"{name}-lock",
            resource_group_name=args.resource_group_name,
            lock_name=args.lock_name,
            level=LOCK_LEVEL,
            notes="Set by the stack's protect: true. To delete the stack: pulumi config set "
            "protect false, pulumi up (removes this lock), then pulumi destroy.",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.id = lock.id
        self._lock = lock
        self.register_outputs({"id": self.id})

    def lock_first(self) -> pulumi.ResourceTransform:
        """A transform: every resource declared after it depends on the lock (so the lock is
        created first and deleted last)."""
        lock = self._lock

        def depend(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
            if not args.custom or args.type_.startswith("pulumi:providers:"):
                return None
            later = pulumi.ResourceOptions(depends_on=[lock])
            opts = pulumi.ResourceOptions.merge(args.opts, later)
            return pulumi.ResourceTransformResult(props=args.props, opts=opts)

        return depend
