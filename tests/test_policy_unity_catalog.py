"""Policy: clusters that register in Unity Catalog can reach it; ML runtimes run dedicated."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

import guard_engine  # noqa: E402
import guard_policies  # noqa: E402
import guard_rules as rules  # noqa: E402
from guard_rules import cluster_fits_unity_catalog_models  # noqa: E402

from tests.test_policy_rules import run_resource_policy  # noqa: E402

UC_ENV = {"MLFLOW_REGISTRY_URI": "databricks-uc"}


def cluster(**props):
    return {"sparkVersion": "17.3.x-scala2.13", "sparkEnvVars": UC_ENV, **props}


@pytest.mark.parametrize("mode", ["SINGLE_USER", "USER_ISOLATION"])
def test_unity_catalog_cluster_in_a_unity_catalog_access_mode_passes(mode):
    assert cluster_fits_unity_catalog_models(cluster(dataSecurityMode=mode)) == []


@pytest.mark.parametrize(("mode", "shown"), [("NONE", "'NONE'"), (None, "not set")])
def test_unity_catalog_cluster_without_a_unity_catalog_access_mode_is_flagged(mode, shown):
    props = cluster(**({} if mode is None else {"dataSecurityMode": mode}))

    (message,) = cluster_fits_unity_catalog_models(props)

    assert f"dataSecurityMode is {shown}" in message
    assert "only SINGLE_USER or USER_ISOLATION clusters reach Unity Catalog" in message


def test_legacy_registry_cluster_without_access_mode_is_not_this_rules_concern():
    props = {
        "sparkVersion": "17.3.x-scala2.13",
        "sparkEnvVars": {"MLFLOW_REGISTRY_URI": "databricks"},
    }

    assert cluster_fits_unity_catalog_models(props) == []


def test_ml_runtime_in_standard_access_mode_is_flagged():
    props = cluster(sparkVersion="17.3.x-cpu-ml-scala2.13", dataSecurityMode="USER_ISOLATION")

    (message,) = cluster_fits_unity_catalog_models(props)

    assert "'17.3.x-cpu-ml-scala2.13' is a Databricks Runtime for ML" in message


def test_ml_runtime_in_dedicated_access_mode_passes():
    props = cluster(sparkVersion="17.3.x-cpu-ml-scala2.13", dataSecurityMode="SINGLE_USER")

    assert cluster_fits_unity_catalog_models(props) == []


def test_rule_is_registered_in_the_pack():
    assert "cluster-fits-unity-catalog-models" in {p.name for p in guard_policies.POLICIES}


@pytest.fixture(scope="module")
def pack():
    """The pack, started as the CLI starts it."""
    with guard_engine.PackProcess() as started:
        yield started


def test_the_pack_reports_a_unity_catalog_cluster_without_access_mode(pack):
    props = {"sparkVersion": "17.3.x-scala2.13", "sparkEnvVars": UC_ENV}

    messages = run_resource_policy(
        pack, "cluster-fits-unity-catalog-models", rules.DATABRICKS_CLUSTER, props
    )

    assert len(messages) == 1
    assert "dataSecurityMode is not set" in messages[0]
