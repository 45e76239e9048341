"""The tracking cluster: a Databricks cluster whose notebooks track to AzureML with no code change.

Also the secret scope that holds the service principal's client secret: the cluster reads it as
a `{{secrets/<scope>/<key>}}` reference, never as a value. Anyone who can attach to a cluster
can read its environment variables (Databricks: "Use a secret in a Spark configuration property
or environment variable"), so only the users named get a grant on the cluster; the workspace
admins and the deployer (its creator, CAN_MANAGE) keep theirs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from components.workspace_scope import child_inside
from mlflow_setup.contract import CLIENT_SECRET_KEY

# The plugin that lets MLflow talk to AzureML (Microsoft's article, "Install libraries"): the
# range the notebook tests run (requirements-notebooks.in).
AZUREML_MLFLOW = "azureml-mlflow>=1.62.0.post6,<1.63"
SECRET_KEY = CLIENT_SECRET_KEY
# Attach and restart, not manage (Databricks "Compute ACLs").
USER_PERMISSION = "CAN_RESTART"
# Databricks access modes by their API names (Clusters API `data_security_mode`).
DATA_SECURITY_MODES = {"standard": "USER_ISOLATION", "dedicated": "SINGLE_USER"}
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SECRET_REFERENCE = re.compile(r"\{\{secrets/[^/{}\s]+/[^/{}\s]+\}\}")


@dataclass(frozen=True)
class Credentials:
    """What azureml-mlflow's DefaultAzureCredential reads from the cluster's environment."""

    tenant_id: str
    client_id: str
    secret_reference: str  # {{secrets/<scope>/<key>}}, never the secret


def spark_env_vars(
    mlflow_env: Mapping[str, str], credentials: Credentials | None
) -> dict[str, str]:
    """The cluster's environment: MLflow's URIs for the mode (mlflow_setup.contract) and, with a
    service principal, the AZURE_* trio, its secret as a secret reference."""
    env = dict(mlflow_env)
    if credentials is not None:
        if not _SECRET_REFERENCE.fullmatch(credentials.secret_reference):
            raise ValueError("the client secret must be a {{secrets/<scope>/<key>}} reference")
        env.update(
            AZURE_TENANT_ID=credentials.tenant_id,
            AZURE_CLIENT_ID=credentials.client_id,
            AZURE_CLIENT_SECRET=credentials.secret_reference,
        )
    return env


def size_settings(min_workers: int, max_workers: int) -> dict[str, object]:
    """Workers: single node (0/0), fixed size (min == max), or autoscaling."""
    if max_workers == 0:
        return {
            "num_workers": 0,
            "spark_conf": {
                "spark.databricks.cluster.profile": "singleNode",
                "spark.master": "local[*]",
            },
            "custom_tags": {"ResourceClass": "SingleNode"},
        }
    if min_workers == max_workers:
        return {"num_workers": max_workers}
    return {
        "autoscale": databricks.ClusterAutoscaleArgs(
            min_workers=min_workers, max_workers=max_workers
        )
    }


def access_control(
    principal: str, level: str = USER_PERMISSION
) -> databricks.PermissionsAccessControlArgs:
    """A grant for a user (an e-mail), a service principal (its application id) or a group."""
    if "@" in principal:
        return databricks.PermissionsAccessControlArgs(user_name=principal, permission_level=level)
    if _GUID.fullmatch(principal):
        return databricks.PermissionsAccessControlArgs(
            service_principal_name=principal, permission_level=level
        )
    return databricks.PermissionsAccessControlArgs(group_name=principal, permission_level=level)


@dataclass(frozen=True)
class TrackingClusterArgs:
    cluster_name: str
    secret_scope_name: str
    spark_version: str
    node_type: str
    min_workers: int
    max_workers: int
    autotermination_minutes: int
    wait_for_running: bool
    access_mode: str  # "standard" or "dedicated"
    single_user: str | None  # with "dedicated"
    users: Sequence[str]  # granted CAN_RESTART; nobody else but admins and the deployer
    mlflow_env: pulumi.Input[Mapping[str, str]]  # mlflow_setup.contract's cluster_env
    tenant_id: pulumi.Input[str] | None  # with a service principal
    client_id: str | None
    client_secret: pulumi.Input[str] | None  # a secret Output
    # The workspace's `inside_workspace` options: every resource here is replaced with it.
    inside_workspace: pulumi.ResourceOptions | None = None


class TrackingCluster(pulumi.ComponentResource):
    cluster_id: pulumi.Output[str]
    secret_scope: pulumi.Output[str]

    def __init__(
        self, name: str, args: TrackingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:databricks:TrackingCluster", name, None, opts)
        child = child_inside(self, args.inside_workspace)

        scope = databricks.SecretScope(
            f"{name}-scope", name=args.secret_scope_name, backend_type="DATABRICKS", opts=child
        )
        credentials: pulumi.Output[Credentials | None] = pulumi.Output.from_input(None)
        if args.client_id is not None and args.client_secret is not None:
            secret = databricks.Secret(
                f"{name}-client-secret",
                scope=scope.name,
                key=SECRET_KEY,
                string_value=pulumi.Output.secret(args.client_secret),
                opts=child,
            )
            client_id = args.client_id
            credentials = pulumi.Output.all(args.tenant_id, secret.config_reference).apply(
                lambda values: Credentials(values[0], client_id, values[1])
            )

        env = pulumi.Output.all(args.mlflow_env, credentials).apply(
            lambda values: spark_env_vars(values[0], values[1])
        )
        cluster = databricks.Cluster(
            f"{name}-cluster",
            cluster_name=args.cluster_name,
            spark_version=args.spark_version,
            node_type_id=args.node_type,
            autotermination_minutes=args.autotermination_minutes,
            data_security_mode=DATA_SECURITY_MODES[args.access_mode],
            single_user_name=args.single_user,
            spark_env_vars=env,
            libraries=[databricks.ClusterLibraryArgs(pypi={"package": AZUREML_MLFLOW})],
            no_wait=not args.wait_for_running,
            opts=child,
            **size_settings(args.min_workers, args.max_workers),
        )
        if args.users:
            # Authoritative for the cluster's ACL: a grant made by hand is removed on `up`.
            databricks.Permissions(
                f"{name}-users",
                cluster_id=cluster.cluster_id,
                access_controls=[access_control(user) for user in args.users],
                opts=child,
            )
        self.cluster_id = cluster.cluster_id
        self.secret_scope = scope.name
        self.register_outputs({"cluster_id": self.cluster_id, "secret_scope": self.secret_scope})
