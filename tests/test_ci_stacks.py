"""Which stacks the CI workflow previews and deploys (tools/ci_stacks.py)."""

from __future__ import annotations

import io
import json

import pytest

from tools import ci_stacks

STACKS = ["dev", "private"]


def test_every_stack_file_at_the_root_is_a_stack():
    assert ci_stacks.all_stacks() == ["dev", "private"]


def test_a_stack_file_change_touches_only_that_stack():
    assert ci_stacks.touched_stacks(["Pulumi.private.yaml"], STACKS) == ["private"]


@pytest.mark.parametrize(
    "path",
    ["__main__.py", "components/network.py", "core/config/schema.py", "Pulumi.yaml", "requirements.txt",
     "policy/guard_rules/common.py", "arm/client.py", "mlflow_setup/contract.py",
     "mlflow_setup/__init__.py", "components/purge.py", "teardown/purge.py"],
)  # fmt: skip
def test_a_program_change_touches_every_stack(path):
    assert ci_stacks.touched_stacks(["README.md", path], STACKS) == STACKS


@pytest.mark.parametrize(
    "path",
    ["README.md", "tests/test_config.py", "notebooks/track.ipynb", "tools/preview.py",
     "bootstrap/__main__.py", "requirements-dev.txt", ".github/workflows/pulumi.yml"],
)  # fmt: skip
def test_docs_tests_notebooks_and_the_bootstrap_touch_no_stack(path):
    assert ci_stacks.touched_stacks([path], STACKS) == []


def test_a_deleted_or_unknown_stack_file_deploys_nothing():
    assert ci_stacks.touched_stacks(["Pulumi.old.yaml"], STACKS) == []


def test_a_nested_stack_file_is_not_the_main_projects():
    assert ci_stacks.touched_stacks(["bootstrap/Pulumi.team.yaml"], STACKS) == []


def test_a_file_name_that_is_not_a_safe_stack_name_is_not_a_stack(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.$(id).yaml").write_text("config: {}\n")
    assert ci_stacks.all_stacks(tmp_path) == ["dev"]
    assert ci_stacks.touched_stacks(["Pulumi.$(id).yaml"], ["dev"]) == ["dev"]


def test_main_prints_a_json_list_for_the_job_matrix(capsys):
    assert ci_stacks.main(["--changed", "Pulumi.dev.yaml", "docs.md"]) == 0
    assert json.loads(capsys.readouterr().out) == ["dev"]
    ci_stacks.main([])
    assert json.loads(capsys.readouterr().out) == ["dev", "private"]
    ci_stacks.main(["--changed"])
    assert json.loads(capsys.readouterr().out) == []


def test_changed_paths_can_come_from_git_diff_z_on_stdin(capsys, monkeypatch):
    paths = "Pulumi.private.yaml\0docs/a file.md\0"
    monkeypatch.setattr("sys.stdin", io.StringIO(paths))
    assert ci_stacks.main(["--changed-stdin"]) == 0
    assert json.loads(capsys.readouterr().out) == ["private"]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    ci_stacks.main(["--changed-stdin"])
    assert json.loads(capsys.readouterr().out) == []


def _tree(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_what_the_program_imports_is_found_transitively_lazily_and_relatively(tmp_path):
    _tree(
        tmp_path,
        {
            "__main__.py": "from pkg.a import run\n",
            "pkg/__init__.py": "",
            "pkg/a.py": "def run():\n    from . import b\n",
            "pkg/b.py": "import helpers.c\n",
            "helpers/c.py": "import os\n",
            "pkg/unused.py": "",
            "policy/__main__.py": "from rules import RULES\n",
            "policy/rules.py": "RULES = []\n",
        },
    )
    assert ci_stacks.imported_files(tmp_path) == {
        "__main__.py", "pkg/__init__.py", "pkg/a.py", "pkg/b.py", "helpers/c.py",
        "policy/__main__.py", "policy/rules.py",
    }  # fmt: skip


def test_a_python_file_nothing_imports_touches_no_stack(tmp_path):
    _tree(tmp_path, {"__main__.py": "import deployed\n", "deployed.py": "", "script.py": ""})
    assert ci_stacks.touched_stacks(["script.py"], STACKS, tmp_path) == []
    assert ci_stacks.touched_stacks(["deployed.py"], STACKS, tmp_path) == STACKS
