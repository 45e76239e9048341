"""The stack's outputs, published in its Databricks workspace for notebooks on any compute.

A workspace file (`databricks.WorkspaceFile`) at `/Shared/databricks-azureml/<stack>/outputs.json`
holds the JSON `pulumi stack output --json` prints, and beside it who may read the secret scope.
A workspace file rather than a DBFS or volume file: every compute of the workspace reads it
(serverless included, where DBFS root is off), through the Workspace API or `/Workspace/...`,
and its ACL is the workspace's own. The provider discourages `content_base64` except for "a
workspace file with configuration properties" (pulumi-databricks WorkspaceFile): this is one.

Grants, for `cluster.users` (and `cluster.singleUser`), the principals that may already read the
cluster's environment and with it the service principal's secret:
- CAN_READ on the file (Databricks "Workspace object ACLs"; `/Shared` also lets every workspace
  user in, and the file holds no secret);
- READ on the secret scope (Databricks "Secret ACLs"), so `dbutils.secrets.get` works for them
  on serverless, job and personal compute; the scope's creator and the workspace admins keep
  MANAGE. The scope also holds the service principal's client and tenant ids, so a notebook reads
  the whole credential from the scope and none of it from the outputs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_databricks as databricks

from components.tracking_cluster import access_control
from components.workspace_scope import child_inside
from mlflow_setup.contract import (
    CLIENT_ID_KEY,
    PUBLISHED_FOLDER,
    SCOPE_READERS_KEY,
    TENANT_ID_KEY,
    published_path,
)

FILE_PERMISSION = "CAN_READ"  # Workspace object ACLs: read, not run, edit or manage
SCOPE_PERMISSION = "READ"  # Secret ACLs: read the scope's secrets and list them


def published_content(outputs: Mapping[str, Any], readers: Sequence[str]) -> str:
    """The file's JSON: the stack outputs by name (null where the stack has none), and who may
    read the secret scope."""
    return json.dumps({**outputs, SCOPE_READERS_KEY: list(readers)}, indent=2, sort_keys=True)


@dataclass(frozen=True)
class PublishedOutputsArgs:
    stack: str
    outputs: Mapping[str, pulumi.Input[Any]]  # the stack outputs; none of them secret
    readers: Sequence[str]  # cluster.users (+ singleUser): users, groups, service principals
    secret_scope: pulumi.Input[str]
    tenant_id: pulumi.Input[str] | None = None  # with a service principal
    client_id: str | None = None
    # The workspace's `inside_workspace` options: every resource here is replaced with it.
    inside_workspace: pulumi.ResourceOptions | None = None


class PublishedOutputs(pulumi.ComponentResource):
    path: pulumi.Output[str]

    def __init__(
        self, name: str, args: PublishedOutputsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:databricks:PublishedOutputs", name, None, opts)
        child = child_inside(self, args.inside_workspace)
        readers = list(args.readers)
        folder = databricks.Directory(
            f"{name}-folder",
            path=f"{PUBLISHED_FOLDER}/{args.stack}",
            delete_recursive=True,  # destroy leaves no folder of the stack behind
            opts=child,
        )
        content = pulumi.Output.all(**args.outputs).apply(
            lambda values: _base64(published_content(values, readers))
        )
        file = databricks.WorkspaceFile(
            f"{name}-file",
            path=published_path(args.stack),
            content_base64=content,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[folder])),
        )
        if readers:
            # Authoritative for the file's direct grants, like the cluster's.
            databricks.Permissions(
                f"{name}-readers",
                workspace_file_path=file.path,
                access_controls=[access_control(r, FILE_PERMISSION) for r in readers],
                opts=child,
            )
        for reader in readers:
            databricks.SecretAcl(
                f"{name}-scope-{reader}",
                scope=args.secret_scope,
                principal=reader,
                permission=SCOPE_PERMISSION,
                opts=child,
            )
        if args.client_id is not None and args.tenant_id is not None:
            for key, value in ((CLIENT_ID_KEY, args.client_id), (TENANT_ID_KEY, args.tenant_id)):
                databricks.Secret(
                    f"{name}-{key}",
                    scope=args.secret_scope,
                    key=key,
                    string_value=value,
                    opts=child,
                )
        self.path = file.path
        self.register_outputs({"path": self.path})


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
