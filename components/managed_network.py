"""The AzureML workspace's managed network: its settings, its provisioning, its one-way switch.

Settings. `amlManagedNetwork` becomes the workspace's `managedNetwork.isolationMode`. With
allowOnlyApprovedOutbound, AzureML adds the rules it needs itself (Learn, "Managed virtual
network isolation", List of required rules: the workspace's storage, key vault and registry
through private endpoints, service tags AzureActiveDirectory, AzureMachineLearning,
BatchNodeManagement, AzureResourceManager, AzureFrontDoor.FirstParty, MicrosoftContainerRegistry,
AzureMonitor); the stack adds what a no-code MLflow deployment needs beyond them: AzureML builds
its environment from the model's conda.yaml / requirements.txt at deployment time, so the
package indexes (same article, "Scenario: Access public machine learning packages": pypi.org,
*.pythonhosted.org, anaconda.com, *.anaconda.com, *.anaconda.org). FQDN rules bring an Azure
Firewall into the managed network (Standard SKU: billed per hour).

Provisioning. AzureML creates the managed network lazily, when a compute is created, and not
for managed online endpoints; Learn ("Manually provision a managed VNet") says to provision it
before deployments: `POST .../workspaces/{name}/provisionManagedNetwork`. ManagedNetworkProvision
does that once the workspace exists; the endpoints and the batch cluster depend on it.

One way. Once enabled, a workspace's managed network cannot be disabled (Learn, "Managed virtual
network isolation", Limitations). ManagedNetworkGuard records the mode of every update; its
`check` (run by preview and by `up`, before any step) refuses `off` after an enabled mode,
and allowInternetOutbound after allowOnlyApprovedOutbound (one way too, same Limitations).
The resource group depends on the guard, so a refused switch touches no resource. Whether a
workspace is already live is known only to the engine's state, so the program warns on every
run with a managed network on (core/config ONE_WAY_NOTE); the guard refuses the way back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import dynamic
from pulumi_azure_native import machinelearningservices as ml

from arm.cloud import CloudConfig, read_cloud_config
from arm.provider import ArmProvider, cloud_inputs
from core.config import ISOLATION_MODES, ONE_WAY_NOTE, ManagedNetworkMode
from core.errors import NAMESPACE

# Learn, "Managed virtual network isolation", Scenario: Access public machine learning packages.
PACKAGE_HOSTS = (
    "pypi.org",
    "*.pythonhosted.org",
    "anaconda.com",
    "*.anaconda.com",
    "*.anaconda.org",
)
# ManagedNetworkProvisions_ProvisionManagedNetwork (azure-rest-api-specs machinelearningservices
# stable/2025-12-01, the version pulumi-azure-native 3.x's Workspace uses).
PROVISION_API_VERSION = "2025-12-01"
PROVISION_PERMISSION = "Microsoft.MachineLearningServices/workspaces/provisionManagedNetwork/action"
PROVISION_TYPE = "pulumi-python:dynamic/network:ManagedNetworkProvision"
GUARD_TYPE = "pulumi-python:dynamic/network:ManagedNetworkGuard"


def outbound_rule_name(host: str) -> str:
    """An outbound rule's name for `host` (letters, digits, '-')."""
    return "pkg-" + host.replace("*.", "any-").replace(".", "-")


def managed_network_settings(mode: ManagedNetworkMode) -> ml.ManagedNetworkSettingsArgs | None:
    """The workspace's `managedNetwork`; None when off (nothing declared, as before)."""
    if mode is ManagedNetworkMode.OFF:
        return None
    rules = None
    if mode is ManagedNetworkMode.ALLOW_ONLY_APPROVED_OUTBOUND:
        rules = {
            outbound_rule_name(host): ml.FqdnOutboundRuleArgs(
                type="FQDN", category=ml.RuleCategory.USER_DEFINED, destination=host
            )
            for host in PACKAGE_HOSTS
        }
    return ml.ManagedNetworkSettingsArgs(
        isolation_mode=ISOLATION_MODES[mode],
        outbound_rules=rules,
        firewall_sku=ml.FirewallSku.STANDARD if rules else None,
    )


