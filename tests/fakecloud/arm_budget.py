"""Budgets at subscription scope in the fake ARM (tests/fakecloud/arm.py): the route, and the
filter rules of azure-rest-api-specs consumption 2024-08-01 (BudgetFilter,
BudgetComparisonExpression): `operator` is "In", the only value of BudgetOperatorType, with at
least one value; an `and` expression has at least two items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def refuse_budget_filter(props: Mapping[str, Any]) -> str | None:
    """Why ARM answers 400 BadRequest to a budget's filter; None when it may go on."""
    given = props.get("filter")
    if given is None:
        return None
    expressions = [given.get(key) for key in ("dimensions", "tags") if given.get(key)]
    parts = given.get("and")
    if parts is not None:
        if len(parts) < 2:
            return "The 'and' filter needs at least two items."
        expressions += [p.get(key) for p in parts for key in ("dimensions", "tags") if p.get(key)]
    for expression in expressions:
        if expression.get("operator") != "In":
            return f"Invalid operator '{expression.get('operator')}': use 'In'."
        if not expression.get("name") or not expression.get("values"):
            return "A filter needs a name and at least one value."
    return None


def is_subscription_budget(low: list[str]) -> bool:
    """/subscriptions/{s}/providers/Microsoft.Consumption/budgets/{name}, as lowercase parts."""
    return len(low) == 6 and low[3] == "microsoft.consumption" and low[4] == "budgets"
