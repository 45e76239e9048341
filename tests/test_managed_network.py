"""The AzureML managed network: what the program declares, its provisioning through ARM, the
one-way guard, and the fake ARM's rules for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.managed_network import (
    GUARD_TYPE,
    PACKAGE_HOSTS,
    PROVISION_TYPE,
    ManagedNetworkGuardProvider,
    ManagedNetworkProvisionProvider,
    approved_only_problem,
    managed_network_settings,
    one_way_problem,
    outbound_rule_name,
    provision_managed_network,
)
from core.config import ManagedNetworkMode
from tests.conftest import program
from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.stacks import DEV, PRIVATE, SERVICE_PRINCIPAL, with_values
from tests.test_teardown_arm import arm_for
from tools.preview import managed_network_notes

AML = "azure-native:machinelearningservices:Workspace"
GROUP = "azure-native:resources:ResourceGroup"
ONLINE_DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
BATCH_DEPLOYMENT = "azure-native:machinelearningservices:BatchDeployment"
COMPUTE = "azure-native:machinelearningservices:Compute"
RULE = "azure-native:machinelearningservices:ManagedNetworkSettingsRule"
MODEL = {"model": "track-with-azureml-classifier", "version": 1}
PRIVATE_SERVING = with_values(
    PRIVATE, endpoint=MODEL, batchEndpoint=MODEL, amlManagedNetwork="allowOnlyApprovedOutbound"
)


def test_off_declares_no_managed_network_and_no_provisioning():
    result = program(with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml"))
    assert "managedNetwork" not in result.one(AML).inputs
    assert result.of_type(PROVISION_TYPE) == []
    guard = result.one(GUARD_TYPE)
    assert guard.inputs["isolation_mode"] == "Disabled"
    assert guard.urn in result.one(GROUP).depends_on  # checked before any resource


def rules_of(result) -> dict[str, dict]:
    """The program's outbound rules, by name: one ManagedNetworkSettingsRule each."""
    return {r.inputs["ruleName"]: r.inputs["properties"] for r in result.of_type(RULE)}


def test_approved_outbound_allows_the_package_indexes_mlflow_deployments_install_from():
    result = program(PRIVATE_SERVING, "private")
    network = result.one(AML).inputs["managedNetwork"]
    assert network["isolationMode"] == "AllowOnlyApprovedOutbound"
    assert network["firewallSku"] == "Standard"
    fqdn = {k: v for k, v in rules_of(result).items() if v["type"] == "FQDN"}
    assert fqdn == {
        outbound_rule_name(host): {"type": "FQDN", "category": "UserDefined", "destination": host}
        for host in PACKAGE_HOSTS
    }
    assert {"pypi.org", "*.pythonhosted.org"} <= set(PACKAGE_HOSTS)


def _storage_rules(result) -> dict[str, tuple[str, str]]:
    return {
        name: (rule["destination"]["serviceResourceId"], rule["destination"]["subresourceTarget"])
        for name, rule in rules_of(result).items()
        if rule["type"] == "PrivateEndpoint"
    }


STORAGE_ID = (
    "/subscriptions/3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21/resourceGroups/mlflow-private-rg/"
    "providers/Microsoft.Storage/storageAccounts/mlflowprivate65c371"
)


def test_batch_reaches_the_storage_queue_and_table_through_private_endpoint_rules():
    result = program(PRIVATE_SERVING, "private")
    assert _storage_rules(result) == {
        "storage-queue": (STORAGE_ID, "queue"),
        "storage-table": (STORAGE_ID, "table"),
    }
    rule = rules_of(result)["storage-queue"]
    assert rule["category"] == "UserDefined"
    assert rule["destination"]["sparkEnabled"] is False


def test_internet_outbound_reaches_the_storage_account_through_explicit_endpoints():
    # The account keeps public access Enabled (default action Deny): AzureML would make no
    # endpoint to it by itself in this mode.
    raw = with_values(PRIVATE, endpoint=MODEL, amlManagedNetwork="allowInternetOutbound")
    result = program(raw, "private")
    network = result.one(AML).inputs["managedNetwork"]
    assert network["isolationMode"] == "AllowInternetOutbound"
    assert _storage_rules(result) == {
        "storage-blob": (STORAGE_ID, "blob"),
        "storage-file": (STORAGE_ID, "file"),
    }
    assert "firewallSku" not in network


def test_approved_outbound_without_batch_adds_no_storage_rule():
    # AzureML's own required rules reach blob and file in this mode.
    raw = with_values(PRIVATE, endpoint=MODEL, amlManagedNetwork="allowOnlyApprovedOutbound")
    assert _storage_rules(program(raw, "private")) == {}


# --- what Azure writes into the managed network (refresh) ----------------------------------------


