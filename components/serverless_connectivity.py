"""Serverless compute's way to the stack: a network connectivity configuration (NCC).

Serverless compute runs in Databricks' serverless compute plane, not in the stack's VNet, so the
AzureML private endpoints there do not serve it. An NCC is an account-level, regional object;
bound to the workspace, its private endpoint rules make Databricks create private endpoints of
its own to the target resources, which the resources' owner then approves (Learn, "Configure
private connectivity to Azure resources"; "Serverless compute plane networking"). Only an
account admin can write NCCs, through the account-level provider (pulumi-databricks
MwsNetworkConnectivityConfig, MwsNccPrivateEndpointRule, MwsNccBinding: "can only be used with
an account-level provider").

The rules, under `privateLink` (the targets deny public access):
- the AzureML workspace, group `amlworkspace` (its private link sub-resource, as for the stack's
  own endpoint; MLflow's tracking API is served there);
- its storage account, group `blob`: MLflow artifacts travel to and from the workspace's
  default blob datastore.

Approval: a rule's endpoint is created in Databricks' subscription and appears on the target as
a Pending private endpoint connection whose name the rule does not tell (only its endpoint's
name), so PrivateEndpointApproval lists the target's connections, finds the one of that
endpoint and PUTs it Approved (azure-rest-api-specs: storage stable/2023-05-01
PrivateEndpointConnections_List / _Put; machinelearningservices stable/2024-04-01
PrivateEndpointConnections_List / _CreateOrUpdate). Deleting a rule removes its endpoint and
with it the connection, so the approval's delete does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_databricks as databricks
from pulumi import dynamic

from arm.cloud import CloudConfig, read_cloud_config
from arm.provider import ArmProvider, cloud_inputs
from core import naming
from core.serverless import AML_GROUP, STORAGE_GROUP

# api-versions of the targets' private endpoint connections (see the module docstring).
CONNECTION_API_VERSIONS = {
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.machinelearningservices/workspaces": "2024-04-01",
}
APPROVED_DESCRIPTION = "Approved for Databricks serverless compute"
NCC_NAME_LENGTH = 30  # Learn, account network-connectivity: 3 to 30 characters


def ncc_name(prefix: str, stack: str, suffix: str) -> str:
    """The NCC's name: `<prefix>-<stack>` cut to fit, then the stack's unique suffix (an
    account holds NCCs of many subscriptions)."""
    head = f"{prefix}-{naming.stack_slug(stack)}"[: NCC_NAME_LENGTH - len(suffix) - 1]
    return f"{head.rstrip('-')}-{suffix}"


def rule_targets(
    aml_workspace_id: pulumi.Input[str], storage_account_id: pulumi.Input[str]
) -> dict[str, tuple[pulumi.Input[str], str]]:
    """The private endpoint rules by short name: (target resource id, group id)."""
    return {
        "azureml": (aml_workspace_id, AML_GROUP),
        "storage": (storage_account_id, STORAGE_GROUP),
    }


@dataclass(frozen=True)
class ServerlessConnectivityArgs:
    name: pulumi.Input[str]  # ncc_name(...)
    region: str
    workspace_id: pulumi.Input[str]  # the Databricks workspace's numeric id
    subscription_id: pulumi.Input[str]
    # under privateLink: rule_targets(...); empty without it (the NCC and its binding only)
    targets: dict[str, tuple[pulumi.Input[str], str]]
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class ServerlessConnectivity(pulumi.ComponentResource):
    """The NCC, its private endpoint rules, their approval, and its binding to the workspace.
    The account-level provider comes in through `opts.providers`."""

    ncc_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ServerlessConnectivityArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("databricks-azureml:serverless:ServerlessConnectivity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ncc = databricks.MwsNetworkConnectivityConfig(
            f"{name}-ncc", name=args.name, region=args.region, opts=child
        )
        approvals = []
        for short, (target_id, group) in args.targets.items():
            rule = databricks.MwsNccPrivateEndpointRule(
                f"{name}-{short}",
                network_connectivity_config_id=ncc.network_connectivity_config_id,
                resource_id=target_id,
                group_id=group,
                opts=child,
            )
            approvals.append(
                PrivateEndpointApproval(
                    f"{name}-{short}-approval",
                    PrivateEndpointApprovalArgs(
                        subscription_id=args.subscription_id,
                        target_id=target_id,
                        endpoint_name=rule.endpoint_name,
                        cloud=args.cloud,
                    ),
                    child,
                )
            )
        # bound once the endpoints are approved: serverless compute starts with a way through
        databricks.MwsNccBinding(
            f"{name}-binding",
            network_connectivity_config_id=ncc.network_connectivity_config_id,
            workspace_id=args.workspace_id,
            opts=child.merge(pulumi.ResourceOptions(depends_on=approvals)),
        )
        self.ncc_id = ncc.network_connectivity_config_id
        self.register_outputs({"ncc_id": self.ncc_id})


# --- approval --------------------------------------------------------------------------------


def connection_of(connections: list[dict[str, Any]], endpoint_name: str) -> dict[str, Any] | None:
    """The connection whose private endpoint is named `endpoint_name`, or None."""
    wanted = f"/privateendpoints/{endpoint_name}".lower()
    for connection in connections:
        endpoint = ((connection.get("properties") or {}).get("privateEndpoint") or {}).get("id")
        if str(endpoint or "").lower().endswith(wanted):
            return connection
    return None


def approve_connection(arm: Any, target_id: str, endpoint_name: str) -> str:
    """Wait for the target's connection from `endpoint_name`, approve it; its id."""
    import time

    from azure.core.rest import HttpRequest

    from arm.client import ArmError

    kind = "/".join(target_id.lower().split("/providers/", 1)[1].split("/")[:2])
    version = CONNECTION_API_VERSIONS[kind]
    what = f"approving the private endpoint {endpoint_name} on {target_id}"
    if not endpoint_name:
        raise ArmError(f"{what}: the rule names no endpoint yet (its state is CREATING)")
    listing = f"{arm.cloud.endpoint}{target_id}/privateEndpointConnections?api-version={version}"
    deadline = time.monotonic() + arm.timeout
    while True:
        response = arm.resources.send_request(HttpRequest("GET", listing))
        if response.status_code >= 400:
            raise ArmError(f"{what}: {response.status_code} {response.text()[:300]}")
        found = connection_of(response.json().get("value") or [], endpoint_name)
        if found is not None:
            break
        if time.monotonic() > deadline:  # Databricks creates the endpoint asynchronously
            raise ArmError(f"{what}: no connection from it after {arm.timeout:.0f} s")
        arm.sleep()
    state = {"status": "Approved", "description": APPROVED_DESCRIPTION}
    body = {"properties": {"privateLinkServiceConnectionState": state}}
    url = f"{arm.cloud.endpoint}{found['id']}?api-version={version}"
    response = arm.resources.send_request(HttpRequest("PUT", url, json=body))
    if response.status_code >= 400:
        raise ArmError(f"{what}: {response.status_code} {response.text()[:300]}")
    return str(found["id"])


class PrivateEndpointApprovalProvider(ArmProvider):
    """Approves on create; a new endpoint (a replaced rule) is a new approval."""

    inputs = ("target_id", "endpoint_name")
    identity = ("target_id", "endpoint_name")

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        with self.client(props) as client:
            connection_id = approve_connection(client, props["target_id"], props["endpoint_name"])
        return dynamic.CreateResult(id_=connection_id, outs=props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The rule's deletion removes the endpoint and its connection."""


@dataclass(frozen=True)
class PrivateEndpointApprovalArgs:
    subscription_id: pulumi.Input[str]
    target_id: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class PrivateEndpointApproval(
    dynamic.Resource, module="serverless", name="PrivateEndpointApproval"
):
    """A Databricks-created private endpoint, approved on its target (module docstring)."""

    def __init__(
        self,
        name: str,
        args: PrivateEndpointApprovalArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            PrivateEndpointApprovalProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "target_id": args.target_id,
                "endpoint_name": args.endpoint_name,
                **cloud_inputs(args.cloud),
            },
            opts,
        )
