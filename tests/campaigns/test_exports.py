"""The funnel CSV (``campaigns.exports``) is written by ``core.csv.SafeWriter``."""

import csv
import io

import pytest

from campaigns.exports import FUNNEL_COLUMNS, funnel_csv_response, funnel_value
from campaigns.selectors import Funnel, FunnelRow
from tests.factories import CampaignFactory


def test_revenue_per_currency_reads_amount_then_currency():
    assert funnel_value({"EUR": "12.50", "USD": "3.00"}) == "12.50 EUR; 3.00 USD"
    assert funnel_value({}) == ""
    assert funnel_value(7) == 7 and funnel_value(None) is None


@pytest.mark.django_db
def test_the_funnel_csv_escapes_what_a_spreadsheet_would_run():
    campaign = CampaignFactory()
    hostile = FunnelRow(key="1", label='=HYPERLINK("http://evil")', kind="brand", leads=2)
    hidden = FunnelRow(key="2", label="\t=1+1", kind="personal", revenue={"EUR": "-5.00"})
    total = FunnelRow(key="total", label="", discovered=3, revenue={"EUR": "-5.00"})
    funnel = Funnel(campaign_id=campaign.pk, touch="first", total=total, accounts=[hostile, hidden])

    response = funnel_csv_response(campaign, funnel)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="campaign-{campaign.pk}-funnel.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [header for _attr, header in FUNNEL_COLUMNS]
    header = rows[0]
    total_row, hostile_row, hidden_row = (dict(zip(header, r, strict=True)) for r in rows[1:])
    assert (total_row["account"], total_row["discovered"]) == ("TOTAL", "3")
    assert total_row["revenue"] == "'-5.00 EUR" and total_row["lead_rate"] == ""
    assert hostile_row["account"] == '\'=HYPERLINK("http://evil")' and hostile_row["leads"] == "2"
    assert hidden_row["account"] == "'\t=1+1"
