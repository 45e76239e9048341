"""The azure-native stand-in records refreshed inputs as pulumi-azure-native's Read does: the
difference between old and new outputs, projected onto the type's inputs, applied to the old
inputs (tests/e2e/standin/azure_native.py)."""

from tests.e2e.standin.azure_native import AzureNative

NSG = "azure-native:network:NetworkSecurityGroup"
ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
RULE = {"name": "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-sql"}


def test_a_writable_property_changed_in_azure_enters_the_inputs():
    inputs = {"endpointName": "ep", "properties": {"authMode": "AADToken"}}
    old = {"name": "ep", "properties": {"authMode": "AADToken", "traffic": {}}}
    new = {"name": "ep", "properties": {"authMode": "AADToken", "traffic": {"v1": 100}}}
    refreshed = AzureNative().read_inputs(ENDPOINT, inputs, old, new)
    assert refreshed == {
        "endpointName": "ep",
        "properties": {"authMode": "AADToken", "traffic": {"v1": 100}},
    }


def test_read_only_properties_never_enter_the_inputs():
    inputs = {"endpointName": "ep", "properties": {"authMode": "AADToken"}}
    old = {"properties": {"authMode": "AADToken", "provisioningState": "Creating"}}
    new = {
        "azureApiVersion": "2025-12-01",
        "properties": {"authMode": "AADToken", "provisioningState": "Succeeded",
                       "scoringUri": "https://ep/score"},
    }  # fmt: skip
    assert AzureNative().read_inputs(ENDPOINT, inputs, old, new) == inputs


def test_sub_resources_the_inputs_left_unset_stay_out_of_them():
    inputs = {"networkSecurityGroupName": "nsg", "location": "westeurope"}
    old = {"location": "westeurope", "securityRules": []}
    new = {"location": "westeurope", "securityRules": [RULE]}
    assert AzureNative().read_inputs(NSG, inputs, old, new) == inputs
    declared = {**inputs, "securityRules": []}
    assert AzureNative().read_inputs(NSG, declared, old, new)["securityRules"] == [RULE]


def test_a_property_removed_in_azure_leaves_the_inputs():
    inputs = {"networkSecurityGroupName": "nsg", "tags": {"team": "ml"}}
    old = {"tags": {"team": "ml"}}
    assert "tags" not in AzureNative().read_inputs(NSG, inputs, old, {})


WORKSPACE = "azure-native:machinelearningservices:Workspace"
OUTBOUND_RULE = "azure-native:machinelearningservices:ManagedNetworkSettingsRule"
AZURES = {"type": "ServiceTag", "category": "Required", "status": "Active",
          "destination": {"serviceTag": "AzureMachineLearning"}}  # fmt: skip


def test_what_azure_writes_into_the_managed_network_enters_the_workspace_inputs():
    # Why the program ignores managedNetwork.outboundRules and .status on the workspace
    # (components/managed_network.py WORKSPACE_IGNORED): both are inputs in the SDK.
    inputs = {
        "workspaceName": "mlw",
        "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"},
    }
    old = {
        "managedNetwork": {
            "isolationMode": "AllowOnlyApprovedOutbound",
            "status": {"status": "Inactive"},
        }
    }
    new = {"managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound", "status": {"status": "Active"},
                              "outboundRules": {"__SYS_ST_AzureMachineLearning": AZURES}}}  # fmt: skip
    refreshed = AzureNative().read_inputs(WORKSPACE, inputs, old, new)
    assert refreshed["managedNetwork"] == {
        "isolationMode": "AllowOnlyApprovedOutbound",
        "status": {"status": "Active"},
        "outboundRules": {"__SYS_ST_AzureMachineLearning": AZURES},
    }


def test_an_outbound_rules_read_only_properties_never_enter_its_inputs():
    rule = {"type": "FQDN", "category": "UserDefined", "destination": "pypi.org"}
    inputs = {"ruleName": "pkg-pypi-org", "workspaceName": "mlw", "properties": rule}
    old = {"properties": {**rule, "status": "Inactive"}}
    new = {"properties": {**rule, "status": "Active", "parentRuleNames": ["x"],
                          "errorInformation": "none"}}  # fmt: skip
    refreshed = AzureNative().read_inputs(OUTBOUND_RULE, inputs, old, new)
    assert refreshed["properties"] == {**rule, "status": "Active"}
