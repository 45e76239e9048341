"""What a new user reads first says true things: the outputs, who can use the cluster, what the
private stack leaves public, the stack-name rule."""

from __future__ import annotations

import re

from tools.offline import ROOT

README = (ROOT / "README.md").read_text()


def section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_readme_outputs_table_lists_all_eighteen_outputs():
    listed = set(re.findall(r"`([a-zA-Z]+)`", section(README, "Outputs")))
    assert listed >= {
        "resourceGroupName", "location", "trackingMode", "modelRegistry", "privateLink",
        "amlWorkspaceName", "amlWorkspaceId", "mlflowTrackingUri", "mlflowRegistryUri",
        "modelSchema", "databricksWorkspaceUrl", "databricksWorkspaceId", "clusterId",
        "secretScope", "endpointName", "endpointScoringUri", "batchEndpointName",
        "batchEndpointUri",
    }  # fmt: skip


def test_the_notebooks_section_says_what_a_data_scientist_needs_to_attach():
    notebooks = " ".join(section(README, "Notebooks").split())
    assert "`cluster.users`" in notebooks
    assert "`access.dataScientists` grants Azure roles, not attach" in notebooks


def test_the_tracking_page_says_why_data_scientists_grant_no_attach():
    text = " ".join((ROOT / "docs" / "tracking.md").read_text().split())
    assert "never by Entra object id" in text
    assert "pulumi config set --path 'databricks-azureml:cluster.users[0]'" in text


def test_the_private_stack_file_and_readme_say_databricks_stays_public():
    stack_file = " ".join((ROOT / "Pulumi.private.yaml").read_text().replace("#", "").split())
    assert "the Databricks workspace's UI and REST API stay public" in stack_file
    assert "unless databricksPrivateLink is backend or full" in stack_file
    readme = " ".join(README.split())
    assert "the Databricks workspace stays public unless you also set `databricksPrivateLink`" in (
        readme
    )


def test_the_readme_states_the_stack_name_rule():
    readme = " ".join(README.split())
    assert "prefix and stack name take at most 16 together" in readme


def test_the_batch_score_signature_in_the_docs_includes_stack():
    serving = " ".join((ROOT / "docs" / "serving.md").read_text().split())
    assert (
        "`batch_score(input_uri, *, outputs=None, credential=None, deployment=None, stack=None)`"
        in serving
    )
