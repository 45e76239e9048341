"""databricks-azureml: Azure Databricks experiments tracked in Azure Machine Learning."""

import pulumi

from components.resource_group import ResourceGroup, ResourceGroupArgs
from core import naming
from core.config import load_config
from core.errors import ConfigError
from core.tagging import register_stack_tagging, stack_tags

try:
    config = load_config()
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

register_stack_tagging(stack_tags(config.stack, config.tags))

group = ResourceGroup(
    "main",
    ResourceGroupArgs(
        name=naming.resource_group_name(config.prefix, config.stack), location=config.location
    ),
)

pulumi.export("resourceGroupName", group.name)
pulumi.export("location", config.location)
