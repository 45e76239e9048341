"""A monthly cost budget on the stack's resource group and the Databricks managed resource
group, with e-mail alerts.

Data-science clusters and online endpoints are the usual surprise on the bill: a consumption
budget (Learn, "Tutorial: Create and manage budgets"; azure-rest-api-specs consumption
2024-08-01 Budget) mails the contacts when actual or forecast cost crosses each threshold. It
only alerts: nothing is stopped.

The cluster VMs and disks bill in the Databricks managed resource group (Learn, "Monitor usage
using tags": cluster and pool tags reach the VMs there), the DBUs on the workspace in the stack's
group. So the budget sits at subscription scope, filtered on both groups by the ResourceGroupName
dimension: one budget sees both. A budget scoped to the managed group itself could be refused by
Databricks' deny assignment on that group. What it misses: serverless compute, billed in the
Databricks account rather than in either group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pulumi
from pulumi_azure_native import consumption

from core.config import BudgetSpec


def month_start(today: date) -> str:
    """The budget's start: the first day of the current month (the API takes no other day)."""
    return today.replace(day=1).isoformat() + "T00:00:00Z"


@dataclass(frozen=True)
class BudgetArgs:
    scope: pulumi.Input[str]  # /subscriptions/<id>
    budget_name: str  # unique in the subscription
    spec: BudgetSpec
    start_date: str  # month_start(...), kept after creation
    resource_groups: Sequence[str]  # the groups whose cost counts (ResourceGroupName In ...)


def resource_group_filter(groups: Sequence[str]) -> consumption.BudgetFilterArgs:
    """Cost of these resource groups only (consumption 2024-08-01 BudgetFilter.dimensions)."""
    return consumption.BudgetFilterArgs(
        dimensions=consumption.BudgetComparisonExpressionArgs(
            name="ResourceGroupName",
            operator=consumption.BudgetOperatorType.IN_,
            values=list(groups),
        )
    )


class Budget(pulumi.ComponentResource):
    id: pulumi.Output[str]

    def __init__(
        self, name: str, args: BudgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:cost:Budget", name, None, opts)
        notifications = {
            # notification keys: unique per budget, e.g. "actual-gt-80"
            f"{t.type.value.lower()}-gt-{t.percent:g}".replace(".", "_"): (
                consumption.NotificationArgs(
                    enabled=True,
                    operator=consumption.OperatorType.GREATER_THAN,
                    threshold=t.percent,
                    threshold_type=t.type.value,
                    contact_emails=list(args.spec.contact_emails),
                )
            )
            for t in args.spec.thresholds
        }
        budget = consumption.Budget(
            f"{name}-budget",
            scope=args.scope,
            budget_name=args.budget_name,
            amount=args.spec.amount,
            category=consumption.CategoryType.COST,
            time_grain=consumption.TimeGrainType.MONTHLY,
            time_period=consumption.BudgetTimePeriodArgs(start_date=args.start_date),
            notifications=notifications,
            filter=resource_group_filter(args.resource_groups),
            # The start date is when the budget began; a later run must not move it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod"]),
        )
        self.id = budget.id
        self.register_outputs({"id": self.id})
