"""Every config key of the stack, declared once: name, type, default, allowed values, meaning.

`core.config.readers.read_fields` reads a section by its model: defaults, unknown keys, and every
boolean, enum and bounded whole number (`ge`/`le`) are checked from the declaration, and the
cluster, diagnostics and endpoint specs are these models. The concern modules add what a type
cannot say (ARM ids, names, rules between keys). `core.config.reference` generates the
configuration reference, `Pulumi.yaml`'s `config:` block and the stack files' JSON Schema from
them. Adding such a key to a section is one field here and its tests.

`x-default` says a default that depends on other keys (the models hold None for it); `x-secret`
marks a key whose value must be stored `secure:`.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from core.config.enums import (
    AccessMode,
    BatchOutputAction,
    BudgetThresholdType,
    DatabricksPrivateLink,
    Egress,
    EndpointAuthMode,
    ManagedNetworkMode,
    ModelRegistry,
    PrincipalType,
    PrivateDnsMode,
    TrackingMode,
)

LOCATION_KEY = "azure-native:location"
DEFAULT_SPARK_VERSION = "17.3.x-scala2.13"  # Databricks Runtime 17.3 LTS
DEFAULT_NODE_TYPE = "Standard_DS3_v2"


class Section(BaseModel):
    """A config object: camelCase keys, no unknown field, values never echoed by pydantic."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        use_enum_values=True,
    )


def _default(text: str) -> dict[str, Any]:
    return {"x-default": text}


# --- network ----------------------------------------------------------------------------------


class Network(Section):
    """The Databricks VNet (VNet injection) and its subnets."""

    address_space: str = Field("10.139.0.0/16", description="Private range, /16 to /24.")
    host_subnet: str = Field(
        "10.139.0.0/22", description='Databricks host ("public") subnet, /26 or larger.'
    )
    container_subnet: str = Field(
        "10.139.4.0/22", description='Databricks container ("private") subnet, /26 or larger.'
    )
    endpoint_subnet: str = Field(
        "10.139.8.0/26",
        description="Private endpoints; checked only with privateLink or databricksPrivateLink.",
    )
    virtual_network_id: str | None = Field(
        None,
        description="An existing VNet's ARM id (a landing zone's spoke): the stack creates its "
        "subnets in it, never the VNet; addressSpace is then the part of it the subnets use.",
        json_schema_extra=_default("the stack's own VNet"),
    )
    egress: Egress = Field(
        Egress.NAT_GATEWAY,
        description="natGateway: a NAT gateway with a public IP; firewall: 0.0.0.0/0 routed to "
        "firewallPrivateIp, no public IP.",
    )
    firewall_private_ip: str | None = Field(
        None, description="The firewall's private IPv4 address; required with egress firewall."
    )


class PrivateDns(Section):
    """The private DNS zones the private endpoints register in."""

    zones: PrivateDnsMode = Field(
        PrivateDnsMode.STACK,
        description="stack: the stack's own zones; existing: the zones in zoneIds; policy: no "
        "zone groups, Azure Policy adds the records.",
    )
    zone_ids: dict[str, str] = Field(
        {},
        description="Zone name (privatelink.*) to an existing private DNS zone's ARM id; only "
        "with existing.",
    )


class Names(Section):
    """Names that replace the derived ones, checked against Azure's rules."""

    databricks_workspace: str | None = Field(
        None,
        description="3-64 letters, digits, '_' and '-'.",
        json_schema_extra=_default("derived"),
    )
    aml_workspace: str | None = Field(
        None,
        description="3-33 letters, digits, '_' and '-', a letter or digit first.",
        json_schema_extra=_default("derived"),
    )
    storage_account: str | None = Field(
        None,
        description="3-24 lowercase letters and digits, unique worldwide.",
        json_schema_extra=_default("derived"),
    )
    key_vault: str | None = Field(
        None,
        description="3-24 letters, digits and single '-', unique worldwide.",
        json_schema_extra=_default("derived"),
    )


# --- cluster ----------------------------------------------------------------------------------


