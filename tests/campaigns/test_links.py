from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from campaigns.models import Attribution, LinkClick, TrackedLink
from campaigns.services import tracked_link_url
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    SocialAccountFactory,
    TrackedLinkFactory,
)

pytestmark = pytest.mark.django_db


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_redirect_records_each_click_and_adds_utm_parameters():
    account = SocialAccountFactory(network="mastodon", handle="brand@social.example")
    campaign = CampaignFactory(name="Fibra Otoño 2026", accounts=[account])
    link = TrackedLinkFactory(campaign=campaign, account=account, utm_content="")
    anonymous = Client()  # no login: links are opened by anyone

    response = anonymous.get(f"/r/{link.code}", HTTP_REFERER="https://social.example/@brand/1")
    anonymous.get(f"/r/{link.code}")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "shop.example.com", "/plans")
    query = parse_qs(target.query)
    assert query == {
        "ref": ["social"],
        "utm_source": ["mastodon"],
        "utm_medium": ["social"],
        "utm_campaign": ["fibra-oto-o-2026"],
        "utm_content": ["brand@social.example"],
    }
    assert response["Cache-Control"].startswith("max-age=0")
    link.refresh_from_db()
    assert link.click_count == 2 == LinkClick.objects.filter(link=link).count()
    assert LinkClick.objects.filter(contact__isnull=True).count() == 2
    assert LinkClick.objects.filter(referrer="https://social.example/@brand/1").count() == 1
    assert not Attribution.objects.exists()


def test_unknown_code_is_404_and_records_nothing():
    TrackedLinkFactory()
    response = Client().get("/r/no-such-code")
    assert response.status_code == 404
    assert not LinkClick.objects.exists()
    assert Client().post(f"/r/{TrackedLink.objects.get().code}").status_code == 405


def test_signed_link_identifies_the_contact_and_touches_the_campaign():
    account = SocialAccountFactory()
    campaign = CampaignFactory(accounts=[account])
    link = TrackedLinkFactory(campaign=campaign, account=account)
    lucia = ContactFactory(display_name="Lucía")

    url = tracked_link_url(link, contact=lucia)
    assert url.startswith(f"http://127.0.0.1:8000/r/{link.code}?c=")
    assert Client().get(_path(url)).status_code == 302

    click = LinkClick.objects.get()
    assert click.contact == lucia
    touches = {a.touch: a for a in Attribution.objects.filter(contact=lucia)}
    assert set(touches) == {"first", "last"}
    assert all(
        (a.campaign, a.account, a.via) == (campaign, account, "link") for a in touches.values()
    )


def test_forged_or_foreign_signature_counts_the_click_without_a_contact():
    lucia = ContactFactory()
    link, other = TrackedLinkFactory(), TrackedLinkFactory()
    copied = tracked_link_url(other, contact=lucia).split("?c=")[1]

    Client().get(f"/r/{link.code}", {"c": copied})  # a signature from another link
    Client().get(f"/r/{link.code}", {"c": f"{lucia.pk}:forged"})

    assert LinkClick.objects.filter(link=link, contact__isnull=True).count() == 2
    assert not Attribution.objects.exists()


def test_a_later_campaign_takes_the_last_touch_but_not_the_first():
    lucia = ContactFactory()
    first, second = TrackedLinkFactory(), TrackedLinkFactory()
    Client().get(_path(tracked_link_url(first, contact=lucia)))
    Client().get(_path(tracked_link_url(second, contact=lucia)))

    touches = dict(Attribution.objects.filter(contact=lucia).values_list("touch", "campaign"))
    assert touches == {"first": first.campaign_id, "last": second.campaign_id}


def test_destination_must_be_http(sales, client):
    campaign = CampaignFactory()
    client.force_login(sales)
    response = client.post(
        f"/campaigns/{campaign.pk}/setup/",
        {"link-destination": "javascript:alert(1)", "link-utm_medium": "social"},
    )
    assert response.status_code == 200
    assert not TrackedLink.objects.exists()
    client.post(
        f"/campaigns/{campaign.pk}/setup/",
        {"link-destination": "https://example.com/a", "link-utm_medium": "social"},
    )
    link = TrackedLink.objects.get()
    assert (link.campaign, link.created_by) == (campaign, sales)
