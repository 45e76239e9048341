"""`pulumi-resource-azure-native`: the stand-in for the azure-native provider.

Each resource type maps to one ARM resource id; Create and Update PUT the ARM body, Read GETs
it, Delete DELETEs it, long-running operations are polled through Azure-AsyncOperation or
Location, and 408/429/5xx are retried (honouring Retry-After) as the Azure SDKs do. ARM is
found as the real provider finds a custom cloud: `azure-native:metadataHost` names the host
whose `/metadata/endpoints?api-version=2022-09-01` document gives `resourceManager`. The token
comes from the Azure CLI (AzureCliCredential), the subscription from config or `az account show`.

SDK inputs to ARM body: the id's name inputs build the path; location, tags, sku, identity,
kind, zones and extendedLocation stay top-level; every other input goes under `properties`
(or, for types whose SDK input is itself the properties object, that input is `properties`).
Outputs are ARM's answer with `properties` flattened back, as the SDK reads them.

Refresh (Read) records inputs as pulumi-azure-native's Read does (provider/pkg/provider/
provider.go): it projects the old and the new outputs onto the type's inputs (read-only
properties dropped; the input names come from the installed SDK's `<Type>Args`), and applies
their difference to the old inputs. Sub-resource properties the old inputs left unset (an NSG's
`securityRules`, a VNet's `subnets`: MaintainSubResourceIfUnset in its metadata) stay out of the
new inputs, and an update keeps the live ones (MaintainSubResourcePropertiesIfNotSet).

Not modelled: the real provider's per-property `forceNew` metadata. Here a change of a name
input, the scope or the location replaces; every other change is a PUT, which the fake ARM
refuses where Azure marks a property as unchangeable.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import re
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.e2e.standin.provider import (
    HttpAnswer,
    ProviderError,
    StandInProvider,
    https,
    serve,
)

METADATA_API_VERSION = "2022-09-01"
ARM_SCOPE = "https://management.azure.com/.default"
TOP_LEVEL = ("location", "tags", "sku", "identity", "kind", "zones", "extendedLocation")
RETRIED = (408, 429, 500, 502, 503, 504)
RETRIES = 3
POLL_SECONDS = 0.2
POLL_LIMIT = 600
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
NETWORK = RG + "/providers/Microsoft.Network"
AML = RG + "/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}"


@dataclass(frozen=True)
class ArmType:
    path: str  # {input} placeholders; the last one is the resource's own name
    api_version: str  # a stable version Microsoft documents for the type
    properties_input: str | None = None  # the SDK input that is ARM's `properties`, if any
    top_level_only: bool = False  # no `properties` in the body (resource groups)

    @property
    def name_inputs(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


# Every azure-native type the program declares. An unknown type fails loudly.
TYPES: dict[str, ArmType] = {
    "azure-native:resources:ResourceGroup": ArmType(RG, "2024-03-01", top_level_only=True),
    "azure-native:network:VirtualNetwork": ArmType(
        NETWORK + "/virtualNetworks/{virtualNetworkName}", "2024-05-01"
    ),
    "azure-native:network:Subnet": ArmType(
        NETWORK + "/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}", "2024-05-01"
    ),
    "azure-native:network:NetworkSecurityGroup": ArmType(
        NETWORK + "/networkSecurityGroups/{networkSecurityGroupName}", "2024-05-01"
    ),
    "azure-native:network:NatGateway": ArmType(
        NETWORK + "/natGateways/{natGatewayName}", "2024-05-01"
    ),
    "azure-native:network:RouteTable": ArmType(
        NETWORK + "/routeTables/{routeTableName}", "2024-05-01"
    ),
    "azure-native:network:PublicIPAddress": ArmType(
        NETWORK + "/publicIPAddresses/{publicIpAddressName}", "2024-05-01"
    ),
    "azure-native:network:PrivateEndpoint": ArmType(
        NETWORK + "/privateEndpoints/{privateEndpointName}", "2024-05-01"
    ),
    "azure-native:network:PrivateDnsZoneGroup": ArmType(
        NETWORK + "/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/"
        "{privateDnsZoneGroupName}",
        "2024-05-01",
    ),
    "azure-native:privatedns:PrivateZone": ArmType(
        NETWORK + "/privateDnsZones/{privateZoneName}", "2024-06-01"
    ),
    "azure-native:privatedns:VirtualNetworkLink": ArmType(
        NETWORK + "/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{virtualNetworkLinkName}",
        "2024-06-01",
    ),
    "azure-native:storage:StorageAccount": ArmType(
        RG + "/providers/Microsoft.Storage/storageAccounts/{accountName}", "2024-01-01"
    ),
    "azure-native:keyvault:Vault": ArmType(
        RG + "/providers/Microsoft.KeyVault/vaults/{vaultName}", "2024-11-01", "properties"
    ),
    "azure-native:operationalinsights:Workspace": ArmType(
        RG + "/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}", "2023-09-01"
    ),
    "azure-native:applicationinsights:Component": ArmType(
        RG + "/providers/Microsoft.Insights/components/{resourceName}", "2020-02-02"
    ),
    "azure-native:containerregistry:Registry": ArmType(
        RG + "/providers/Microsoft.ContainerRegistry/registries/{registryName}", "2023-07-01"
    ),
    "azure-native:machinelearningservices:Workspace": ArmType(AML, "2024-04-01"),
    "azure-native:machinelearningservices:ManagedNetworkSettingsRule": ArmType(
        AML + "/outboundRules/{ruleName}", "2025-12-01", "properties"
    ),
    "azure-native:machinelearningservices:OnlineEndpoint": ArmType(
        AML + "/onlineEndpoints/{endpointName}", "2024-04-01", "properties"
    ),
    "azure-native:machinelearningservices:OnlineDeployment": ArmType(
        AML + "/onlineEndpoints/{endpointName}/deployments/{deploymentName}",
        "2024-04-01",
        "properties",
    ),
    "azure-native:machinelearningservices:Compute": ArmType(
        AML + "/computes/{computeName}", "2025-12-01", "properties"
    ),
    "azure-native:machinelearningservices:BatchEndpoint": ArmType(
        AML + "/batchEndpoints/{endpointName}", "2025-12-01", "properties"
    ),
    "azure-native:machinelearningservices:BatchDeployment": ArmType(
        AML + "/batchEndpoints/{endpointName}/deployments/{deploymentName}",
        "2025-12-01",
        "properties",
    ),
    "azure-native:databricks:Workspace": ArmType(
        RG + "/providers/Microsoft.Databricks/workspaces/{workspaceName}", "2024-05-01"
    ),
    "azure-native:authorization:RoleAssignment": ArmType(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        "2022-04-01",
    ),
    "azure-native:authorization:ManagementLockAtResourceGroupLevel": ArmType(
        RG + "/providers/Microsoft.Authorization/locks/{lockName}", "2020-05-01"
    ),
    "azure-native:authorization:ManagementLockByScope": ArmType(
        "{scope}/providers/Microsoft.Authorization/locks/{lockName}", "2020-05-01"
    ),
    "azure-native:monitor:DiagnosticSetting": ArmType(
        "{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}",
        "2021-05-01-preview",
    ),
    "azure-native:consumption:Budget": ArmType(
        "{scope}/providers/Microsoft.Consumption/budgets/{budgetName}", "2024-08-01"
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ArmType(
        RG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        "2023-01-31",
    ),
    "azure-native:databricks:AccessConnector": ArmType(
        RG + "/providers/Microsoft.Databricks/accessConnectors/{connectorName}", "2024-05-01"
    ),
}


# Sub-resource properties azure-native keeps when the inputs leave them unset
# (MaintainSubResourceIfUnset in pulumi-azure-native's resource metadata).
MAINTAINED_SUB_RESOURCES: dict[str, tuple[str, ...]] = {
    "azure-native:network:NetworkSecurityGroup": ("securityRules",),
    "azure-native:network:VirtualNetwork": ("subnets",),
}
_MISSING = object()


@functools.cache
def _args_names(module: str, args_class: str) -> dict[str, str | None]:
    """Input name (wire, camelCase) -> the name of its nested `*Args` class, if any."""
    package = importlib.import_module(f"pulumi_azure_native.{module.replace('/', '.')}")
    args = getattr(package, args_class, None)
    if args is None:
        # A resource's own Args class lives in the resource's module, which the package imports
        # lazily (and not thread-safely): import it by name (import_module holds the lock).
        resource = re.sub(r"(?<!^)(?=[A-Z])", "_", args_class.removesuffix("Args")).lower()
        args = getattr(importlib.import_module(f"{package.__name__}.{resource}"), args_class)
    names: dict[str, str | None] = {}
    for attribute in vars(args).values():
        name = getattr(getattr(attribute, "fget", None), "_pulumi_name", None)
        if isinstance(attribute, property) and name:
            hint = str(inspect.signature(attribute.fget).return_annotation)
            nested = re.search(r"ForwardRef\('(\w+Args)'\)", hint)
            names[name] = nested.group(1) if nested else None
    return names


def input_projection(type_: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """`outputs` in the shape of the type's inputs: read-only properties dropped (for the
    object that is ARM's `properties`, one level down too)."""
    module, name = type_.split(":")[1:]
    names = _args_names(module, f"{name}Args")
    nested_input = arm_type(type_).properties_input
    projected: dict[str, Any] = {}
    for key, value in outputs.items():
        if key not in names:
            continue
        nested = names[key]
        if key == nested_input and nested and isinstance(value, dict):
            inner = _args_names(module, nested)
            value = {k: v for k, v in value.items() if k in inner}
        projected[key] = value
    return projected


