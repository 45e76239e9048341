"""Serverless compute and a private-link stack: what stands between them, said once for the
program's warning, `make preview` and `make smoke --compute serverless`."""

from __future__ import annotations

# Group ids (private link sub-resources) of the NCC's private endpoint rules' targets.
AML_GROUP = "amlworkspace"
STORAGE_GROUP = "blob"


def serverless_blocked(region: str) -> str:
    """What a private-link stack without `databricksAccount` says: serverless notebooks cannot
    track to it, and what an account admin creates instead."""
    return (
        "serverless notebooks cannot track to this private stack: serverless compute does not "
        "run in the stack's VNet and reaches the private AzureML workspace only through a "
        "network connectivity configuration (NCC). Set databricksAccount.accountId (and run "
        "`pulumi up` as a Databricks account admin), or have an account admin create, in the "
        f"account console: an NCC in {region}; its private endpoint rules to the AzureML "
        f"workspace (group {AML_GROUP}) and to its storage account (group {STORAGE_GROUP}); the "
        "approval of both private endpoint connections on those resources; and the NCC attached "
        "to this Databricks workspace (Learn, Configure private connectivity to Azure resources)"
    )
