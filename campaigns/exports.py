"""CSV exports of campaigns, written by ``core.csv.SafeWriter`` (its one formula guard
covers every cell)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse

from core.csv import SafeWriter

from .models import Campaign
from .selectors import Funnel

#: (attribute of a funnel row, CSV header).
FUNNEL_COLUMNS = [
    ("label", "account"),
    ("kind", "kind"),
    ("discovered", "discovered"),
    ("leads", "leads"),
    ("customers", "customers"),
    ("lead_rate", "lead_rate"),
    ("customer_rate", "customer_rate"),
    ("conversion_rate", "conversion_rate"),
    ("median_days_to_lead", "median_days_to_lead"),
    ("median_days_to_customer", "median_days_to_customer"),
    ("purchases", "purchases"),
    ("revenue", "revenue"),
    ("tickets", "tickets"),
]


def funnel_value(value: Any) -> Any:
    """A funnel figure as one cell: revenue per currency (``{"EUR": "12.50"}``) reads
    ``12.50 EUR; 3.00 USD``; everything else is left to ``SafeWriter``."""
    if isinstance(value, dict):
        return "; ".join(f"{amount} {currency}" for currency, amount in value.items())
    return value


def funnel_rows(funnel: Funnel) -> Iterator[list[Any]]:
    """The header, the total, then one row per account."""
    yield [header for _attr, header in FUNNEL_COLUMNS]
    total = funnel.total.as_dict()
    total["label"] = "TOTAL"
    for row in [total, *(r.as_dict() for r in funnel.accounts)]:
        yield [funnel_value(row[attr]) for attr, _header in FUNNEL_COLUMNS]


def funnel_csv_response(campaign: Campaign, funnel: Funnel) -> HttpResponse:
    """The funnel as a CSV download (a few rows: not streamed)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-funnel.csv"'
    writer = SafeWriter(response)
    for row in funnel_rows(funnel):
        writer.writerow(row)
    return response