def apply_changes(inputs: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict:
    """`inputs` with what changed from `old` to `new` applied, key by key, objects deeply."""
    result = dict(inputs)
    for key in set(old) | set(new):
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if before == after:
            continue
        if after is _MISSING:
            result.pop(key, None)
        elif isinstance(before, dict) and isinstance(after, dict):
            result[key] = apply_changes(dict(result.get(key) or {}), before, after)
        else:
            result[key] = after
    return result


def arm_type(type_: str) -> ArmType:
    try:
        return TYPES[type_]
    except KeyError:
        raise ProviderError(
            f"azure-native stand-in: no ARM mapping for {type_}; add it to TYPES in "
            "tests/e2e/standin/azure_native.py"
        ) from None


def body_from_inputs(kind: ArmType, inputs: dict[str, Any]) -> dict[str, Any]:
    names = set(kind.name_inputs) | {"subscriptionId"}
    rest = {k: v for k, v in inputs.items() if k not in names}
    body = {k: rest.pop(k) for k in TOP_LEVEL if k in rest}
    if kind.top_level_only:
        body.update(rest)
    elif kind.properties_input is not None:
        body["properties"] = rest.pop(kind.properties_input, {})
        body.update(rest)
    else:
        body["properties"] = rest
    return {**body, **identity_map(body)}


def identity_map(values: dict[str, Any]) -> dict[str, Any]:
    """The SDK takes `identity.userAssignedIdentities` as a list of ids; azure-native sends, and
    answers in previews, ARM's map (id -> {}). {} when there is nothing to shape."""
    identity = values.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        ids = identity["userAssignedIdentities"]
        return {"identity": {**identity, "userAssignedIdentities": {i: {} for i in ids}}}
    return {}


def outputs_from_arm(kind: ArmType, answer: dict[str, Any]) -> dict[str, Any]:
    outputs = {k: v for k, v in answer.items() if k != "properties"}
    props = answer.get("properties") or {}
    if kind.properties_input is not None:
        outputs[kind.properties_input] = props
    else:
        outputs.update(props)
    outputs["azureApiVersion"] = kind.api_version
    return outputs


def arm_message(answer: HttpAnswer) -> str:
    error = (answer.body or {}).get("error", {}) if isinstance(answer.body, dict) else {}
    return f'Status={answer.status} Code="{error.get("code", "")}" Message="{error.get("message", answer.body)}"'


class AzureNative(StandInProvider):
    name = "azure-native"
    package = "pulumi-azure-native"

    def __init__(self) -> None:
        super().__init__()
        self.endpoint = ""
        self._token: str | None = None
        self._account: dict[str, Any] | None = None

    # --- configuration, identity -----------------------------------------------------------

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config
        host = config.get("metadataHost")
        if not host:
            raise ProviderError(
                "azure-native stand-in: set azure-native:metadataHost; it reaches only a custom "
                "cloud (the loopback fake), never public Azure"
            )
        answer = https(
            "GET", f"https://{host}/metadata/endpoints?api-version={METADATA_API_VERSION}"
        )
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise ProviderError(f"no cloud metadata at {host}: {answer.status}")
        self.endpoint = str(answer.body["resourceManager"]).rstrip("/")

    def account(self) -> dict[str, Any]:
        if self._account is None:
            self._account = json.loads(
                subprocess.run(
                    ["az", "account", "show", "--output", "json"],
                    check=True, capture_output=True, text=True,
                ).stdout
            )  # fmt: skip
        return self._account

    def subscription_id(self) -> str:
        return str(self.config.get("subscriptionId") or self.account()["id"])

    def token(self) -> str:
        if self._token is None:
            from azure.identity import AzureCliCredential

            self._token = AzureCliCredential().get_token(ARM_SCOPE).token
        return self._token

    def invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if token == "azure-native:authorization:getClientConfig":
            account = self.account()
            return {
                "subscriptionId": self.subscription_id(),
                "tenantId": str(self.config.get("tenantId") or account["tenantId"]),
                "clientId": str(account.get("clientId", "04b07795-8ddb-461a-bbee-02f9e1bf7b46")),
                "objectId": str(account.get("objectId", uuid.UUID(int=1))),
            }
        if token == "azure-native:keyvault:getKey":
            return self.get_key(args)
        return super().invoke(token, args)

    def preview_outputs(self, _type: str, inputs: dict[str, Any]) -> dict[str, Any]:
        shaped = identity_map(inputs)
        return {**inputs, **shaped} if shaped else inputs

    def get_key(self, args: dict[str, Any]) -> dict[str, Any]:
        """keyvault.getKey: ARM's Keys_Get, properties flattened as the SDK reads them."""
        path = (
            f"/subscriptions/{self.subscription_id()}/resourceGroups/{args['resourceGroupName']}"
            f"/providers/Microsoft.KeyVault/vaults/{args['vaultName']}/keys/{args['keyName']}"
        )
        answer = self.arm("GET", f"{path}?api-version=2024-11-01")
        if answer.status != 200:
            raise ProviderError(f"reading key {args['keyName']}: {arm_message(answer)}")
        body = dict(answer.body)
        return {**{k: v for k, v in body.items() if k != "properties"}, **body["properties"]}

    # --- ARM --------------------------------------------------------------------------------

    def arm(self, method: str, url: str, body: Any = None) -> HttpAnswer:
        if not url.startswith("https://"):
            url = self.endpoint + url
        for attempt in range(RETRIES + 1):
            answer = https(method, url, body=body, token=self.token())
            if answer.status not in RETRIED or attempt == RETRIES:
                return answer
            time.sleep(min(float(answer.headers.get("retry-after", "0") or 0), 5) + 0.1 * attempt)
        raise AssertionError("unreachable")

    def wait(self, answer: HttpAnswer, what: str) -> None:
        """Poll a long-running operation to its end; raise if it failed."""
        status_url = answer.headers.get("azure-asyncoperation")
        location_url = answer.headers.get("location")
        if answer.status not in (201, 202) or not (status_url or location_url):
            return
        for _ in range(POLL_LIMIT):
            if status_url:
                polled = self.arm("GET", status_url)
                state = (polled.body or {}).get("status", "") if polled.status == 200 else ""
                if polled.status >= 400 or state in ("Failed", "Canceled"):
                    error = (polled.body or {}).get("error", {}) if polled.status < 400 else {}
                    message = (
                        arm_message(polled)
                        if polled.status >= 400
                        else (
                            f'Code="{error.get("code", "")}" Message="{error.get("message", "")}"'
                        )
                    )
                    raise ProviderError(f"{what}: the operation failed: {message}")
                if state == "Succeeded":
                    return
            else:
                polled = self.arm("GET", str(location_url))
                if polled.status >= 400:
                    raise ProviderError(f"{what}: the operation failed: {arm_message(polled)}")
                if polled.status != 202:
                    return
            time.sleep(POLL_SECONDS)
        raise ProviderError(f"{what}: the operation did not end")

    def resource_id(self, type_: str, inputs: dict[str, Any]) -> str:
        kind = arm_type(type_)
        values = {"subscriptionId": self.subscription_id(), **inputs}
        missing = [n for n in kind.name_inputs if not values.get(n)]
        if missing:
            raise ProviderError(f"{type_}: missing {', '.join(missing)}")
        return kind.path.format(**{n: values[n] for n in kind.name_inputs})

    # --- resource operations ---------------------------------------------------------------

    def replace_keys(self, type_: str) -> tuple[str, ...]:
        return (*arm_type(type_).name_inputs, "location")

    def check(self, type_: str, name: str, olds: dict[str, Any], news: dict[str, Any]) -> dict:
        own = arm_type(type_).name_inputs[-1]
        if not news.get(own):  # autonaming, kept from the previous inputs
            if type_ == "azure-native:authorization:RoleAssignment":
                news[own] = olds.get(own) or str(uuid.uuid4())  # a GUID
            else:
                news[own] = olds.get(own) or f"{name}{uuid.uuid4().hex[:8]}"
        return news

    def _put(
        self, type_: str, inputs: dict[str, Any], *, update: bool = False
    ) -> tuple[str, dict[str, Any]]:
        kind = arm_type(type_)
        rid = self.resource_id(type_, inputs)
        what = f"PUT {rid}"
        body = body_from_inputs(kind, inputs)
        if update:
            self._keep_sub_resources(type_, rid, inputs, body)
        answer = self.arm("PUT", f"{rid}?api-version={kind.api_version}", body)
        if answer.status >= 400:
            raise ProviderError(f"{what}: {arm_message(answer)}")
        self.wait(answer, what)
        final = self.arm("GET", f"{rid}?api-version={kind.api_version}")
        if final.status != 200:
            raise ProviderError(f"GET {rid} after PUT: {arm_message(final)}")
        return rid, outputs_from_arm(kind, final.body)

    def create(self, type_: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # Like the real provider, never adopt what exists: that is `pulumi import`'s job.
        rid = self.resource_id(type_, inputs)
        found = self.arm("GET", f"{rid}?api-version={arm_type(type_).api_version}")
        if found.status == 200:
            raise ProviderError(f"resource {rid} already exists; import it into the stack first")
        return self._put(type_, inputs)

    def update(
        self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> dict[str, Any]:
        return self._put(type_, news, update=True)[1]

    def _keep_sub_resources(
        self, type_: str, rid: str, inputs: dict[str, Any], body: dict[str, Any]
    ) -> None:
        """Sub-resource properties the inputs leave unset keep their live value."""
        unset = [p for p in MAINTAINED_SUB_RESOURCES.get(type_, ()) if p not in inputs]
        if not unset:
            return
        live = self.arm("GET", f"{rid}?api-version={arm_type(type_).api_version}")
        properties = (live.body or {}).get("properties") or {} if live.status == 200 else {}
        for name in unset:
            if name in properties:
                body.setdefault("properties", {})[name] = properties[name]

    def read(self, type_: str, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        kind = arm_type(type_)
        answer = self.arm("GET", f"{id_}?api-version={kind.api_version}")
        if answer.status == 404:
            return None
        if answer.status >= 400:
            raise ProviderError(f"GET {id_}: {arm_message(answer)}")
        return outputs_from_arm(kind, answer.body)

    def read_inputs(
        self,
        type_: str,
        inputs: dict[str, Any],
        old_outputs: dict[str, Any],
        outputs: dict[str, Any],
    ) -> dict[str, Any]:
        if not inputs:  # an import: azure-native builds inputs from the response instead
            return inputs
        unset = [p for p in MAINTAINED_SUB_RESOURCES.get(type_, ()) if p not in inputs]
        kept = {k: v for k, v in outputs.items() if k not in unset}
        return apply_changes(
            inputs, input_projection(type_, old_outputs), input_projection(type_, kept)
        )

    def delete(self, type_: str, id_: str, state: dict[str, Any]) -> None:
        kind = arm_type(type_)
        answer = self.arm("DELETE", f"{id_}?api-version={kind.api_version}")
        if answer.status == 404:
            return
        if answer.status >= 400:
            raise ProviderError(f"DELETE {id_}: {arm_message(answer)}")
        self.wait(answer, f"DELETE {id_}")


if __name__ == "__main__":
    serve(AzureNative())
