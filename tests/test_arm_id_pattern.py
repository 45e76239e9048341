"""ARM resource ids in config: one pattern per type, compared as ARM compares them."""

from __future__ import annotations

from core.config.readers import arm_id

VNET = arm_id("Microsoft.Network/virtualNetworks")
SUB = "00000000-1111-2222-3333-444444444444"


def test_an_id_in_another_casing_matches_and_gives_its_parts() -> None:
    match = VNET.fullmatch(
        f"/SUBSCRIPTIONS/{SUB}/resourcegroups/hub-rg(1)/providers/microsoft.network"
        "/VIRTUALNETWORKS/spoke-01"
    )

    assert match is not None
    assert (match["subscription"], match["group"], match["name"]) == (SUB, "hub-rg(1)", "spoke-01")


def test_another_type_or_a_group_name_azure_refuses_does_not_match() -> None:
    base = f"/subscriptions/{SUB}/resourceGroups"
    assert VNET.fullmatch(f"{base}/rg/providers/Microsoft.Network/privateDnsZones/x") is None
    assert VNET.fullmatch(f"{base}/rg!/providers/Microsoft.Network/virtualNetworks/x") is None
    assert VNET.fullmatch(f"{base}/rg/providers/MicrosoftXNetwork/virtualNetworks/x") is None