class Cluster(Section):
    """The tracking cluster."""

    spark_version: str = Field(
        DEFAULT_SPARK_VERSION,
        description="Databricks runtime version key, "
        "<major>.<minor>.x[-cpu-ml|-gpu-ml|-photon]-scala<version> (Scala 2.13 from 17.x); "
        "13.0 or above with unity-catalog; an -ml runtime needs cluster.accessMode "
        "dedicated.",
    )
    node_type: str = Field(DEFAULT_NODE_TYPE, description="VM size (Standard_...).")
    min_workers: int = Field(1, ge=0, le=10_000, description="Autoscaling floor.")
    max_workers: int = Field(
        2,
        ge=0,
        le=10_000,
        description="Autoscaling ceiling; equal: fixed size; both 0: single node.",
    )
    autotermination_minutes: int = Field(30, ge=10, le=10_000, description="Idle minutes to stop.")
    wait_for_running: bool = Field(
        False, description="`pulumi up` waits until the cluster runs with its library."
    )
    access_mode: AccessMode = Field(
        AccessMode.STANDARD,
        description="standard: USER_ISOLATION; dedicated: SINGLE_USER for singleUser (what the "
        "ML runtime needs: an -ml- runtime on standard is refused).",
    )
    single_user: str | None = Field(
        None,
        description="The user or group a dedicated cluster belongs to; required with dedicated, "
        "refused with standard.",
    )
    users: tuple[str, ...] = Field(
        (),
        description="Databricks users (e-mail), groups or service principals (application id) "
        "granted CAN_RESTART (attach and restart).",
    )


# --- tracking and registry --------------------------------------------------------------------


class ServicePrincipal(Section):
    """The identity the cluster uses to reach AzureML."""

    client_id: str = Field(description="Application (client) id, a GUID.")
    object_id: str = Field(description="The service principal's object id, a GUID.")
    tenant_id: str | None = Field(None, description="Tenant id, a GUID; default: your tenant.")


class UnityCatalog(Section):
    """Where modelRegistry unity-catalog registers models: <catalog>.<schema>.<model>."""

    catalog: str | None = Field(
        None,
        description="1-255 lowercase letters, digits, '_' or '-'.",
        json_schema_extra=_default("<prefix>_<stack>_dbw, the workspace catalog"),
    )
    schema_: str = Field(
        "default", alias="schema", description="1-255 lowercase letters, digits, '_' or '-'."
    )


# --- serving ----------------------------------------------------------------------------------


class Endpoint(Section):
    """A managed online endpoint serving a model registered in AzureML."""

    model: str = Field(description="The name the model is registered under in AzureML.")
    version: int = Field(ge=1, le=10**9, description="The model version.")
    instance_type: str = Field("Standard_DS3_v2", description="VM size of the deployment.")
    instance_count: int = Field(1, ge=1, le=1000, description="Instances serving.")
    name: str | None = Field(
        None,
        description="3-32 letters, digits and '-', unique within the region.",
        json_schema_extra=_default("<prefix>-<stack>-ep-<suffix>"),
    )
    auth_mode: EndpointAuthMode = Field(
        EndpointAuthMode.AAD_TOKEN, description="How clients authenticate."
    )


class BatchEndpoint(Section):
    """A batch endpoint scoring files; its compute scales to zero."""

    model: str = Field(description="The name the model is registered under in AzureML.")
    version: int = Field(ge=1, le=10**9, description="The model version.")
    instance_type: str = Field("Standard_DS3_v2", description="VM size of the compute cluster.")
    max_instances: int = Field(2, ge=1, le=100, description="The cluster's maximum node count.")
    name: str | None = Field(
        None,
        description="3-32 letters, digits and '-', unique within the region.",
        json_schema_extra=_default("<prefix>-<stack>-be-<suffix>"),
    )
    mini_batch_size: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Files per scoring call.",
        json_schema_extra=_default("AzureML's, 10"),
    )
    output_action: BatchOutputAction = Field(
        BatchOutputAction.APPEND_ROW, description="What a batch job writes."
    )


# --- enterprise controls ----------------------------------------------------------------------


class Diagnostics(Section):
    """Diagnostic settings on both workspaces, the key vault, blob storage and endpoints."""

    enabled: bool = Field(True, description="Declare the diagnostic settings.")
    workspace_id: str | None = Field(
        None,
        description="A central Log Analytics workspace's resource id.",
        json_schema_extra=_default("the stack's own workspace"),
    )
    # Log Analytics interactive retention: 30..730 days on the PerGB2018 tier (Learn, "Manage
    # data retention in a Log Analytics workspace"). 90 by default: a quarter of audit trail,
    # the usual minimum of security baselines, at a modest cost beyond the 31 days included.
    retention_days: int = Field(90, ge=30, le=730, description="The stack's log retention.")


class Principal(Section):
    """An Entra ID principal."""

    object_id: str = Field(description="Object id, a GUID (az ad group show --query id).")
    type: PrincipalType = Field(description="What kind of principal.")


class Access(Section):
    """Team access through Azure RBAC."""

    data_scientists: list[Principal] = Field(
        [], description="AzureML Data Scientist and Storage Blob Data Reader."
    )
    readers: list[Principal] = Field([], description="Reader on the resource group.")


