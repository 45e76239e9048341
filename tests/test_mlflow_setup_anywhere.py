"""`mlflow_setup.configure()` on any compute of the workspace: which outputs it finds, what it
sets, and where the service principal comes from (the secret scope, never the outputs)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlflow_setup import SecretScopeAccessError, StackOutputsError, configure
from tests.test_mlflow_setup import AML_URI, EXCLUSIVE, STACK_CLUSTER, mlflow_state, stack_outputs

__all__ = ["mlflow_state"]  # the fixture, used by name

SERVERLESS = {"DATABRICKS_RUNTIME_VERSION": "client.4.9"}  # no cluster env, no marker
SECRETS = {
    ("mlflow-dev-scope", "azure-tenant-id"): "tenant-1",
    ("mlflow-dev-scope", "azure-client-id"): "client-1",
    ("mlflow-dev-scope", "azure-client-secret"): "s3cr3t",
}


class Workspace:
    """The workspace as the helper reads it: published files, and secrets a reader may read."""

    def __init__(self, published: dict[str, dict[str, Any]], *, reader: bool = True) -> None:
        self.files = {
            f"/Shared/databricks-azureml/{stack}/outputs.json": json.dumps(raw).encode()
            for stack, raw in published.items()
        }
        self.reader = reader
        self.reads: list[tuple[str, str]] = []

    def stacks(self) -> list[str]:
        return sorted(path.split("/")[3] for path in self.files)

    def read(self, path: str) -> bytes:
        return self.files[path]

    def secret(self, scope: str, key: str) -> str:
        self.reads.append((scope, key))
        if not self.reader:
            raise PermissionError(
                "PERMISSION_DENIED: User does not have READ permission on scope mlflow-dev-scope"
            )
        return SECRETS[(scope, key)]


def published(**overrides: Any) -> dict[str, Any]:
    return {**stack_outputs(**overrides), "secretScopeReaders": ["data-scientists"]}


def run(ws: Workspace, env: dict[str, str], stack: str | None = None) -> tuple[Any, list[str]]:
    said: list[str] = []
    outputs = configure(stack, env=env, workspace=lambda: ws, say=said.append)
    return outputs, said


@pytest.mark.usefixtures("mlflow_state")
def test_serverless_finds_the_one_published_stack_and_says_which() -> None:
    import mlflow

    ws = Workspace({"dev": published()})
    outputs, said = run(ws, dict(SERVERLESS))
    assert outputs.stack == "dev"
    assert outputs.source == (
        "the outputs stack 'dev' published at /Shared/databricks-azureml/dev/outputs.json"
    )
    assert said[0].startswith("stack dev: the outputs stack 'dev' published")
    assert mlflow.get_tracking_uri() == "databricks"
    assert mlflow.get_registry_uri() == "databricks"
    assert ws.reads == []  # dual tracking with a Databricks registry needs no service principal


@pytest.mark.usefixtures("mlflow_state")
def test_several_stacks_in_one_workspace_need_stack_named() -> None:
    ws = Workspace({"dev": published(), "prod": published()})
    with pytest.raises(
        StackOutputsError, match=r"2 stacks .*\(dev, prod\).*configure\(stack='dev'\)"
    ):
        run(ws, dict(SERVERLESS))
    outputs, _ = run(ws, dict(SERVERLESS), stack="prod")
    assert outputs.stack == "prod"


def test_an_unknown_stack_is_refused_naming_the_stacks_there() -> None:
    ws = Workspace({"dev": published()})
    with pytest.raises(StackOutputsError, match=r"stack 'test' has published no outputs .*dev\)"):
        run(ws, dict(SERVERLESS), stack="test")


def test_a_workspace_without_published_outputs_says_what_to_do() -> None:
    with pytest.raises(StackOutputsError, match=r"no stack has published its outputs.*pulumi up"):
        run(Workspace({}), dict(SERVERLESS))


@pytest.mark.usefixtures("mlflow_state")
def test_exclusive_tracking_reads_the_service_principal_from_the_secret_scope() -> None:
    import mlflow

    ws = Workspace({"dev": published(**EXCLUSIVE)})
    env = dict(SERVERLESS)
    _, said = run(ws, env)
    assert mlflow.get_tracking_uri() == AML_URI
    assert (env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"]) == (
        "tenant-1",
        "client-1",
        "s3cr3t",
    )
    assert ("mlflow-dev-scope", "azure-client-secret") in ws.reads
    assert (
        "signed in as  the service principal client-1 from secret scope 'mlflow-dev-scope'"
        in said[0]
    )
    assert "s3cr3t" not in said[0]


@pytest.mark.usefixtures("mlflow_state")
def test_the_azureml_registry_alone_also_needs_the_service_principal() -> None:
    ws = Workspace({"dev": published(modelRegistry="azureml", mlflowRegistryUri=AML_URI)})
    env = dict(SERVERLESS)
    run(ws, env)
    assert env["AZURE_CLIENT_SECRET"] == "s3cr3t"


@pytest.mark.usefixtures("mlflow_state")
def test_a_user_outside_cluster_users_is_refused_naming_who_may_read_the_scope() -> None:
    ws = Workspace({"dev": published(**EXCLUSIVE)}, reader=False)
    env = dict(SERVERLESS)
    with pytest.raises(SecretScopeAccessError) as refused:
        run(ws, env)
    message = str(refused.value)
    assert message.startswith("cannot read 'azure-tenant-id' from secret scope 'mlflow-dev-scope'")
    assert "PERMISSION_DENIED" in message
    assert "who may read the scope: data-scientists." in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert "AZURE_CLIENT_SECRET" not in env


@pytest.mark.usefixtures("mlflow_state")
def test_on_the_stacks_cluster_its_environment_is_used_and_the_workspace_not_read() -> None:
    import mlflow

    env = {
        **STACK_CLUSTER,
        "MLFLOW_TRACKING_URI": AML_URI,
        "MLFLOW_REGISTRY_URI": AML_URI,
        "AZURE_CLIENT_SECRET": "from-the-cluster",
    }

    def unreachable() -> Workspace:
        raise AssertionError("the workspace was read on the stack's cluster")

    said: list[str] = []
    outputs = configure(env=env, workspace=unreachable, say=said.append)
    assert outputs.source == "the environment of the cluster of stack 'dev'"
    assert mlflow.get_tracking_uri() == AML_URI
    assert env["AZURE_CLIENT_SECRET"] == "from-the-cluster"
    assert "the service principal from the cluster's environment" in said[0]


@pytest.mark.usefixtures("mlflow_state")
def test_another_stack_named_on_a_stacks_cluster_is_read_from_the_workspace() -> None:
    ws = Workspace({"dev": published(), "prod": published()})
    outputs, _ = run(ws, {**STACK_CLUSTER, "MLFLOW_REGISTRY_URI": "databricks"}, stack="prod")
    assert outputs.stack == "prod"


@pytest.mark.usefixtures("mlflow_state")
def test_off_databricks_the_outputs_file_is_read_and_no_secret_scope(tmp_path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(stack_outputs(**EXCLUSIVE)))

    def unreachable() -> Workspace:
        raise AssertionError("the workspace was read outside Databricks")

    env = {"STACK_OUTPUTS_FILE": str(path)}
    said: list[str] = []
    configure(env=env, workspace=unreachable, say=said.append)
    assert "AZURE_CLIENT_SECRET" not in env
    assert "your own Azure login" in said[0]


def test_a_workspace_that_cannot_be_listed_is_one_clear_error() -> None:
    class Unreachable(Workspace):
        def stacks(self) -> list[str]:
            raise RuntimeError("default auth: cannot configure default credentials\nmore")

    with pytest.raises(
        StackOutputsError,
        match=r"cannot list /Shared/databricks-azureml .*default auth: cannot configure default credentials\): set STACK_OUTPUTS_FILE",
    ):
        run(Unreachable({}), dict(SERVERLESS))
