"""Cross-field rules of the enterprise controls (core/config/controls.py), called directly and through
the config parser."""

import pytest

from core.config import parse_config
from core.config.controls import check_image_build, check_protect_managed_network
from core.errors import ConfigError
from tests.stacks import DEV, with_values


@pytest.mark.parametrize("mode", ["allowInternetOutbound", "allowOnlyApprovedOutbound"])
def test_protect_with_a_managed_network_is_refused_naming_protect(mode):
    with pytest.raises(ConfigError) as caught:
        check_protect_managed_network(True, mode)
    message = str(caught.value)
    assert message.startswith(f"databricks-azureml:protect: true is not allowed with amlManaged"
                              f"Network {mode}")  # fmt: skip
    assert "pulumi config set databricks-azureml:protect false" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("protect", "mode"),
    [(True, "off"), (False, "allowInternetOutbound"), (False, "allowOnlyApprovedOutbound")],
)
def test_protect_or_a_managed_network_alone_is_accepted(protect, mode):
    assert check_protect_managed_network(protect, mode) is None


def test_the_parser_refuses_protect_with_a_managed_network():
    raw = with_values(DEV, protect=True, amlManagedNetwork="allowInternetOutbound")
    with pytest.raises(ConfigError, match=r"^databricks-azureml:protect: true is not allowed"):
        parse_config(raw, "dev")


def test_a_private_registry_with_an_online_endpoint_and_no_cluster_to_build_on_is_refused():
    with pytest.raises(ConfigError) as caught:
        check_image_build(private_link=True, container_registry=True, online=True, batch=False)
    message = str(caught.value)
    assert message.startswith("databricks-azureml:containerRegistry: true is not allowed with")
    assert "pulumi config set databricks-azureml:containerRegistry false" in message


@pytest.mark.parametrize(
    ("private_link", "container_registry", "online", "batch"),
    [
        (True, True, True, True),  # the batch cluster builds the images
        (True, True, False, True),
        (True, False, True, False),  # AzureML's own registry
        (False, True, True, False),  # a public registry builds them itself
        (True, True, False, False),  # nothing to build
    ],
)
def test_image_builds_with_a_way_to_build_are_accepted(
    private_link, container_registry, online, batch
):
    assert (
        check_image_build(
            private_link=private_link,
            container_registry=container_registry,
            online=online,
            batch=batch,
        )
        is None
    )
