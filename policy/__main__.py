"""Policy pack "databricks-azureml-guard": run with `pulumi preview --policy-pack policy`."""

from guard_policies import ENFORCEMENT, PACK_NAME, POLICIES
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    enforcement_level=ENFORCEMENT,
    description="Guards the databricks-azureml stack: VNet-injected premium Databricks, "
    "private-link rules for AzureML, hardened storage and key vault, bounded clusters, tags.",
)
