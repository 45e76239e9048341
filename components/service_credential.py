"""The Unity Catalog service credential through which notebooks reach AzureML with no stored secret.

Learn, "Manage access to external cloud services using service credentials": an access connector
with a system-assigned managed identity, that identity given a role on the Azure service, and a
service credential (purpose SERVICE) naming the connector. A notebook then gets Azure tokens of
that identity from `dbutils.credentials.getServiceCredentialsProvider('<name>')`, if it has the
ACCESS privilege on the credential ("Use Unity Catalog service credentials ..."): granted here to
`cluster.users`, the principals that may read the service principal's secret in the other mode.

The identity gets what the service principal gets otherwise (components/azureml_workspace.py):
"AzureML Data Scientist" on the AzureML workspace, which covers runs, models and the registry's
artifact upload. The credential is isolated to the stack's workspace (ISOLATION_MODE_ISOLATED:
the provider's "restrict access to only from the current workspace").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from components.access_connector import AccessConnector, AccessConnectorArgs
from components.azureml_workspace import AZUREML_DATA_SCIENTIST
from components.roles import assign_role
from components.workspace_scope import child_inside

PURPOSE = "SERVICE"  # Unity Catalog credentials API: SERVICE or STORAGE
PRIVILEGE = "ACCESS"  # what a user needs to use a service credential
ISOLATION_MODE = "ISOLATION_MODE_ISOLATED"


@dataclass(frozen=True)
class ServiceCredentialArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    connector_name: str
    credential_name: pulumi.Input[str]  # unique in the metastore: carries the stack's suffix
    subscription_id: pulumi.Input[str]
    aml_workspace_id: pulumi.Input[str]  # where the identity gets AzureML Data Scientist
    users: Sequence[str]  # granted ACCESS: cluster.users (+ singleUser)
    # The workspace's `inside_workspace` options for the Databricks objects.
    inside_workspace: pulumi.ResourceOptions | None = None


class ServiceCredential(pulumi.ComponentResource):
    """Exposes the credential's name and the connector identity's principal id."""

    credential_name: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceCredentialArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:databricks:ServiceCredential", name, None, opts)
        connector = AccessConnector(
            f"{name}-connector",
            AccessConnectorArgs(args.resource_group_name, args.location, args.connector_name),
            pulumi.ResourceOptions(parent=self),
        )
        principal_id = connector.system_assigned_mi_principal_id
        assign_role(
            f"{name}-data-scientist",
            subscription_id=args.subscription_id,
            role=AZUREML_DATA_SCIENTIST,
            scope=args.aml_workspace_id,
            principal_id=principal_id,
            description="Lets notebooks track to AzureML through the stack's service credential",
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = child_inside(self, args.inside_workspace)
        credential = databricks.Credential(
            f"{name}-credential",
            name=args.credential_name,
            purpose=PURPOSE,
            azure_managed_identity=databricks.CredentialAzureManagedIdentityArgs(
                access_connector_id=connector.id
            ),
            isolation_mode=ISOLATION_MODE,
            comment="databricks-azureml: notebooks sign in to AzureML with it",
            opts=child,
        )
        if args.users:
            # Authoritative for the credential's grants, like the cluster's ACL.
            databricks.Grants(
                f"{name}-access",
                credential=credential.name,
                grants=[
                    databricks.GrantsGrantArgs(principal=user, privileges=[PRIVILEGE])
                    for user in dict.fromkeys(args.users)
                ],
                opts=child,
            )
        self.credential_name = credential.name
        self.principal_id = principal_id
        self.register_outputs(
            {"credential_name": self.credential_name, "principal_id": self.principal_id}
        )
