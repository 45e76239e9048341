"""What `pulumi destroy` cannot do by itself, and the check of what it left.

`purge`: dynamic resources whose delete purges the soft-deleted AzureML workspace and key vault
and force-deletes the Databricks workspace; `arm`: those ARM calls, on Azure's management SDKs;
`cloud`: which Azure cloud they go to; `check`: lists what a destroy left behind.
"""
