"""Teardown helpers that talk to Azure Resource Manager directly.

`arm` purges what `pulumi destroy` only soft-deletes (the AzureML workspace, the key vault);
`check` lists what a destroy left behind. Both run through azure-core's pipeline.
"""
