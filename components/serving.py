"""What the online and the batch endpoint share: where they sit, how a deployment is named, and
how it names its model.

Both deploy one registered MLflow model version by the ARM id of that version in the
workspace, under a name that changes with model, version and VM size, so a new version is a
new deployment replaced create-before-delete (components/online_endpoint.py,
components/batch_endpoint.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi


class ModelVersion(Protocol):
    """What names a deployment: an online or a batch endpoint's spec."""

    model: str
    version: int
    instance_type: str


def deployment_name(spec: ModelVersion) -> str:
    """`v<version>-<hash>`: a new version, model or VM size is a new deployment name."""
    digest = hashlib.sha256(f"{spec.model}|{spec.version}|{spec.instance_type}".encode())
    return f"v{spec.version}-{digest.hexdigest()[:6]}"


def model_asset_id(workspace_id: str, spec: ModelVersion) -> str:
    """The ARM id of the registered model version in the workspace."""
    return f"{workspace_id}/models/{spec.model}/versions/{spec.version}"


@dataclass(frozen=True, kw_only=True)
class ServingArgs:
    """Where an endpoint sits: the AzureML workspace, and what it waits for."""

    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    # What must exist before any compute or deployment (the provisioned managed network).
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # The AzureML workspace's `inside_workspace` options: every child is replaced with it.
    inside_workspace: pulumi.ResourceOptions | None = None


def deployment_options(child: pulumi.ResourceOptions, args: ServingArgs) -> pulumi.ResourceOptions:
    """A deployment's options: replaced create-before-delete, after what `args.after` names."""
    return child.merge(
        pulumi.ResourceOptions(delete_before_replace=False, depends_on=list(args.after))
    )


def model_reference(args: ServingArgs, spec: ModelVersion) -> pulumi.Output[str]:
    """The model version's ARM id, once the workspace's id is known."""
    return pulumi.Output.from_input(args.workspace_id).apply(
        lambda workspace_id: model_asset_id(workspace_id, spec)
    )
