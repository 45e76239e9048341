"""Stand-ins for the pieces of a real deployment that a machine without Azure cannot have.

The Python language host, the azure-native and databricks provider plugins, and the Azure CLI.
Each is a small process that the real Pulumi engine launches from PATH.
"""
