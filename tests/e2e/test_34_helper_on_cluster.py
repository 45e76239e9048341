"""Scenario 34: the notebook helper on the stack's own cluster knows the serving outputs.

With an online and a batch endpoint deployed, the cluster's environment (as the workspace holds
it) gives the helper the same endpoint names and URIs as `pulumi stack output`; without them, it
gives none.
"""

from __future__ import annotations

import pytest

from mlflow_setup import load_outputs
from mlflow_setup.scoring import endpoint_scoring_uri
from tests.e2e.conftest import Deployer
from tests.e2e.helpers import SERVING, outputs, stack_with_principal
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def cluster_env(cloud: FakeCloud) -> dict[str, str]:
    """The one cluster's `spark_env_vars`, as a notebook on it sees them."""
    [workspace] = cloud.databricks.snapshot().values()
    [cluster] = workspace["clusters"].values()
    return {"DATABRICKS_RUNTIME_VERSION": "17.3", **cluster["spark_env_vars"]}


def no_cli() -> None:
    return None


def test_helper_on_the_stacks_cluster_finds_both_endpoints(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, registry="azureml", serving=SERVING)
    pulumi("up", "--yes", "--skip-preview")
    served = outputs(deployer)

    on_cluster = load_outputs(env=cluster_env(cloud), run_cli=no_cli)

    assert on_cluster.source == "the environment of the cluster of stack 'dev'"
    assert endpoint_scoring_uri(on_cluster) == served["endpointScoringUri"]
    assert on_cluster.endpoint_name == served["endpointName"]
    assert on_cluster.batch_endpoint_name == served["batchEndpointName"]
    assert on_cluster.batch_endpoint_uri == served["batchEndpointUri"]
    assert served["endpointScoringUri"].endswith(".inference.ml.azure.com/score")

    # endpoints removed: the cluster's environment forgets them on the same `up`
    pulumi("config", "rm", "databricks-azureml:endpoint")
    pulumi("config", "rm", "databricks-azureml:batchEndpoint")
    pulumi("up", "--yes", "--skip-preview")
    on_cluster = load_outputs(env=cluster_env(cloud), run_cli=no_cli)
    assert on_cluster.endpoint_scoring_uri is None
    assert on_cluster.batch_endpoint_uri is None
