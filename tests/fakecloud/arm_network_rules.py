"""Rules of Azure the fake ARM (tests/fakecloud/arm.py) applies to the AzureML managed network
and private serving. Each cites its source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _isolation(network: Mapping[str, Any] | None) -> str:
    return str((network or {}).get("isolationMode") or "disabled").lower()


def approved_only_downgrade(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str | None:
    """Learn, "Workspace managed network isolation", Limitations: a workspace configured to
    allow only approved outbound can't be reconfigured to allow internet outbound. The message
    Azure answers with (400 BadRequest), or None."""
    if after is None:  # omitted: the network stays as it is
        return None
    if _isolation(before) == "allowonlyapprovedoutbound" and (
        _isolation(after) == "allowinternetoutbound"
    ):
        return (
            "Managed network isolation mode cannot be changed from AllowOnlyApprovedOutbound "
            "to AllowInternetOutbound."
        )
    return None
