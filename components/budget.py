"""A monthly cost budget on the resource group, with e-mail alerts.

Data-science clusters and online endpoints are the usual surprise on the bill: a consumption
budget (Learn, "Tutorial: Create and manage budgets"; azure-rest-api-specs consumption
2024-08-01 Budget) mails the contacts when actual or forecast cost crosses each threshold. It
only alerts: nothing is stopped.
"""

from __future__ import annotations

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
    resource_group_id: pulumi.Input[str]
    budget_name: str
    spec: BudgetSpec
    start_date: str  # month_start(...), kept after creation


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
            scope=args.resource_group_id,
            budget_name=args.budget_name,
            amount=args.spec.amount,
            category=consumption.CategoryType.COST,
            time_grain=consumption.TimeGrainType.MONTHLY,
            time_period=consumption.BudgetTimePeriodArgs(start_date=args.start_date),
            notifications=notifications,
            # The start date is when the budget began; a later run must not move it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod"]),
        )
        self.id = budget.id
        self.register_outputs({"id": self.id})
