"""Rules for clusters that use Unity Catalog models, beside guard_rules' general ones.

The program refuses these combinations in config (core/config/tracking.py); the pack catches
them in any stack, e.g. a cluster edited by hand in a fork of the program.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import MISSING, UNKNOWN, lookup

UNITY_CATALOG_REGISTRY = "databricks-uc"
# Access modes that reach Unity Catalog: standard (USER_ISOLATION) and dedicated (SINGLE_USER);
# no-isolation shared and credential passthrough do not (Learn, "Access modes"; "Compute access
# mode limitations for Unity Catalog").
UNITY_CATALOG_MODES = ("SINGLE_USER", "USER_ISOLATION")


def cluster_fits_unity_catalog_models(props: Mapping[str, Any]) -> list[str]:
    """A cluster registering in Unity Catalog runs in a Unity Catalog access mode, and an ML
    runtime runs in dedicated access mode (Learn, "Standard compute requirements and
    limitations": Databricks Runtime for ML is not supported on standard)."""
    violations = []
    mode = lookup(props, "dataSecurityMode")
    registry = lookup(props, "sparkEnvVars", "MLFLOW_REGISTRY_URI")
    if (
        registry == UNITY_CATALOG_REGISTRY
        and mode is not UNKNOWN
        and mode not in UNITY_CATALOG_MODES
    ):
        shown = "not set" if mode is MISSING else repr(mode)
        violations.append(
            f"sparkEnvVars.MLFLOW_REGISTRY_URI is {UNITY_CATALOG_REGISTRY!r} but dataSecurityMode "
            f"is {shown}: only {' or '.join(UNITY_CATALOG_MODES)} clusters reach Unity Catalog"
        )
    version = lookup(props, "sparkVersion")
    if isinstance(version, str) and "-ml-" in f"-{version}-" and mode == "USER_ISOLATION":
        violations.append(
            f"sparkVersion {version!r} is a Databricks Runtime for ML, which standard access mode "
            "(dataSecurityMode USER_ISOLATION) does not run: use SINGLE_USER (dedicated)"
        )
    return violations