class Threshold(Section):
    """A budget notification (consumption 2023-11-01, Notification: 0..1000 percent)."""

    percent: float = Field(gt=0, le=1000, description="Percent of the amount.")
    type: BudgetThresholdType = Field(BudgetThresholdType.ACTUAL, description="Actual or forecast.")


class Budget(Section):
    """A monthly cost budget on the resource group."""

    amount: float = Field(gt=0, description="Monthly amount in the billing currency.")
    contact_emails: list[str] = Field(
        min_length=1, max_length=50, description="Who gets the alerts."
    )
    thresholds: list[Threshold] | None = Field(
        None,
        min_length=1,
        max_length=5,
        description="Alerts.",
        json_schema_extra=_default("80 and 100 percent actual, 100 percent forecast"),
    )


# --- encryption and compliance ---------------------------------------------------------------


class CustomerManagedKey(Section):
    """Customer-managed keys from an existing key vault (soft delete and purge protection on)."""

    key_vault_id: str = Field(description="The key vault's ARM id; never created or deleted.")
    key_name: str = Field(description="The key (RSA 2048, 3072 or 4096) for every target.")
    key_version: str | None = Field(
        None,
        description="Pin a version (32 hex digits); without it the latest version is used and "
        "a rotation is picked up by the next `pulumi up`.",
    )
    managed_disk_key_name: str | None = Field(
        None,
        description="A separate key for Databricks managed disks, in the same vault.",
        json_schema_extra=_default("keyName"),
    )
    azureml: bool = Field(
        True,
        description="Encrypt the AzureML workspace too; false keeps a workspace created "
        "without it (AzureML encryption is set at creation only).",
    )


class DatabricksCompliance(Section):
    """Databricks' enhanced security and compliance add-on (billed per workspace)."""

    standards: list[str] = Field(
        [],
        description="Compliance standards (HIPAA, PCI_DSS, ...); non-empty turns on the "
        "compliance security profile, permanently.",
    )
    enhanced_security_monitoring: bool | None = Field(
        None,
        description="Enhanced security monitoring; required by the profile.",
        json_schema_extra=_default("true with standards, else false"),
    )
    automatic_cluster_update: bool | None = Field(
        None,
        description="Automatic cluster update; required by the profile.",
        json_schema_extra=_default("true with standards, else false"),
    )


class DatabricksAccount(Section):
    """The Databricks account the workspace belongs to, for the network connectivity
    configuration (NCC) that lets serverless compute reach the stack's private endpoints; needs
    a deployer who is a Databricks account admin."""

    account_id: str = Field(
        description="The account's id (a UUID), shown in the account console.",
        json_schema_extra=_default("required"),
    )
    host: str = Field(
        "https://accounts.azuredatabricks.net",
        description="The account console's URL; another only in a sovereign cloud.",
    )


# --- the stack --------------------------------------------------------------------------------


