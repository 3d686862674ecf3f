"""The contact list: filters, sorting, keyset pages, bulk actions, CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from contacts.filters import SORTS
from contacts.models import Contact, ContactAudit, Stage, StageChange, Tag
from contacts.templatetags.contacts_tags import contact_row
from core.paging import InvalidCursor, keyset_page
from tests.factories import ContactFactory, SocialIdentityFactory, TimelineEntryFactory, UserFactory

pytestmark = pytest.mark.django_db


def names(html: str, candidates) -> set[str]:
    return {c.display_name for c in candidates if c.display_name in html}


@pytest.fixture
def crowd(sales):
    now = timezone.now()
    vip = Tag.objects.create(name="vip")
    a = ContactFactory(display_name="Alma Recent", owner=sales, last_interaction_at=now, score=80)
    b = ContactFactory(
        display_name="Bruno Old", stage=1, last_interaction_at=now - timedelta(days=200), score=10
    )
    c = ContactFactory(display_name="Carla Never", score=50)
    a.tags.add(vip)
    SocialIdentityFactory(contact=b, network="mastodon", handle="bruno@m.social")
    SocialIdentityFactory(contact=a, network="x", handle="alma")
    return a, b, c


def test_filters(client, sales, crowd):
    client.force_login(sales)

    def shown(query):
        return names(client.get(f"/contacts/?{query}").content.decode(), crowd)

    assert shown("") == {"Alma Recent", "Bruno Old", "Carla Never"}
    assert shown("owner=me") == {"Alma Recent"}
    assert shown(f"owner={sales.pk}") == {"Alma Recent"}
    assert shown("owner=none") == {"Bruno Old", "Carla Never"}
    assert shown("tag=vip") == {"Alma Recent"}
    assert shown("network=mastodon") == {"Bruno Old"}
    assert shown("stage=1") == {"Bruno Old"}
    assert shown("last_interaction=7d") == {"Alma Recent"}
    assert shown("last_interaction=older") == {"Bruno Old"}
    assert shown("last_interaction=never") == {"Carla Never"}
    assert shown("last_interaction=bogus") == set()


def test_sorting_and_keyset_pages(client, sales, crowd):
    client.force_login(sales)

    def order(sort):
        html = client.get(f"/contacts/?sort={sort}").content.decode()
        return sorted(crowd, key=lambda c: html.index(c.display_name))

    a, b, c = crowd
    assert order("recent") == [a, b, c]  # never-contacted last
    assert order("score") == [a, c, b]
    assert order("name") == [a, b, c]
    assert order("newest") == [c, b, a]

    now = timezone.now()
    for i in range(60):
        ContactFactory(display_name=f"Filler {i:02}", last_interaction_at=now - timedelta(hours=i))
    for sort in ("recent", "score", "name", "newest"):
        seen, url = [], f"/contacts/?sort={sort}"
        while url:
            html = client.get(
                url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="contact-rows"
            ).content.decode()
            seen += [
                line.split(">")[1].split("<")[0]
                for line in html.split('dir="auto"')[1:]
                if line.startswith(">")
            ]
            url = (
                html.split('hx-get="')[-1].split('"')[0].replace("&amp;", "&")
                if "Load more" in html
                else None
            )
        names_seen = [n for n in seen if n.startswith(("Filler", "Alma", "Bruno", "Carla"))]
        assert len(names_seen) == 63 and len(set(names_seen)) == 63, sort


@pytest.mark.parametrize("compound", [True, False], ids=["union", "two-queries"])
def test_every_sort_pages_through_everything_once(monkeypatch, compound):
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", compound)
    now = timezone.now()
    for i in range(23):
        ContactFactory(
            display_name=f"P{i % 5}",
            score=i % 4,
            last_interaction_at=None if i % 3 == 0 else now - timedelta(hours=i % 7),
        )
    for key, sort in SORTS.items():
        seen, cursor = [], None
        while True:
            page = keyset_page(Contact.objects.all(), **sort.keyset, cursor=cursor, size=4)
            seen += page.items
            cursor = page.next_cursor
            if not cursor:
                break
        assert len(seen) == 23 and len({c.pk for c in seen}) == 23, key
        if key == "recent":
            dated = [c for c in seen if c.last_interaction_at]
            assert seen[: len(dated)] == dated  # never-contacted last
            assert dated == sorted(dated, key=lambda c: (c.last_interaction_at, c.pk), reverse=True)
        if key == "name":
            assert seen == sorted(seen, key=lambda c: (c.display_name, c.pk))
    with pytest.raises(InvalidCursor):
        keyset_page(Contact.objects.all(), **SORTS["name"].keyset, cursor="WzEsMl0", size=4)


def test_list_query_count_is_constant(client, sales, django_assert_max_num_queries):
    client.force_login(sales)
    vip = Tag.objects.create(name="vip")

    def make(n):
        for _ in range(n):
            contact = ContactFactory(owner=sales)
            contact.tags.add(vip)
            SocialIdentityFactory(contact=contact)

    make(5)
    client.get("/contacts/")  # warm the permission cache
    with django_assert_max_num_queries(15) as few:
        client.get("/contacts/?sort=recent&search=person")
    make(195)
    with django_assert_max_num_queries(15) as many:
        html = client.get("/contacts/?sort=recent&search=person").content.decode()
    assert "Load more" in html
    assert len(few.captured_queries) == len(many.captured_queries)


def test_bulk_actions_with_htmx(client, sales, crowd):
    a, b, c = crowd
    client.force_login(sales)
    bruno = UserFactory(username="bruno", role="Sales")
    ids = [a.pk, b.pk, c.pk]

    response = client.post(
        "/contacts/bulk/",
        {"ids": ids, "action": "owner", "owner": bruno.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "contactsChanged" in response["HX-Trigger"]
    assert "3 contacts updated, 0 unchanged." in response.content.decode()
    assert all(c.owner == bruno for c in type(a).objects.filter(pk__in=ids))
    assert ContactAudit.objects.filter(action="update", changes__owner__1="bruno").count() == 3

    client.post(
        "/contacts/bulk/", {"ids": ids, "action": "tag", "tag": "fibra"}, HTTP_HX_REQUEST="true"
    )
    assert Tag.objects.get(name="fibra").contacts.count() == 3

    response = client.post(
        "/contacts/bulk/",
        {"ids": ids, "action": "stage", "stage": 1, "reason": "Webinar"},
        HTTP_HX_REQUEST="true",
    )
    assert "2 contacts updated, 1 unchanged." in response.content.decode()  # b was at 1
    assert set(StageChange.objects.values_list("reason", flat=True)) == {"Webinar"}

    response = client.post("/contacts/bulk/", {"ids": ids, "action": "tag"}, HTTP_HX_REQUEST="true")
    assert "HX-Trigger" not in response and "Name the tag to add." in response.content.decode()
    # Without HTMX it redirects back to the list it came from.
    response = client.post(
        "/contacts/bulk/",
        {"ids": ids, "action": "owner", "owner": "", "next": "/contacts/?stage=1"},
    )
    assert response.status_code == 302 and response["Location"] == "/contacts/?stage=1"
    assert not type(a).objects.filter(owner__isnull=False).exists()


def test_bulk_needs_change_permission(client, support, crowd):
    client.force_login(support)
    assert (
        client.post(
            "/contacts/bulk/", {"ids": [crowd[0].pk], "action": "tag", "tag": "x"}
        ).status_code
        == 403
    )
    assert "bulk-form" not in client.get("/contacts/").content.decode()


def test_csv_export_of_a_filtered_list_streams(client, sales, crowd):
    client.force_login(sales)
    _, b, _ = crowd
    b.phone = "=HYPERLINK(1)"
    b.save()
    response = client.get("/contacts/export.csv?stage=1")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["display_name"] for r in rows] == ["Bruno Old"]
    assert rows[0]["handles"] == "mastodon:bruno@m.social"
    assert rows[0]["phone"] == "'=HYPERLINK(1)"  # not a formula in a spreadsheet
    everyone = b"".join(client.get("/contacts/export.csv?tag=vip").streaming_content).decode()
    assert "Alma Recent" in everyone and "Bruno" not in everyone


def test_search_finds_words_they_wrote(client, sales):
    client.force_login(sales)
    writer = ContactFactory(display_name="Quiet Person")
    TimelineEntryFactory(contact=writer, text="¿Tenéis cobertura en Chamberí?")
    html = client.get("/contacts/?search=chamberi").content.decode()
    assert "Quiet Person" in html
    assert Stage.LEAD.label  # the stage labels render too


HOSTILE = '<script>alert("x")</script>&\'\u202e🙂'
HOSTILE_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;\u202e🙂"


@pytest.mark.parametrize(
    "field",
    ["name", "company", "tags", "handles", "stage", "stage_label", "owner", "score_title",
     "score", "since", "url", "select_label"],
)  # fmt: skip
def test_a_row_escapes_every_value(field):
    row = {
        "pk": 5, "name": "Ana", "company": "ACME", "tags": ["vip"], "stage": 1,
        "stage_label": "Lead", "handles": ["ana@example.social"], "owner": "bob",
        "score_title": "Reply (+5)", "score": 12, "since": "3 days ago", "url": "/contacts/5/",
    }  # fmt: skip
    label = "Select"
    if field == "select_label":
        label = HOSTILE
    else:
        row[field] = [HOSTILE] if field in ("tags", "handles") else HOSTILE
    html = str(contact_row(row, True, label))
    assert "<script>" not in html and '"x"' not in html
    assert HOSTILE_ESCAPED in html
    assert html.startswith("<tr><td><input ") and html.endswith("</td></tr>")


def test_rows_escape_hostile_text_and_keep_their_controls(client, sales, support):
    """A row's name, company, tags and handles come from people and networks: they
    are escaped; the row keeps its link, stage, owner, score title and bulk checkbox
    (only for those who may change contacts)."""
    evil = '<img src=x onerror="alert(1)">'
    contact = ContactFactory(
        display_name=evil, company="<b>co</b>", stage=Stage.LEAD, owner=sales, score=7
    )
    contact.tags.add(Tag.objects.create(name="<i>tag</i>"))
    SocialIdentityFactory(contact=contact, handle='"><script>alert(1)</script>')
    client.force_login(sales)
    html = client.get("/contacts/").content.decode()
    assert "<img src=x" not in html and "<script>alert(1)" not in html and "<b>co" not in html
    assert (
        f'<a href="/contacts/{contact.pk}/" dir="auto">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</a>'
        in html
    )
    assert '<span class="tag">&lt;i&gt;tag&lt;/i&gt;</span>' in html
    assert "@&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<span class="stage stage-1">Lead</span>' in html
    assert f"<td>{sales.get_username()}</td>" in html
    assert (
        f'<input type="checkbox" name="ids" value="{contact.pk}" form="bulk-form"'
        ' aria-label="Select &lt;img src=x onerror=&quot;alert(1)&quot;&gt;">' in html
    )
    spanish = client.get("/contacts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'aria-label="Seleccionar &lt;img' in spanish
    # Support may read contacts but not change them: no checkboxes, no bulk form.
    client.force_login(support)
    html = client.get("/contacts/").content.decode()
    assert 'name="ids"' not in html and 'id="bulk-form"' not in html


def test_filter_bar_shows_what_the_request_selected(client, sales):
    """Each filter keeps its value in the bar after filtering (the option the request
    chose is the selected one, the search box keeps its words, escaped); nothing else is
    selected."""
    Tag.objects.create(name="vip")
    Tag.objects.create(name="later")
    other = UserFactory(username="other-owner")
    sales.groups.first().user_set.add(other)
    client.force_login(sales)
    html = client.get(
        "/contacts/",
        {
            "search": '"><b>ana',
            "stage": "1",
            "network": "mastodon",
            "owner": str(other.pk),
            "tag": "vip",
            "last_interaction": "30d",
        },
    ).content.decode()
    assert 'value="&quot;&gt;&lt;b&gt;ana"' in html
    assert '<option value="1" selected>' in html and '<option value="0" selected>' not in html
    assert '<option value="mastodon" selected>' in html
    assert f'<option value="{other.pk}" selected>other-owner</option>' in html
    assert '<option value="vip" selected>vip</option>' in html
    assert '<option value="later">later</option>' in html
    assert '<option value="30d" selected>' in html and '<option value="7d" selected>' not in html
    plain = client.get("/contacts/", {"owner": "me"}).content.decode()
    assert (
        '<option value="me" selected>' in plain
        and " selected>"
        not in plain.replace('<option value="me" selected>', "").split('id="language-select"')[0]
    )
