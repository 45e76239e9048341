"""The table of ARM API versions in docs/testing.md matches what the installed SDK sends."""

import importlib
import inspect
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `azure-native:(\w+):(\w+)` \| `([0-9a-z-]+)` \|", re.MULTILINE)


def sdk_api_version(module: str, name: str) -> str:
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    found = re.search(r"Uses Azure REST API version ([0-9a-z-]+)", inspect.getsource(cls))
    assert found, f"{module}.{name} names no API version"
    return found.group(1)


def test_docs_list_the_api_version_of_every_azure_type_the_program_declares(dev, private):
    page = (ROOT / "docs" / "testing.md").read_text()
    table = {f"azure-native:{m}:{n}": v for m, n, v in ROW.findall(page)}
    declared = {r.type for result in (dev, private) for r in result.resources}
    missing = {t for t in declared if t.startswith("azure-native:")} - table.keys()
    assert not missing, f"docs/testing.md's API version table lacks {sorted(missing)}"
    for token, version in table.items():
        _, module, name = token.split(":")
        assert sdk_api_version(module, name) == version, token


def test_endpoint_traffic_reads_and_writes_the_endpoint_with_the_sdks_api_version():
    # An older version would drop, in its read-modify-write, properties the SDK's resource set.
    from components.endpoint_traffic import ONLINE_ENDPOINT_API_VERSION

    sdk_version = sdk_api_version("machinelearningservices", "OnlineEndpoint")
    assert sdk_version == ONLINE_ENDPOINT_API_VERSION


def test_dbfs_key_step_reads_and_writes_the_workspace_with_the_sdks_api_version():
    # Its read-modify-write of the whole workspace must not drop what the SDK's resource set.
    from components.customer_managed_keys import DATABRICKS_API_VERSION

    assert sdk_api_version("databricks", "Workspace") == DATABRICKS_API_VERSION