def test_the_workspace_declares_no_outbound_rules_and_ignores_what_azure_writes_there():
    # Azure's own rules (category Required, Dependency) and the network's status share
    # managedNetwork with the program's: a refresh must not make them drift.
    aml = program(PRIVATE_SERVING, "private").one(AML)
    assert aml.inputs["managedNetwork"] == {
        "isolationMode": "AllowOnlyApprovedOutbound",
        "firewallSku": "Standard",
        "enableNetworkMonitor": False,  # the SDK's default
    }
    assert aml.ignore_changes == ["managedNetwork.outboundRules", "managedNetwork.status"]


def test_each_program_rule_is_its_own_resource_in_the_workspace_ignoring_its_status():
    result = program(PRIVATE_SERVING, "private")
    aml = result.one(AML)
    rules = result.of_type(RULE)
    assert sorted(r.inputs["ruleName"] for r in rules) == [
        "pkg-anaconda-com",
        "pkg-any-anaconda-com",
        "pkg-any-anaconda-org",
        "pkg-any-pythonhosted-org",
        "pkg-pypi-org",
        "storage-queue",
        "storage-table",
    ]
    for rule in rules:
        assert rule.inputs["workspaceName"] == "mlflow-private-mlw"
        assert rule.inputs["resourceGroupName"] == "mlflow-private-rg"
        assert rule.ignore_changes == ["properties.status"]
        assert aml.urn in rule.replace_with  # it goes with its workspace


def test_provisioning_waits_for_the_programs_outbound_rules():
    result = program(PRIVATE_SERVING, "private")
    provision = result.one(PROVISION_TYPE)
    assert {r.urn for r in result.of_type(RULE)} <= set(provision.depends_on)


def test_without_a_managed_network_nothing_is_ignored_and_no_rule_declared():
    result = program(with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml"))
    assert result.of_type(RULE) == []
    assert result.one(AML).ignore_changes == []


def test_network_is_provisioned_after_the_workspace_and_before_every_deployment():
    result = program(PRIVATE_SERVING, "private")
    provision = result.one(PROVISION_TYPE)
    aml = result.one(AML)
    assert provision.inputs["workspace_id"] == aml.id
    assert provision.inputs["isolation_mode"] == "AllowOnlyApprovedOutbound"
    assert aml.urn in provision.depends_on
    for dependent in (ONLINE_DEPLOYMENT, BATCH_DEPLOYMENT, COMPUTE):
        assert provision.urn in result.one(dependent).depends_on, dependent
    assert result.one(GUARD_TYPE).inputs["isolation_mode"] == "AllowOnlyApprovedOutbound"


def test_preview_notes_that_the_switch_is_one_way():
    result = program(PRIVATE_SERVING, "private", deployed=False)
    [note] = managed_network_notes(result.resources)
    assert "AllowOnlyApprovedOutbound" in note and "cannot be turned off again" in note
    assert managed_network_notes(program(DEV, deployed=False).resources) == []


# --- the one-way guard -------------------------------------------------------------------------


@pytest.mark.parametrize("previous", ["AllowInternetOutbound", "AllowOnlyApprovedOutbound"])
def test_turning_the_managed_network_off_again_is_refused_naming_what_to_set(previous):
    check = ManagedNetworkGuardProvider().check(
        {"isolation_mode": previous}, {"isolation_mode": "Disabled"}
    )
    [failure] = check.failures
    assert failure.property == "isolation_mode"
    assert failure.reason.startswith("databricks-azureml:amlManagedNetwork: off is refused")
    assert "cannot be turned off again" in failure.reason
    assert "pulumi config set databricks-azureml:amlManagedNetwork" in failure.reason


def test_allowing_internet_outbound_after_approved_only_is_refused_naming_what_to_set():
    check = ManagedNetworkGuardProvider().check(
        {"isolation_mode": "AllowOnlyApprovedOutbound"}, {"isolation_mode": "AllowInternetOutbound"}
    )
    [failure] = check.failures
    assert failure.property == "isolation_mode"
    assert failure.reason.startswith(
        "databricks-azureml:amlManagedNetwork: allowInternetOutbound is refused"
    )
    assert (
        "`pulumi config set databricks-azureml:amlManagedNetwork allowOnlyApprovedOutbound`"
        in failure.reason
    )


@pytest.mark.parametrize(
    ("previous", "requested"),
    [
        (None, "Disabled"),  # a new stack
        (None, "AllowOnlyApprovedOutbound"),
        ("Disabled", "AllowInternetOutbound"),  # turning it on
        ("AllowInternetOutbound", "AllowOnlyApprovedOutbound"),  # between enabled modes
        ("Disabled", "Disabled"),
    ],
)
def test_every_other_move_passes_the_guard(previous, requested):
    olds = {} if previous is None else {"isolation_mode": previous}
    assert ManagedNetworkGuardProvider().check(olds, {"isolation_mode": requested}).failures == []
    assert one_way_problem(previous, requested) is None
    assert approved_only_problem(previous, requested) is None


# --- provisioning through ARM ------------------------------------------------------------------

WORKSPACE = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-private-rg/providers"
    "/Microsoft.MachineLearningServices/workspaces/mlflow-private-mlw"
)


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as arm_fake:
        arm_fake.put(
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-private-rg",
            {"location": "westeurope"},
        )
        yield arm_fake


