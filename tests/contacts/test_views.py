from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import ContactAudit, StageChange
from tests.factories import (
    ContactFactory,
    PurchaseFactory,
    SocialIdentityFactory,
    TimelineEntryFactory,
    TodoFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>window.pwned=1</script>",
    '<img src=x onerror="alert(1)">',
    "\u202eevil RTL override\u202c and \u200fmark",
    "emoji 😡🔥👩🏽‍💻 and zalgo Z̷̢a̸l̵g̶o",
    "x" * 5000,
    "broken surrogate \ud800 here",
]


def test_contact_page_escapes_hostile_social_text(client, sales):
    client.force_login(sales)
    contact = ContactFactory(display_name='<b onmouseover="x()">Evil</b>')
    SocialIdentityFactory(contact=contact, handle='"><script>alert(1)</script>')
    for text in HOSTILE:
        TimelineEntryFactory(
            contact=contact, text=text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        )
    response = client.get(f"/contacts/{contact.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>window.pwned" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<b onmouseover" not in html
    assert '"><script>alert(1)' not in html
    assert "\u202eevil RTL override" in html  # kept, but isolated by dir="auto"/bidi CSS
    # A name is isolated from what follows it (an RTL override in it cannot flip the
    # stage badge next to it).
    assert "<h1><bdi>&lt;b onmouseover=&quot;x()&quot;&gt;Evil&lt;/b&gt;</bdi>" in html
    assert "😡🔥" in html
    assert "x" * 5000 in html  # long posts are kept whole (folded in <details>)


def _busy_contact(n: int, *, other=None):
    """A contact with ``n`` of everything the page shows."""
    contact = ContactFactory(
        email="same@example.com", score_reasons=[{"code": "dm", "points": 15, "value": 2}]
    )
    for i in range(n):
        identity = SocialIdentityFactory(contact=contact)
        TimelineEntryFactory(contact=contact, identity=identity, text=f"post {i}")
        TodoFactory(contact=contact, assignee=other)
        PurchaseFactory(contact=contact)
        ContactAudit.objects.create(
            contact=contact, actor=other, action="update", changes={"email": ["a", "b"]}
        )
        ContactFactory(email="same@example.com")  # a likely duplicate
    return contact


@pytest.mark.parametrize("user", ["sales", "support"])
def test_contact_page_query_count_is_constant(client, request, user, django_assert_max_num_queries):
    user = request.getfixturevalue(user)
    client.force_login(user)
    small, big = _busy_contact(5, other=user), _busy_contact(200, other=user)
    client.get(f"/contacts/{small.pk}/")  # warm the permission cache
    with django_assert_max_num_queries(20) as few:
        assert client.get(f"/contacts/{small.pk}/").status_code == 200
    with django_assert_max_num_queries(20) as many:
        response = client.get(f"/contacts/{big.pk}/")
    assert response.content.count(b'class="entry ') == 50
    assert len(few.captured_queries) == len(many.captured_queries)


def test_timeline_loads_more_as_you_scroll(client, sales):
    client.force_login(sales)
    contact = ContactFactory()
    now = timezone.now()
    entries = [
        TimelineEntryFactory(
            contact=contact, occurred_at=now - timedelta(minutes=i), text=f"post {i}"
        )
        for i in range(60)
    ]
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'hx-trigger="revealed, click"' in page
    cursor = page.split("?cursor=")[1].split('"')[0].split("&")[0]
    more = client.get(
        f"/contacts/{contact.pk}/?cursor={cursor}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in more
    assert more.count('class="entry ') == 10
    assert f"entry-{entries[50].pk}" in more and f"entry-{entries[49].pk}" not in more
    assert client.get(f"/contacts/{contact.pk}/?cursor=%%%").status_code == 404


def test_contact_list_search_and_stage_filter(client, sales, django_assert_max_num_queries):
    client.force_login(sales)
    lead = ContactFactory(display_name="Carmen Lead", stage=1)
    ContactFactory(display_name="Carmen Stranger", stage=0)
    SocialIdentityFactory(contact=lead, handle="carmen.bsky.social")
    html = client.get("/contacts/?search=carmen&stage=1").content.decode()
    assert "Carmen Lead" in html and "Carmen Stranger" not in html
    html = client.get("/contacts/?search=@carmen.bsky").content.decode()
    assert "Carmen Lead" in html and "Carmen Stranger" not in html
    rows = client.get(
        "/contacts/?search=carmen", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="contact-rows"
    ).content.decode()
    assert "<html" not in rows and "Carmen Stranger" in rows

    ContactFactory.create_batch(120)
    with django_assert_max_num_queries(12):
        html = client.get("/contacts/").content.decode()
    assert html.count("/contacts/") >= 50 and "Load more" in html


def test_stage_change_and_note_forms(client, sales):
    client.force_login(sales)
    contact = ContactFactory()
    response = client.post(f"/contacts/{contact.pk}/stage/", {"stage": 9}, follow=True)
    assert b"Choose a valid stage" in response.content
    assert not StageChange.objects.exists()
    response = client.post(
        f"/contacts/{contact.pk}/stage/", {"stage": 2, "reason": "Bought"}, follow=True
    )
    assert StageChange.objects.get().reason == "Bought"
    response = client.post(
        f"/contacts/{contact.pk}/notes/", {"text": "Called, <b>interested</b>"}, follow=True
    )
    assert b"Called, &lt;b&gt;interested&lt;/b&gt;" in response.content


def test_spanish_interface(client, sales):
    client.force_login(sales)
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/contacts/"})
    assert response.status_code == 302
    html = client.get("/contacts/").content.decode()
    assert "Contactos" in html and "Buscar" in html
    assert 'lang="es"' in html


def test_every_section_is_built(client, sales):
    client.force_login(sales)
    for path in (
        "/inbox/",
        "/contacts/",
        "/contacts/pipeline/",
        "/campaigns/",
        "/support/",
        "/reports/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"This section is not built yet." not in response.content, path


def test_history_and_timeline_name_stages_and_last_interaction_says_ago(client, sales):
    """Issue 12 bug 9: "stage: — → 1" for a move from stage 0, "Stage 0 → 1" on the
    timeline, "Last interaction: 8 hours, 32 minutes" without "ago"."""
    from contacts.services import contact_change_stage

    client.force_login(sales)
    contact = ContactFactory(display_name="Lucía", stage=0)
    contact_change_stage(contact=contact, stage=1, actor=sales, reason="Asked for prices")
    type(contact).objects.filter(pk=contact.pk).update(
        last_interaction_at=timezone.now() - timedelta(hours=8, minutes=32)
    )
    html = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Stage Discovered → Lead" in html and "Stage 0 → 1" not in html
    assert 'Stage: <span dir="auto">Discovered</span> → <span dir="auto">Lead</span>' in html
    assert "<code>stage</code>" not in html
    rows = client.get("/contacts/").content.decode()
    assert "8\xa0hours, 32\xa0minutes ago" in rows
    spanish = client.get(f"/contacts/{contact.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Etapa: " in spanish and "Descubierto" in spanish
    assert (
        "hace 8\xa0horas, 32\xa0minutos"
        in client.get("/contacts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    )


def test_the_shipped_stage_rules_are_named_in_spanish_on_the_timeline(client, sales):
    """The rules Momento ships store English names: the Spanish timeline said
    "regla: Follow of our account". A rule someone named keeps its name."""
    from contacts.services import FOLLOW_RULE, contact_change_stage

    client.force_login(sales)
    followed = ContactFactory(stage=0)
    contact_change_stage(contact=followed, stage=1, rule=FOLLOW_RULE)
    html = client.get(f"/contacts/{followed.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "regla: Sigue a nuestra cuenta" in html
    assert "regla: Follow of our account" not in html
    custom = ContactFactory(stage=0)
    contact_change_stage(contact=custom, stage=1, rule="Vino a la feria")
    html = client.get(f"/contacts/{custom.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "regla: Vino a la feria" in html


def test_a_task_due_in_the_past_is_refused(client, sales):
    client.force_login(sales)
    contact = ContactFactory()
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/contacts/{contact.pk}/tasks/", {"title": "Call back", "due_at": past}, follow=True
    )
    assert "This time has already passed" in response.content.decode()
    assert not contact.todos.exists()
    from tests.conftest import api_as

    bad = api_as(sales).post(
        "/api/v1/tasks/",
        {"contact": contact.pk, "title": "Call", "due_at": "2020-01-01T09:00:00Z"},
        format="json",
    )
    assert bad.status_code == 400 and "passed" in bad.json()["due_at"][0]
