"""Listening against the local Bluesky network's searchPosts and against mastodon-mock:
matching posts land on their authors' timelines once, new authors become stage-0
contacts attributed to the campaign, and rate limits retry at the reset time."""

import time
import uuid
from datetime import UTC, datetime

import pytest
from celery.exceptions import Retry

from campaigns.models import Attribution, CampaignMatch
from campaigns.services import listening_due, rule_listen
from campaigns.tasks import listen_due, listen_rule
from contacts.models import Contact, SocialIdentity, TimelineEntry
from crm.networks.base import RateLimited
from tests.crm.helpers import bsky_account
from tests.factories import CampaignFactory, ListeningRuleFactory, SocialAccountFactory

pytestmark = [pytest.mark.peers, pytest.mark.django_db]


def _tag() -> str:
    # The Bluesky network is shared by the session: each test listens for its own word.
    return f"momento{uuid.uuid4().hex[:8]}"


@pytest.fixture
def bluesky_scene(bsky):
    brand, alice, bob, carol = (bsky.create_account(n) for n in ("brand", "alice", "bob", "carol"))
    tag = _tag()
    clients = {
        n: bsky.client(a.handle, a.password)
        for n, a in [("alice", alice), ("bob", bob), ("carol", carol)]
    }
    clients["alice"].send_post(f"Which fibre plan is best? #{tag}")
    clients["alice"].send_post(f"Still looking for a plan #{tag}")
    clients["bob"].send_post(f"#{tag} my router keeps dropping")
    clients["carol"].send_post(f"Cheap followers, spam offer #{tag}")
    bsky.process()
    account = bsky_account(bsky, brand)
    return account, tag, clients, {"alice": alice, "bob": bob, "carol": carol}


def test_bluesky_search_posts_become_attributed_stage_0_contacts(bsky, bluesky_scene):
    account, tag, _clients, people = bluesky_scene
    campaign = CampaignFactory(accounts=[account])
    rule = ListeningRuleFactory(campaign=campaign, hashtags=tag, excluded_words="spam")

    result = listen_rule.apply((rule.pk, "bluesky")).get()

    assert result == {"pages": 1, "matched": 3, "new_contacts": 2}
    entries = TimelineEntry.objects.filter(network="bluesky", text__contains=tag)
    assert entries.count() == 3  # carol's spam was excluded
    assert set(entries.values_list("kind", "direction").distinct()) == {("post", "in")}
    alice = SocialIdentity.objects.get(network="bluesky", external_id=people["alice"].did).contact
    bob = SocialIdentity.objects.get(network="bluesky", external_id=people["bob"].did).contact
    assert alice.timeline.filter(kind="post").count() == 2 and alice.stage == 0
    assert not SocialIdentity.objects.filter(external_id=people["carol"].did).exists()
    for contact in (alice, bob):
        touches = {a.touch: a for a in Attribution.objects.filter(contact=contact)}
        assert set(touches) == {"first", "last"}
        assert all(
            (a.campaign, a.account, a.via) == (campaign, account, "listening")
            for a in touches.values()
        )
    assert CampaignMatch.objects.filter(campaign=campaign).count() == 3
    rule.refresh_from_db()
    assert rule.matched_count == 3 and rule.last_run_at and not rule.last_error
    # One page held every post, and Bluesky pages back in time: no cursor to resume from,
    # the next run reads the newest page again.
    assert rule.cursors == {}


def test_bluesky_post_matched_twice_is_stored_once(bsky, bluesky_scene):
    account, tag, clients, _people = bluesky_scene
    campaign = CampaignFactory(accounts=[account])
    by_tag = ListeningRuleFactory(campaign=campaign, hashtags=tag)
    by_word = ListeningRuleFactory(campaign=campaign, hashtags="", keywords=tag)  # same posts
    other_campaign = CampaignFactory(accounts=[account])
    ListeningRuleFactory(campaign=other_campaign, hashtags=tag)

    first = rule_listen(rule_id=by_tag.pk, network="bluesky")
    again = rule_listen(rule_id=by_tag.pk, network="bluesky")  # a second run
    twice = rule_listen(rule_id=by_word.pk, network="bluesky")  # a second rule
    assert (first.matched, again.matched, twice.matched) == (4, 0, 0)
    assert TimelineEntry.objects.filter(text__contains=tag).count() == 4
    assert CampaignMatch.objects.filter(campaign=campaign).count() == 4
    assert Contact.objects.filter(identities__network="bluesky").distinct().count() == 3

    # The same posts in another campaign's feed: stored once on the timeline all the same,
    # and the first touch stays with the campaign that found these people first.
    for due_rule, network in listening_due():
        if due_rule == other_campaign.rules.get().pk:
            rule_listen(rule_id=due_rule, network=network)
    assert TimelineEntry.objects.filter(text__contains=tag).count() == 4
    assert CampaignMatch.objects.filter(campaign=other_campaign).count() == 4
    firsts = set(Attribution.objects.filter(touch="first").values_list("campaign", flat=True))
    lasts = set(Attribution.objects.filter(touch="last").values_list("campaign", flat=True))
    assert firsts == {campaign.pk} and lasts == {other_campaign.pk}

    # A new post after the runs is found by the next one (the newest page is always read).
    clients["bob"].send_post(f"Any news on the #{tag} offer?")
    bsky.process()
    later = rule_listen(rule_id=by_tag.pk, network="bluesky")
    assert later.matched == 1
    assert TimelineEntry.objects.filter(text__contains=tag).count() == 5