def workspace(fake: FakeArm, isolation_mode: str | None, public: str = "Disabled") -> None:
    properties: dict = {"publicNetworkAccess": public}
    if isolation_mode:
        properties["managedNetwork"] = {"isolationMode": isolation_mode}
    fake.put(WORKSPACE, {"location": "westeurope", "properties": properties})


def online_deployment(fake: FakeArm) -> int:
    endpoint = f"{WORKSPACE}/onlineEndpoints/ep"
    fake.put(endpoint, {"location": "westeurope", "properties": {"authMode": "AADToken"}})
    return fake.request(
        "PUT", f"{endpoint}/deployments/v1", {"location": "westeurope", "properties": {}}
    ).status


def test_provisioning_posts_the_action_and_waits_for_the_network(fake):
    workspace(fake, "AllowOnlyApprovedOutbound")
    provision_managed_network(arm_for(fake), WORKSPACE)
    [post] = fake.calls("POST", f"{WORKSPACE}/provisionManagedNetwork")
    assert post.query["api-version"] == "2025-12-01"  # the SDK's Workspace
    assert post.body == {"includeSpark": False}
    assert fake.get(WORKSPACE)["properties"]["managedNetwork"]["status"]["status"] == "Active"


def test_the_provider_provisions_on_create_and_on_a_new_mode(fake):
    workspace(fake, "AllowInternetOutbound")
    provider = ManagedNetworkProvisionProvider(lambda _sub, _cloud: arm_for(fake))
    props = {"subscription_id": SUBSCRIPTION, "workspace_id": WORKSPACE,
             "isolation_mode": "AllowInternetOutbound", "environment": "public",
             "metadata_host": ""}  # fmt: skip
    provider.create(dict(props))
    newer = {**props, "isolation_mode": "AllowOnlyApprovedOutbound"}
    assert provider.diff("id", props, newer).changes is True
    assert provider.diff("id", props, dict(props)).changes is False
    provider.update("id", props, newer)
    assert len(fake.calls("POST", f"{WORKSPACE}/provisionManagedNetwork")) == 2


def test_provisioning_a_workspace_without_a_managed_network_fails_clearly(fake):
    from arm.client import ArmError

    workspace(fake, None)
    with pytest.raises(ArmError, match="not enabled"):
        provision_managed_network(arm_for(fake), WORKSPACE)


def test_fake_arm_refuses_an_online_deployment_to_a_private_workspace_before_provisioning(fake):
    workspace(fake, "AllowOnlyApprovedOutbound")
    assert online_deployment(fake) == 400
    provision_managed_network(arm_for(fake), WORKSPACE)
    assert online_deployment(fake) == 201


def test_fake_arm_refuses_an_online_deployment_to_a_private_workspace_without_a_network(fake):
    workspace(fake, None)
    assert online_deployment(fake) == 400


def test_fake_arm_lets_a_public_workspace_deploy_without_a_managed_network(fake):
    workspace(fake, None, public="Enabled")
    assert online_deployment(fake) == 201


def test_fake_arm_refuses_disabling_a_managed_network_once_enabled(fake):
    workspace(fake, "AllowInternetOutbound")
    reply = fake.request(
        "PUT",
        WORKSPACE,
        {"location": "westeurope", "properties": {"managedNetwork": {"isolationMode": "Disabled"}}},
    )
    assert reply.status == 400
    assert "cannot be disabled" in reply.body["error"]["message"]
    kept = fake.request("PUT", WORKSPACE, {"location": "westeurope", "properties": {}})
    assert kept.status == 200  # a PUT that omits it keeps it
    assert fake.get(WORKSPACE)["properties"]["managedNetwork"]["isolationMode"] == (
        "AllowInternetOutbound"
    )


def test_approved_outbound_opens_exactly_the_five_package_hosts_learn_lists():
    # Learn, "Managed virtual network isolation", Scenario: Access public machine learning
    # packages.
    settings = managed_network_settings(ManagedNetworkMode.ALLOW_ONLY_APPROVED_OUTBOUND)
    assert settings is not None and settings.outbound_rules is not None
    assert sorted(rule.destination for rule in settings.outbound_rules.values()) == [
        "*.anaconda.com",
        "*.anaconda.org",
        "*.pythonhosted.org",
        "anaconda.com",
        "pypi.org",
    ]
