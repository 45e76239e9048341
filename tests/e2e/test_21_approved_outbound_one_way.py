"""Scenario 21: a private stack serving online and in batch behind an approved-only managed
network. Azure cannot reconfigure such a network to allow internet outbound (Learn, "Workspace
managed network isolation", Limitations), so `allowInternetOutbound` is refused by the preview
and by `up` before any write. A batch job reaches the storage queue and table through the
network's private-endpoint rules; `destroy` leaves nothing."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import SERVING, one_of_type, outputs, stack_with_principal
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
MODE = "databricks-azureml:amlManagedNetwork"


def test_an_approved_only_network_is_never_opened_to_the_internet(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, "private", serving=SERVING)
    pulumi("config", "set", MODE, "allowOnlyApprovedOutbound")
    pulumi("up", "--yes", "--skip-preview")
    workspace_id = outputs(deployer)["amlWorkspaceId"]
    # the storage queue and table are in the managed network: a batch job runs
    compute = one_of_type(cloud, "microsoft.machinelearningservices/workspaces/computes")["id"]
    assert cloud.arm.run_batch_job(compute)["status"] == "Completed"

    pulumi("config", "set", MODE, "allowInternetOutbound")
    before = len(cloud.arm.calls())
    refused = pulumi("preview", ok=False)
    assert "amlManagedNetwork: allowInternetOutbound is refused" in refused.output
    refused = pulumi("up", "--yes", "--skip-preview", ok=False)
    assert "amlManagedNetwork: allowInternetOutbound is refused" in refused.output
    writes = [
        c for c in cloud.arm.calls()[before:] if c.method in ("PUT", "PATCH", "POST", "DELETE")
    ]
    assert writes == []
    network = cloud.arm.get(workspace_id)["properties"]["managedNetwork"]
    assert network["isolationMode"] == "AllowOnlyApprovedOutbound"

    pulumi("config", "set", MODE, "allowOnlyApprovedOutbound")
    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
