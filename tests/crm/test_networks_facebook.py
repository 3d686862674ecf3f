"""Facebook Pages: no local Graph server exists, so ``tests.crm.meta_fake`` answers
``graph.facebook.com`` in the Graph API's own wire format (through ``responses``), with
state, so each scenario counts what the page holds against what Momento stored."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.urls import reverse

from contacts.models import SocialIdentity, TimelineEntry
from crm.models import SocialAccount, SyncFailure
from crm.networks.base import AuthError
from crm.selectors import syncstream_error_text
from crm.services import socialaccount_connect
from crm.sync import sync_account_run
from tests.crm.conftest import stream_row, time_passes
from tests.crm.meta_fake import FakePage, graph_error

CREDENTIALS = {"access_token": "EAAB-page-token", "app_secret": "s3cret", "verify_token": "vt-123"}


@pytest.fixture
def fb():
    fake = FakePage()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


@pytest.fixture
def account(db, fb, manager):
    return socialaccount_connect(
        network="facebook",
        kind="brand",
        handle="momentoshop",
        credentials=dict(CREDENTIALS),
        actor=manager,
    )


def sync_until_done(account: SocialAccount, *, page_limit: int = 25, rounds: int = 40) -> int:
    pages = 0
    for _ in range(rounds):
        result = sync_account_run(account_id=account.pk, max_pages=3, page_limit=page_limit)
        pages += result.pages
        if not result.more:
            return pages
    raise AssertionError("sync never finished")


def stored(account) -> Counter:
    return Counter(
        TimelineEntry.objects.filter(account=account, network="facebook").values_list(
            "external_id", flat=True
        )
    )


def test_connect_checks_the_token_with_a_real_call_and_keys_the_page(account, fb):
    assert account.external_id == fb.page_id and account.handle == "momentoshop"
    assert account.credentials == CREDENTIALS  # decrypted by the field
    assert fb.requests_seen[0].startswith("https://graph.facebook.com/v24.0/me?")
    assert "appsecret_proof=" in fb.requests_seen[0]


def test_an_expired_token_is_refused_at_connect_and_nothing_is_stored(db, fb, manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        socialaccount_connect(
            network="facebook",
            kind="brand",
            handle="momentoshop",
            credentials={**CREDENTIALS, "access_token": "EAAB-expired"},
            actor=manager,
        )
    assert "The network rejected these credentials" in str(excinfo.value)
    assert not SocialAccount.objects.exists()


def test_first_poll_with_three_pages_waiting_stores_every_comment_and_message_once(account, fb):
    """More than a fb on two posts and in Messenger, before the first poll: nothing
    is left behind (the first poll reads from the oldest item, not the newest fb)."""
    launch, outage = fb.post("Launch"), fb.post("Service update")
    for n in range(60):
        fb.comment(launch, f"70{n % 12:02d}", f"Fan {n % 12}", f"comment {n} on launch")
    for n in range(35):
        fb.comment(outage, f"80{n % 9:02d}", f"Customer {n % 9}", f"no signal {n} 😡")
    for n in range(30):
        fb.dm(f"90{n % 5:02d}", f"Buyer {n % 5}", f"message {n}")

    sync_until_done(account, page_limit=25)

    held = {c.id for c in fb.comments} | {m["id"] for ms in fb.messages.values() for m in ms}
    got = stored(account)
    assert set(got) == held and len(held) == 125  # 0 missing
    assert max(got.values()) == 1  # 0 duplicated
    people = SocialIdentity.objects.filter(network="facebook")
    assert people.count() == 12 + 9 + 5
    assert all(i.external_id.startswith(f"{fb.page_id}:") for i in people)
    dm = TimelineEntry.objects.filter(account=account, kind="dm").first()
    assert dm.thread_id == f"{fb.page_id}:{dm.identity.external_id.split(':')[1]}"


def test_a_burst_between_polls_lands_whole_and_in_order(account, fb):
    post = fb.post("Price change")
    fb.comment(post, "7001", "Ana", "first")
    sync_until_done(account)
    for n in range(180):
        fb.comment(post, f"71{n % 40:02d}", f"Angry {n % 40}", f"piled-on complaint {n}")
    sync_until_done(account, page_limit=50)
    got = stored(account)
    assert len(got) == 181 and max(got.values()) == 1
    texts = list(
        TimelineEntry.objects.filter(account=account, text__startswith="piled-on")
        .order_by("occurred_at", "id")
        .values_list("text", flat=True)
    )
    assert texts == [f"piled-on complaint {n}" for n in range(180)]


def test_rate_limit_answers_retry_when_meta_says_access_is_regained(account, fb):
    post = fb.post()
    for n in range(10):
        fb.comment(post, "7001", "Ana", f"c{n}")
    usage = {
        fb.page_id: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]
    }
    fb.faults.append(
        (
            400,
            graph_error(32, "Page request limit reached"),
            {"X-Business-Use-Case-Usage": json.dumps(usage)},
        )
    )
    before = datetime.now(UTC)
    result = sync_account_run(account_id=account.pk)
    comments = stream_row(account, "comments")
    assert comments.error_code == "rate_limited" and "comments" in result.errors
    assert before + timedelta(minutes=6) < comments.retry_at < before + timedelta(minutes=8)
    assert "Comments: Facebook's rate limit was reached; retrying at" in syncstream_error_text(
        comments
    )
    assert stream_row(account, "dms").error_code == ""  # the other stream synced
    # Codes 4, 17 and 613 are rate limits too; then the fb answers and nothing is lost.
    for code in (4, 17, 613):
        time_passes(account)
        fb.faults.append((400, graph_error(code, "limit"), {}))
        sync_account_run(account_id=account.pk)
        assert stream_row(account, "comments").error_code == "rate_limited"
    time_passes(account)
    sync_until_done(account)
    assert len(stored(account)) == 10
    assert stream_row(account, "comments").error_code == ""


def test_a_500_backs_off_and_loses_nothing(account, fb):
    post = fb.post()
    fb.comment(post, "7001", "Ana", "hello")
    fb.faults.append((500, "<html>Internal error</html>", {"Content-Type": "text/html"}))
    sync_account_run(account_id=account.pk)
    time_passes(account)
    fb.faults.append((500, graph_error(2, "Service temporarily unavailable"), {}))
    sync_account_run(account_id=account.pk)
    comments = stream_row(account, "comments")
    assert (comments.error_code, comments.failures) == ("server_error", 2)
    assert "Comments: Facebook answered 500" in syncstream_error_text(comments)
    assert comments.retry_at > datetime.now(UTC)
    time_passes(account)
    sync_until_done(account)
    assert set(stored(account)) == {fb.comments[0].id}


def test_a_revoked_token_marks_the_account_needs_reconnect_with_a_sentence(account, fb):
    fb.token = "EAAB-rotated"
    with pytest.raises(AuthError):
        sync_account_run(account_id=account.pk)
    account.refresh_from_db()
    assert account.state == SocialAccount.State.NEEDS_RECONNECT
    assert "expired or was revoked" in account.last_error


def test_malformed_items_are_kept_as_failures_and_the_rest_stored(account, fb):
    post = fb.post()
    fb.comment(post, "7001", "Ana", "fine")
    broken = fb.comment(post, "7002", "Bo", "broken")
    original = fb._comment_row

    def row(c):
        if c.id == broken:  # not a Graph timestamp
            return {"id": c.id, "message": c.message, "created_time": "yesterday", "from": c.author}
        return original(c)

    fb._comment_row = row
    sync_account_run(account_id=account.pk)
    assert set(stored(account)) == {fb.comments[0].id}
    failure = SyncFailure.objects.get(account=account)
    assert failure.external_id == fb.comments[1].id and "Malformed" in failure.reason


# -- answering ---------------------------------------------------------------------------


def test_public_reply_and_private_reply_in_one_step(client, account, fb, manager, answer):
    post = fb.post()
    comment_id = fb.comment(post, "7001", "Ana", "my order never arrived")
    sync_account_run(account_id=account.pk)
    entry = TimelineEntry.objects.get(external_id=comment_id)

    answer(client, manager, entry, "Sorry Ana, we are on it", private=False)
    public = fb.sent[-1]
    assert (
        public["path"] == f"{comment_id}/comments"
        and public["message"] == "Sorry Ana, we are on it"
    )

    answer(client, manager, entry, "Could you send us your order number?", private=True)
    private = fb.sent[-1]
    assert private["path"] == f"{fb.page_id}/messages"
    assert json.loads(private["recipient"]) == {"comment_id": comment_id}
    # The private reply opened Ana's Messenger thread: it is on her timeline in that thread.
    dm = TimelineEntry.objects.get(kind="dm", direction="out")
    assert dm.thread_id == f"{fb.page_id}:7001" and dm.contact_id == entry.contact_id


def test_a_dm_in_the_thread_and_the_closed_window_said_plainly(
    client, account, fb, manager, answer
):
    fb.dm("9001", "Ana", "hello, is the shop open?")
    sync_account_run(account_id=account.pk)
    inbound = TimelineEntry.objects.get(kind="dm", direction="in")
    answer(client, manager, inbound, "Yes, until 8pm", private=True)
    sent = fb.sent[-1]
    assert json.loads(sent["recipient"]) == {"id": "9001"} and sent["messaging_type"] == "RESPONSE"
    assert fb.messages["9001"][-1]["message"] == "Yes, until 8pm"

    fb.tick(25 * 3600)  # a day later the window has closed
    answer(client, manager, inbound, "Anything else?", private=True)
    from crm.models import OutboundMessage

    failed = OutboundMessage.objects.order_by("-pk").first()
    assert failed.state == OutboundMessage.State.FAILED
    assert "24 hours" in failed.last_error and "window has closed" in failed.last_error


# -- webhooks ----------------------------------------------------------------------------


def webhook_url(account) -> str:
    return reverse("crm:meta-webhook", args=[account.pk])


def signed(body: bytes, secret: str = "s3cret") -> dict:
    from crm.networks.meta import signature

    return {"HTTP_X_HUB_SIGNATURE_256": signature(secret, body)}


def comment_event(fb, comment_id="104_555", user_id="7009", message="wifi down again"):
    return {
        "object": "page",
        "entry": [
            {
                "id": fb.page_id,
                "time": 1795000000,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": comment_id,
                            "post_id": f"{fb.page_id}_000001",
                            "parent_id": f"{fb.page_id}_000001",
                            "from": {"id": user_id, "name": "Zoe"},
                            "message": message,
                            "created_time": 1795000000,
                        },
                    },
                    {
                        "field": "feed",
                        "value": {
                            "item": "reaction",
                            "verb": "add",
                            "reaction_type": "like",
                            "post_id": f"{fb.page_id}_000001",
                            "from": {"id": "7010", "name": "Yan"},
                            "created_time": 1795000001,
                        },
                    },
                ],
                "messaging": [
                    {
                        "sender": {"id": "9009"},
                        "recipient": {"id": fb.page_id},
                        "timestamp": 1795000002000,
                        "message": {"mid": "m_webhook_1", "text": "hola"},
                    },
                    {"sender": {"id": "9009"}, "recipient": {"id": fb.page_id}, "delivery": {}},
                ],
            }
        ],
    }


def test_the_subscription_check_echoes_only_for_our_verify_token(client, account):
    url = webhook_url(account)
    ok = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "vt-123", "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
        {
            "hub.mode": "subscribe",
            "hub.verify_token": "vt-123",
            "hub.challenge": '{"object":"page"}',
        },
        {"hub.mode": "subscribe", "hub.verify_token": "vt-123", "hub.challenge": "9" * 200},
        {"hub.mode": "subscribe", "hub.verify_token": "vt-ñ", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "vt-123", "hub.challenge": "1"},
    ):
        refused = client.get(url, params)
        assert refused.status_code == 403 and b"1158201444" not in refused.content


def test_a_signed_event_lands_through_the_ingest_path_once(client, account, fb):
    body = json.dumps(comment_event(fb)).encode()
    first = client.post(webhook_url(account), body, content_type="application/json", **signed(body))
    assert first.status_code == 200 and first.json() == {"stored": 3, "failed": 0}
    again = client.post(webhook_url(account), body, content_type="application/json", **signed(body))
    assert again.json()["stored"] == 0
    kinds = sorted(TimelineEntry.objects.filter(account=account).values_list("kind", flat=True))
    assert kinds == ["dm", "like", "reply"]
    dm = TimelineEntry.objects.get(kind="dm")
    assert dm.thread_id == f"{fb.page_id}:9009"


def test_forged_and_malformed_signatures_are_refused_and_store_nothing(client, account, fb):
    body = json.dumps(comment_event(fb)).encode()
    url = webhook_url(account)
    # The challenge endpoint cannot be used to sign a body (it answers digits, unsigned).
    oracle = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "vt-123", "hub.challenge": body.decode()}
    )
    assert oracle.status_code == 403
    for headers in (
        {},
        signed(body, secret="guess"),
        {"HTTP_X_HUB_SIGNATURE_256": "sha256=" + "0" * 64},
        {"HTTP_X_HUB_SIGNATURE_256": "sha1=" + "0" * 40},
        {"HTTP_X_HUB_SIGNATURE_256": "sha256=ñ" + "0" * 63},
        {"HTTP_X_HUB_SIGNATURE_256": signed(body)["HTTP_X_HUB_SIGNATURE_256"].upper()},
    ):
        response = client.post(url, body, content_type="application/json", **headers)
        assert response.status_code == 403
    tampered = body.replace(b"wifi down again", b"I am the CEO, refund everyone")
    response = client.post(url, tampered, content_type="application/json", **signed(body))
    assert response.status_code == 403
    assert not TimelineEntry.objects.exists()


def test_every_id_that_is_not_a_meta_account_answers_the_same_404(client, account, db):
    from tests.factories import SocialAccountFactory

    x = SocialAccountFactory(network="x", handle="xbrand", credentials={"consumer_secret": "cs"})
    bare = SocialAccountFactory(
        network="facebook", handle="nohook", credentials={"access_token": "t"}
    )
    answers = set()
    for pk in (x.pk, bare.pk, 999999):
        response = client.get(
            reverse("crm:meta-webhook", args=[pk]),
            {"hub.mode": "subscribe", "hub.verify_token": "vt-123", "hub.challenge": "1"},
        )
        answers.add((response.status_code, response.content))
    assert len(answers) == 1 and next(iter(answers))[0] == 404


def test_a_webhook_body_that_is_not_a_page_event_is_a_400(client, account):
    for payload in (b"[]", b'{"object": "instagram", "entry": []}', b"not json", b"[" * 100_000):
        response = client.post(
            webhook_url(account), payload, content_type="application/json", **signed(payload)
        )
        assert response.status_code == 400


# -- connecting where users work ---------------------------------------------------------


def test_a_manager_connects_a_page_from_the_connect_page(client, db, fb, manager):
    client.force_login(manager)
    form = client.get(
        "/social-accounts/connect/?network=facebook", HTTP_HX_REQUEST="true"
    ).content.decode()
    for name in ("access_token", "app_secret", "verify_token"):
        assert f'name="{name}"' in form
    assert 'name="base_url"' not in form and 'name="consumer_key"' not in form
    response = client.post(
        "/social-accounts/connect/",
        {"network": "facebook", "kind": "brand", "handle": "momentoshop", **CREDENTIALS},
    )
    assert response.status_code == 302
    account = SocialAccount.objects.get(network="facebook")
    assert account.external_id == fb.page_id
    status = client.get("/social-accounts/").content.decode()
    assert "Facebook" in status and CREDENTIALS["access_token"] not in status
    assert CREDENTIALS["app_secret"] not in status


def test_the_api_connects_a_page_and_refuses_missing_keys(db, fb, manager):
    from tests.conftest import api_as

    api = api_as(manager)
    missing = api.post(
        "/api/v1/social-accounts/",
        {
            "network": "facebook",
            "kind": "brand",
            "handle": "p",
            "credentials": {"access_token": "t"},
        },
        format="json",
    )
    assert missing.status_code == 400
    assert "Missing: app_secret, verify_token" in " ".join(missing.json()["credentials"])
    made = api.post(
        "/api/v1/social-accounts/",
        {
            "network": "facebook",
            "kind": "brand",
            "handle": "momentoshop",
            "credentials": CREDENTIALS,
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert (
        "credentials" not in made.json() and CREDENTIALS["app_secret"] not in made.content.decode()
    )
    expired = api.post(
        "/api/v1/social-accounts/",
        {
            "network": "instagram",
            "kind": "brand",
            "handle": "other",
            "credentials": {**CREDENTIALS, "access_token": "EAAB-old"},
        },
        format="json",
    )
    assert expired.status_code == 400
    assert "rejected these credentials" in " ".join(expired.json()["credentials"])


def test_the_admin_lists_facebook_accounts(client, account, manager):
    client.force_login(manager)
    fb = client.get("/admin/crm/socialaccount/?network__exact=facebook")
    assert fb.status_code == 200 and "momentoshop" in fb.content.decode()
