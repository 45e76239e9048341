"""databricks-azureml: Azure Databricks experiments tracked with MLflow in Azure Machine Learning.

Config in (validated before anything is declared), the stack out (stack.py: network, private
DNS, AzureML workspace, Databricks workspace, tracking cluster), its outputs exported.
"""

import pulumi

from core.config import load_config
from core.errors import ConfigError
from stack import build_stack

try:
    config = load_config()
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

outputs = build_stack(config)
for output_name, value in outputs.items():
    pulumi.export(output_name, value)
