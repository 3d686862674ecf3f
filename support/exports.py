"""CSV downloads of the support desk: the support report as section, key, value rows.

Every cell goes through ``core.csv``'s guard: incident titles and complaint topics come
from customers' posts, and a handle may start with ``@``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse

from core.csv import SafeWriter


def support_report_rows(report: dict) -> Iterator[list[Any]]:
    """The report (``selectors.support_report``) as rows, the header first."""
    yield ["section", "key", "value"]
    yield ["period", "from", report["from"]]
    yield ["period", "to", report["to"]]
    yield ["tickets", "total", report["tickets"]]
    for row in report["by_network"]:
        yield ["network", row["network"], row["tickets"]]
    for row in report["by_account"]:
        yield ["account", f"{row['network']}:{row['account']}", row["tickets"]]
    yield ["time", "median_first_response_minutes", report["median_first_response_minutes"]]
    yield ["time", "median_resolution_minutes", report["median_resolution_minutes"]]
    for target, figures in report["sla"].items():
        for key, value in figures.items():
            yield [f"sla_{target}", key, value]
    for key in ("answers", "average", "satisfied_percent"):
        yield ["csat", key, report["csat"][key]]
    for row in report["csat"]["distribution"]:
        yield ["csat_rating", row["rating"], row["answers"]]
    for row in report["top_complaint_topics"]:
        yield ["topic", row["keyword"], row["tickets"]]
    for row in report["incidents"]:
        yield ["incident", row["title"], row["tickets"]]


def support_report_csv(report: dict) -> HttpResponse:
    """The report as a CSV download. A few dozen rows, so one response rather than a
    stream."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="support-{report["from"]}-{report["to"]}.csv"'
    )
    writer = SafeWriter(response)
    for row in support_report_rows(report):
        writer.writerow(row)
    return response
