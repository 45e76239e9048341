"""Run the real Pulumi program offline, under the Pulumi SDK's mocks.

`run_program(config, stack)` executes `__main__.py` with a mock engine that answers as Azure
and Databricks would and returns what the program declared: every resource (type, logical name,
parent, wire-named inputs, outputs) and the stack outputs. The tests, the policy-pack tests and
`tools/preview.py` all use it; nothing here reaches a network.

Two answer styles:
- `deployed=True` (tests): Azure's read-only outputs filled in as a real deployment returns them
  (ARM ids, `mlFlowTrackingUri`, `workspaceUrl`, principal ids).
- `deployed=False` (preview): the inputs come back, plus the `name` of an Azure resource whose
  name input is known (ARM's `name` is the last segment of the id it is created under);
  everything else Azure computes stays unknown, as in `pulumi preview`.
"""

from __future__ import annotations

import asyncio
import hashlib
import runpy
import uuid
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from core.errors import NAMESPACE

PROJECT = NAMESPACE
ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"

SUBSCRIPTION_ID = "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"
TENANT_ID = "8e1c2b3a-4d5f-4a6b-8c7d-9e0f1a2b3c4d"
DEPLOYER_OBJECT_ID = "b7c6d5e4-f3a2-4b1c-9d8e-7f6a5b4c3d2e"
DEPLOYER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the Azure CLI's app id

UNKNOWN = object()  # an output only Azure knows after deployment
ANSWERED_AFTER_LOGIN = frozenset({"azure-native:authorization:getClientConfig"})


@dataclass
class DeclaredResource:
    urn: str
    type: str
    name: str
    parent: str  # parent URN, "" for the stack's direct children
    custom: bool
    inputs: dict[str, Any]  # wire (camelCase) names, after stack transforms
    outputs: dict[str, Any]
    id: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    aliases: list[Any] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    replace_with: list[str] = field(default_factory=list)  # URNs whose replacement replaces it
    provider: str = ""
    delete_before_replace: bool = False


@dataclass
class ProgramResult:
    resources: list[DeclaredResource]
    outputs: dict[str, Any]  # stack outputs; UNKNOWN where only Azure knows the value
    secret_outputs: set[str]
    error: str | None = None  # the config error the program reported, if any

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name_contains: str = "") -> DeclaredResource:
        found = [r for r in self.of_type(type_) if name_contains in r.name]
        if len(found) != 1:
            names = [r.name for r in found]
            raise AssertionError(f"expected one {type_} matching {name_contains!r}, got {names}")
        return found[0]


# --- what Azure answers ------------------------------------------------------------------

