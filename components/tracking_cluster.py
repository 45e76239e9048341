"""The tracking cluster: a Databricks cluster whose notebooks track to AzureML with no code change.

Also the secret scope that holds the service principal's client secret: the cluster reads it as
a `{{secrets/<scope>/<key>}}` reference, never as a value.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from core.config import ClusterSpec, ModelRegistry, ServicePrincipal, TrackingMode

# The plugin that lets MLflow talk to AzureML (seed: "Install libraries"): the range the notebook
# tests run (requirements-notebooks.in).
AZUREML_MLFLOW = "azureml-mlflow>=1.62.0.post6,<1.63"
SECRET_KEY = "azure-client-secret"


def spark_env_vars(
    mode: TrackingMode,
    registry: ModelRegistry,
    tracking_uri: str,
    principal: ServicePrincipal | None,
    tenant_id: str,
    secret_reference: str | None,
) -> dict[str, str]:
    """The cluster's environment for the chosen tracking mode and registry.

    exclusive: MLFLOW_TRACKING_URI is AzureML's. Registry azureml: MLFLOW_REGISTRY_URI is the
    same URI. Registry databricks in exclusive mode: MLFLOW_REGISTRY_URI is "databricks", since
    MLflow would otherwise register where it tracks. A service principal adds the AZURE_* trio
    that azureml-mlflow's DefaultAzureCredential reads, its secret as a secret reference.
    """
    env: dict[str, str] = {}
    if mode is TrackingMode.EXCLUSIVE:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    if registry is ModelRegistry.AZUREML:
        env["MLFLOW_REGISTRY_URI"] = tracking_uri
    elif mode is TrackingMode.EXCLUSIVE:
        env["MLFLOW_REGISTRY_URI"] = "databricks"
    if principal is not None:
        if not secret_reference or not secret_reference.startswith("{{secrets/"):
            raise ValueError("the client secret must be a {{secrets/<scope>/<key>}} reference")
        env.update(
            AZURE_TENANT_ID=principal.tenant_id or tenant_id,
            AZURE_CLIENT_ID=principal.client_id,
            AZURE_CLIENT_SECRET=secret_reference,
        )
    return env


def size_settings(spec: ClusterSpec) -> dict[str, object]:
    """Workers: single node (0/0), fixed size (min == max), or autoscaling."""
    if spec.single_node:
        return {
            "num_workers": 0,
            "spark_conf": {
                "spark.databricks.cluster.profile": "singleNode",
                "spark.master": "local[*]",
            },
            "custom_tags": {"ResourceClass": "SingleNode"},
        }
    if spec.min_workers == spec.max_workers:
        return {"num_workers": spec.max_workers}
    return {
        "autoscale": databricks.ClusterAutoscaleArgs(
            min_workers=spec.min_workers, max_workers=spec.max_workers
        )
    }


@dataclass(frozen=True)
class TrackingClusterArgs:
    cluster_name: str
    secret_scope_name: str
    spec: ClusterSpec
    tracking_mode: TrackingMode
    model_registry: ModelRegistry
    mlflow_tracking_uri: pulumi.Input[str]
    tenant_id: pulumi.Input[str]  # the deployer's; a service principal's own tenantId wins
    service_principal: ServicePrincipal | None
    service_principal_secret: pulumi.Input[str] | None  # a secret Output


class TrackingCluster(pulumi.ComponentResource):
    cluster_id: pulumi.Output[str]
    secret_scope: pulumi.Output[str]

    def __init__(
        self, name: str, args: TrackingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:databricks:TrackingCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        scope = databricks.SecretScope(
            f"{name}-scope", name=args.secret_scope_name, backend_type="DATABRICKS", opts=child
        )
        secret_reference: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if args.service_principal is not None and args.service_principal_secret is not None:
            secret = databricks.Secret(
                f"{name}-client-secret",
                scope=scope.name,
                key=SECRET_KEY,
                string_value=pulumi.Output.secret(args.service_principal_secret),
                opts=child,
            )
            secret_reference = secret.config_reference

        env = pulumi.Output.all(args.mlflow_tracking_uri, args.tenant_id, secret_reference).apply(
            lambda values: spark_env_vars(
                args.tracking_mode, args.model_registry, values[0],
                args.service_principal, values[1], values[2],
            )
        )  # fmt: skip
        sizing = size_settings(args.spec)
        cluster = databricks.Cluster(
            f"{name}-cluster",
            cluster_name=args.cluster_name,
            spark_version=args.spec.spark_version,
            node_type_id=args.spec.node_type,
            autotermination_minutes=args.spec.autotermination_minutes,
            data_security_mode="USER_ISOLATION",
            spark_env_vars=env,
            libraries=[databricks.ClusterLibraryArgs(pypi={"package": AZUREML_MLFLOW})],
            no_wait=not args.spec.wait_for_running,
            opts=child,
            **sizing,
        )
        self.cluster_id = cluster.cluster_id
        self.secret_scope = scope.name
        self.register_outputs({"cluster_id": self.cluster_id, "secret_scope": self.secret_scope})
