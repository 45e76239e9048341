"""Cross-field rules of the enterprise controls, as plain functions over parsed values.

Each raises ConfigError with one line naming the key; `core/config/stack.py` calls them once the
values they read are parsed. They take config spellings (strings), so this module imports
nothing from the config schema.
"""

from __future__ import annotations

from core.errors import NAMESPACE, ConfigError


def check_protect_managed_network(protect: bool, aml_managed_network: str) -> None:
    """`protect` puts CanNotDelete locks on the AzureML workspace's storage account and key
    vault. Learn ("Workspace managed network isolation", Limitations) says to keep scope locks
    off the AzureML resources and their resource group: the managed network writes and removes
    private endpoints and rules beneath them."""
    if protect and aml_managed_network != "off":
        raise ConfigError(
            "protect",
            True,
            f"is not allowed with amlManagedNetwork {aml_managed_network}: the managed network "
            "needs the workspace's resources free of management locks (Learn, Workspace managed "
            f"network isolation, Limitations); run `pulumi config set {NAMESPACE}:protect false`",
        )


def check_image_build(
    *, private_link: bool, container_registry: bool, online: bool, batch: bool
) -> None:
    """An MLflow deployment needs an image build. Under `privateLink` the stack's container
    registry denies public access, and AzureML cannot build images in a registry behind a
    network: it builds them on the workspace's image-build compute (Learn, "Secure an Azure
    Machine Learning workspace with virtual networks", Enable Azure Container Registry). The
    stack names the batch cluster there; an online endpoint alone has no cluster to name."""
    if private_link and container_registry and online and not batch:
        raise ConfigError(
            "containerRegistry",
            True,
            "is not allowed with privateLink and an endpoint but no batchEndpoint: the registry "
            "denies public access, so AzureML builds the deployment's image on a compute "
            "cluster, and the batch endpoint's is the one the stack names; add a batchEndpoint "
            f"or run `pulumi config set {NAMESPACE}:containerRegistry false`",
        )
