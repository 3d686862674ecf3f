from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Campaign, ListeningRule, ScheduledPost, TrackedLink
from tests.conftest import api_as
from tests.factories import (
    CampaignFactory,
    CampaignMatchFactory,
    ListeningRuleFactory,
    SocialAccountFactory,
    TrackedLinkFactory,
)

pytestmark = pytest.mark.django_db


def test_campaign_crud_and_validation(sales):
    api = api_as(sales)
    account = SocialAccountFactory()
    created = api.post(
        "/api/v1/campaigns/",
        {
            "name": "Spring",
            "goal": "Leads",
            "accounts": [account.pk],
            "starts_at": "2026-03-01T00:00:00Z",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert Campaign.objects.get(pk=pk).accounts.get() == account
    bad = api.patch(f"/api/v1/campaigns/{pk}/", {"ends_at": "2026-01-01T00:00:00Z"}, format="json")
    assert bad.status_code == 400 and "ends_at" in bad.json()
    assert api.get("/api/v1/campaigns/?active=true").json()["results"][0]["id"] == pk


def test_rules_links_and_posts(sales, django_capture_on_commit_callbacks):
    api = api_as(sales)
    account = SocialAccountFactory(network="mastodon")
    campaign = CampaignFactory(accounts=[account])

    empty = api.post("/api/v1/campaign-rules/", {"campaign": campaign.pk}, format="json")
    assert empty.status_code == 400 and "keywords" in empty.json()
    rule = api.post(
        "/api/v1/campaign-rules/",
        {
            "campaign": campaign.pk,
            "hashtags": "momento",
            "phrases": "fibre plan",
            "networks": ["mastodon"],
        },
        format="json",
    )
    assert rule.status_code == 201 and rule.json()["queries"] == ['"fibre plan"', "#momento"]
    bad_net = api.post(
        "/api/v1/campaign-rules/",
        {"campaign": campaign.pk, "keywords": "a", "networks": ["myspace"]},
        format="json",
    )
    assert bad_net.status_code == 400 and "networks" in bad_net.json()

    link = api.post(
        "/api/v1/campaign-links/",
        {
            "campaign": campaign.pk,
            "destination": "https://example.com/x",
            "account": account.pk,
            "code": "spring",
        },
        format="json",
    )
    assert link.status_code == 201, link.json()
    assert link.json()["short_url"].endswith("/r/spring")
    assert "utm_source=mastodon" in link.json()["target_url"]
    taken = api.post(
        "/api/v1/campaign-links/",
        {"campaign": campaign.pk, "destination": "https://e.com", "code": "spring"},
        format="json",
    )
    assert taken.status_code == 400 and "code" in taken.json()
    stranger = api.post(
        "/api/v1/campaign-links/",
        {
            "campaign": campaign.pk,
            "destination": "https://e.com",
            "account": SocialAccountFactory().pk,
        },
        format="json",
    )
    assert stranger.status_code == 400 and "account" in stranger.json()

    send_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {
        "campaign": campaign.pk,
        "account": account.pk,
        "text": "Read our guide",
        "link": link.json()["id"],
        "send_at": send_at,
        "idempotency_key": "k1",
    }
    with django_capture_on_commit_callbacks():
        post = api.post("/api/v1/campaign-posts/", body, format="json")
        again = api.post("/api/v1/campaign-posts/", body, format="json")
    assert post.status_code == 201, post.json()
    assert again.json()["id"] == post.json()["id"] and ScheduledPost.objects.count() == 1
    assert post.json()["state"] == "scheduled"
    assert post.json()["text"] == "Read our guide http://127.0.0.1:8000/r/spring"
    assert (
        api.patch(
            f"/api/v1/campaign-posts/{post.json()['id']}/", {"text": "x"}, format="json"
        ).status_code
        == 405
    )
    cancelled = api.post(f"/api/v1/campaign-posts/{post.json()['id']}/cancel/")
    assert cancelled.json()["state"] == "failed" and cancelled.json()["reason"] == "Cancelled"
    assert api.post(f"/api/v1/campaign-posts/{post.json()['id']}/cancel/").status_code == 409


def test_feed_api_is_keyset_paginated(sales):
    campaign = CampaignFactory()
    CampaignMatchFactory.create_batch(3, campaign=campaign)
    api = api_as(sales)
    page = api.get(f"/api/v1/campaigns/{campaign.pk}/feed/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/feed/?state=nope").status_code == 400


def test_listen_action_queues_each_rule_and_network(sales, django_capture_on_commit_callbacks):
    account = SocialAccountFactory(network="mastodon")
    campaign = CampaignFactory(accounts=[account])
    ListeningRuleFactory(campaign=campaign)
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as(sales).post(f"/api/v1/campaigns/{campaign.pk}/listen/")
    assert response.status_code == 202 and response.json() == {"queued": 1}
    assert len(callbacks) == 1


def test_permissions(support, outsider):
    campaign = CampaignFactory()
    TrackedLinkFactory(campaign=campaign)
    reader = api_as(support)
    assert reader.get("/api/v1/campaigns/").status_code == 200
    assert reader.get(f"/api/v1/campaigns/{campaign.pk}/funnel/").status_code == 200
    assert reader.post("/api/v1/campaigns/", {"name": "x"}, format="json").status_code == 403
    assert reader.post(f"/api/v1/campaigns/{campaign.pk}/listen/").status_code == 403
    assert api_as(outsider).get("/api/v1/campaign-links/").status_code == 403
    assert api_as(outsider).get(f"/api/v1/campaigns/{campaign.pk}/funnel/").status_code == 403
    assert TrackedLink.objects.count() == 1 and ListeningRule.objects.count() == 0


@pytest.mark.parametrize("extra", [{}, {"active": True}])
def test_a_campaign_ending_in_the_past_without_a_start_is_a_field_error(sales, extra):
    api = api_as(sales)
    response = api.post(
        "/api/v1/campaigns/",
        {"name": "Late", "goal": "x", "ends_at": "2020-01-01T00:00:00Z", **extra},
        format="json",
    )
    assert response.status_code == 400 and "ends_at" in response.json()
    assert not Campaign.objects.filter(name="Late").exists()
    ok = api.post(
        "/api/v1/campaigns/",
        {"name": "Soon", "goal": "x", "ends_at": "2999-01-01T00:00:00Z"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    created = Campaign.objects.get(name="Soon")
    assert created.starts_at < created.ends_at
