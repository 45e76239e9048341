"""A fake cloud whose Databricks workspaces serve their own MLflow and link to one AzureML
workspace, for tests that run MLflow's unpatched `databricks` stores in-process.

    with linked_cloud(home, group_id, aml_id) as linked:
        ...  # linked.cloud, linked.databricks (its MLflow server), linked.azureml (the filter)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakecloud import dns
from tests.fakecloud.azureml_mlflow import AzureMLFilter
from tests.fakecloud.local_mlflow import Server, start_server, stop, wait_healthy
from tests.fakecloud.serve import FakeCloud


@dataclass(frozen=True)
class LinkedCloud:
    cloud: FakeCloud
    databricks: Server  # behind the workspaces' MLflow
    azureml: AzureMLFilter  # the linked AzureML workspace's MLflow


@contextmanager
def linked_cloud(
    home: Path, group_id: str, aml_id: str, *, timeout: float = 300
) -> Iterator[LinkedCloud]:
    """The fake cloud with the resource group and AzureML workspace `aml_id` in its ARM; names
    resolve to it and its certificate is trusted while the block runs. A Databricks workspace
    linked to `aml_id` (amlWorkspaceId) tracks in both servers."""
    started = [
        start_server(home / "databricks-mlflow", serve_artifacts=False),
        start_server(home / "azureml-mlflow"),
    ]
    try:
        databricks, azureml = (wait_healthy(server, timeout=timeout) for server in started)
        with (
            FakeCloud() as cloud,
            AzureMLFilter(azureml.uri, azureml.artifacts) as front,
            pytest.MonkeyPatch.context() as patch,
        ):
            patch.setenv("REQUESTS_CA_BUNDLE", cloud.ca_file)
            patch.setattr("socket.getaddrinfo", dns.loopback_resolver(cloud.address))
            cloud.arm.put(group_id, {"location": "westeurope"})
            cloud.arm.put(aml_id, {"location": "westeurope", "properties": {}})
            cloud.serve_mlflow(
                databricks.uri,
                lambda linked: front.uri if linked.lower() == aml_id.lower() else None,
            )
            yield LinkedCloud(cloud, databricks, front)
    finally:
        for server in started:
            stop(server.process)
