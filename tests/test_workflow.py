"""The CI/CD workflow (.github/workflows/pulumi.yml): the properties a reviewer checks first, and
proof that the linters `make lint-workflows` runs do fail on the mistakes they exist for."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "pulumi.yml"
ACTIONLINT = Path.home() / ".cache/databricks-azureml/actionlint/v1.7.12/actionlint"
ZIZMOR = REPO / "venv" / "bin" / "zizmor"
PINNED = re.compile(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def workflow() -> dict:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as true
    return loaded


def test_every_action_is_pinned_by_commit_sha_with_its_version():
    uses = [line.strip() for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        assert PINNED.search(line.removeprefix("- ")), line


def test_runs_on_pull_requests_and_pushes_to_main_only():
    assert workflow()["on"] == {
        "pull_request": {"branches": ["main"]},
        "push": {"branches": ["main"]},
    }


def test_workflow_reads_contents_only_and_jobs_add_just_what_they_use():
    flow = workflow()
    assert flow["permissions"] == {"contents": "read"}
    jobs = flow["jobs"]
    assert "permissions" not in jobs["plan"]
    assert jobs["preview"]["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    assert jobs["deploy"]["permissions"] == {"contents": "read", "id-token": "write"}


def test_deploys_run_in_the_stacks_environment_one_at_a_time():
    deploy = workflow()["jobs"]["deploy"]
    assert deploy["environment"] == "${{ matrix.stack }}"
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "matrix.stack" in deploy["concurrency"]["group"]
    assert "github.event_name == 'push'" in deploy["if"]


def test_azure_login_is_openid_connect_without_a_secret():
    text = WORKFLOW.read_text()
    assert "secrets." not in text
    assert "client-secret" not in text and "creds:" not in text
    for job in ("preview", "deploy"):
        env = workflow()["jobs"][job]["env"]
        assert env["ARM_USE_OIDC"] == "true"


PREVIEW_CLIENT = "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"
DEPLOY_CLIENT = "${{ vars.AZURE_DEPLOY_CLIENT_ID }}"


def client_ids(job: dict) -> set[str]:
    """Every Azure client id a job signs in with: pulumi-azure-native's and azure/login's."""
    ids = {job.get("env", {}).get("ARM_CLIENT_ID")}
    for step in job.get("steps", []):
        if step.get("uses", "").startswith("azure/login@"):
            ids.add(step.get("with", {}).get("client-id"))
    return ids


def identity_problems(flow: dict) -> list[str]:
    """What breaks the split between the preview and the deploy identity."""
    problems = []
    for name, job in flow["jobs"].items():
        ids = client_ids(job) - {None}
        runs_up = any(
            s.get("uses", "").startswith("pulumi/actions@") and s["with"]["command"] != "preview"
            for s in job.get("steps", [])
        )
        if DEPLOY_CLIENT in ids and "environment" not in job:
            problems.append(f"{name}: the deploy identity outside a protected environment")
        if runs_up and ids != {DEPLOY_CLIENT}:
            problems.append(f"{name}: changes stacks as {sorted(ids)}, not the deploy identity")
        if "pull_request" in job.get("if", "") and ids != {PREVIEW_CLIENT}:
            problems.append(f"{name}: previews pull requests as {sorted(ids)}")
        if PREVIEW_CLIENT in ids and "environment" in job:
            problems.append(f"{name}: the preview identity inside a deploy environment")
    return problems


def test_pull_requests_preview_as_the_preview_identity_and_only_environments_deploy():
    flow = workflow()
    assert identity_problems(flow) == []
    assert client_ids(flow["jobs"]["preview"]) == {PREVIEW_CLIENT}
    assert "environment" not in flow["jobs"]["preview"]
    assert client_ids(flow["jobs"]["deploy"]) == {DEPLOY_CLIENT}
    assert "vars.AZURE_CLIENT_ID" not in WORKFLOW.read_text()


def test_a_pull_request_job_signing_in_as_the_deployer_is_caught():
    flow = copy.deepcopy(workflow())
    preview = flow["jobs"]["preview"]
    [login] = [s for s in preview["steps"] if s.get("uses", "").startswith("azure/login@")]
    login["with"]["client-id"] = DEPLOY_CLIENT
    assert identity_problems(flow) == [
        "preview: the deploy identity outside a protected environment",
        f"preview: previews pull requests as {sorted({PREVIEW_CLIENT, DEPLOY_CLIENT})}",
    ]


def test_a_deploy_job_without_its_environment_is_caught():
    flow = copy.deepcopy(workflow())
    del flow["jobs"]["deploy"]["environment"]
    assert identity_problems(flow) == [
        "deploy: the deploy identity outside a protected environment"
    ]


def test_a_deploy_job_running_as_the_preview_identity_is_caught():
    flow = copy.deepcopy(workflow())
    flow["jobs"]["deploy"]["env"]["ARM_CLIENT_ID"] = PREVIEW_CLIENT
    assert identity_problems(flow) == [
        f"deploy: changes stacks as {sorted({PREVIEW_CLIENT, DEPLOY_CLIENT})}, not the deploy "
        "identity",
        "deploy: the preview identity inside a deploy environment",
    ]


def test_preview_and_up_run_the_policy_pack_with_the_pinned_cli():
    steps = {job: workflow()["jobs"][job]["steps"] for job in ("preview", "deploy")}
    for job, command in (("preview", "preview"), ("deploy", "up")):
        [pulumi] = [s for s in steps[job] if s.get("uses", "").startswith("pulumi/actions@")]
        assert pulumi["with"]["command"] == command
        assert pulumi["with"]["policyPacks"] == "policy"
        assert pulumi["with"]["pulumi-version-file"] == ".pulumi-version"
    assert (REPO / ".pulumi-version").read_text().strip() == "3.274.1"


def linters() -> tuple[Path, Path]:
    if not ACTIONLINT.is_file() or not ZIZMOR.is_file():
        pytest.skip("actionlint or zizmor missing: make lint-workflows builds and installs them")
    return ACTIONLINT, ZIZMOR


BAD = """\
name: bad
on: pull_request
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}" && cd $HOME/x && ls
"""


def test_the_linters_fail_on_injection_unpinned_actions_and_shell_mistakes(tmp_path):
    actionlint, zizmor = linters()
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD)
    shellcheck = str(REPO / "venv" / "bin" / "shellcheck")
    linted = subprocess.run(
        [str(actionlint), "-shellcheck", shellcheck, str(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert linted.returncode != 0
    assert "shellcheck reported issue" in linted.stdout
    audited = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", "--persona", "pedantic", str(bad.parent)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert audited.returncode != 0
    for audit in ("template-injection", "unpinned-uses", "artipacked", "excessive-permissions"):
        assert audit in audited.stdout, audit


def test_the_shipped_workflow_passes_both_linters():
    actionlint, zizmor = linters()
    shellcheck = shutil.which("shellcheck", path=str(REPO / "venv" / "bin"))
    assert shellcheck
    linted = subprocess.run(
        [str(actionlint), "-shellcheck", shellcheck, str(WORKFLOW)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout
    audited = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", "--persona", "pedantic", str(WORKFLOW.parent)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert audited.returncode == 0, audited.stdout
