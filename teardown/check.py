"""List what `pulumi destroy` left behind that would block `pulumi up` with the same names.

    python -m teardown.check --stack dev [--prefix mlflow] [--location westeurope]
                             [--subscription ID] [--project-dir .]

Looks for the stack's resource group, the Databricks managed resource group, a soft-deleted
AzureML workspace and a deleted but unpurged key vault, with the names core.naming gives.
Prefix, location (and subscription) default to the stack's `Pulumi.<stack>.yaml`; the
subscription otherwise comes from AZURE_SUBSCRIPTION_ID or ARM_SUBSCRIPTION_ID. The cloud is
the stack's too (`azure-native:environment`, `azure-native:metadataHost`), public Azure by
default.

Exit 0 and "clean" when nothing is left; exit 1 with one leftover a line; exit 2 with a
one-line message when the check itself could not run (sign-in, permission, a missing setting).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from arm import client as arm
from arm.cloud import CloudConfig, CloudError, resolve
from core.errors import NAMESPACE
from core.naming import (
    PREFIX_PATTERN,
    ResourceNames,
    global_names,
    resource_group_name,
    resource_names,
    unique_suffix,
)
from core.stack_file import read_stack_config

DEFAULT_PREFIX = "mlflow"
PROJECT_DIR = Path(__file__).resolve().parent.parent
CLEAN, LEFTOVERS, CHECK_FAILED = 0, 1, 2


class SettingError(Exception):
    """A setting the check needs is missing or invalid."""


@dataclass(frozen=True)
class Target:
    stack: str
    subscription_id: str
    location: str
    names: ResourceNames
    key_vault: str  # carries the subscription-derived suffix
    cloud: CloudConfig = field(default_factory=CloudConfig)
    borrowed_group: bool = False  # resourceGroupName: the platform's group, never a leftover


@dataclass(frozen=True)
class Findings:
    leftovers: list[str]
    unchecked: list[str]  # what could not be looked at here, and why


def resolve_target(
    stack: str,
    *,
    prefix: str | None,
    location: str | None,
    subscription_id: str | None,
    project_dir: Path,
    environ: Mapping[str, str],
) -> Target:
    """The names to look for: flags first, then Pulumi.<stack>.yaml, then the environment."""
    try:
        config, _ = read_stack_config(stack, project_dir)
    except FileNotFoundError:
        config = {}
    except yaml.YAMLError as error:
        raise SettingError(f"Pulumi.{stack}.yaml is not valid YAML: {error}") from error
    prefix = prefix or config.get(f"{NAMESPACE}:prefix") or DEFAULT_PREFIX
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise SettingError(
            f"prefix {prefix!r} is not allowed (2-10 chars, a lowercase letter first, "
            "then lowercase letters or digits)"
        )
    location = location or config.get("azure-native:location")
    if not location:
        raise SettingError(
            f"no location: pass --location or set azure-native:location in Pulumi.{stack}.yaml"
        )
    subscription_id = (
        subscription_id
        or config.get("azure-native:subscriptionId")
        or environ.get("AZURE_SUBSCRIPTION_ID")
        or environ.get("ARM_SUBSCRIPTION_ID")
    )
    if not subscription_id:
        raise SettingError(
            "no subscription: pass --subscription (e.g. $(az account show --query id -o tsv)) "
            "or set AZURE_SUBSCRIPTION_ID"
        )
    borrowed = config.get(f"{NAMESPACE}:resourceGroupName")
    group = borrowed or resource_group_name(prefix, stack)
    overrides = _name_overrides(config)
    names = dataclasses.replace(
        resource_names(prefix, stack),
        resource_group=group,
        aml_workspace=overrides.get("amlWorkspace") or resource_names(prefix, stack).aml_workspace,
    )
    suffix = unique_suffix(subscription_id, group, stack)
    vault = overrides.get("keyVault") or global_names(prefix, stack, suffix).key_vault
    try:
        cloud = CloudConfig.from_stack_config(config)
    except CloudError as error:
        raise SettingError(str(error)) from error
    location = arm.normalize_location(location)
    return Target(stack, subscription_id, location, names, vault, cloud, bool(borrowed))


def _name_overrides(config: Mapping[str, Any]) -> dict[str, str]:
    """`names.*` from the stack file (an object, or JSON text as `pulumi config set` stores)."""
    given = config.get(f"{NAMESPACE}:names") or {}
    if isinstance(given, str):
        given = json.loads(given)
    return {k: v for k, v in given.items() if isinstance(v, str)}


def find_leftovers(client: arm.Arm, target: Target) -> Findings:
    names = target.names
    leftovers: list[str] = []
    unchecked: list[str] = []

    groups = [(names.managed_resource_group, "Databricks managed resource group")]
    if not target.borrowed_group:  # a borrowed group outlives the stack by design
        groups.insert(0, (names.resource_group, "resource group"))
    for group, what in groups:
        found = arm.get_resource_group(client, group)
        if found is not None:
            leftovers.append(f"{what} {group} still exists{_state_of(found)}")

    try:
        workspace = arm.find_soft_deleted_aml_workspace(
            client, names.resource_group, names.aml_workspace
        )
    except arm.ArmUnsupportedError as err:
        # A soft-deleted workspace answers 404 to GET and to a purge while its name stays
        # taken (Azure/azure-cli #33756): without the listing, the name may still be blocked.
        unchecked.append(
            f"soft-deleted AzureML workspace {names.aml_workspace}: its name is possibly "
            f"blocked, since ARM answers 404 for a soft-deleted workspace; {err}"
        )
    else:
        if workspace is not None:
            leftovers.append(
                f"AzureML workspace {names.aml_workspace} (resource group "
                f"{names.resource_group}) is soft-deleted and blocks its name: permanently delete "
                "it in the portal, Azure Machine Learning > Recently deleted"
            )

    vault = arm.get_deleted_key_vault(client, target.location, target.key_vault)
    if vault is not None:
        leftovers.append(_deleted_vault_line(vault, target))
    return Findings(leftovers, unchecked)


def _deleted_vault_line(vault: Any, target: Target) -> str:
    properties = vault.properties
    purge_date = (properties and properties.scheduled_purge_date) or "unknown"
    if properties and properties.purge_protection_enabled:
        return (
            f"key vault {target.key_vault} is deleted with purge protection: it cannot be "
            f"purged, and Azure keeps it and its name until {purge_date}"
        )
    return (
        f"key vault {target.key_vault} is deleted but not purged (Azure purges it on "
        f"{purge_date}): az keyvault purge --name {target.key_vault} "
        f"--location {target.location}"
    )


def _arm_for(subscription_id: str, cloud: CloudConfig) -> arm.Arm:
    return arm.Arm(subscription_id, cloud=resolve(cloud))


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: Callable[[str, CloudConfig], arm.Arm] = _arm_for,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        target = resolve_target(
            args.stack,
            prefix=args.prefix,
            location=args.location,
            subscription_id=args.subscription,
            project_dir=Path(args.project_dir),
            environ=os.environ if environ is None else environ,
        )
        with client_factory(target.subscription_id, target.cloud) as client:
            findings = find_leftovers(client, target)
    except (SettingError, CloudError, arm.ArmError) as error:
        print(f"teardown-check: {error}", file=err)
        return CHECK_FAILED

    for line in findings.leftovers:
        print(line, file=out)
    for line in findings.unchecked:
        print(f"teardown-check: not checked: {line}", file=err)
    if findings.leftovers:
        return LEFTOVERS
    if findings.unchecked:
        return CHECK_FAILED
    print("clean", file=out)
    return CLEAN


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m teardown.check",
        description="List what `pulumi destroy` left behind. "
        "Exit 0 when clean, 1 with the leftovers, 2 when the check could not run.",
    )
    parser.add_argument("--stack", required=True, help="stack name, e.g. dev")
    parser.add_argument(
        "--prefix", help=f"name prefix (default: from the stack file, else {DEFAULT_PREFIX})"
    )
    parser.add_argument("--location", help="Azure region (default: azure-native:location)")
    parser.add_argument(
        "--subscription",
        help="subscription id (default: azure-native:subscriptionId, AZURE_SUBSCRIPTION_ID, "
        "ARM_SUBSCRIPTION_ID)",
    )
    parser.add_argument(
        "--project-dir",
        default=str(PROJECT_DIR),
        help="where Pulumi.<stack>.yaml lives (default: the project root)",
    )
    return parser


def _state_of(resource: Any) -> str:
    state = resource.properties.provisioning_state if resource.properties else None
    return f" ({state})" if state and state != "Succeeded" else ""


if __name__ == "__main__":
    sys.exit(main())