def storage_subresources(
    mode: ManagedNetworkMode, *, private_link: bool, batch: bool
) -> tuple[str, ...]:
    """The AzureML storage account's subresources the managed network reaches through an
    explicit private-endpoint outbound rule (none when the network is off):
    - blob and file under privateLink with allowInternetOutbound: the account keeps public
      access Enabled (default action Deny), and in that mode AzureML creates endpoints itself
      only to dependencies whose public network access is disabled (Learn, "Workspace managed
      network isolation", List of required rules); allowOnlyApprovedOutbound creates them for
      every dependency;
    - queue and table with a batch endpoint, in either mode (same article, "Scenario: Use batch
      endpoints": batch needs them on the default storage account; storage is not reachable by
      an FQDN rule in approved-only mode)."""
    if mode is ManagedNetworkMode.OFF:
        return ()
    targets: tuple[str, ...] = ()
    if private_link and mode is ManagedNetworkMode.ALLOW_INTERNET_OUTBOUND:
        targets += ("blob", "file")
    if batch:
        targets += ("queue", "table")
    return targets


def with_storage_rules(
    settings: ml.ManagedNetworkSettingsArgs | None,
    storage_account_id: pulumi.Input[str],
    subresources: tuple[str, ...],
) -> ml.ManagedNetworkSettingsArgs | None:
    """`settings` plus one private-endpoint outbound rule per storage subresource."""
    if settings is None or not subresources:
        return settings
    rules = {
        f"storage-{target}": ml.PrivateEndpointOutboundRuleArgs(
            type="PrivateEndpoint",
            category=ml.RuleCategory.USER_DEFINED,
            destination=ml.PrivateEndpointDestinationArgs(
                service_resource_id=storage_account_id,
                subresource_target=target,
                spark_enabled=False,
            ),
        )
        for target in subresources
    }
    return ml.ManagedNetworkSettingsArgs(
        isolation_mode=settings.isolation_mode,
        outbound_rules={**(settings.outbound_rules or {}), **rules},
        firewall_sku=settings.firewall_sku,
    )


# What Azure writes into the workspace's managedNetwork (azure-rest-api-specs
# machinelearningservices stable/2025-09-01 workspaceRP.json, ManagedNetworkSettings): the rules
# it adds itself (OutboundRule.category Required, Recommended, Dependency) share the
# `outboundRules` map with the program's (UserDefined), and `status` is the provisioning state.
# Both are writable in the schema, so azure-native's refresh records them as inputs; the program
# ignores them on the workspace and declares its own rules one by one (ManagedNetworkSettingsRule,
# `.../outboundRules/{name}`), each of which ignores the `status` Azure sets on it.
WORKSPACE_IGNORED = ["managedNetwork.outboundRules", "managedNetwork.status"]
RULE_IGNORED = ["properties.status"]


def workspace_network(
    settings: ml.ManagedNetworkSettingsArgs | None,
) -> ml.ManagedNetworkSettingsArgs | None:
    """The workspace's own `managedNetwork`: `settings` without its outbound rules."""
    if settings is None:
        return None
    return ml.ManagedNetworkSettingsArgs(
        isolation_mode=settings.isolation_mode, firewall_sku=settings.firewall_sku
    )


