"""`mlflow_setup` as an installable package: what pyproject.toml builds and what it requires."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#")[0].strip()
        if text:
            requirement = Requirement(text)
            found[requirement.name] = str(requirement.specifier)
    return found


def declared(requirements: list[str]) -> dict[str, str]:
    return {(r := Requirement(text)).name: str(r.specifier) for text in requirements}


def test_package_requires_the_ranges_the_notebook_tests_run():
    notebook = pins(ROOT / "requirements-notebooks.in")
    stack = pins(ROOT / "requirements.in")

    assert declared(PROJECT["dependencies"]) == {
        "mlflow-skinny": notebook["mlflow"],
        "pandas": notebook["pandas"],
        "azure-identity": stack["azure-identity"],
    }
    assert declared(PROJECT["optional-dependencies"]["azureml"]) == {
        "azureml-mlflow": notebook["azureml-mlflow"]
    }


def test_wheel_holds_the_helper_and_nothing_of_the_stack(tmp_path: Path):
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copytree(ROOT / "mlflow_setup", source / "mlflow_setup")
    code = (
        "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    wheel = tmp_path / done.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    modules = {n for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert {Path(n).name for n in modules} >= {"__init__.py", "contract.py", "models.py"}
    assert all(n.startswith("mlflow_setup/") for n in modules)
    assert "Requires-Dist: mlflow-skinny" in text
    assert "Provides-Extra: azureml" in text
