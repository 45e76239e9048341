"""The preview a new user reads before `pulumi up`: the endpoints' outputs, each serving
resource's size, what bills while idle (from the price table), and warnings in the JSON too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import preview
from tools.idle_cost import cost_line, idle_costs
from tools.offline import ROOT, DeclaredResource

SERVICE_PRINCIPAL = """\
  databricks-azureml:modelRegistry: azureml
  databricks-azureml:servicePrincipal:
    clientId: 11111111-2222-3333-4444-555555555555
    objectId: 66666666-7777-8888-9999-000000000000
  databricks-azureml:servicePrincipalSecret:
    secure: v1:abc==
"""


def preview_json(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]) -> dict:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.t.yaml").write_text("config:\n  azure-native:location: westeurope\n" + body)
    code = preview.main(["--stack", "t", "--json", "--project-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def serving_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str], more: str = "") -> dict:
    return preview_json(
        tmp_path,
        SERVICE_PRINCIPAL
        + "  databricks-azureml:endpoint:\n    model: m\n    version: 1\n    name: my-scorer\n"
        "    instanceCount: 2\n"
        "  databricks-azureml:batchEndpoint:\n    model: m\n    version: 1\n"
        "    instanceType: Standard_F4s_v2\n    maxInstances: 3\n" + more,
        capsys,
    )


def test_declared_endpoints_uris_are_known_after_deploy_not_null(tmp_path, capsys):
    outputs = serving_stack(tmp_path, capsys)["outputs"]
    assert outputs["endpointScoringUri"] == "(known after deploy)"
    assert outputs["batchEndpointUri"] == "(known after deploy)"


def test_a_configured_endpoint_name_is_shown_as_given(tmp_path, capsys):
    outputs = serving_stack(tmp_path, capsys)["outputs"]
    assert outputs["endpointName"] == "my-scorer"


def test_without_endpoints_their_outputs_stay_null(tmp_path, capsys):
    outputs = preview_json(tmp_path, "", capsys)["outputs"]
    assert outputs["endpointName"] is None
    assert outputs["endpointScoringUri"] is None
    assert outputs["batchEndpointUri"] is None


def test_each_serving_resource_shows_its_size(tmp_path, capsys):
    serving = serving_stack(tmp_path, capsys)["serving"]
    assert sorted(serving) == [
        "batch compute batch-compute: up to 3 x Standard_F4s_v2, 0 when idle",
        "online deployment serving-deployment: 2 x Standard_DS3_v2, running around the clock",
    ]


def test_online_instances_bill_around_the_clock_at_the_tables_price(tmp_path, capsys):
    idle = serving_stack(tmp_path, capsys)["idle_cost"]
    [instances] = [line for line in idle["lines"] if line["what"].startswith("online endpoint")]
    assert instances == {
        "what": "online endpoint instances (serving-deployment)",
        "item": "Standard_DS3_v2",
        "count": 2,
        "usd_per_hour": 0.293,
        "usd_per_month": 428,  # 0.293 x 2 x 730 hours
    }
    assert idle["source"].startswith("approximate Azure list prices, pay-as-you-go, Linux, East US")
    assert "approximate" in idle["source"]
    assert "table of 2026-12-06" in idle["source"]
    # the batch compute scales to zero: no idle line
    assert not [line for line in idle["lines"] if "batch" in line["what"]]


def test_the_managed_networks_firewall_bills_under_allow_only_approved_outbound(tmp_path, capsys):
    idle = serving_stack(
        tmp_path, capsys, "  databricks-azureml:amlManagedNetwork: allowOnlyApprovedOutbound\n"
    )["idle_cost"]
    [firewall] = [line for line in idle["lines"] if "Firewall" in line["what"]]
    assert firewall["item"] == "azure-firewall-standard"
    assert firewall["usd_per_hour"] == 1.25
    assert firewall["usd_per_month"] == 912  # 1.25 x 730, rounded half to even


def test_without_the_managed_network_no_firewall_line(tmp_path, capsys):
    idle = serving_stack(tmp_path, capsys)["idle_cost"]
    assert not [line for line in idle["lines"] if "Firewall" in line["what"]]


def test_an_instance_type_outside_the_table_says_so_instead_of_guessing(tmp_path, capsys):
    body = (
        SERVICE_PRINCIPAL + "  databricks-azureml:endpoint:\n    model: m\n    version: 1\n"
        "    instanceType: Standard_NC6s_v3\n"
    )
    idle = preview_json(tmp_path, body, capsys)["idle_cost"]
    [instances] = [line for line in idle["lines"] if line["what"].startswith("online endpoint")]
    assert instances["usd_per_hour"] is None and instances["usd_per_month"] is None


def test_the_text_preview_prints_sizes_and_idle_costs(tmp_path, capsys):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  azure-native:location: westeurope\n"
        + SERVICE_PRINCIPAL
        + "  databricks-azureml:endpoint:\n    model: m\n    version: 1\n"
        "    instanceType: Standard_NC6s_v3\n"
    )
    assert preview.main(["--stack", "t", "--project-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "online deployment serving-deployment: 1 x Standard_NC6s_v3" in text
    assert "Billed while idle (approximate Azure list prices" in text
    assert "1 x Standard_NC6s_v3, price not in the table (tools/idle_cost.py)" in text
    assert "NAT gateway (network-natgw): 1 x nat-gateway at $0.045/h, about $33/month" in text


def test_placeholder_warnings_are_in_the_json_for_a_ci_gate(capsys):
    assert preview.main(["--stack", "private", "--json"]) == 0
    captured = capsys.readouterr()
    warnings = json.loads(captured.out)["warnings"]
    assert warnings[0] == (
        "Pulumi.private.yaml holds placeholders; `pulumi up` refuses them until you run:"
    )
    assert (
        "    pulumi config set --secret databricks-azureml:servicePrincipalSecret <client-secret>"
        in warnings
    )
    assert "warning: Pulumi.private.yaml holds placeholders" in captured.err


def test_a_stack_without_placeholders_has_no_warnings(tmp_path, capsys):
    assert preview_json(tmp_path, "", capsys)["warnings"] == []


def test_the_unity_catalog_note_says_the_default_catalog_needs_no_grant(tmp_path, capsys):
    [note] = [n for n in preview_json(tmp_path, "", capsys)["notes"] if "Unity Catalog" in n]
    assert note.startswith(
        "models are registered in Unity Catalog as mlflow_t_dbw.default.<model>; the stack "
        "creates no catalog or schema"
    )
    assert "every workspace user has USE CATALOG, USE SCHEMA and CREATE MODEL" in note
    assert "(docs/tracking.md, Model registries)" in note


def workspace(**inputs: object) -> DeclaredResource:
    return DeclaredResource(
        urn="urn:dbw", type="azure-native:databricks:Workspace", name="dbw", parent="",
        custom=True, inputs=dict(inputs), outputs={},
    )  # fmt: skip


def test_databricks_enhanced_security_is_named_as_an_uplift_on_every_dbu():
    enabled = workspace(
        enhancedSecurityCompliance={"complianceSecurityProfile": {"value": "Enabled"}}
    )
    [line] = idle_costs([enabled])
    assert line["item"] == "databricks-enhanced-security-and-compliance"
    assert line["usd_per_month"] is None
    assert cost_line(line) == (
        "Databricks enhanced security, on every DBU: an uplift on the DBU price, billed with "
        "each DBU (not hourly)"
    )


def test_a_workspace_without_enhanced_security_has_no_such_line():
    disabled = workspace(
        enhancedSecurityCompliance={"complianceSecurityProfile": {"value": "Disabled"}}
    )
    assert idle_costs([disabled, workspace()]) == []