# token -> (ARM type path under the resource group, input naming the resource, parent inputs)
ARM_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "azure-native:network:VirtualNetwork": (
        "Microsoft.Network/virtualNetworks",
        "virtualNetworkName",
        (),
    ),
    "azure-native:network:Subnet": (
        "Microsoft.Network/virtualNetworks/{}/subnets",
        "subnetName",
        ("virtualNetworkName",),
    ),
    "azure-native:network:NetworkSecurityGroup": (
        "Microsoft.Network/networkSecurityGroups",
        "networkSecurityGroupName",
        (),
    ),
    "azure-native:network:NatGateway": ("Microsoft.Network/natGateways", "natGatewayName", ()),
    "azure-native:network:RouteTable": ("Microsoft.Network/routeTables", "routeTableName", ()),
    "azure-native:network:PublicIPAddress": (
        "Microsoft.Network/publicIPAddresses",
        "publicIpAddressName",
        (),
    ),
    "azure-native:network:PrivateEndpoint": (
        "Microsoft.Network/privateEndpoints",
        "privateEndpointName",
        (),
    ),
    "azure-native:network:PrivateDnsZoneGroup": (
        "Microsoft.Network/privateEndpoints/{}/privateDnsZoneGroups",
        "privateDnsZoneGroupName",
        ("privateEndpointName",),
    ),
    "azure-native:privatedns:PrivateZone": (
        "Microsoft.Network/privateDnsZones",
        "privateZoneName",
        (),
    ),
    "azure-native:privatedns:VirtualNetworkLink": (
        "Microsoft.Network/privateDnsZones/{}/virtualNetworkLinks",
        "virtualNetworkLinkName",
        ("privateZoneName",),
    ),
    "azure-native:databricks:Workspace": ("Microsoft.Databricks/workspaces", "workspaceName", ()),
    "azure-native:machinelearningservices:Workspace": (
        "Microsoft.MachineLearningServices/workspaces",
        "workspaceName",
        (),
    ),
    "azure-native:storage:StorageAccount": ("Microsoft.Storage/storageAccounts", "accountName", ()),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault/vaults", "vaultName", ()),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "resourceName",
        (),
    ),
    "azure-native:operationalinsights:Workspace": (
        "Microsoft.OperationalInsights/workspaces",
        "workspaceName",
        (),
    ),
    "azure-native:applicationinsights:Component": (
        "Microsoft.Insights/components",
        "resourceName",
        (),
    ),
    "azure-native:containerregistry:Registry": (
        "Microsoft.ContainerRegistry/registries",
        "registryName",
        (),
    ),
    "azure-native:machinelearningservices:OnlineEndpoint": (
        "Microsoft.MachineLearningServices/workspaces/{}/onlineEndpoints",
        "endpointName",
        ("workspaceName",),
    ),
    "azure-native:machinelearningservices:OnlineDeployment": (
        "Microsoft.MachineLearningServices/workspaces/{}/onlineEndpoints/{}/deployments",
        "deploymentName",
        ("workspaceName", "endpointName"),
    ),
    "azure-native:machinelearningservices:Compute": (
        "Microsoft.MachineLearningServices/workspaces/{}/computes",
        "computeName",
        ("workspaceName",),
    ),
    "azure-native:machinelearningservices:BatchEndpoint": (
        "Microsoft.MachineLearningServices/workspaces/{}/batchEndpoints",
        "endpointName",
        ("workspaceName",),
    ),
    "azure-native:machinelearningservices:ManagedNetworkSettingsRule": (
        "Microsoft.MachineLearningServices/workspaces/{}/outboundRules",
        "ruleName",
        ("workspaceName",),
    ),
    "azure-native:machinelearningservices:BatchDeployment": (
        "Microsoft.MachineLearningServices/workspaces/{}/batchEndpoints/{}/deployments",
        "deploymentName",
        ("workspaceName", "endpointName"),
    ),
    "azure-native:authorization:ManagementLockAtResourceGroupLevel": (
        "Microsoft.Authorization/locks",
        "lockName",
        (),
    ),
    "azure-native:databricks:AccessConnector": (
        "Microsoft.Databricks/accessConnectors",
        "connectorName",
        (),
    ),
}
# Extension resources: token -> (provider path after `{scope}/providers/`, scope input, name input)
EXTENSION_TYPES: dict[str, tuple[str, str, str]] = {
    "azure-native:monitor:DiagnosticSetting": (
        "Microsoft.Insights/diagnosticSettings",
        "resourceUri",
        "name",
    ),
    "azure-native:consumption:Budget": ("Microsoft.Consumption/budgets", "scope", "budgetName"),
    "azure-native:authorization:ManagementLockByScope": (
        "Microsoft.Authorization/locks",
        "scope",
        "lockName",
    ),
}


def secret_value(value: Any) -> Any | None:
    """The plain value of an input the program marked secret, or None if it is not one."""
    if isinstance(value, Mapping) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value["value"]
    return None


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _digits(text: str, n: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:n]


def arm_id(type_: str, name: str, inputs: Mapping[str, Any]) -> str:
    """The ARM id Azure gives a resource of this token, name and inputs."""
    subscription = f"/subscriptions/{SUBSCRIPTION_ID}"
    if type_ == "azure-native:resources:ResourceGroup":
        return f"{subscription}/resourceGroups/{inputs.get('resourceGroupName', name)}"
    if type_ == "azure-native:authorization:RoleAssignment":
        assignment = inputs.get("roleAssignmentName", _guid(name))
        return f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{assignment}"
    if type_ in EXTENSION_TYPES:
        path, scope_key, name_key = EXTENSION_TYPES[type_]
        return f"{inputs[scope_key]}/providers/{path}/{inputs.get(name_key, name)}"
    path, name_key, parent_keys = ARM_TYPES[type_]
    path = path.format(*(inputs[k] for k in parent_keys))
    group = inputs.get("resourceGroupName", "rg")
    return f"{subscription}/resourceGroups/{group}/providers/{path}/{inputs.get(name_key, name)}"


