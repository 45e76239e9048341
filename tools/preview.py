"""Offline preview: what `pulumi up` would create for a stack, without Azure or the Pulumi CLI.

    python -m tools.preview [--stack dev] [--json]

Reads `Pulumi.<stack>.yaml` (and the defaults declared in `Pulumi.yaml`), runs the real program
under the SDK's mocks (tools/offline.py) and prints the resource tree with key settings, a count
and the stack outputs, then what the stack leaves reachable from the internet (tools/exposure.py).
`secure:` values are shown as [secret] and never decrypted; values only Azure knows after
deployment read "(known after deploy)". A config error prints its one-line message and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi.output import Unknown

from core.placeholders import preview_warning
from core.serverless import serverless_blocked
from core.stack_file import SECRET, read_stack_config
from tools import borrowed
from tools.exposure import exposures, summary
from tools.idle_cost import cost_line, cost_source, idle_costs, serving_sizes
from tools.offline import ROOT, UNKNOWN, DeclaredResource, run_program, secret_value

AFTER_DEPLOY = "(known after deploy)"

# The settings worth seeing per resource type (dotted paths into the wire-named inputs).
KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "azure-native:resources:ResourceGroup": ("resourceGroupName", "location", "tags"),
    "azure-native:network:VirtualNetwork": ("virtualNetworkName", "addressSpace.addressPrefixes"),
    "azure-native:network:Subnet": (
        "subnetName",
        "addressPrefix",
        "delegations",
        "networkSecurityGroup.id",
        "natGateway.id",
    ),
    "azure-native:network:NetworkSecurityGroup": ("networkSecurityGroupName",),
    "azure-native:network:NatGateway": ("natGatewayName", "sku.name", "publicIpAddresses"),
    "azure-native:network:PublicIPAddress": (
        "publicIpAddressName",
        "sku.name",
        "publicIPAllocationMethod",
    ),
    "azure-native:databricks:Workspace": (
        "workspaceName",
        "sku.name",
        "managedResourceGroupId",
        "parameters",
        "requiredNsgRules",
        "publicNetworkAccess",
    ),
    "azure-native:machinelearningservices:Workspace": (
        "workspaceName",
        "publicNetworkAccess",
        "identity.type",
        "storageAccount",
        "keyVault",
        "applicationInsights",
        "containerRegistry",
        "managedNetwork",
    ),
    "azure-native:machinelearningservices:Compute": ("computeName", "identity.type", "properties"),
    "azure-native:machinelearningservices:BatchEndpoint": ("endpointName", "properties"),
    "azure-native:machinelearningservices:BatchDeployment": ("deploymentName", "properties"),
    "azure-native:storage:StorageAccount": (
        "accountName",
        "kind",
        "minimumTlsVersion",
        "allowBlobPublicAccess",
        "publicNetworkAccess",
        "networkRuleSet",
    ),
    "azure-native:keyvault:Vault": ("vaultName", "properties"),
    "azure-native:operationalinsights:Workspace": ("workspaceName", "retentionInDays"),
    "azure-native:applicationinsights:Component": ("resourceName", "kind", "workspaceResourceId"),
    "azure-native:containerregistry:Registry": (
        "registryName",
        "sku.name",
        "adminUserEnabled",
        "publicNetworkAccess",
    ),
    "azure-native:network:PrivateEndpoint": (
        "privateEndpointName",
        "subnet.id",
        "privateLinkServiceConnections",
    ),
    "azure-native:network:PrivateDnsZoneGroup": ("privateDnsZoneConfigs",),
    "azure-native:privatedns:PrivateZone": ("privateZoneName",),
    "azure-native:privatedns:VirtualNetworkLink": ("virtualNetwork.id", "registrationEnabled"),
    "azure-native:authorization:RoleAssignment": (
        "scope",
        "roleDefinitionId",
        "principalId",
        "principalType",
    ),
    "pulumi:providers:databricks": ("host", "azureWorkspaceResourceId"),
    "pulumi-python:dynamic/purge:AmlWorkspacePurge": ("workspace_name", "purge_on_destroy"),
    "pulumi-python:dynamic/purge:KeyVaultPurge": ("key_vault_name", "purge_on_destroy"),
    "pulumi-python:dynamic/purge:DatabricksWorkspaceForceDelete": (
        "workspace_name",
        "managed_resource_group_name",
    ),
    "pulumi-python:dynamic/serving:EndpointTraffic": ("endpoint_name", "deployment_name"),
    "pulumi-python:dynamic/serving:BatchEndpointDefault": ("endpoint_name", "deployment_name"),
    "pulumi-python:dynamic/network:ManagedNetworkProvision": ("isolation_mode",),
    "pulumi-python:dynamic/network:ManagedNetworkGuard": ("isolation_mode",),
    "pulumi-python:dynamic/locks:ProtectGuard": ("protect",),
    "databricks:index/secretScope:SecretScope": ("name", "backendType"),
    "databricks:index/secret:Secret": ("scope", "key", "stringValue"),
    "databricks:index/cluster:Cluster": (
        "clusterName",
        "sparkVersion",
        "nodeTypeId",
        "autoscale",
        "numWorkers",
        "autoterminationMinutes",
        "sparkEnvVars",
        "libraries",
        "dataSecurityMode",
        "singleUserName",
    ),
    "databricks:index/permissions:Permissions": ("accessControls",),
}
CLUSTER = "databricks:index/cluster:Cluster"
DATABRICKS_WORKSPACE = "azure-native:databricks:Workspace"


def stack_config(stack: str, root: Path = ROOT) -> tuple[dict[str, str], set[str]]:
    """Config as the Pulumi CLI hands it to the program (see core/stack_file.py)."""
    return read_stack_config(stack, root)


def _lookup(props: Mapping[str, Any], path: str) -> Any:
    value: Any = props
    for part in path.split("."):
        if isinstance(value, Unknown):
            return value
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def plain(value: Any) -> Any:
    """A value fit to print: unknowns as (known after deploy)."""
    if value is UNKNOWN or isinstance(value, Unknown):
        return AFTER_DEPLOY
    if secret_value(value) is not None:
        return SECRET
    if isinstance(value, float) and value.is_integer():
        return int(value)  # numbers cross the engine's protobuf as floats
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def settings_of(resource: DeclaredResource) -> dict[str, Any]:
    found = {}
    for path in KEY_SETTINGS.get(resource.type, ()):
        value = _lookup(resource.inputs, path)
        if value is not None:
            found[path] = plain(value)
    return found


def _tree(resources: list[DeclaredResource]) -> Iterator[tuple[int, DeclaredResource]]:
    children: dict[str, list[DeclaredResource]] = {}
    urns = {r.urn for r in resources}
    for r in resources:
        children.setdefault(r.parent if r.parent in urns else "", []).append(r)

    def walk(parent: str, depth: int) -> Iterator[tuple[int, DeclaredResource]]:
        for r in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            yield depth, r
            yield from walk(r.urn, depth + 1)

    yield from walk("", 0)


SECRET_ACL = "databricks:index/secretAcl:SecretAcl"


def secret_readers(resources: list[DeclaredResource]) -> str | None:
    """Who can read the service principal's secret: whoever can attach to the cluster."""
    if not any(r.type == "databricks:index/secret:Secret" for r in resources):
        return None
    cluster = next(r for r in resources if r.type == CLUSTER)
    who = ["workspace admins", "the deployer (the cluster's creator, CAN_MANAGE)"]
    if cluster.inputs.get("dataSecurityMode") == "SINGLE_USER":
        who.insert(0, f"{cluster.inputs.get('singleUserName')} (the cluster's single user)")
    for grant in (r for r in resources if r.type == "databricks:index/permissions:Permissions"):
        if "workspaceFilePath" in grant.inputs:  # the published outputs: no secret in them
            continue
        for control in grant.inputs.get("accessControls", []):
            name = next(v for k, v in control.items() if k != "permissionLevel")
            who.insert(0, f"{name} ({control['permissionLevel']})")
    text = "the service principal's secret can be read by whoever attaches to the cluster: " + (
        ", ".join(who)
    )
    scope = [r.inputs["principal"] for r in resources if r.type == SECRET_ACL]
    if scope:  # components/published_outputs.py
        text += "; and on any compute, from the secret scope: " + ", ".join(
            f"{principal} (READ)" for principal in scope
        )
    return text


