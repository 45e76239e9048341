"""What the stack's dynamic resources that call ARM themselves share: the client, in the cloud
the stack deploys to, and the diff over their inputs.

Used by the purge and force-delete resources (components/purge.py), the online endpoint's traffic
(components/endpoint_traffic.py), the batch endpoint's default (components/batch_default.py) and
the managed network's provisioning (components/managed_network.py). A provider is pickled into
the state with dill: it holds nothing but an optional client factory (tests inject one) and
imports arm.client only when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi import dynamic

from arm.cloud import CloudConfig

ClientFactory = Callable[[str, CloudConfig], Any]  # (subscription id, cloud) -> arm.client.Arm


def cloud_of(props: dict[str, Any]) -> CloudConfig:
    """The cloud a resource's inputs name; state written before the cloud inputs existed has
    none: public Azure, as then."""
    return CloudConfig(
        environment=props.get("environment") or "public",
        metadata_host=props.get("metadata_host") or "",
    )


def cloud_inputs(cloud: CloudConfig) -> dict[str, str]:
    """A resource's inputs that name its cloud (read back by `cloud_of`)."""
    return {"environment": cloud.environment, "metadata_host": cloud.metadata_host}


class ArmProvider(dynamic.ResourceProvider):
    """A change to any of `inputs` is an update; to any of `identity`, a replacement (the new
    one first)."""

    serialize_as_secret_always = False  # it captures no secret
    inputs: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        super().__init__()
        self._client_factory = client_factory

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [key for key in self.inputs if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=[key for key in self.identity if key in changed],
            delete_before_replace=False,
        )

    def client(self, props: dict[str, Any]) -> Any:
        """An ARM client (a context manager) for the resource's subscription and cloud."""
        cloud = cloud_of(props)
        if self._client_factory is not None:
            return self._client_factory(props["subscription_id"], cloud)
        from arm.client import Arm
        from arm.cloud import resolve

        return Arm(props["subscription_id"], cloud=resolve(cloud))
