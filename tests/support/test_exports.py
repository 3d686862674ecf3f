"""The support report CSV: text that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from support.exports import support_report_rows
from support.models import Incident
from support.selectors import report_period, support_report
from support.services import tickets_open_for_entries
from tests.factories import complaint_entry

pytestmark = pytest.mark.django_db

HOSTILE = ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd"]


def test_report_csv_neutralises_formulas_and_keeps_numbers(
    client, manager, team, customer, account
):
    tickets_open_for_entries(entries=[complaint_entry(contact=customer, account=account)])
    for title in [*HOSTILE, "Madrid outage"]:
        Incident.objects.create(team=team, title=title)
    client.force_login(manager)
    response = client.get("/support/reports/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    start, end = report_period(None, None)
    assert f'filename="support-{start}-{end}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert rows[0] == ["section", "key", "value"]
    incidents = {key: value for section, key, value in rows if section == "incident"}
    assert set(incidents) == {"'" + title for title in HOSTILE} | {"Madrid outage"}
    assert all(value == "0" for value in incidents.values())
    assert ["network", "mastodon", "1"] in rows and ["tickets", "total", "1"] in rows
    # Nothing in the file starts a formula, whatever the section.
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r"))
            assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit()


def test_report_rows_cover_every_section(team, customer, account):
    tickets_open_for_entries(entries=[complaint_entry(contact=customer, account=account)])
    start, end = report_period(None, None)
    sections = {row[0] for row in support_report_rows(support_report(start=start, end=end))}
    assert sections >= {
        "section",
        "period",
        "tickets",
        "network",
        "account",
        "time",
        "sla_first_response",
        "sla_resolution",
        "csat",
        "csat_rating",
        "topic",
    }
