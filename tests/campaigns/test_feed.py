import re
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Attribution, Campaign
from crm.models import OutboundMessage
from tests.conftest import api_as
from tests.factories import (
    CampaignFactory,
    CampaignMatchFactory,
    ListeningRuleFactory,
    SocialAccountFactory,
    SocialIdentityFactory,
    TimelineEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="alert(1)">\u202eevil'


def _match(campaign, *, text="I need a new #momento plan", minutes=0):
    identity = SocialIdentityFactory()
    entry = TimelineEntryFactory(
        contact=identity.contact,
        identity=identity,
        kind="post",
        text=text,
        occurred_at=timezone.now() - timedelta(minutes=minutes),
    )
    return CampaignMatchFactory(campaign=campaign, entry=entry)


@pytest.fixture
def campaign():
    brand = SocialAccountFactory(handle="brand.test")
    staff = SocialAccountFactory(
        handle="ana.test", kind="personal", user=UserFactory(username="ana")
    )
    return CampaignFactory(accounts=[brand, staff])


def test_feed_is_newest_first_escaped_and_pages(client, sales, campaign):
    client.force_login(sales)
    matches = [_match(campaign, minutes=i, text=f"post {i}") for i in range(35)]
    hostile = _match(campaign, minutes=-5, text=HOSTILE)
    CampaignMatchFactory(entry=matches[0].entry)  # the same post in another campaign's feed

    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert html.index(f"match-{hostile.pk}") < html.index(f"match-{matches[0].pk}")
    assert html.count('class="entry match ') == 30
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    cursor = html.split("?cursor=")[1].split('"')[0].split("&")[0]
    more = client.get(f"/campaigns/{campaign.pk}/?cursor={cursor}", HTTP_HX_REQUEST="true")
    text = more.content.decode()
    assert "<html" not in text and text.count('class="entry match ') == 6
    assert f"match-{matches[34].pk}" in text
    assert client.get(f"/campaigns/{campaign.pk}/?cursor=%%%").status_code == 404


def test_feed_query_count_is_constant(client, sales, campaign, django_assert_max_num_queries):
    client.force_login(sales)
    _match(campaign)
    client.get(f"/campaigns/{campaign.pk}/")  # warm the permission cache
    with django_assert_max_num_queries(10) as small:
        assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200
    for i in range(40):
        _match(campaign, minutes=i)
    with django_assert_max_num_queries(10) as big:
        client.get(f"/campaigns/{campaign.pk}/")
    assert len(small.captured_queries) == len(big.captured_queries)


def test_campaign_list_query_count_is_constant(client, sales, django_assert_max_num_queries):
    client.force_login(sales)
    CampaignFactory(accounts=[SocialAccountFactory()])
    client.get("/campaigns/")
    with django_assert_max_num_queries(10) as small:
        assert client.get("/campaigns/").status_code == 200
    for _ in range(20):
        campaign = CampaignFactory(accounts=[SocialAccountFactory(), SocialAccountFactory()])
        _match(campaign)
    with django_assert_max_num_queries(10) as big:
        html = client.get("/campaigns/").content.decode()
    assert html.count("/campaigns/") >= 21
    assert len(small.captured_queries) == len(big.captured_queries)


def test_like_reply_follow_and_dismiss_go_through_the_outbox(client, sales, campaign):
    client.force_login(sales)
    match = _match(campaign)
    staff = campaign.accounts.get(kind="personal")
    url = f"/campaigns/{campaign.pk}/feed/{match.pk}"

    liked = client.post(f"{url}/like/", {"account": staff.pk}, HTTP_HX_REQUEST="true")
    client.post(f"{url}/like/", {"account": staff.pk}, HTTP_HX_REQUEST="true")  # double click
    assert liked.status_code == 200 and "<html" not in liked.content.decode()
    assert f'id="match-{match.pk}"' in liked.content.decode()
    reply = client.post(
        f"{url}/reply/", {"account": staff.pk, "text": "Happy to help!", "nonce": "n1"}
    )
    client.post(f"{url}/reply/", {"account": staff.pk, "text": "Happy to help!", "nonce": "n1"})
    assert reply.status_code == 302
    client.post(f"{url}/follow/", {"account": staff.pk}, HTTP_HX_REQUEST="true")

    sent = {m.kind: m for m in OutboundMessage.objects.all()}
    assert OutboundMessage.objects.count() == 3
    assert sent["like"].in_reply_to == match.entry and sent["like"].account == staff
    assert (sent["reply"].text, sent["reply"].in_reply_to) == ("Happy to help!", match.entry)
    assert sent["follow"].recipient == match.entry.identity
    assert {m.created_by for m in sent.values()} == {sales}
    match.refresh_from_db()
    assert (match.state, match.liked, match.replied, match.followed) == (
        "engaged",
        True,
        True,
        True,
    )
    last = Attribution.objects.get(contact=match.entry.contact, touch="last")
    assert (last.campaign, last.account, last.via) == (campaign, staff, "follow")

    dismissed = client.post(f"{url}/dismiss/", HTTP_HX_REQUEST="true")
    assert "state-dismissed" in dismissed.content.decode()
    assert f"match-{match.pk}" not in client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert (
        f"match-{match.pk}"
        in client.get(f"/campaigns/{campaign.pk}/?state=dismissed").content.decode()
    )


def test_actions_refuse_accounts_outside_the_campaign_or_network(client, sales, campaign):
    client.force_login(sales)
    match = _match(campaign)
    outsider = SocialAccountFactory()
    mastodon = SocialAccountFactory(network="mastodon")
    campaign.accounts.add(mastodon)
    for account in (outsider, mastodon):
        response = client.post(
            f"/campaigns/{campaign.pk}/feed/{match.pk}/like/",
            {"account": account.pk},
            HTTP_HX_REQUEST="true",
        )
        assert 'class="error"' in response.content.decode()
    assert not OutboundMessage.objects.exists()
    other = CampaignFactory()
    assert client.post(f"/campaigns/{other.pk}/feed/{match.pk}/dismiss/").status_code == 404


def test_support_reads_but_cannot_act(client, support, campaign):
    client.force_login(support)
    match = _match(campaign)
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200
    assert client.post(f"/campaigns/{campaign.pk}/feed/{match.pk}/dismiss/").status_code == 403
    assert client.get("/campaigns/new/").status_code == 403


def test_create_campaign_add_rule_and_listen_now(client, sales, django_capture_on_commit_callbacks):
    client.force_login(sales)
    brand = SocialAccountFactory(network="mastodon", handle="brand", base_url="http://127.0.0.1:9")
    response = client.post(
        "/campaigns/new/",
        {
            "name": "Autumn",
            "goal": "Leads",
            "starts_at": "2026-01-01T09:00",
            "owner": sales.pk,
            "accounts": [brand.pk],
            "active": "on",
        },
    )
    campaign = Campaign.objects.get()
    assert response.url == f"/campaigns/{campaign.pk}/setup/"
    assert campaign.owner == sales and list(campaign.accounts.all()) == [brand]
    client.post(
        f"/campaigns/{campaign.pk}/setup/",
        {
            "rule-keywords": "",
            "rule-hashtags": "#momento, fibra",
            "rule-phrases": "",
            "rule-excluded_words": "spam",
            "rule-language": "es",
            "rule-active": "on",
        },
    )
    rule = campaign.rules.get()
    assert rule.queries() == ["#momento", "#fibra"]
    assert rule.excluded() == ["spam"]
    empty = client.post(
        f"/campaigns/{campaign.pk}/setup/", {"rule-keywords": "", "rule-active": "on"}
    )
    assert empty.status_code == 200 and campaign.rules.count() == 1

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(f"/campaigns/{campaign.pk}/listen/")
    assert len(callbacks) == 1  # one rule x one network; run by the listening tests


def test_end_before_start_is_refused(client, sales):
    client.force_login(sales)
    response = client.post(
        "/campaigns/new/",
        {"name": "X", "starts_at": "2026-02-01T09:00", "ends_at": "2026-01-01T09:00"},
    )
    assert response.status_code == 200 and not Campaign.objects.exists()


def test_every_campaign_page_renders(client, sales, campaign):
    client.force_login(sales)
    ListeningRuleFactory(campaign=campaign, keywords="fibra", excluded_words="spam")
    _match(campaign)
    for path in ("", "edit/", "setup/", "posts/", "funnel/", "funnel/?touch=last"):
        response = client.get(f"/campaigns/{campaign.pk}/{path}")
        assert response.status_code == 200, path
    assert client.get("/campaigns/new/").status_code == 200
    nav = client.get("/campaigns/").content.decode()
    assert "not built yet" not in nav
    # The feed's states agree in Spanish (a "publicación": nueva, atendida, descartada).
    feed = client.get(f"/campaigns/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert ">Nueva</option>" in feed and ">Nuevo</option>" not in feed
    assert "Nueva" in feed.split('id="match-')[1]


def test_admin_lists_and_schedules_through_the_outbox(
    client, manager, campaign, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    ListeningRuleFactory(campaign=campaign)
    _match(campaign)
    for model in (
        "campaign",
        "listeningrule",
        "trackedlink",
        "linkclick",
        "scheduledpost",
        "campaignmatch",
        "attribution",
    ):
        assert client.get(f"/admin/campaigns/{model}/").status_code == 200, model
        if model not in {"linkclick"}:
            assert client.get(f"/admin/campaigns/{model}/add/").status_code == 200, model
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").status_code == 200
    account = campaign.accounts.get(kind="brand")
    with django_capture_on_commit_callbacks():
        response = client.post(
            "/admin/campaigns/scheduledpost/add/",
            {
                "campaign": campaign.pk,
                "account": account.pk,
                "text": "From the admin",
                "send_at_0": "2030-01-01",
                "send_at_1": "10:00:00",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    message = OutboundMessage.objects.get()
    assert (message.kind, message.text, message.created_by) == ("post", "From the admin", manager)
    outsider = SocialAccountFactory()
    refused = client.post(
        "/admin/campaigns/scheduledpost/add/",
        {
            "campaign": campaign.pk,
            "account": outsider.pk,
            "text": "x",
            "send_at_0": "2030-01-01",
            "send_at_1": "10:00:00",
        },
    )
    assert refused.status_code == 200 and OutboundMessage.objects.count() == 1


def test_campaign_list_counts_matches_and_first_touches(client, sales, campaign):
    from campaigns.selectors import campaign_list_queryset
    from campaigns.services import attribution_touch

    matches = [_match(campaign, minutes=i) for i in range(3)]
    attribution_touch(
        contact_ids=[m.entry.contact_id for m in matches[:2]], campaign=campaign, via="listening"
    )
    attribution_touch(
        contact_ids=[matches[2].entry.contact_id], campaign=CampaignFactory(), via="link"
    )
    attribution_touch(contact_ids=[matches[2].entry.contact_id], campaign=campaign, via="link")
    row = campaign_list_queryset().get(pk=campaign.pk)
    assert (row.match_count, row.contact_count) == (3, 2)
    empty = campaign_list_queryset().get(pk=CampaignFactory().pk)
    assert (empty.match_count, empty.contact_count) == (0, 0)


def test_listen_now_says_what_stops_it(client, sales, django_capture_on_commit_callbacks):
    """Issue 12 bug 7: "Add an active rule and an account on its network first" was shown
    when both existed but the accounts were paused or needed reconnecting."""
    client.force_login(sales)
    paused = SocialAccountFactory(network="mastodon", handle="brand", state="paused")
    broken = SocialAccountFactory(network="x", handle="brandx", state="needs_reconnect")
    campaign = CampaignFactory(accounts=[paused, broken])

    def listen() -> tuple[str, int]:
        with django_capture_on_commit_callbacks() as queued:
            response = client.post(f"/campaigns/{campaign.pk}/listen/", follow=True)
        assert response.status_code == 200
        said = re.search(r'<li class="error">(.*?)</li>', response.content.decode(), re.S)
        return (said.group(1).strip() if said else "", len(queued))

    assert listen() == ("Add a listening rule first.", 0)
    rule = ListeningRuleFactory(campaign=campaign, active=False)
    assert listen()[0].startswith("Every listening rule of this campaign is switched off")
    rule.active = True
    rule.save()
    text, queued = listen()
    assert queued == 0
    assert text == (
        "The campaign&#x27;s accounts cannot listen: @brand (Mastodon) is paused; "
        "@brandx (X) needs reconnecting. Resume or reconnect one first."
    )
    api = api_as(sales).post(f"/api/v1/campaigns/{campaign.pk}/listen/").json()
    assert api["queued"] == 0 and "@brand (Mastodon) is paused" in api["reason"]

    rule.networks = ["bluesky"]
    rule.save()
    paused.state = "active"
    paused.save()
    assert listen() == (
        "The rules search Bluesky, and the campaign has no active account there.",
        0,
    )
    rule.networks = []
    rule.save()
    text, queued = listen()
    assert queued == 1 and text == ""