def credential_users(resources: list[DeclaredResource]) -> str | None:
    """Who can sign in to AzureML with the stack's service credential (no stored secret)."""
    credential = next(
        (r for r in resources if r.type == "databricks:index/credential:Credential"), None
    )
    if credential is None:
        return None
    who = [
        f"{grant['principal']} (ACCESS)"
        for r in resources
        if r.type == "databricks:index/grants:Grants"
        for grant in r.inputs.get("grants", [])
    ]
    return (
        "no secret is stored: notebooks sign in to AzureML with the Unity Catalog service "
        "credential, usable by " + ", ".join([*who, "its owner (the deployer)", "metastore admins"])
    )


def notes(resources: list[DeclaredResource]) -> list[str]:
    found = [text for text in [secret_readers(resources), credential_users(resources)] if text]
    for workspace in (r for r in resources if r.type == DATABRICKS_WORKSPACE):
        if workspace.inputs.get("publicNetworkAccess") == "Disabled":
            found.append(
                "the Databricks workspace's public network access is off: run `pulumi up` from "
                "a network that reaches its private endpoint (a runner in or peered with the VNet)"
            )
    found += managed_network_notes(resources)
    return found


def managed_network_notes(resources: list[DeclaredResource]) -> list[str]:
    """The AzureML managed network is one-way: say so whenever the stack turns it on."""
    return [
        f"the AzureML workspace's managed network is {mode}: one-way, it cannot be turned off "
        "again once applied (Learn, Managed virtual network isolation); on a live workspace, "
        "remove its computes and online endpoints before the first `pulumi up` with it"
        for workspace in resources
        if workspace.type == "azure-native:machinelearningservices:Workspace"
        and (mode := (workspace.inputs.get("managedNetwork") or {}).get("isolationMode"))
        and mode != "Disabled"
    ]


