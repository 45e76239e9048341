"""The shipped stack files' placeholders: the preview lists the commands, `pulumi up` refuses."""

import json

from core import placeholders
from core.config import parse_config
from tests import preloaded
from tests.stacks import PRIVATE, SECRET_KEYS, without_placeholders
from tools.offline import ROOT, run_program
from tools.preview import stack_config

NIL = placeholders.NIL_GUID
PLACEHOLDER_PRINCIPAL = {
    "databricks-azureml:servicePrincipal": json.dumps({"clientId": NIL, "objectId": NIL})
}


def test_up_refuses_placeholder_ids_with_the_lines_to_run():
    run = run_program({**PRIVATE, **PLACEHOLDER_PRINCIPAL}, "private", secret_keys=SECRET_KEYS)
    assert run.error is not None and "\n" not in run.error
    assert run.error.startswith(
        f"databricks-azureml:servicePrincipal.clientId: {NIL} is the stack file's placeholder, "
        "which cannot be deployed; run: "
    )
    assert "pulumi config set --path databricks-azureml:servicePrincipal.clientId <appId>" in (
        run.error
    )
    assert "servicePrincipal.objectId <objectId>" in run.error
    assert run.resources == []


def test_up_refuses_a_secret_that_is_still_the_placeholder():
    raw = {**PRIVATE, "databricks-azureml:servicePrincipalSecret": "replace-with-secret"}
    run = run_program(raw, "private", secret_keys=SECRET_KEYS)
    assert run.error is not None
    assert "pulumi config set --secret databricks-azureml:servicePrincipalSecret" in run.error
    assert run.error.startswith(
        "databricks-azureml:servicePrincipalSecret: (a string, value hidden) is the stack file's "
        "placeholder"
    )
    assert "replace-with-secret" not in run.error


def test_preview_runs_the_placeholder_stack():
    raw = {**PRIVATE, **PLACEHOLDER_PRINCIPAL}
    run = run_program(raw, "private", deployed=False, secret_keys=SECRET_KEYS)
    assert run.error is None


def test_real_ids_deploy():
    run = run_program(PRIVATE, "private", secret_keys=SECRET_KEYS)
    assert run.error is None


def test_the_shipped_private_stack_holds_only_placeholders():
    raw, secret_keys = stack_config("private")
    config = parse_config(raw, "private", secret_keys)
    assert placeholders.commands(config, ["databricks-azureml:servicePrincipalSecret"]) == [
        "pulumi config set --path databricks-azureml:servicePrincipal.clientId <appId>",
        "pulumi config set --path databricks-azureml:servicePrincipal.objectId <objectId>",
        "pulumi config set --secret databricks-azureml:servicePrincipalSecret <client-secret>",
    ]
    assert (
        placeholders.commands(parse_config(without_placeholders(raw), "private", secret_keys)) == []
    )


def test_preview_of_the_private_stack_warns_with_the_commands_and_keeps_stdout_json():
    done = preloaded.python(
        "-m", "tools.preview", "--stack", "private", "--json", cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    # first the program's own warning: this private stack has no databricksAccount
    serverless, *placeholder_lines = done.stderr.splitlines()
    assert serverless.startswith("serverless notebooks cannot track to this private stack: ")
    assert serverless in document["warnings"]
    assert placeholder_lines == [
        "warning: Pulumi.private.yaml holds placeholders; `pulumi up` refuses them until you run:",
        "    pulumi config set --path databricks-azureml:servicePrincipal.clientId <appId>",
        "    pulumi config set --path databricks-azureml:servicePrincipal.objectId <objectId>",
        "    pulumi config set --secret databricks-azureml:servicePrincipalSecret <client-secret>",
    ]
