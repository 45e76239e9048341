"""Steps 1-4: the stack's outputs, then what ARM says of the deployment (both workspaces, the
Databricks link to AzureML, the private endpoints' approval)."""

from __future__ import annotations

import json

import mlflow_setup
from mlflow_setup import TrackingMode
from tools.smoke.base import (
    AML_API_VERSION,
    DATABRICKS_API_VERSION,
    NETWORK_API_VERSION,
    PRIVATE_ENDPOINTS,
    NotApplicableError,
    StepError,
    connection_states,
    provisioned,
)
from tools.smoke.state import SmokeState


class DeploymentSteps(SmokeState):
    def step_outputs(self) -> str:
        text = self.services.stack_output(self.stack)
        if text is None:
            raise StepError("the Pulumi CLI is not on PATH: install it and sign in to the backend")
        try:
            self.raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise StepError(f"`pulumi stack output --json` printed no JSON ({error.msg})") from None
        self.outputs = mlflow_setup.parse_outputs(self.raw, f"stack {self.stack}'s outputs")
        try:
            self.config = self.services.stack_config(self.stack)
        except FileNotFoundError:
            self.config = {}
        out = self.outputs
        return (
            f"trackingMode {out.tracking_mode.value}, modelRegistry {out.model_registry.value}, "
            f"privateLink {str(out.private_link).lower()}, "
            f"databricksPrivateLink {self._databricks_private_link()}"
        )

    def step_aml_workspace(self) -> str:
        out = self._out()
        workspace = self._arm().get(str(out.aml_workspace_id), AML_API_VERSION)
        state = provisioned(workspace, f"AzureML workspace {out.aml_workspace_name}")
        uri = (workspace or {}).get("properties", {}).get("mlFlowTrackingUri")
        if out.tracking_mode is TrackingMode.EXCLUSIVE and uri and uri != out.mlflow_tracking_uri:
            raise StepError(
                f"the workspace's mlFlowTrackingUri is {uri}, the stack output says "
                f"{out.mlflow_tracking_uri}: run `pulumi refresh` and `pulumi up`"
            )
        return f"{out.aml_workspace_name} {state}"

    def step_databricks_link(self) -> str:
        out = self._out()
        workspace = self._arm().get(str(out.databricks_workspace_id), DATABRICKS_API_VERSION)
        name = str(out.databricks_workspace_id).rsplit("/", 1)[-1]
        state = provisioned(workspace, f"Databricks workspace {name}")
        parameters = (workspace or {}).get("properties", {}).get("parameters") or {}
        linked = (parameters.get("amlWorkspaceId") or {}).get("value")
        if out.tracking_mode is TrackingMode.DUAL:
            if not linked or str(linked).lower() != str(out.aml_workspace_id).lower():
                raise StepError(
                    f"dual tracking needs {name} linked to {out.aml_workspace_name}: its "
                    f"amlWorkspaceId parameter is {linked!r}"
                )
            return f"{name} {state}, linked to {out.aml_workspace_name}"
        if linked:
            raise StepError(
                f"exclusive tracking, yet {name} is linked to {linked} (amlWorkspaceId parameter)"
            )
        return f"{name} {state}, not linked (exclusive tracking)"

    def step_private_endpoints(self) -> str:
        out = self._out()
        dbx = self._databricks_private_link()
        if not out.private_link and dbx == "none":
            raise NotApplicableError(
                "no private link (privateLink false, databricksPrivateLink none)"
            )
        endpoints = self._arm().list_group(str(out.resource_group_name), PRIVATE_ENDPOINTS)
        if not endpoints:
            raise StepError(f"no private endpoint in resource group {out.resource_group_name}")
        problems, names = [], []
        for endpoint in endpoints:
            full = self._arm().get(endpoint["id"], NETWORK_API_VERSION) or endpoint
            names.append(full.get("name", endpoint["id"].rsplit("/", 1)[-1]))
            for state in connection_states(full):
                if state.get("status") != "Approved":
                    problems.append(
                        f"{names[-1]} is {state.get('status')!r} "
                        f"({state.get('description') or 'no description'})"
                    )
            if not connection_states(full):
                problems.append(f"{names[-1]} has no private link service connection")
        if problems:
            raise StepError("not approved: " + "; ".join(problems))
        return f"{len(names)} approved: {', '.join(sorted(names))}"
