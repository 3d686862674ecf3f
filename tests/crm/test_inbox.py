"""The unified inbox: unhandled inbound questions across accounts, newest first."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.crm.helpers import bulk_inbound
from tests.factories import (
    SocialAccountFactory,
    SocialIdentityFactory,
    TimelineEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>window.pwned=1</script>",
    '<img src=x onerror="alert(1)">',
    "\u202eevil RTL override\u202c and \u200fmark",
    "emoji 😡🔥👩🏽‍💻",
    "x" * 5000,
    "broken surrogate \ud800 here".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]


def _inbound(account, *, minutes_ago=0, **kwargs):
    identity = kwargs.pop("identity", None) or SocialIdentityFactory(network=account.network)
    kwargs.setdefault("network", account.network)
    return TimelineEntryFactory(
        account=account,
        identity=identity,
        contact=identity.contact,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kwargs,
    )


def _ids(html: str) -> list[int]:
    parts = html.split('class="entry inbox-item')[1:]
    return [int(part.split('id="inbox-')[1].split('"')[0]) for part in parts]


def test_inbox_lists_unhandled_questions_newest_first(client, support):
    client.force_login(support)
    brand = SocialAccountFactory()
    other = SocialAccountFactory(network="mastodon", base_url="http://127.0.0.1:1")
    old = _inbound(brand, minutes_ago=30, kind="mention")
    new = _inbound(other, minutes_ago=1, kind="dm")
    middle = _inbound(brand, minutes_ago=10, kind="quote")
    _inbound(brand, minutes_ago=5, kind="like")  # not a question
    _inbound(brand, minutes_ago=2, kind="reply", handled_at=timezone.now())
    TimelineEntryFactory(direction="out", kind="reply", account=brand)
    TimelineEntryFactory(direction="internal", kind="note", network="")

    response = client.get("/inbox/")
    assert response.status_code == 200
    assert _ids(response.content.decode()) == [new.pk, middle.pk, old.pk]

    with_reactions = client.get("/inbox/?reactions=on").content.decode()
    assert len(_ids(with_reactions)) == 4
    assert _ids(client.get("/inbox/?network=mastodon").content.decode()) == [new.pk]
    assert _ids(client.get(f"/inbox/?account={brand.pk}").content.decode()) == [middle.pk, old.pk]
    assert _ids(client.get("/inbox/?kind=quote&kind=mention").content.decode()) == [
        middle.pk,
        old.pk,
    ]
    assert len(_ids(client.get("/inbox/?kind=like").content.decode())) == 1


def test_inbox_filter_swaps_only_the_list(client, support):
    client.force_login(support)
    entry = _inbound(SocialAccountFactory())
    html = client.get(
        "/inbox/?network=bluesky", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-items"
    ).content.decode()
    assert "<html" not in html
    assert f'id="inbox-{entry.pk}"' in html


def test_inbox_keyset_pages_and_query_count(client, support, django_assert_max_num_queries):
    client.force_login(support)
    account = SocialAccountFactory()
    for i in range(5):
        _inbound(account, minutes_ago=i)
    client.get("/inbox/")  # warm the permission cache
    with django_assert_max_num_queries(8) as small:
        assert client.get("/inbox/").status_code == 200

    bulk_inbound(account, 195, authors=195)
    with django_assert_max_num_queries(8) as big:
        response = client.get("/inbox/")
    html = response.content.decode()
    assert len(_ids(html)) == 50
    assert len(small.captured_queries) == len(big.captured_queries)

    cursor = html.split("cursor=")[1].split('"')[0]
    more = client.get(f"/inbox/?cursor={cursor}", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more
    assert len(set(_ids(more)) & set(_ids(html))) == 0
    assert len(_ids(more)) == 50
    assert client.get("/inbox/?cursor=%%%").status_code == 404


def test_inbox_escapes_hostile_text(client, support):
    client.force_login(support)
    account = SocialAccountFactory(handle="brand.test")
    identity = SocialIdentityFactory(handle='"><script>alert(1)</script>')
    identity.contact.display_name = '<b onmouseover="x()">Evil</b>'
    identity.contact.save()
    for text in HOSTILE:
        _inbound(account, identity=identity, text=text)
    html = client.get("/inbox/").content.decode()
    assert "<script>window.pwned" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<b onmouseover" not in html
    assert '"><script>alert(1)' not in html
    assert "\u202eevil RTL override" in html
    assert "😡🔥" in html
    assert "x" * 5000 in html
    assert 'class="text" dir="auto"' in html


def test_assign_to_me_and_mark_handled(client, support, django_assert_max_num_queries):
    client.force_login(support)
    entry = _inbound(SocialAccountFactory())

    html = client.post(f"/inbox/{entry.pk}/assign/", HTTP_HX_REQUEST="true").content.decode()
    entry.refresh_from_db()
    assert entry.assigned_to == support
    assert "assigned to sofia" in html and "Unassign" in html and "<html" not in html
    assert _ids(client.get("/inbox/?mine=on").content.decode()) == [entry.pk]
    colleague = UserFactory(username="diego", role="Support")
    client.force_login(colleague)
    assert _ids(client.get("/inbox/?mine=on").content.decode()) == []
    client.post(f"/inbox/{entry.pk}/assign/", HTTP_HX_REQUEST="true")  # takes it over
    entry.refresh_from_db()
    assert entry.assigned_to == colleague

    response = client.post(f"/inbox/{entry.pk}/handled/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    entry.refresh_from_db()
    assert entry.handled_at is not None and entry.handled_by == colleague
    assert _ids(client.get("/inbox/").content.decode()) == []
    back = client.post(f"/inbox/{entry.pk}/handled/", HTTP_HX_REQUEST="true").content.decode()
    assert "Mark handled" in back
    entry.refresh_from_db()
    assert entry.handled_at is None


def test_inbox_actions_only_on_inbound_social_items(client, support):
    client.force_login(support)
    note = TimelineEntryFactory(direction="internal", kind="note", network="", external_id="")
    assert client.post(f"/inbox/{note.pk}/handled/").status_code == 404
    assert client.post(f"/inbox/{note.pk}/assign/").status_code == 404
    assert client.get("/inbox/1/handled/").status_code == 405


def test_inbox_permissions(client, sales, support, manager, outsider):
    entry = _inbound(SocialAccountFactory())
    assert client.get("/inbox/").status_code == 302  # anonymous: to the login page
    assert client.post(f"/inbox/{entry.pk}/handled/").status_code == 302
    for user in (sales, support, manager):
        client.force_login(user)
        assert client.get("/inbox/").status_code == 200
    client.force_login(outsider)
    assert client.get("/inbox/").status_code == 403
    assert client.post(f"/inbox/{entry.pk}/handled/").status_code == 403
    assert client.post(f"/inbox/{entry.pk}/answer/", {"text": "hi"}).status_code == 403
    entry.refresh_from_db()
    assert entry.handled_at is None


def test_nav_inbox_is_the_real_page(client, support):
    client.force_login(support)
    html = client.get("/inbox/").content.decode()
    assert "not built yet" not in html
    assert "Nothing waiting for an answer." in html
