"""Listening rules and tracked links are saved by their services
(``campaigns.services.listening_rule_save``, ``tracked_link_save``) from the setup page,
the API and the admin alike: the same checks everywhere, and never a 500."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import ListeningRule, TrackedLink
from campaigns.services import listening_rule_save, tracked_link_save
from tests.factories import (
    CampaignFactory,
    ListeningRuleFactory,
    SocialAccountFactory,
    TrackedLinkFactory,
)

pytestmark = pytest.mark.django_db


def test_a_rule_needs_a_query_and_known_networks_and_keeps_its_cursors():
    campaign = CampaignFactory()
    with pytest.raises(ValidationError, match="at least one keyword"):
        listening_rule_save(rule=ListeningRule(campaign=campaign, keywords=" , "))
    with pytest.raises(ValidationError) as refused:
        listening_rule_save(rule=ListeningRule(campaign=campaign, keywords="a", networks=["bbs"]))
    assert "networks" in refused.value.message_dict
    assert not ListeningRule.objects.exists()

    rule = listening_rule_save(rule=ListeningRule(campaign=campaign, hashtags="momento"))
    ListeningRule.objects.filter(pk=rule.pk).update(
        cursors={"bluesky:#momento": {"cursor": "c1", "done": False}}
    )
    rule = ListeningRule.objects.get(pk=rule.pk)
    rule.keywords = "fibre"
    listening_rule_save(rule=rule)
    rule.refresh_from_db()
    assert rule.queries() == ["fibre", "#momento"]
    assert rule.cursors == {"bluesky:#momento": {"cursor": "c1", "done": False}}


def test_a_link_is_checked_and_records_who_created_it(sales, manager):
    account = SocialAccountFactory()
    campaign = CampaignFactory(accounts=[account])
    taken = TrackedLinkFactory(code="spring")
    with pytest.raises(ValidationError) as refused:
        tracked_link_save(
            link=TrackedLink(
                campaign=campaign,
                destination="ftp://example.com/",
                account=SocialAccountFactory(),
                code="spring",
            ),
            user=sales,
        )
    assert set(refused.value.message_dict) == {"destination", "account", "code"}
    assert TrackedLink.objects.get() == taken

    link = tracked_link_save(
        link=TrackedLink(campaign=campaign, destination="https://e.com/a", account=account),
        user=sales,
    )
    assert link.pk and link.created_by == sales
    link.destination = "https://e.com/b"
    tracked_link_save(link=link, user=manager)  # an edit keeps who created it
    link.refresh_from_db()
    assert (link.destination, link.created_by) == ("https://e.com/b", sales)


def test_the_setup_page_adds_rules_through_the_service(client, sales):
    campaign = CampaignFactory()
    client.force_login(sales)
    response = client.post(
        f"/campaigns/{campaign.pk}/setup/",
        {"rule-keywords": "fibre, router", "rule-active": "on", "rule-networks": ["mastodon"]},
    )
    assert response.status_code == 302
    rule = ListeningRule.objects.get()
    assert (rule.campaign, rule.queries(), rule.networks) == (
        campaign,
        ["fibre", "router"],
        ["mastodon"],
    )


def _campaign_form(campaign, accounts, *, rules=(), links=()) -> dict:
    """The admin's campaign change form with its two inlines (rules, links)."""
    data = {
        "name": campaign.name,
        "goal": campaign.goal,
        "starts_at_0": "2026-03-01",
        "starts_at_1": "00:00:00",
        "accounts": [a.pk for a in accounts],
        "active": "on",
    }
    for prefix, rows in (("rules", rules), ("links", links)):
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for n, row in enumerate(rows):
            data |= {f"{prefix}-{n}-{name}": value for name, value in row.items()}
            data[f"{prefix}-{n}-campaign"] = campaign.pk
    return data


def test_the_admin_saves_rules_and_links_through_the_services(client, manager):
    client.force_login(manager)
    campaign = CampaignFactory()
    account, other = SocialAccountFactory(), SocialAccountFactory()
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    link = {"code": "admin-1", "destination": "https://e.com/", "account": account.pk}
    link |= {"utm_medium": "social"}

    # The account is added to the campaign in the same form as the link that uses it.
    response = client.post(
        url, _campaign_form(campaign, [account], rules=[{"hashtags": "momento"}], links=[link])
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ListeningRule.objects.get().queries() == ["#momento"]
    saved = TrackedLink.objects.get()
    assert (saved.code, saved.account, saved.created_by) == ("admin-1", account, manager)

    # A link through an account the campaign does not use is a form error, not a 500.
    refused = client.post(
        url,
        _campaign_form(
            campaign, [account], links=[link | {"code": "admin-2", "account": other.pk}]
        ),
    )
    assert refused.status_code == 200
    assert "does not work for this campaign" in refused.content.decode()
    assert TrackedLink.objects.count() == 1

    # The link's own page: the same check.
    add = "/admin/campaigns/trackedlink/add/"
    form = {"campaign": campaign.pk, "code": "admin-3", "destination": "https://e.com/"}
    form |= {"utm_medium": "social", "clicks-TOTAL_FORMS": "0", "clicks-INITIAL_FORMS": "0"}
    refused = client.post(add, form | {"account": other.pk})
    assert refused.status_code == 200 and TrackedLink.objects.count() == 1
    assert "does not work for this campaign" in refused.content.decode()
    added = client.post(add, form | {"account": account.pk})
    assert added.status_code == 302
    assert TrackedLink.objects.get(code="admin-3").created_by == manager

    rule = ListeningRuleFactory(campaign=campaign)
    changed = client.post(
        f"/admin/campaigns/listeningrule/{rule.pk}/change/",
        {"campaign": campaign.pk, "keywords": "", "phrases": "", "hashtags": "", "networks": "[]",
         "active": "on"},
    )  # fmt: skip
    assert changed.status_code == 200  # no query: refused by the model's own check
    assert "Give at least one keyword" in changed.content.decode()
    rule.refresh_from_db()
    assert rule.hashtags == "momento"