@pytest.fixture
def mastodon_accounts():
    return ["brand", "alice", "bob"]


@pytest.fixture
def mastodon_brand(mastodon_server):
    return SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["brand"]},
    )


def test_mastodon_hashtag_and_search_store_each_post_once(mastodon_server, mastodon_brand):
    alice, bob = mastodon_server.client("alice"), mastodon_server.client("bob")
    alice.status_post("Looking for a fibre plan #momento")
    bob.status_post("Is there a good fibre plan here? #momento")
    bob.status_post("¿Alguien sabe de un buen plan de fibra para casa? #momento")
    alice.status_post("unrelated")
    campaign = CampaignFactory(accounts=[mastodon_brand])
    tags = ListeningRuleFactory(campaign=campaign, hashtags="#momento", language="en")
    words = ListeningRuleFactory(campaign=campaign, hashtags="", phrases="fibre plan")

    by_tag = rule_listen(rule_id=tags.pk, network="mastodon")
    by_phrase = rule_listen(rule_id=words.pk, network="mastodon")
    again = rule_listen(rule_id=tags.pk, network="mastodon")

    assert (by_tag.matched, by_tag.new_contacts) == (2, 2)  # the Spanish post is not English
    assert (by_phrase.matched, again.matched) == (0, 0)  # found again, stored once
    assert TimelineEntry.objects.filter(network="mastodon").count() == 2
    assert CampaignMatch.objects.filter(campaign=campaign).count() == 2
    handles = Attribution.objects.filter(touch="first", campaign=campaign).values_list(
        "contact__identities__handle", flat=True
    )
    assert {h.split("@")[0] for h in handles} == {"alice", "bob"}
    tags.refresh_from_db()
    assert tags.cursors["mastodon:#momento"][
        "cursor"
    ]  # the newest status id: next run starts there

    bob.status_post("Another #momento question about a fibre plan")
    assert rule_listen(rule_id=tags.pk, network="mastodon").matched == 1


def test_mastodon_rate_limit_retries_at_reset_without_sleeping(
    mastodon_server, mastodon_brand, monkeypatch
):
    mastodon_server.client("alice").status_post("Need a plan #momento")
    campaign = CampaignFactory(accounts=[mastodon_brand])
    rule = ListeningRuleFactory(campaign=campaign, hashtags="momento")
    mastodon_server.inject_fault(path="/api/v1/timelines/tag/*", type="ratelimit", count=1)

    retries = []

    def retry(**kwargs):
        retries.append(kwargs)
        raise Retry()

    monkeypatch.setattr(listen_rule, "retry", retry)
    started = time.monotonic()
    with pytest.raises(Retry):
        listen_rule(rule.pk, "mastodon")
    assert time.monotonic() - started < 10  # the 429 says "wait 300 s": nobody waited
    assert retries[0]["eta"] > datetime.now(UTC)
    assert retries[0]["eta"].timestamp() == pytest.approx(time.time() + 300, abs=30)
    assert not CampaignMatch.objects.exists()

    # The retry, at reset time, carries on: the post is stored once.
    assert listen_rule(rule.pk, "mastodon")["matched"] == 1
    assert CampaignMatch.objects.count() == 1


def test_rate_limited_search_raises_for_the_task(mastodon_server, mastodon_brand):
    campaign = CampaignFactory(accounts=[mastodon_brand])
    rule = ListeningRuleFactory(campaign=campaign, hashtags="momento")
    mastodon_server.inject_fault(path="/api/v1/timelines/tag/*", type="ratelimit", count=1)
    with pytest.raises(RateLimited):
        rule_listen(rule_id=rule.pk, network="mastodon")


def test_listen_due_queues_running_campaigns_only(
    mastodon_brand, django_capture_on_commit_callbacks
):
    running = CampaignFactory(accounts=[mastodon_brand])
    paused = CampaignFactory(accounts=[mastodon_brand], active=False)
    ended = CampaignFactory(
        accounts=[mastodon_brand],
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2020, 2, 1, tzinfo=UTC),
    )
    rule = ListeningRuleFactory(campaign=running, hashtags="momento", networks=["mastodon"])
    ListeningRuleFactory(campaign=running, hashtags="x", networks=["bluesky"])  # no account there
    ListeningRuleFactory(campaign=paused)
    ListeningRuleFactory(campaign=ended)
    assert listening_due() == [(rule.pk, "mastodon")]
    assert listen_due.apply().get() == 1