class StackSchema(Section):
    """Namespace databricks-azureml:, set with `pulumi config set [--path] [--secret]`."""

    prefix: str = Field(
        "mlflow",
        description="Starts every resource name (2-10 chars, a lowercase letter, then lowercase "
        "letters or digits).",
    )
    tracking_mode: TrackingMode | None = Field(
        None,
        description="Where runs are tracked: dual (Databricks and AzureML) or exclusive (AzureML).",
        json_schema_extra=_default("dual; exclusive with privateLink"),
    )
    model_registry: ModelRegistry | None = Field(
        None,
        description="Where the notebook registers models; databricks: the legacy registry.",
        json_schema_extra=_default("unity-catalog with dual, azureml with exclusive"),
    )
    private_link: bool = Field(
        False,
        description="Reach the AzureML workspace only through private endpoints in the "
        "Databricks VNet.",
    )
    databricks_private_link: DatabricksPrivateLink = Field(
        DatabricksPrivateLink.NONE,
        description="Databricks private link: none, backend (clusters to control plane) or full "
        "(also the UI and REST API, public access off).",
    )
    network: Network = Field(Network(), description=Network.__doc__)
    cluster: Cluster = Field(Cluster(), description=Cluster.__doc__)
    service_principal: ServicePrincipal | None = Field(
        None,
        description=ServicePrincipal.__doc__ + " Optional: with exclusive tracking or the "
        "azureml registry and no servicePrincipal, notebooks sign in with the stack's Unity "
        "Catalog service credential (an access connector's managed identity, no stored secret).",
    )
    service_principal_secret: str | None = Field(
        None,
        description="The service principal's client secret: pulumi config set --secret.",
        json_schema_extra={"x-secret": True},
    )
    container_registry: bool = Field(
        False, description="Create an Azure Container Registry for the AzureML workspace."
    )
    protect: bool = Field(
        False,
        description="Protect the resource group and both workspaces so that pulumi destroy "
        "refuses, with CanNotDelete locks on the workspaces, the storage account and the key "
        "vault (never the group); refused with amlManagedNetwork.",
    )
    purge_on_destroy: bool = Field(
        True,
        description="On destroy, purge the soft-deleted AzureML workspace and key vault so the "
        "names are free at once.",
    )
    tags: dict[str, str] = Field(
        {},
        description="Added to every Azure resource, at most 13; environment and managed-by are "
        "the stack's.",
    )
    endpoint: Endpoint | None = Field(None, description=Endpoint.__doc__)
    batch_endpoint: BatchEndpoint | None = Field(None, description=BatchEndpoint.__doc__)
    aml_managed_network: ManagedNetworkMode = Field(
        ManagedNetworkMode.OFF,
        description="The AzureML workspace's managed network: off, allowInternetOutbound or "
        "allowOnlyApprovedOutbound; required with privateLink and an endpoint; one-way (cannot "
        "be turned off again).",
    )
    unity_catalog: UnityCatalog | None = Field(
        None, description=UnityCatalog.__doc__ + " Only with unity-catalog."
    )
    diagnostics: Diagnostics = Field(Diagnostics(), description=Diagnostics.__doc__)
    access: Access = Field(Access(), description=Access.__doc__)
    budget: Budget | None = Field(None, description=Budget.__doc__)
    databricks_storage_firewall: bool | None = Field(
        None,
        description="Firewall on the Databricks workspace storage (DBFS root); needs private "
        "endpoints.",
        json_schema_extra=_default("true with privateLink or databricksPrivateLink, else false"),
    )
    resource_group_name: str | None = Field(
        None,
        description="An existing resource group to deploy into; the stack never creates or "
        "deletes it.",
        json_schema_extra=_default("<prefix>-<stack>-rg, created by the stack"),
    )
    private_dns: PrivateDns = Field(PrivateDns(), description=PrivateDns.__doc__)
    names: Names = Field(Names(), description=Names.__doc__)
    customer_managed_key: CustomerManagedKey | None = Field(
        None, description=CustomerManagedKey.__doc__
    )
    require_infrastructure_encryption: bool = Field(
        False,
        description="Databricks infrastructure (double) encryption of the workspace storage; "
        "set at creation only.",
    )
    databricks_compliance: DatabricksCompliance | None = Field(
        None, description=DatabricksCompliance.__doc__
    )
    databricks_account: DatabricksAccount | None = Field(
        None,
        description=DatabricksAccount.__doc__
        + " With privateLink: private endpoint rules to the AzureML workspace and its storage.",
    )
    unlisted_region: str | None = Field(
        None,
        description="An Azure region newer than the list in core/regions.py; equal to "
        "azure-native:location.",
    )


class ProviderKeys(Section):
    """The azure-native provider's keys the program reads."""

    location: str = Field(
        description="Azure region of everything, such as westeurope (core/regions.py).",
        json_schema_extra=_default("required"),
    )


# --- what the readers take from the schema ----------------------------------------------------


def keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The model's config keys, in declaration order."""
    return tuple(info.alias or name for name, info in model.model_fields.items())


def defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Each key's static default (None for required keys and defaults that depend on others)."""
    found = {}
    for name, info in model.model_fields.items():
        value = None if info.is_required() else info.get_default(call_default_factory=True)
        found[info.alias or name] = None if value is None else _plain(value)
    return found


def limit(model: type[BaseModel], key: str, name: str) -> Any:
    """A key's constraint (`ge`, `le`, `max_length`, ...), as declared on its field."""
    info = next(i for n, i in model.model_fields.items() if (i.alias or n) == key)
    return next(getattr(m, name) for m in info.metadata if getattr(m, name, None) is not None)


def bounds(model: type[BaseModel], key: str) -> tuple[int, int]:
    """(low, high) of an integer key, from its ge/le constraints."""
    return limit(model, key, "ge"), limit(model, key, "le")


def secret(info: Any) -> bool:
    """Whether a field's value must be stored `secure:`."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("x-secret"))


def sections(model: type[BaseModel] = StackSchema) -> dict[str, tuple[str, ...] | None]:
    """The object keys and their fields (None: any field name, as `tags`)."""
    found: dict[str, tuple[str, ...] | None] = {}
    for key, info in ((i.alias or n, i) for n, i in model.model_fields.items()):
        kind = without_none(info.annotation)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found[key] = keys(kind)
        elif typing.get_origin(kind) is dict:
            found[key] = None
    return found


def without_none(annotation: Any) -> Any:
    """A field's type without `| None`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def given_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The defaults that are values (not None)."""
    return {k: v for k, v in defaults(model).items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True)
    return value.value if hasattr(value, "value") else value