def serverless_warnings(resources: list[DeclaredResource]) -> list[str]:
    """A private AzureML workspace that serverless compute has no NCC to reach."""
    ncc = any(r.type == "databricks:index/mwsNetworkConnectivityConfig:MwsNetworkConnectivityConfig"
              for r in resources)  # fmt: skip
    return [
        serverless_blocked(workspace.inputs.get("location", ""))
        for workspace in resources
        if workspace.type == "azure-native:machinelearningservices:Workspace"
        and workspace.inputs.get("publicNetworkAccess") == "Disabled"
        and not ncc
    ]


# What a resource count separates: Azure's resources from what only Pulumi sees.
RESOURCE_KINDS = (
    ("azure", "Azure resource", "Azure resources"),
    ("databricks", "Databricks workspace object", "Databricks workspace objects"),
    ("providers", "provider", "providers"),
    ("helpers", "helper", "helpers (dynamic resources that purge or wait on Azure)"),
    ("components", "component", "components"),
)


def resource_kind(resource: DeclaredResource) -> str:
    if not resource.custom:
        return "components"
    if resource.type.startswith("pulumi:providers:"):
        return "providers"
    if resource.type.startswith("azure-native:"):
        return "azure"
    if resource.type.startswith("databricks:"):
        return "databricks"
    return "helpers"  # dynamic providers (pulumi-python:dynamic/...)


def resource_counts(resources: list[DeclaredResource]) -> dict[str, int]:
    counts = dict.fromkeys((kind for kind, _, _ in RESOURCE_KINDS), 0)
    for resource in resources:
        counts[resource_kind(resource)] += 1
    return counts


def count_line(resources: list[DeclaredResource]) -> str:
    counts = resource_counts(resources)
    parts = [
        f"{counts[kind]} {one if counts[kind] == 1 else many}"
        for kind, one, many in RESOURCE_KINDS
        if counts[kind]
    ]
    return f"Resources: {len(resources)} to create: {', '.join(parts)}"


def exposure_lines(resources: list[DeclaredResource]) -> list[str]:
    found = exposures(resources)
    lines = ["Exposure (what the internet can reach once deployed):"]
    lines += [f"    {e.line()}" for e in found]
    lines += [f"    {line}" for line in borrowed.lines(resources)]  # the landing zone's part
    return [*lines, f"    {summary(found)}"]


def registry_notes(outputs: Mapping[str, Any]) -> list[str]:
    """What the chosen model registry means on today's Databricks accounts."""
    registry = outputs.get("modelRegistry")
    if registry == "databricks":
        # Databricks docs, "Workspace Model Registry": disabled since April 2024 for workspaces
        # of new accounts whose default catalog is in Unity Catalog.
        return [
            "modelRegistry databricks is the legacy Workspace Model Registry: on a workspace of "
            "a Databricks account created since April 2024 (Unity Catalog by default) "
            "registering fails with PERMISSION_DENIED, the legacy workspace model registry is "
            "disabled; use modelRegistry unity-catalog there (docs/tracking.md, Model registries)"
        ]
    if registry == "unity-catalog":
        schema = outputs.get("modelSchema")
        return [
            f"models are registered in Unity Catalog as {plain(schema)}.<model>; the stack "
            "creates no catalog or schema: by default they are the workspace catalog and its "
            "default schema, where every workspace user has USE CATALOG, USE SCHEMA and CREATE "
            "MODEL; a catalog or schema set with unityCatalog must exist, and the cluster's "
            "users need those there (docs/tracking.md, Model registries)"
        ]
    return []


