"""Management locks as the fake ARM (tests/fakecloud/arm.py) applies them beyond a scope's own
deletes: a group holding a locked resource, and AzureML compute that cannot scale in beneath a
lock. Each cites its source.

Lock inheritance itself (a lock refuses the delete of its scope and of every child and extension
resource beneath it) is `FakeArm._locked`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DELETE_LEVELS = ("CanNotDelete", "ReadOnly")


def is_lock(resource_id: str) -> bool:
    """A management lock, at any scope: a group's or a resource's (an extension resource, whose
    type is the one after the last `/providers/`)."""
    return "/providers/microsoft.authorization/locks/" in resource_id.lower()


def lock_scope(lock_id: str) -> str:
    """The scope a lock applies to: its id up to `/providers/Microsoft.Authorization/locks`."""
    return lock_id.lower().rsplit("/providers/", 1)[0]


def locks_over(resources: Mapping[str, Mapping[str, Any]], key: str) -> list[str]:
    """Ids of the delete-refusing locks at `key` or above it (inherited)."""
    found = []
    for rid, resource in resources.items():
        if not is_lock(rid):
            continue
        level = (resource.get("properties") or {}).get("level")
        scope = lock_scope(rid)
        if level in DELETE_LEVELS and (key == scope or key.startswith(scope + "/")):
            found.append(str(resource["id"]))
    return found


def locks_inside(resources: Mapping[str, Mapping[str, Any]], group: str) -> list[str]:
    """Ids of the delete-refusing locks on resources inside `group`. Learn, "Lock your resources
    to protect your infrastructure": a lock on a resource also keeps its resource group from
    being deleted, since deleting the group deletes the resource (the 409 ScopeLocked answer
    names the locked scope, Azure/azure-cli #20232)."""
    prefix = group.lower() + "/providers/"
    return [
        str(resource["id"])
        for rid, resource in resources.items()
        if is_lock(rid)
        and (resource.get("properties") or {}).get("level") in DELETE_LEVELS
        and lock_scope(rid).startswith(prefix)
    ]


# Learn, "Lock your resources to protect your infrastructure", Considerations before applying
# your locks: "A cannot-delete lock on a resource group that contains an Azure Machine Learning
# workspace prevents autoscaling of Azure Machine Learning compute clusters from working
# correctly. With the lock, autoscaling can't remove unused nodes." Removing a node is a delete
# beneath the lock; the fake applies that to a lock at any scope above the compute.
SCALE_IN_REFUSED = "ScaleInBlockedByLock"


def run_job(compute: dict[str, Any], nodes: int, locks: list[str]) -> None:
    """A job on an AmlCompute cluster: it scales out to `nodes`, runs, then scales in to its
    `minNodeCount` after the idle time, unless `locks` (locks over the compute) keep its nodes.
    The cluster reports what it holds as ARM's AmlComputeProperties do (`currentNodeCount`,
    `nodeStateCounts.idleNodeCount`, `errors`)."""
    inner = compute["properties"].setdefault("properties", {})
    scale = inner.get("scaleSettings") or {}
    low, high = int(scale.get("minNodeCount", 0)), int(scale.get("maxNodeCount", nodes))
    used = max(low, min(nodes, high))
    kept = used if locks else low
    inner["currentNodeCount"] = kept
    inner["targetNodeCount"] = low
    inner["allocationState"] = "Steady"
    inner["nodeStateCounts"] = {
        "idleNodeCount": kept,
        "runningNodeCount": 0,
        "preparingNodeCount": 0,
        "unusableNodeCount": 0,
        "leavingNodeCount": 0,
        "preemptedNodeCount": 0,
    }
    inner["errors"] = (
        [
            {
                "error": {
                    "code": SCALE_IN_REFUSED,
                    "message": f"Unused nodes cannot be removed: the scope is locked by {locks[0]}",
                }
            }
        ]
        if locks and kept > low
        else []
    )
