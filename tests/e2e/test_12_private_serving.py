"""Scenario 12: the private-link stack serving in real time and in batch, with the AzureML
managed network, through the policy pack: `up`, score, `destroy`, nothing left.

The fake ARM refuses an online deployment to a workspace with public network access Disabled
until its managed network is provisioned; the stack provisions it first.
"""

from __future__ import annotations

import dataclasses
import threading
from http.server import ThreadingHTTPServer

import pytest

from mlflow_setup import batch_score, parse_outputs
from tests.e2e.conftest import Deployer
from tests.e2e.helpers import SERVING, outputs, stack_with_principal
from tests.fakecloud.serve import FakeCloud
from tests.test_batch_scoring import FOLDER, FakeBatchEndpoint, _Handler
from tests.test_scoring import StaticCredential

pytestmark = pytest.mark.e2e


def test_private_link_stack_serves_online_and_in_batch_behind_its_managed_network(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, "private", serving=SERVING, policy_pack=True)

    refused = pulumi("preview", ok=False)  # the config says what is missing
    assert "amlManagedNetwork: off is not allowed with privateLink" in refused.output

    pulumi("config", "set", "databricks-azureml:amlManagedNetwork", "allowOnlyApprovedOutbound")
    pulumi("up", "--yes", "--policy-pack", "policy")
    result = outputs(deployer)
    workspace = cloud.arm.get(result["amlWorkspaceId"])
    assert workspace is not None
    assert workspace["properties"]["publicNetworkAccess"] == "Disabled"
    network = workspace["properties"]["managedNetwork"]
    assert network["isolationMode"] == "AllowOnlyApprovedOutbound"
    assert network["status"]["status"] == "Active"
    rules = network["outboundRules"].values()
    assert {rule["destination"] for rule in rules if rule["type"] == "FQDN"} >= {"pypi.org"}
    # the stack's own endpoint rules; Azure adds its Required ones beside them
    assert {
        rule["destination"]["subresourceTarget"]
        for rule in rules
        if rule["type"] == "PrivateEndpoint" and rule.get("category") == "UserDefined"
    } == {"queue", "table"}

    # provisioned before the first deployment and the batch cluster
    calls = [(c.method, c.path.lower()) for c in cloud.arm.calls()]
    workspace_path = result["amlWorkspaceId"].lower()
    provisioned = calls.index(("POST", f"{workspace_path}/provisionmanagednetwork"))
    for kind, child in (("/onlineendpoints/", "/deployments/"), ("/computes/", ""),
                        ("/batchendpoints/", "/deployments/")):  # fmt: skip
        first = next(
            i
            for i, (m, p) in enumerate(calls)
            if m == "PUT" and p.startswith(workspace_path + kind) and child in p
        )
        assert provisioned < first, kind

    # score in batch with the stack's own outputs (its data plane played on loopback)
    stack = parse_outputs(result, "pulumi stack output")
    assert stack.batch_endpoint_uri and stack.endpoint_scoring_uri
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeBatchEndpoint(f"http://127.0.0.1:{server.server_address[1]}/jobs")
    server.fake = fake  # type: ignore[attr-defined]
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    try:
        local = dataclasses.replace(stack, batch_endpoint_uri=fake.uri)
        job = batch_score(FOLDER, stack=local, credential=StaticCredential())
        assert job.wait(timeout=30, poll=0.01) == f"azureml://jobs/{job.name}/outputs/score"
    finally:
        server.shutdown()
        server.server_close()

    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