# An endpoint's URI comes from Azure once the endpoint exists: with the endpoint declared, a
# null in the preview would read as "no endpoint" (the README's meaning of null).
_URI_OF_NAME = {"endpointName": "endpointScoringUri", "batchEndpointName": "batchEndpointUri"}


def preview_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs as the preview shows them: a declared endpoint's URI known after deploy."""
    shown = {k: plain(v) for k, v in outputs.items()}
    for name, uri in _URI_OF_NAME.items():
        if shown.get(name) is not None and shown.get(uri) is None:
            shown[uri] = AFTER_DEPLOY
    return shown


def cost_section(resources: list[DeclaredResource]) -> list[str]:
    """Serving sizes, then what bills while idle; empty when neither applies."""
    sizes, costs = serving_sizes(resources), idle_costs(resources)
    lines = []
    if sizes:
        lines += ["", "Serving:", *(f"    {size}" for size in sizes)]
    if costs:
        lines += ["", f"Billed while idle ({cost_source()}):"]
        lines += [f"    {cost_line(cost)}" for cost in costs]
    return lines


def render_text(
    stack: str,
    resources: list[DeclaredResource],
    outputs: dict[str, Any],
    warnings: list[str] | None = None,
) -> str:
    lines = [f"Preview of stack {stack!r} (offline, what `pulumi up` would create):", ""]
    for depth, r in _tree(resources):
        indent = "    " * depth
        lines.append(f"{indent}+ {r.type}  {r.name}")
        for key, value in settings_of(r).items():
            lines.append(f"{indent}      {key}: {json.dumps(value, sort_keys=True)}")
    lines += ["", count_line(resources), "", "Outputs:"]
    shown = preview_outputs(outputs)
    for key in sorted(shown):
        lines.append(f"    {key}: {json.dumps(shown[key])}")
    found = notes(resources) + registry_notes(outputs)
    if found:
        lines += ["", "Notes:", *(f"    - {note}" for note in found)]
    lines += cost_section(resources)
    lines += ["", *exposure_lines(resources)]
    return "\n".join(lines)


def render_json(
    stack: str,
    resources: list[DeclaredResource],
    outputs: dict[str, Any],
    warnings: list[str] | None = None,
) -> str:
    tree = [
        {"type": r.type, "name": r.name, "parent": r.parent, "depth": depth,
         "settings": settings_of(r)}
        for depth, r in _tree(resources)
    ]  # fmt: skip
    document = {
        "stack": stack,
        "resources": tree,
        "count": len(resources),
        "counts": resource_counts(resources),
        "outputs": preview_outputs(outputs),
        "notes": notes(resources) + registry_notes(outputs),
        "warnings": list(warnings or []),
        "serving": serving_sizes(resources),
        "idle_cost": {"source": cost_source(), "lines": idle_costs(resources)},
        "exposure": {
            "resources": [e.as_dict() for e in exposures(resources)],
            "summary": summary(exposures(resources)),
            "egress": borrowed.egress(resources),
            "borrowed": borrowed.borrowed(resources),
        },
    }
    return json.dumps(document, indent=2, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--project-dir", type=Path, default=ROOT, help="where Pulumi.<stack>.yaml lives"
    )
    args = parser.parse_args(argv)
    try:
        config, secret_keys = stack_config(args.stack, args.project_dir)
    except (FileNotFoundError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run = run_program(config, args.stack, deployed=False, secret_keys=secret_keys)
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
        return 2
    outputs = {k: (SECRET if k in run.secret_outputs else v) for k, v in run.outputs.items()}
    warnings = preview_warning(args.stack, args.project_dir, config, secret_keys)
    render = render_json if args.json else render_text
    # in the JSON too, so a CI gate on it sees them; on stderr for people (the serverless one
    # the program itself logs there, stack.py)
    print(render(args.stack, run.resources, outputs, warnings + serverless_warnings(run.resources)))
    for line in warnings:
        print(f"warning: {line}" if not line.startswith(" ") else line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