def provision_managed_network(arm: Any, workspace_id: str) -> dict[str, Any]:
    """POST provisionManagedNetwork, poll its operation; ARM's ManagedNetworkProvisionStatus."""
    from azure.core.rest import HttpRequest

    from arm.client import ArmError

    what = f"provisioning the managed network of {workspace_id}"
    url = (
        f"{arm.cloud.endpoint}{workspace_id}/provisionManagedNetwork"
        f"?api-version={PROVISION_API_VERSION}"
    )
    response = arm.resources.send_request(HttpRequest("POST", url, json={"includeSpark": False}))
    if response.status_code >= 400:
        raise ArmError(
            f"{what}: {response.status_code} {response.text()[:300]}; the deployer needs "
            f"{PROVISION_PERMISSION}",
            status=response.status_code,
        )
    status_url = response.headers.get("Azure-AsyncOperation") or response.headers.get("Location")
    body = _json(response)
    if response.status_code == 202 and status_url:
        import time

        deadline = time.monotonic() + arm.timeout
        while True:
            polled = arm.resources.send_request(HttpRequest("GET", status_url))
            state = _json(polled).get("status", "")
            if polled.status_code >= 400 or state in ("Failed", "Canceled"):
                raise ArmError(f"{what}: the operation failed: {polled.text()[:300]}")
            if state == "Succeeded" or (polled.status_code in (200, 204) and not state):
                break
            if time.monotonic() > deadline:
                raise ArmError(f"{what}: still running after {arm.timeout:.0f} s")
            arm.sleep()
    return body


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class ManagedNetworkProvisionProvider(ArmProvider):
    """Provisions on create and whenever the mode changes; delete leaves the network (it goes
    with the workspace)."""

    inputs = ("workspace_id", "isolation_mode")
    identity = ("workspace_id",)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        self._provision(props)
        return dynamic.CreateResult(id_=f"{props['workspace_id']}/managedNetwork", outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        self._provision(news)
        return dynamic.UpdateResult(outs=news)

    def _provision(self, props: dict[str, Any]) -> None:
        with self.client(props) as client:
            provision_managed_network(client, props["workspace_id"])


@dataclass(frozen=True)
class ManagedNetworkProvisionArgs:
    subscription_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]  # the workspace's Output: orders this after it
    isolation_mode: str
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class ManagedNetworkProvision(dynamic.Resource, module="network", name="ManagedNetworkProvision"):
    """The workspace's managed network, provisioned (see the module docstring)."""

    def __init__(
        self,
        name: str,
        args: ManagedNetworkProvisionArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ManagedNetworkProvisionProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "workspace_id": args.workspace_id,
                "isolation_mode": args.isolation_mode,
                **cloud_inputs(args.cloud),
            },
            opts,
        )


def one_way_problem(previous: str | None, requested: str) -> str | None:
    """Why going from `previous` to `requested` (ARM isolation modes) is refused, or None."""
    disabled = ISOLATION_MODES[ManagedNetworkMode.OFF]
    if previous and previous != disabled and requested == disabled:
        return (
            f"{NAMESPACE}:amlManagedNetwork: off is refused: the AzureML workspace's managed "
            f"network is {previous} on this stack, and {ONE_WAY_NOTE}; set it back with "
            f"`pulumi config set {NAMESPACE}:amlManagedNetwork "
            f"{_config_value(previous)}`"
        )
    return None


def approved_only_problem(previous: str | None, requested: str) -> str | None:
    """Why leaving allowOnlyApprovedOutbound for allowInternetOutbound is refused, or None.
    Learn, "Workspace managed network isolation", Limitations: a workspace configured to allow
    only approved outbound can't be reconfigured to allow internet outbound."""
    approved = ISOLATION_MODES[ManagedNetworkMode.ALLOW_ONLY_APPROVED_OUTBOUND]
    internet = ISOLATION_MODES[ManagedNetworkMode.ALLOW_INTERNET_OUTBOUND]
    if previous == approved and requested == internet:
        return (
            f"{NAMESPACE}:amlManagedNetwork: allowInternetOutbound is refused: the AzureML "
            "workspace's managed network allows only approved outbound on this stack, and Azure "
            "cannot reconfigure it to allow internet outbound (Learn, Workspace managed network "
            f"isolation, Limitations); set it back with `pulumi config set {NAMESPACE}:"
            "amlManagedNetwork allowOnlyApprovedOutbound` and add an outbound rule instead"
        )
    return None


def _config_value(isolation_mode: str) -> str:
    for mode, arm_value in ISOLATION_MODES.items():
        if arm_value == isolation_mode:
            return mode.value
    return isolation_mode


class ManagedNetworkGuardProvider(dynamic.ResourceProvider):
    """Remembers the mode; `check` refuses turning the managed network off again."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        previous, requested = olds.get("isolation_mode"), news.get("isolation_mode", "")
        problem = one_way_problem(previous, requested) or approved_only_problem(previous, requested)
        if problem:
            return dynamic.CheckResult(
                inputs=news, failures=[dynamic.CheckFailure("isolation_mode", problem)]
            )
        return dynamic.CheckResult(inputs=news, failures=[])

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(id_="aml-managed-network-guard", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return dynamic.DiffResult(changes=olds.get("isolation_mode") != news.get("isolation_mode"))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=news)


class ManagedNetworkGuard(dynamic.Resource, module="network", name="ManagedNetworkGuard"):
    """The one-way switch, kept in the stack's state (see the module docstring)."""

    def __init__(
        self, name: str, mode: ManagedNetworkMode, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            ManagedNetworkGuardProvider(), name, {"isolation_mode": ISOLATION_MODES[mode]}, opts
        )
