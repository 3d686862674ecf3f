"""Scheduled posts go out through the outbox at their time, once, on a real Mastodon API
(mastodon-mock), even when the worker is retried or dies mid-send."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from campaigns.models import ScheduledPost
from campaigns.services import scheduled_post_create, scheduled_posts_create
from crm.models import OutboundMessage
from crm.networks import adapter_for
from crm.outbox import RetryLater, outbound_deliver, outbound_reap
from crm.tasks import outbound_send
from tests.conftest import api_as
from tests.crm.helpers import statuses_of
from tests.factories import CampaignFactory, SocialAccountFactory, TrackedLinkFactory

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
SEND_AT = NOW + timedelta(hours=2)


@pytest.fixture
def brand(mastodon_server):
    return SocialAccountFactory(
        network="mastodon",
        handle="alice",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["alice"]},
    )


@pytest.mark.peers
@pytest.mark.django_db
def test_compose_schedules_with_the_tracked_link_and_sends_once(
    client, sales, brand, mastodon_server, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(accounts=[brand])
    link = TrackedLinkFactory(campaign=campaign)
    client.force_login(sales)
    form = {
        "accounts": [brand.pk],
        "text": "Five ways to halve your bill: {link} #momento",
        "link": link.pk,
        "send_at": "2026-05-04T12:00",
        "nonce": "form-1",
    }
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks() as queued:
            assert client.post(f"/campaigns/{campaign.pk}/posts/", form).status_code == 302
            client.post(f"/campaigns/{campaign.pk}/posts/", form)  # submitted twice
    post = ScheduledPost.objects.get()
    assert (
        post.text == f"Five ways to halve your bill: http://127.0.0.1:8000/r/{link.code} #momento"
    )
    assert (post.send_at, post.outbound.not_before, post.outbound.kind) == (
        SEND_AT,
        SEND_AT,
        "post",
    )
    assert post.state == "scheduled"
    assert len(queued) == 1  # one send task, with eta = send_at (not run here: it is eager)

    # The worker picks it up early (a clock skew, an eta ignored): it waits, sends nothing.
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        with pytest.raises(RetryLater) as later:
            outbound_deliver(message_id=post.outbound_id)
    assert later.value.at == SEND_AT
    assert statuses_of(mastodon_server) == []

    with time_machine.travel(SEND_AT + timedelta(seconds=1)):
        assert outbound_send.apply((post.outbound_id,)).get() == "sent"
        # acks_late: the broker hands the same task to a worker again after a crash.
        assert outbound_send.apply((post.outbound_id,)).get() is None
        assert outbound_send.apply((post.outbound_id,)).get() is None

    statuses = statuses_of(mastodon_server)
    assert len(statuses) == 1
    assert f"/r/{link.code}" in statuses[0]["content"]
    post.refresh_from_db()
    post.outbound.refresh_from_db()
    assert post.state == "sent" and post.outbound.attempts == 2  # the early claim, the send
    assert post.outbound.external_id and post.outbound.url

    page = client.get(f"/campaigns/{campaign.pk}/posts/").content.decode()
    assert "Sent" in page and f"/r/{link.code}" in page


@pytest.mark.peers
@pytest.mark.django_db
def test_worker_killed_mid_send_is_retried_with_the_same_key_and_posts_once(
    brand, mastodon_server, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(accounts=[brand])
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks():
            post = scheduled_post_create(
                campaign=campaign, account=brand, text="Our guide", send_at=NOW, user=None
            )
    message = post.outbound
    # A worker claimed it, the network published it, and the worker died before recording.
    OutboundMessage.objects.filter(pk=message.pk).update(state="sending", attempts=1)
    adapter_for(brand).post(text=message.text, idempotency_key=message.idempotency_key)
    assert len(statuses_of(mastodon_server)) == 1

    with time_machine.travel(NOW + timedelta(minutes=15)):
        with django_capture_on_commit_callbacks(execute=True):
            assert outbound_reap() == 1  # Mastodon dedupes by key: retried, not "unknown"

    assert len(statuses_of(mastodon_server)) == 1
    post.outbound.refresh_from_db()
    assert post.state == "sent" and post.outbound.attempts == 2


@pytest.mark.django_db
def test_failure_reason_and_cancel(client, sales, django_capture_on_commit_callbacks):
    account = SocialAccountFactory(
        network="mastodon", base_url="http://127.0.0.1:9", credentials={}
    )
    campaign = CampaignFactory(accounts=[account])
    with django_capture_on_commit_callbacks():
        failing = scheduled_post_create(
            campaign=campaign, account=account, text="hello", send_at=NOW, user=sales
        )
        later = scheduled_post_create(
            campaign=campaign,
            account=account,
            text="later",
            send_at=NOW + timedelta(days=365 * 5),
            user=sales,
        )
    outbound_send.apply((failing.outbound_id,))
    failing.refresh_from_db()
    failing.outbound.refresh_from_db()
    # A sentence for the person; the network's own words for managers, one click away.
    assert failing.state == "failed" and "access token" in failing.outbound.last_error
    assert failing.reason == (
        f"The Mastodon account @{account.handle} needs reconnecting; nothing was posted."
    )

    client.force_login(sales)
    client.post(f"/campaigns/{campaign.pk}/posts/{later.pk}/cancel/")
    later.outbound.refresh_from_db()
    assert (later.state, later.reason) == ("failed", "Cancelled")
    assert outbound_deliver(message_id=later.outbound_id) is None  # the worker skips it
    response = client.post(f"/campaigns/{campaign.pk}/posts/{later.pk}/cancel/", follow=True)
    assert "Too late" in response.content.decode()
    # The posts page: the failed post offers Retry and Edit and resend; the cancelled
    # one is not offered again; the raw error is for managers only.
    page = client.get(f"/campaigns/{campaign.pk}/posts/").content.decode()
    assert "needs reconnecting; nothing was posted." in page and "access token" not in page
    assert f'action="/outbox/{failing.outbound_id}/retry/"' in page and "Edit and resend" in page
    assert f"/outbox/{later.outbound_id}/retry/" not in page


@pytest.mark.django_db
def test_only_the_campaigns_accounts_may_post(client, sales):
    campaign = CampaignFactory(accounts=[SocialAccountFactory()])
    outsider = SocialAccountFactory()
    with pytest.raises(Exception, match="does not work for this campaign"):
        scheduled_post_create(campaign=campaign, account=outsider, text="x", send_at=NOW)
    assert not ScheduledPost.objects.exists() and not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_a_post_through_several_accounts_is_scheduled_all_or_none(
    sales, django_capture_on_commit_callbacks
):
    brand, staff = SocialAccountFactory(), SocialAccountFactory(kind="brand")
    outsider = SocialAccountFactory()
    campaign = CampaignFactory(accounts=[brand, staff])
    with pytest.raises(ValidationError) as refused:
        with django_capture_on_commit_callbacks() as queued:
            scheduled_posts_create(
                campaign=campaign,
                accounts=[brand, outsider],
                text="Spring plans",
                send_at=SEND_AT,
                user=sales,
                idempotency_key="form-9",
            )
    assert "account" in refused.value.message_dict
    assert queued == []  # the first account's post was rolled back with its send task
    assert not ScheduledPost.objects.exists() and not OutboundMessage.objects.exists()

    form = {
        "campaign": campaign,
        "accounts": [brand, staff],
        "text": "Spring plans",
        "send_at": SEND_AT,
        "user": sales,
        "idempotency_key": "form-9",
    }
    with django_capture_on_commit_callbacks() as queued:
        posts = scheduled_posts_create(**form)
        again = scheduled_posts_create(**form)  # the same form submitted twice
    assert [p.account for p in posts] == [brand, staff]
    assert [p.pk for p in again] == [p.pk for p in posts]
    assert ScheduledPost.objects.count() == 2 and len(queued) == 2
    assert {p.outbound.client_key for p in posts} == {
        f"campaign-post-form-9-{brand.pk}",
        f"campaign-post-form-9-{staff.pk}",
    }
    assert all(p.outbound.not_before == SEND_AT for p in posts)


@pytest.mark.django_db
def test_a_post_scheduled_in_the_past_is_refused(client, sales):
    """Issue 12 bug 9: a post scheduled in the past was accepted silently (sent at once)."""
    account = SocialAccountFactory()
    campaign = CampaignFactory(accounts=[account])
    client.force_login(sales)
    form = {"accounts": [account.pk], "text": "Hello", "send_at": "2020-01-01T10:00", "nonce": "p"}
    response = client.post(f"/campaigns/{campaign.pk}/posts/", form)
    assert response.status_code == 200
    assert "This time has already passed" in response.content.decode()
    assert not ScheduledPost.objects.exists()
    api = api_as(sales).post(
        "/api/v1/campaign-posts/",
        {
            "campaign": campaign.pk,
            "account": account.pk,
            "text": "Hello",
            "send_at": "2020-01-01T10:00:00Z",
            "idempotency_key": "past-1",
        },
        format="json",
    )
    assert api.status_code == 400 and "passed" in api.json()["send_at"][0]
