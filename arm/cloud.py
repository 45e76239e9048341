"""Which Azure cloud the stack's own ARM calls go to: ARM's endpoint, token scope, sign-in host.

Set the way azure-native is set: `azure-native:environment` (public, usgovernment, china) or
`azure-native:metadataHost`, a custom cloud or Azure Stack Hub that describes itself at
`https://{metadataHost}/metadata/endpoints?api-version=2022-09-01`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.core import PipelineClient
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest
from azure.core.settings import AzureClouds
from azure.identity import AzureAuthorityHosts
from azure.mgmt.core.tools import get_arm_endpoints

# azure-native's names for its `environment` setting (its provider docs).
_CLOUDS = {
    "public": (AzureClouds.AZURE_PUBLIC_CLOUD, AzureAuthorityHosts.AZURE_PUBLIC_CLOUD),
    "usgovernment": (AzureClouds.AZURE_US_GOVERNMENT, AzureAuthorityHosts.AZURE_GOVERNMENT),
    "china": (AzureClouds.AZURE_CHINA_CLOUD, AzureAuthorityHosts.AZURE_CHINA),
}
METADATA_API_VERSION = "2022-09-01"


class CloudError(Exception):
    """The cloud setting is invalid, or a custom cloud's metadata could not be read."""


@dataclass(frozen=True)
class CloudConfig:
    """The cloud as configured: plain values, fit to be a Pulumi input."""

    environment: str = "public"
    metadata_host: str = ""  # host[:port], no scheme; wins over environment

    def __post_init__(self) -> None:
        if not self.metadata_host and self.environment not in _CLOUDS:
            raise CloudError(
                f"azure-native:environment: {self.environment} is not allowed "
                f"(allowed: {', '.join(_CLOUDS)})"
            )

    @classmethod
    def from_stack_config(cls, config: Mapping[str, Any]) -> CloudConfig:
        """From a stack's config keys (`azure-native:environment`, `azure-native:metadataHost`)."""
        return cls(
            environment=str(config.get("azure-native:environment") or "public").lower(),
            metadata_host=str(config.get("azure-native:metadataHost") or ""),
        )


def read_cloud_config() -> CloudConfig:
    """The cloud this Pulumi program deploys to, read as the azure-native provider reads it."""
    import pulumi

    config = pulumi.Config("azure-native")
    try:
        return CloudConfig(
            environment=(config.get("environment") or "public").lower(),
            metadata_host=config.get("metadataHost") or "",
        )
    except CloudError as error:
        raise pulumi.RunError(str(error)) from None  # one line for the user, no traceback


@dataclass(frozen=True)
class ArmCloud:
    endpoint: str  # e.g. https://management.azure.com (no trailing slash)
    scope: str  # the ARM token scope, e.g. https://management.azure.com/.default
    authority: str  # the Entra ID host DefaultAzureCredential signs in at


def resolve(config: CloudConfig, *, transport: HttpTransport | None = None) -> ArmCloud:
    """ARM's endpoint, scope and sign-in host; reads the metadata of a custom cloud."""
    if not config.metadata_host:
        cloud, authority = _CLOUDS[config.environment]
        endpoints = get_arm_endpoints(cloud)  # azure-mgmt-core's table of the national clouds
        return ArmCloud(
            endpoints["resource_manager"].rstrip("/"), endpoints["credential_scopes"][0], authority
        )
    metadata = _metadata(config.metadata_host, transport)
    try:
        endpoint = str(metadata["resourceManager"]).rstrip("/")
        authentication = metadata["authentication"]
        audience = str(authentication["audiences"][0]).rstrip("/")
        authority = str(authentication["loginEndpoint"]).rstrip("/")
    except (KeyError, IndexError, TypeError) as error:
        raise CloudError(
            f"{config.metadata_host}: the metadata document lacks {error} "
            "(resourceManager, authentication.audiences, authentication.loginEndpoint)"
        ) from error
    return ArmCloud(endpoint, f"{audience}/.default", authority)


def _metadata(host: str, transport: HttpTransport | None) -> dict[str, Any]:
    url = f"https://{host}/metadata/endpoints"
    policies = [RetryPolicy(retry_total=3)]
    try:
        with PipelineClient(base_url=url, policies=policies, transport=transport) as client:
            request = HttpRequest("GET", url, params={"api-version": METADATA_API_VERSION})
            response = client.send_request(request)
            response.raise_for_status()
            body = response.json()
    except (AzureError, ValueError) as error:
        raise CloudError(f"cannot read the cloud metadata at {url}: {error}") from error
    # 2022-09-01 answers one object; older versions (and some Azure Stack stamps) a list.
    if isinstance(body, list):
        body = body[0] if body else {}
    if not isinstance(body, dict):
        raise CloudError(f"{url}: the cloud metadata is not a JSON object")
    return body