def preview_outputs(type_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What is known of Azure's answer before deployment: the `name` a resource is created
    under, when its name input is a plain string (not an output of another resource)."""
    if type_ == "azure-native:resources:ResourceGroup":
        name_key = "resourceGroupName"
    elif type_ in ARM_TYPES:
        name_key = ARM_TYPES[type_][1]
    else:
        return {}
    name = inputs.get(name_key)
    return {"name": name} if isinstance(name, str) else {}


def azure_outputs(type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id, state) as Azure and Databricks return them after a deployment."""
    state = dict(inputs)
    if type_.startswith("azure-native:"):
        rid = arm_id(type_, name, inputs)
        state.update(id=rid, name=rid.rsplit("/", 1)[-1], azureApiVersion="2025-01-01")
        state.update(_ARM_OUTPUTS.get(type_, _nothing)(rid, inputs, state))
        return rid, state
    if type_ == "databricks:index/secretScope:SecretScope":
        return inputs["name"], state
    if type_ == "databricks:index/secret:Secret":
        scope, key = inputs["scope"], inputs["key"]
        state["configReference"] = f"{{{{secrets/{scope}/{key}}}}}"
        return f"{scope}|||{key}", state
    if type_ == "databricks:index/cluster:Cluster":
        cluster_id = f"1126-{_digits(name, 6)}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
        state.update(
            clusterId=cluster_id,
            state="TERMINATED",
            url=f"/#setting/clusters/{cluster_id}/configuration",
        )
        return cluster_id, state
    if type_.startswith("databricks:index/mws"):
        return _account_object(type_, name, state)
    return f"{name}-id", state


def _account_object(type_: str, name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An NCC, its private endpoint rule or binding as the account API returns it."""
    ncc = _guid("ncc", name)
    if type_.endswith(":MwsNetworkConnectivityConfig"):
        state.update(networkConnectivityConfigId=ncc)
        return f"{_guid('account')}/{ncc}", state
    if type_.endswith(":MwsNccPrivateEndpointRule"):
        rule = _guid("rule", name)
        state.update(ruleId=rule, endpointName=f"databricks-{rule}-pe", connectionState="PENDING")
        return f"{state.get('networkConnectivityConfigId')}/{rule}", state
    return f"{state.get('workspaceId')}/{state.get('networkConnectivityConfigId')}", state


# What ARM adds to a resource of each type, from (its id, its inputs, its state so far).
ArmOutputs = Callable[[str, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]


def _nothing(_rid: str, _inputs: Mapping[str, Any], _state: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def _identity(rid: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A system-assigned identity as ARM reports it."""
    identity = dict(inputs.get("identity", {}))
    if isinstance(identity.get("userAssignedIdentities"), list):
        # ARM answers a map: identity id -> its principal and client ids.
        identity["userAssignedIdentities"] = {
            uid: {"principalId": _guid(uid, "identity"), "clientId": _guid(uid, "client")}
            for uid in identity["userAssignedIdentities"]
        }
    return {
        **identity,
        "principalId": _guid(rid, "identity"),
        "tenantId": TENANT_ID,
    }


def _properties(inputs: Mapping[str, Any], **read_only: str) -> dict[str, Any]:
    return {**inputs.get("properties", {}), **read_only}


def _databricks_workspace(
    rid: str, _inputs: Mapping[str, Any], state: Mapping[str, Any]
) -> dict[str, Any]:
    number = _digits(rid, 16)
    # Azure names the workspace (DBFS root) storage account unless the inputs do.
    parameters = dict(state.get("parameters") or {})
    parameters.setdefault(
        "storageAccountName", {"type": "String", "value": f"dbstorage{number[:13]}"}
    )
    return {
        "workspaceId": number,
        "workspaceUrl": f"adb-{number}.{number[-1]}.azuredatabricks.net",
        "provisioningState": "Succeeded",
        "parameters": parameters,
        **_databricks_key_identities(rid, state),
    }


def _databricks_key_identities(rid: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """The identities Azure adds for customer-managed keys: the DBFS storage account's (with
    prepareEncryption) and the disk encryption set's (with a managed disk key)."""
    found: dict[str, Any] = {}
    prepare = ((state.get("parameters") or {}).get("prepareEncryption") or {}).get("value")
    if prepare:
        found["storageAccountIdentity"] = {
            "principalId": _guid(rid, "storage"), "tenantId": TENANT_ID, "type": "SystemAssigned"
        }  # fmt: skip
    if ((state.get("encryption") or {}).get("entities") or {}).get("managedDisk"):
        found["managedDiskIdentity"] = {
            "principalId": _guid(rid, "disk"), "tenantId": TENANT_ID, "type": "SystemAssigned"
        }  # fmt: skip
        found["diskEncryptionSetId"] = f"{rid}-des"
    return found


# The version every key has under the mocks (a Key Vault key version: 32 hex digits).
KEY_VERSION = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def key_vault_key(args: Mapping[str, Any]) -> dict[str, Any]:
    """keyvault.getKey as ARM answers for an existing key (its latest version)."""
    uri = f"https://{args['vaultName']}.vault.azure.net/keys/{args['keyName']}"
    return {"name": args["keyName"], "keyUri": uri, "keyUriWithVersion": f"{uri}/{KEY_VERSION}"}


def _aml_workspace(
    rid: str, inputs: Mapping[str, Any], _state: Mapping[str, Any]
) -> dict[str, Any]:
    ws_guid = _guid(rid)
    location = inputs.get("location", "westeurope")
    private = inputs.get("publicNetworkAccess") == "Disabled"
    host = f"{ws_guid}.workspace.{location}" if private else location
    return {
        "workspaceId": ws_guid,
        "mlFlowTrackingUri": f"azureml://{host}.api.azureml.ms/mlflow/v1.0{rid}",
        "discoveryUrl": f"https://{location}.api.azureml.ms/discovery",
        "identity": _identity(rid, inputs),
    }


def _online_endpoint(
    rid: str, inputs: Mapping[str, Any], state: Mapping[str, Any]
) -> dict[str, Any]:
    host = _inference_host(inputs, state)
    scoring = {"scoringUri": f"{host}/score", "swaggerUri": f"{host}/swagger.json"}
    return {
        "properties": _properties(inputs, **scoring, provisioningState="Succeeded"),
        "identity": _identity(rid, inputs),
    }


def _batch_endpoint(
    _rid: str, inputs: Mapping[str, Any], state: Mapping[str, Any]
) -> dict[str, Any]:
    scoring_uri = f"{_inference_host(inputs, state)}/jobs"
    return {
        "properties": _properties(inputs, scoringUri=scoring_uri, provisioningState="Succeeded")
    }


def _inference_host(inputs: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    """An endpoint's https://<name>.<region>.inference.ml.azure.com."""
    return f"https://{state['name']}.{inputs.get('location', 'westeurope')}.inference.ml.azure.com"


def _storage_account(
    _rid: str, _inputs: Mapping[str, Any], state: Mapping[str, Any]
) -> dict[str, Any]:
    account = state["name"]
    return {
        "primaryEndpoints": {
            s: f"https://{account}.{s}.core.windows.net/"
            for s in ("blob", "file", "queue", "table", "dfs")
        }
    }


_ARM_OUTPUTS: dict[str, ArmOutputs] = {
    "azure-native:databricks:Workspace": _databricks_workspace,
    "azure-native:machinelearningservices:Workspace": _aml_workspace,
    "azure-native:machinelearningservices:OnlineEndpoint": _online_endpoint,
    "azure-native:machinelearningservices:BatchEndpoint": _batch_endpoint,
    "azure-native:machinelearningservices:Compute": lambda rid, inputs, _state: {
        "identity": _identity(rid, inputs)
    },
    "azure-native:databricks:AccessConnector": lambda rid, inputs, _state: {
        "identity": _identity(rid, inputs)
    },
    "azure-native:machinelearningservices:OnlineDeployment": lambda _rid, inputs, _state: {
        "properties": _properties(inputs, provisioningState="Succeeded")
    },
    "azure-native:operationalinsights:Workspace": lambda rid, _inputs, _state: {
        "customerId": _guid(rid, "customer")
    },
    "azure-native:applicationinsights:Component": lambda rid, _inputs, _state: {
        "instrumentationKey": _guid(rid, "ikey"),
        "connectionString": f"InstrumentationKey={_guid(rid, 'ikey')}",
    },
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:managedidentity:UserAssignedIdentity": lambda rid, _inputs, _state: {
        "principalId": _guid(rid, "identity"),
        "clientId": _guid(rid, "client"),
        "tenantId": TENANT_ID,
    },
    "azure-native:keyvault:Vault": lambda _rid, inputs, state: {
        "properties": _properties(inputs, vaultUri=f"https://{state['name']}.vault.azure.net/")
    },
}


class StackMocks(pulumi_mocks.Mocks):
    """Answers the engine's questions as Azure and Databricks would; applies stack transforms."""

    def __init__(self, deployed: bool) -> None:
        self.deployed = deployed
        self.transforms: list[Any] = []

    def register_transform(self, transform: Any) -> None:
        self.transforms.append(transform)

    def transformed(self, args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
        props = dict(args.inputs)
        for transform in self.transforms:
            result = _run_transform(transform, args, props)
            if result is not None:
                props = dict(result.props)
        return props

    def transform_dependencies(self, args: pulumi_mocks.MockResourceArgs) -> list[tuple[str, str]]:
        """(type, name) of each resource a stack transform makes `args` depend on (the engine
        adds them to the resource's dependencies)."""
        found: list[tuple[str, str]] = []
        for transform in self.transforms:
            result = _run_transform(transform, args, dict(args.inputs))
            if result is not None and result.opts is not None and result.opts.depends_on:
                for resource in result.opts._depends_on_list():
                    found.append((resource._type, resource._name))  # type: ignore[union-attr]
        return found

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = self.transformed(args)
        if not self.deployed:
            return "", {**inputs, **preview_outputs(args.typ, inputs)}
        return azure_outputs(args.typ, args.name, inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": DEPLOYER_CLIENT_ID,
                "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }
        if args.token == "azure-native:keyvault:getKey":
            return key_vault_key(args.args)
        raise NotImplementedError(f"no mock for call {args.token}")


def _run_transform(
    transform: Any, args: pulumi_mocks.MockResourceArgs, props: dict[str, Any]
) -> Any:
    """A stack transform's result for the resource `args` with `props`, as the engine runs it."""
    result = transform(
        pulumi.ResourceTransformArgs(
            custom=bool(args.custom),
            type_=args.typ,
            name=args.name,
            props=props,
            opts=pulumi.ResourceOptions(),
        )
    )
    return _sync_await(result) if asyncio.iscoroutine(result) else result


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping what each registration asked for."""

    def __init__(self, mocks: StackMocks) -> None:
        super().__init__(mocks)
        self.declared: list[DeclaredResource] = []

    def Invoke(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if not self.mocks.deployed and request.tok in ANSWERED_AFTER_LOGIN:
            # Offline there is no Azure login to answer from: the result stays unknown.
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return super().Invoke(request)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        by_transform = [
            d.urn
            for wanted in self.mocks.transform_dependencies(_mock_args(request))
            for d in self.declared
            if (d.type, d.name) == wanted
        ]
        self.declared.append(
            DeclaredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=self.mocks.transformed(_mock_args(request)),
                outputs=dict(registration.state),
                id=registration.id or "",
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=list(request.ignoreChanges),
                aliases=list(request.aliases),
                replace_with=list(request.replace_with),
                depends_on=[*request.dependencies, *by_transform],
                provider=request.provider,
                delete_before_replace=bool(request.deleteBeforeReplace),
            )
        )
        return response


def _mock_args(request: Any) -> pulumi_mocks.MockResourceArgs:
    return pulumi_mocks.MockResourceArgs(
        typ=request.type,
        name=request.name,
        inputs=rpc.deserialize_properties(request.object),
        custom=bool(request.custom),
    )


def run_program(
    config: Mapping[str, Any],
    stack: str = "dev",
    *,
    deployed: bool = True,
    secret_keys: Set[str] = frozenset(),
    program: Path = PROGRAM,
) -> ProgramResult:
    """Run `program` under mocks with `config` (full keys, Pulumi's string values).

    A config error the program reports as pulumi.RunError comes back in `error`, with the
    resources declared before it (none, when validation comes first).
    """
    return run_function(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        config,
        stack,
        deployed=deployed,
        secret_keys=secret_keys,
    )


def run_function(
    body: Callable[[], Any],
    config: Mapping[str, Any] | None = None,
    stack: str = "dev",
    *,
    deployed: bool = True,
    secret_keys: Set[str] = frozenset(),
) -> ProgramResult:
    """Run `body` (which declares resources, e.g. one component) as a program under mocks."""
    from pulumi.runtime.settings import ROOT, SETTINGS, get_root_resource
    from pulumi.runtime.stack import run_pulumi_func

    ROOT.set(None)  # a fresh stack resource, so no output of an earlier run is carried over
    mocks = StackMocks(deployed)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=not deployed, monitor=monitor
    )
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()

    error: str | None = None
    try:
        _sync_await(run_pulumi_func(body))
    except pulumi.RunError as exc:
        error = str(exc)

    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    root = get_root_resource()
    exported = getattr(root, "outputs", {}) if error is None else {}
    for key, value in exported.items():
        output = pulumi.Output.from_input(value)
        known = _sync_await(output.is_known())
        outputs[key] = _sync_await(output.future()) if known else UNKNOWN
        if _sync_await(output.is_secret()):
            secret.add(key)
    return ProgramResult(monitor.declared, outputs, secret, error)
