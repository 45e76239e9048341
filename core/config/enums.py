"""The closed sets of values config keys take, in the spelling config and ARM use."""

from __future__ import annotations

from enum import StrEnum

from mlflow_setup.contract import ModelRegistry, TrackingMode

__all__ = [
    "AccessMode",
    "BatchOutputAction",
    "BudgetThresholdType",
    "DatabricksPrivateLink",
    "Egress",
    "EndpointAuthMode",
    "ManagedNetworkMode",
    "ModelRegistry",
    "PrincipalType",
    "PrivateDnsMode",
    "TrackingMode",
]


class DatabricksPrivateLink(StrEnum):
    NONE = "none"
    BACKEND = "backend"  # clusters reach the control plane through a private endpoint
    FULL = "full"  # also the workspace UI and REST API; public network access off


class AccessMode(StrEnum):
    STANDARD = "standard"  # USER_ISOLATION: shared by the users granted attach
    DEDICATED = "dedicated"  # SINGLE_USER: one user or group (what the ML runtime needs)


class EndpointAuthMode(StrEnum):
    """How clients authenticate to the online endpoint (ARM's spelling)."""

    AAD_TOKEN = "AADToken"  # Microsoft Entra ID token, scope https://ml.azure.com/.default
    KEY = "Key"


class ManagedNetworkMode(StrEnum):
    """The AzureML workspace's managed network (config spelling; ARM's isolationMode: ISOLATION)."""

    OFF = "off"
    ALLOW_INTERNET_OUTBOUND = "allowInternetOutbound"
    ALLOW_ONLY_APPROVED_OUTBOUND = "allowOnlyApprovedOutbound"


class BatchOutputAction(StrEnum):
    """What a batch deployment writes (ARM BatchOutputAction)."""

    APPEND_ROW = "AppendRow"  # every prediction, appended to one file (predictions.csv)
    SUMMARY_ONLY = "SummaryOnly"  # only the job's status; the scoring writes its own output


class PrincipalType(StrEnum):
    """An Entra ID principal's kind, as role assignments spell it."""

    GROUP = "Group"
    SERVICE_PRINCIPAL = "ServicePrincipal"
    USER = "User"


class BudgetThresholdType(StrEnum):
    ACTUAL = "Actual"
    FORECASTED = "Forecasted"


class Egress(StrEnum):
    """How the Databricks subnets reach the internet."""

    NAT_GATEWAY = "natGateway"  # the stack's NAT gateway with a static public IP
    FIREWALL = "firewall"  # a route table: 0.0.0.0/0 to the platform's firewall


class PrivateDnsMode(StrEnum):
    """Where the private endpoints' DNS records go."""

    STACK = "stack"  # the stack's own privatelink.* zones, linked to its VNet
    EXISTING = "existing"  # zones the platform owns (privateDns.zoneIds); zone groups only
    POLICY = "policy"  # no zone groups: Azure Policy (DeployIfNotExists) adds the records
