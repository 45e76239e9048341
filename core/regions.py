"""Azure region names (`azure-native:location`), checked offline before anything is created.

The names ARM takes as a resource's `location`, as `az account list-locations --query
"[].name"` prints them: the physical regions of the public cloud, Azure Government and Azure
China. Sources: Azure SDK for .NET `Azure.Core.AzureLocation` (the public-cloud list) and the
regions ARM lists for Microsoft.Resources; gathered 2026-12. A region opened after that date is
allowed with `databricks-azureml:unlistedRegion` (docs/configuration.md).
"""

from __future__ import annotations

LISTED_ON = "2026-12"

REGIONS = frozenset(
    {
        # Americas
        "brazilsouth",
        "brazilsoutheast",
        "canadacentral",
        "canadaeast",
        "centralus",
        "chilecentral",
        "eastus",
        "eastus2",
        "mexicocentral",
        "northcentralus",
        "southcentralus",
        "westcentralus",
        "westus",
        "westus2",
        "westus3",
        # Europe
        "austriaeast",
        "francecentral",
        "francesouth",
        "germanynorth",
        "germanywestcentral",
        "italynorth",
        "northeurope",
        "norwayeast",
        "norwaywest",
        "polandcentral",
        "spaincentral",
        "swedencentral",
        "swedensouth",
        "switzerlandnorth",
        "switzerlandwest",
        "uksouth",
        "ukwest",
        "westeurope",
        # Asia Pacific
        "australiacentral",
        "australiacentral2",
        "australiaeast",
        "australiasoutheast",
        "centralindia",
        "eastasia",
        "indonesiacentral",
        "japaneast",
        "japanwest",
        "jioindiacentral",
        "jioindiawest",
        "koreacentral",
        "koreasouth",
        "malaysiawest",
        "newzealandnorth",
        "southeastasia",
        "southindia",
        "taiwannorth",
        "taiwannorthwest",
        "westindia",
        # Middle East and Africa
        "israelcentral",
        "qatarcentral",
        "southafricanorth",
        "southafricawest",
        "uaecentral",
        "uaenorth",
        # Azure Government
        "usdodcentral",
        "usdodeast",
        "usgovarizona",
        "usgovtexas",
        "usgovvirginia",
        # Azure operated by 21Vianet (China)
        "chinaeast",
        "chinaeast2",
        "chinaeast3",
        "chinanorth",
        "chinanorth2",
        "chinanorth3",
    }
)
