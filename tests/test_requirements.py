"""The dependency floors agree with the code, and the locked requirements*.txt with their .in files.

The floors are facts about published packages, recorded here with where they were read:
- `databricks.Workspace(compute_mode=...)`: absent from pulumi-azure-native 3.22.0's
  `pulumi_azure_native/databricks/workspace.py`, present from the 3.23.0 wheel on (PyPI).
- azureml-mlflow's METADATA caps mlflow-skinny: 1.62.0 at <=3.9.0, 1.62.0.post5 at <=3.13.0,
  1.62.0.post6 at <=3.15.0 (PyPI wheels, `Requires-Dist`).
"""

from __future__ import annotations

import inspect
import re
from importlib import metadata
from pathlib import Path

import pulumi_azure_native.databricks as azure_databricks
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from components.tracking_cluster import AZUREML_MLFLOW

ROOT = Path(__file__).resolve().parent.parent
COMPUTE_MODE_SINCE = Version("3.23.0")
MLFLOW_SKINNY_CAP = {
    Version("1.62.0"): Version("3.9.0"),
    Version("1.62.0.post5"): Version("3.13.0"),
    Version("1.62.0.post6"): Version("3.15.0"),
}
LOCKS = {
    "requirements.txt": "requirements.in",
    "requirements-dev.txt": "requirements-dev.in",
    "requirements-notebooks.txt": "requirements-notebooks.in",
    "requirements-smoke.txt": "requirements-smoke.in",
    "policy/requirements.txt": "policy/requirements.in",
}


def declared(path: str) -> dict[str, Requirement]:
    """The requirements an .in file states (its -r includes followed)."""
    found: dict[str, Requirement] = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found.update(declared(str(Path(path).parent / line[3:].strip())))
        elif line:
            requirement = Requirement(line)
            found[requirement.name] = requirement
    return found


def floor(requirement: Requirement) -> Version:
    [bound] = [spec for spec in requirement.specifier if spec.operator == ">="]
    return Version(bound.version)


def locked(path: str) -> dict[str, tuple[Version, int]]:
    """name -> (pinned version, number of hashes) of a compiled requirements file."""
    text = (ROOT / path).read_text()
    pins: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", block)
        if match:
            name = match.group(1).split("[")[0].lower().replace("_", "-")
            pins[name] = (Version(match.group(2)), block.count("--hash=sha256:"))
    return pins


def test_azure_native_floor_is_where_workspace_compute_mode_appeared():
    uses_compute_mode = "compute_mode=" in (ROOT / "components/databricks_workspace.py").read_text()
    assert uses_compute_mode
    assert floor(declared("requirements.in")["pulumi-azure-native"]) >= COMPUTE_MODE_SINCE
    assert "compute_mode" in inspect.signature(azure_databricks.Workspace._internal_init).parameters


def test_mlflow_cap_is_the_one_the_azureml_mlflow_floor_allows():
    notebooks = declared("requirements-notebooks.in")
    azureml_floor = floor(notebooks["azureml-mlflow"])
    cap = MLFLOW_SKINNY_CAP[azureml_floor]
    mlflow_upper = [s for s in notebooks["mlflow"].specifier if s.operator == "<="]
    assert [Version(s.version) for s in mlflow_upper] == [cap]
    # The installed build says the same.
    [skinny] = [
        Requirement(r) for r in metadata.requires("azureml-mlflow") or [] if r.startswith("mlflow")
    ]
    assert skinny.name == "mlflow-skinny" and skinny.specifier == SpecifierSet(f"<={cap}")


def test_cluster_library_and_notebook_install_the_range_the_tests_run():
    tested = declared("requirements-notebooks.in")["azureml-mlflow"]
    assert Requirement(AZUREML_MLFLOW) == tested
    notebook = (ROOT / "notebooks/track_with_azureml.py").read_text()
    [pip_line] = [line for line in notebook.splitlines() if "%pip install" in line]
    assert tested in [Requirement(quoted) for quoted in re.findall(r'"([^"]+)"', pip_line)]


@pytest.mark.parametrize(("lock", "source"), LOCKS.items())
def test_lock_pins_every_requirement_of_its_source_with_hashes(lock, source):
    pins = locked(lock)
    assert all(hashes > 0 for _, hashes in pins.values())
    for name, requirement in declared(source).items():
        assert name in pins, f"{lock} lacks {name}: run `make lock`"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside {requirement.specifier} in {source}: "
            "run `make lock`"
        )


@pytest.mark.parametrize("lock", [lock for lock in LOCKS if lock != "requirements-dev.txt"])
def test_every_lock_pins_what_the_tests_install(lock):
    dev = locked("requirements-dev.txt")
    for name, (version, _) in locked(lock).items():
        assert dev[name][0] == version, f"{lock} pins {name}=={version}, dev {dev[name][0]}"


def test_pulumi_is_pinned_to_the_minor_version_the_offline_engine_was_tested_with():
    # tools/offline.py and the pack's guard_rules use SDK internals.
    for source in ("requirements.in", "policy/requirements.in"):
        specifier = declared(source)["pulumi"].specifier
        installed = Version(metadata.version("pulumi"))
        assert specifier.contains(installed)
        assert not specifier.contains(Version(f"{installed.major}.{installed.minor + 1}.0"))
