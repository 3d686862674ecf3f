"""Attribution follows contacts through stage changes and purchases to the funnel; every
figure is checked against one computed here, independently, from the raw rows."""

import csv
import io
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns.models import Attribution
from campaigns.selectors import campaign_funnel
from campaigns.services import attribution_touch
from contacts.models import Purchase, StageChange
from contacts.services import contact_change_stage
from support.models import Ticket
from support.services import ticket_open
from tests.conftest import api_as
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    PurchaseFactory,
    SocialAccountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def move(contact, stage, days, *, rule=""):
    with time_machine.travel(at(days), tick=False):
        by = {"rule": rule} if rule else {"actor": UserFactory(username="ana")}
        contact_change_stage(contact=contact, stage=stage, reason="test", **by)


def buy(contact, amount, currency, days):
    PurchaseFactory(
        contact=contact, amount=Decimal(amount), currency=currency, purchased_at=at(days)
    )


def complain(contact, days):
    with time_machine.travel(at(days), tick=False):
        ticket_open(contact=contact, subject="My router is broken")


@pytest.fixture
def scene(sales):
    ana = UserFactory(username="ana")
    brand = SocialAccountFactory(handle="brand.test")
    staff = SocialAccountFactory(handle="ana.test", kind="personal", user=ana)
    campaign = CampaignFactory(accounts=[brand, staff])
    other = CampaignFactory()
    c = {
        name: ContactFactory(display_name=name)
        for name in ["c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    }
    move(c["c5"], 1, -1)  # already a lead before the campaign reached her
    buy(c["c1"], "999.00", "EUR", -2)  # bought before the touch: not the campaign's
    with time_machine.travel(T0, tick=False):
        attribution_touch(
            contact_ids=[c["c1"].pk, c["c2"].pk, c["c7"].pk],
            campaign=campaign,
            via="listening",
            account=brand,
        )
        attribution_touch(
            contact_ids=[c["c3"].pk, c["c4"].pk], campaign=campaign, via="reply", account=staff
        )
        attribution_touch(contact_ids=[c["c5"].pk], campaign=campaign, via="link", account=None)
        attribution_touch(contact_ids=[c["c6"].pk], campaign=other, via="listening", account=brand)
    move(c["c1"], 1, 1, rule="Follow of our account")
    move(c["c1"], 2, 3)
    buy(c["c1"], "100.00", "EUR", 3)
    buy(c["c1"], "50.50", "EUR", 10)
    move(c["c2"], 1, 2)
    move(c["c3"], 2, 5)
    buy(c["c3"], "20.00", "USD", 5)
    move(c["c5"], 2, 4)
    buy(c["c5"], "70.00", "EUR", 4)
    move(c["c6"], 2, 1)
    move(c["c7"], 1, 1)
    move(c["c7"], 0, 6)  # moved back by a person (a refund): she was a lead all the same
    complain(c["c3"], -1)  # before the touch: not the campaign's support load
    complain(c["c1"], 4)
    complain(c["c2"], 5)
    complain(c["c3"], 6)
    complain(c["c6"], 2)  # another campaign's
    return campaign, brand, staff, c


def independent(campaign, touch):
    """The funnel, from the raw rows with plain loops (no code shared with the selector)."""
    changes = list(StageChange.objects.all())
    rows = {}
    for a in Attribution.objects.filter(campaign=campaign, touch=touch):
        for key in ("total", a.account_id or "none"):
            row = rows.setdefault(
                key,
                {
                    "discovered": 0,
                    "leads": [],
                    "customers": [],
                    "revenue": {},
                    "purchases": 0,
                    "tickets": 0,
                },
            )
            row["discovered"] += 1
            reached = [s for s in changes if s.contact_id == a.contact_id and s.created_at >= a.at]
            lead = [s.created_at for s in reached if s.to_stage >= 1]
            customer = [s.created_at for s in reached if s.to_stage == 2]
            if lead:
                row["leads"].append((min(lead) - a.at).total_seconds() / 86400)
            if customer:
                row["customers"].append((min(customer) - a.at).total_seconds() / 86400)
            for p in Purchase.objects.filter(contact_id=a.contact_id, purchased_at__gte=a.at):
                row["revenue"][p.currency] = row["revenue"].get(p.currency, Decimal(0)) + p.amount
                row["purchases"] += 1
            row["tickets"] += Ticket.objects.filter(
                contact_id=a.contact_id, created_at__gte=a.at
            ).count()
    return rows


def check(row, expected):
    assert row["discovered"] == expected["discovered"]
    assert row["leads"] == len(expected["leads"])
    assert row["customers"] == len(expected["customers"])
    assert row["lead_rate"] == round(len(expected["leads"]) / expected["discovered"], 4)
    if expected["leads"]:
        assert row["customer_rate"] == round(len(expected["customers"]) / len(expected["leads"]), 4)
        assert row["median_days_to_lead"] == round(statistics.median(expected["leads"]), 3)
    if expected["customers"]:
        assert row["median_days_to_customer"] == round(statistics.median(expected["customers"]), 3)
    assert row["revenue"] == {k: str(v) for k, v in expected["revenue"].items()}
    assert row["purchases"] == expected["purchases"]
    assert row["tickets"] == expected["tickets"]


def test_first_touch_funnel_matches_the_records(scene):
    campaign, brand, staff, _c = scene
    funnel = campaign_funnel(campaign).as_dict()
    expected = independent(campaign, "first")

    # c5 was a lead already, c6 belongs to another campaign: neither was discovered here.
    assert (
        funnel["total"]["discovered"],
        funnel["total"]["leads"],
        funnel["total"]["customers"],
    ) == (5, 4, 2)
    assert funnel["total"]["median_days_to_customer"] == 4.0  # c1 after 3 days, c3 after 5
    assert funnel["total"]["median_days_to_lead"] == 1.5  # 1, 2, 5 (c3 went straight to 2), 1
    check(funnel["total"], expected["total"])
    by_key = {row["key"]: row for row in funnel["accounts"]}
    assert [row["key"] for row in funnel["accounts"]] == [str(brand.pk), str(staff.pk)]
    check(by_key[str(brand.pk)], expected[brand.pk])
    check(by_key[str(staff.pk)], expected[staff.pk])
    assert (by_key[str(brand.pk)]["kind"], by_key[str(staff.pk)]["kind"]) == ("brand", "personal")
    assert "ana" in by_key[str(staff.pk)]["label"]
    assert funnel["total"]["revenue"] == {"EUR": "150.50", "USD": "20.00"}
    assert funnel["total"]["purchases"] == 3 and funnel["total"]["tickets"] == 3
    assert (by_key[str(brand.pk)]["tickets"], by_key[str(staff.pk)]["tickets"]) == (2, 1)


def test_last_touch_funnel_counts_the_lead_who_came_back(scene):
    campaign = scene[0]
    funnel = campaign_funnel(campaign, touch="last").as_dict()
    expected = independent(campaign, "last")
    check(funnel["total"], expected["total"])
    assert funnel["total"]["discovered"] == 6
    assert funnel["accounts"][-1]["key"] == "none"  # the link click without an account
    check(funnel["accounts"][-1], expected["none"])


def test_page_csv_and_api_agree(scene, client, sales):
    campaign = scene[0]
    funnel = campaign_funnel(campaign).as_dict()
    client.force_login(sales)

    page = client.get(f"/campaigns/{campaign.pk}/funnel/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="funnel-data" type="application/json"' in html
    assert "js/campaigns.js" in html and "chart.umd.min.js" in html
    assert page.context["chart"]["total"] == [5, 4, 2]

    response = client.get(f"/campaigns/{campaign.pk}/funnel.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["account"] == "TOTAL"
    for row, figures in zip(rows, [funnel["total"], *funnel["accounts"]], strict=True):
        for name in ("discovered", "leads", "customers", "tickets"):
            assert row[name] == ("" if figures[name] is None else str(figures[name]))
        assert row["conversion_rate"] == str(figures["conversion_rate"])
        assert row["median_days_to_customer"] == (
            ""
            if figures["median_days_to_customer"] is None
            else str(figures["median_days_to_customer"])
        )

    api = api_as(sales).get(f"/api/v1/campaigns/{campaign.pk}/funnel/")
    assert api.status_code == 200
    assert api.json() == funnel
    assert (
        api_as(sales).get(f"/api/v1/campaigns/{campaign.pk}/funnel/?touch=middle").status_code
        == 400
    )


def test_funnel_query_count_does_not_grow_with_contacts(
    scene, client, sales, django_assert_max_num_queries
):
    campaign, _brand, staff, _c = scene
    client.force_login(sales)
    client.get(f"/campaigns/{campaign.pk}/funnel/")
    with django_assert_max_num_queries(12) as small:
        client.get(f"/campaigns/{campaign.pk}/funnel/")
    more = [ContactFactory() for _ in range(30)]
    attribution_touch(
        contact_ids=[m.pk for m in more], campaign=campaign, via="listening", account=staff
    )
    for m in more[:10]:
        move(m, 1, 2)
    with django_assert_max_num_queries(12) as big:
        client.get(f"/campaigns/{campaign.pk}/funnel/")
    assert len(small.captured_queries) == len(big.captured_queries)


def test_contact_filter_by_campaign(scene, manager, client):
    from contacts.filters import ContactFilter
    from contacts.models import Contact

    campaign, _brand, _staff, c = scene
    touched = {c[n] for n in ("c1", "c2", "c3", "c4", "c5", "c7")}

    got = ContactFilter({"campaign": campaign.pk}, queryset=Contact.objects.all()).qs
    assert set(got) == touched
    # The same filter on the contact list's API and page.
    body = api_as(manager).get(f"/api/v1/contacts/?campaign={campaign.pk}&page_size=200").json()
    assert {row["id"] for row in body["results"]} == {x.pk for x in touched}
    client.force_login(manager)
    html = client.get(f"/contacts/?campaign={campaign.pk}").content.decode()
    assert all(f"/contacts/{x.pk}/" in html for x in touched)
    assert all(f"/contacts/{x.pk}/" not in html for x in set(c.values()) - touched)
