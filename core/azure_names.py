"""Values Azure or Databricks would reject only after the workspace exists, checked offline.

A wrong region, runtime or VM size otherwise fails 10-15 minutes into `pulumi up`, after the
workspace was created. Each check knows the documented shape, not the live catalogue: a runtime
or VM size that has the right shape but is not offered in the region still fails at deploy time.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from core.errors import NAMESPACE, ConfigError
from core.regions import LISTED_ON, REGIONS

UNLISTED_REGION_KEY = "unlistedRegion"
# Databricks runtime version keys (`databricks clusters spark-versions`, the `key` field):
# `<major>.<minor>.x[-<variant>]-scala<version>`, variants such as cpu-ml, gpu-ml, photon,
# aarch64 (Databricks docs, "Databricks Runtime release notes versions and compatibility";
# Clusters API, GET /api/2.1/clusters/spark-versions).
_RUNTIME_VARIANT_WORDS = ("cpu", "gpu", "ml", "photon", "aarch64", "snapshot")
_SPARK_VERSION = re.compile(
    rf"\d{{1,3}}\.\d{{1,3}}\.x(-({'|'.join(_RUNTIME_VARIANT_WORDS)}))*-scala\d+\.\d+"
)
# Azure VM sizes: `Standard_<family><vCPUs><features>[_<version>]` (Learn, "Virtual machine
# size naming conventions"), e.g. Standard_DS3_v2, Standard_NC24ads_A100_v4, Standard_E8ds_v5.
_VM_SIZE = re.compile(r"Standard_[A-Z][A-Za-z0-9]*(_[A-Za-z0-9]+)*")


def check_region(key: str, location: str, unlisted: Any) -> None:
    """`location` is a region on the list, or the region `unlistedRegion` names."""
    if unlisted is not None:
        if not isinstance(unlisted, str) or unlisted != location:
            raise ConfigError(
                UNLISTED_REGION_KEY,
                unlisted,
                f"is not {key} ({location}): it allows exactly the one region that is newer than "
                "the list in core/regions.py, so it must name the stack's location",
            )
        return
    if location in REGIONS:
        return
    close = difflib.get_close_matches(location, sorted(REGIONS), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise ConfigError(
        key,
        location,
        f"is not an Azure region on the list of {LISTED_ON} (core/regions.py){hint} "
        "(a region opened since is allowed with "
        f"`pulumi config set {NAMESPACE}:{UNLISTED_REGION_KEY} {location}`)",
    )


def check_spark_version(key: str, value: str) -> None:
    if not _SPARK_VERSION.fullmatch(value):
        raise ConfigError(
            key,
            value,
            "is not a Databricks runtime version key: <major>.<minor>.x[-cpu-ml|-gpu-ml|-photon]"
            "-scala<version>, such as 17.3.x-scala2.13 (`databricks clusters "
            "spark-versions` lists a workspace's keys)",
        )
    major, minor = (int(part) for part in value.split(".")[:2])
    scala = value.rsplit("-scala", 1)[1]
    shipped = scala_versions(major, minor)
    if scala not in shipped:
        raise ConfigError(
            key,
            value,
            f"names Scala {scala}, but Databricks Runtime {major}.{minor} ships with Scala "
            f"{' or '.join(shipped)}: use {value.rsplit('-scala', 1)[0]}-scala{shipped[-1]} "
            "(`databricks clusters spark-versions` lists a workspace's keys)",
        )


def scala_versions(major: int, minor: int) -> tuple[str, ...]:
    """The Scala versions a Databricks Runtime ships with: 2.13 only from 17 (Spark 4), both in
    16.4 LTS (release notes, "Databricks Runtime 16.4 LTS": two variants), 2.12 from 7.0
    (Spark 3), 2.11 before (3.x-6.x; some 3.x also 2.10)."""
    if major >= 17:
        return ("2.13",)
    if (major, minor) == (16, 4):
        return ("2.12", "2.13")
    if major >= 7:
        return ("2.12",)
    return ("2.10", "2.11")


def check_vm_size(key: str, value: str) -> None:
    if not _VM_SIZE.fullmatch(value):
        raise ConfigError(
            key,
            value,
            "is not an Azure VM size: Standard_<family><vCPUs>[<features>][_<version>], such as "
            "Standard_DS3_v2 (case as Azure spells it)",
        )
