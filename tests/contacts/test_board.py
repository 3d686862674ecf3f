"""The pipeline board: three stage columns, keyset pages per column, drag and drop."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Stage, StageChange
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_board_shows_three_columns_with_cards(client, sales):
    client.force_login(sales)
    ContactFactory(
        display_name="Dora Discovered", score=12, owner=sales, last_interaction_at=timezone.now()
    )
    ContactFactory(display_name="Leo Lead", stage=Stage.LEAD)
    ContactFactory(display_name="Cai Customer", stage=Stage.CUSTOMER)
    html = client.get("/contacts/pipeline/").content.decode()
    for stage in (0, 1, 2):
        assert f'data-stage-column="{stage}"' in html
    columns = html.split('data-stage-column="')
    assert (
        "Dora Discovered" in columns[1]
        and "Leo Lead" in columns[2]
        and "Cai Customer" in columns[3]
    )
    assert "Score 12" in columns[1] and sales.username in columns[1]
    assert "vendor/sortable/Sortable.min.js" in html and "js/contacts.js" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_board_query_count_is_constant_and_columns_page(
    client, sales, django_assert_max_num_queries
):
    client.force_login(sales)
    owner = UserFactory(username="bruno", role="Sales")
    now = timezone.now()

    def make(n):
        for i in range(n):
            for stage in Stage.values:
                ContactFactory(
                    stage=stage, owner=owner, last_interaction_at=now - timedelta(minutes=i)
                )

    make(5)
    client.get("/contacts/pipeline/")  # warm the permission cache
    with django_assert_max_num_queries(14) as few:
        client.get("/contacts/pipeline/")
    make(200)
    with django_assert_max_num_queries(14) as many:
        html = client.get("/contacts/pipeline/").content.decode()
    assert len(few.captured_queries) == len(many.captured_queries)
    assert html.count('class="pipeline-card"') == 3 * 20

    # Each column loads its next page on its own (keyset), all the way down.
    seen = set()
    url = (
        html.split('data-stage-column="1"')[1]
        .split('hx-get="')[1]
        .split('"')[0]
        .replace("&amp;", "&")
    )
    while url:
        part = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in part
        seen |= {chunk.split('"')[0] for chunk in part.split('id="card-')[1:]}
        url = (
            part.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
            if "Load more" in part
            else None
        )
    assert len(seen) == 205 - 20


def test_drop_on_another_column_records_a_stage_change(client, sales):
    client.force_login(sales)
    contact = ContactFactory(display_name="Mover")
    card = client.post(
        f"/contacts/{contact.pk}/move/",
        {"stage": 1, "reason": "Replied to our DM"},
        HTTP_HX_REQUEST="true",
    )
    assert card.status_code == 200
    assert (
        f'id="card-{contact.pk}"' in card.content.decode() and "<html" not in card.content.decode()
    )
    change = StageChange.objects.get()
    assert (change.to_stage, change.actor, change.reason) == (1, sales, "Replied to our DM")

    again = client.post(f"/contacts/{contact.pk}/move/", {"stage": 1}, HTTP_HX_REQUEST="true")
    assert again.status_code == 400 and b"already at this stage" in again.content
    bad = client.post(f"/contacts/{contact.pk}/move/", {"stage": 7}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400

    # Without JavaScript, the card's buttons do the same and come back to the board.
    response = client.post(f"/contacts/{contact.pk}/move/", {"stage": 2})
    assert response.status_code == 302 and response["Location"] == "/contacts/pipeline/"
    assert StageChange.objects.latest("id").reason == "Moved on the pipeline board"


def test_board_filters_and_permissions(client, sales, support):
    ContactFactory(display_name="Vip Person", owner=sales)
    ContactFactory(display_name="Other Person")
    client.force_login(support)
    html = client.get("/contacts/pipeline/?owner=none").content.decode()
    assert "Other Person" in html and "Vip Person" not in html
    assert "data-move-url" not in html  # support reads, does not move
    contact = ContactFactory()
    assert client.post(f"/contacts/{contact.pk}/move/", {"stage": 1}).status_code == 403


def test_columns_show_count_value_and_stage_names_and_cards_their_stage_age(client, sales):
    """Each column: its stage's name, how many contacts, the sum of their purchases
    (per currency, with the board's filters); each card: how long it is in its stage."""
    from decimal import Decimal

    from contacts.models import Purchase
    from contacts.services import contact_change_stage

    now = timezone.now()
    buyers = [ContactFactory(stage=2, owner=sales) for _ in range(3)]
    for contact, amount in zip(buyers, ("10.50", "20.00", "5.25"), strict=True):
        Purchase.objects.create(
            contact=contact, amount=Decimal(amount), product="Fibre", purchased_at=now
        )
    Purchase.objects.create(
        contact=buyers[0], amount=Decimal("7"), currency="USD", product="Router", purchased_at=now
    )
    lead = ContactFactory(stage=0, owner=sales)
    contact_change_stage(contact=lead, stage=1, actor=sales, reason="test")
    ContactFactory(stage=1)  # no owner: filtered out below
    client.force_login(sales)
    html = client.get("/contacts/pipeline/").content.decode()
    customers = html.split('id="totals-2"')[1].split("</p>")[0]
    assert "<strong>3</strong> contacts" in customers
    assert "<strong>35.75 EUR</strong>" in customers and "<strong>7.00 USD</strong>" in customers
    leads = html.split('id="totals-1"')[1].split("</p>")[0]
    assert "<strong>2</strong> contacts" in leads and "<strong>0</strong>" in leads
    assert '<span class="stage stage-2">Customer</span>' in html
    card = html.split(f'id="card-{lead.pk}"')[1].split("</li>")[0]
    assert "in this stage for 0" in card
    mine = client.get(f"/contacts/pipeline/?owner={sales.pk}").content.decode()
    assert "<strong>1</strong> contact<" in mine.split('id="totals-1"')[1].split("</p>")[0]


def test_a_move_sends_every_columns_new_totals_out_of_band_with_the_boards_filters(
    client, sales, django_assert_max_num_queries
):
    """The card dropped on another column comes back with each column's count and
    value (out-of-band swaps), counted with the filters of the board it was dragged on
    (HTMX sends the board's URL)."""
    from decimal import Decimal

    from contacts.models import Purchase

    now = timezone.now()
    mover = ContactFactory(stage=0, owner=sales)
    Purchase.objects.create(
        contact=mover, amount=Decimal("40.00"), product="Fibre", purchased_at=now
    )
    ContactFactory(stage=0, owner=sales)
    lead = ContactFactory(stage=1, owner=sales)
    Purchase.objects.create(contact=lead, amount=Decimal("2.50"), product="Fibre", purchased_at=now)
    ContactFactory(stage=1)  # not the user's: outside the board's filter
    client.force_login(sales)
    board = "http://testserver/contacts/pipeline/?owner=me"
    client.post(f"/contacts/{lead.pk}/move/", {"stage": 2}, HTTP_HX_REQUEST="true")  # warm up
    client.post(f"/contacts/{lead.pk}/move/", {"stage": 1}, HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(16):
        response = client.post(
            f"/contacts/{mover.pk}/move/",
            {"stage": 1},
            HTTP_HX_REQUEST="true",
            HTTP_HX_CURRENT_URL=board,
        )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.index(f'id="card-{mover.pk}"') < html.index('id="totals-0"')

    def totals(stage: int) -> str:
        part = html.split(f'<p class="column-totals" id="totals-{stage}" hx-swap-oob="true">')[1]
        return part.split("</p>")[0]

    assert "<strong>1</strong> contact<" in totals(0) and "<strong>0</strong>" in totals(0)
    assert "<strong>2</strong> contacts" in totals(1)
    assert "<strong>42.50 EUR</strong>" in totals(1)
    assert "<strong>0</strong> contacts" in totals(2)

    # Unfiltered (or an unreadable URL), the whole board is counted.
    everyone = client.post(
        f"/contacts/{mover.pk}/move/",
        {"stage": 2},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="::not a url::",
    ).content.decode()
    assert "<strong>2</strong> contacts" in everyone.split('id="totals-1"')[1].split("</p>")[0]
    assert "<strong>40.00 EUR</strong>" in everyone.split('id="totals-2"')[1].split("</p>")[0]
