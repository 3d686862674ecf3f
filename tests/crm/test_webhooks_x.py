"""X Account Activity webhook: CRC, signatures (vectors computed with openssl), and
events in v1.1's wire format going through the ingest path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import SocialIdentity, StageChange, TimelineEntry
from contacts.services import FOLLOW_RULE
from crm.models import SyncFailure
from crm.webhooks import x_signature
from tests.factories import SocialAccountFactory

ME = "2244994945"


@pytest.fixture
def account(db):
    return SocialAccountFactory(
        network="x",
        handle="brand",
        external_id=ME,
        base_url="",
        credentials={"consumer_secret": "cs", "consumer_key": "ck"},
    )


def url(account) -> str:
    return reverse("crm:x-webhook", args=[account.pk])


def test_signature_vectors():
    # printf 'challenge-abc' | openssl dgst -sha256 -hmac cs -binary | base64
    assert (
        x_signature("cs", b"challenge-abc") == "sha256=cayb5WTmK3leVSrrQ/hYe8238Fut6KxmzfE2J21AvYA="
    )
    assert (
        x_signature("cs", b'{"for_user_id":"1"}')
        == "sha256=SCrUXMw6UY2FVLSoXJe/9MtN5I4aoL9iDAw4l2Lo0hE="
    )


def test_crc_answers_without_login(account):
    response = Client().get(url(account), {"crc_token": "challenge-abc"})
    assert response.status_code == 200
    assert response.json() == {
        "response_token": "sha256=cayb5WTmK3leVSrrQ/hYe8238Fut6KxmzfE2J21AvYA="
    }
    assert Client().get(url(account)).status_code == 400


def test_unknown_or_non_x_account_is_404(db, account):
    other = SocialAccountFactory(network="bluesky")
    assert (
        Client().get(reverse("crm:x-webhook", args=[other.pk]), {"crc_token": "x"}).status_code
        == 404
    )
    assert (
        Client().get(reverse("crm:x-webhook", args=[999999]), {"crc_token": "x"}).status_code == 404
    )


def _answer(response) -> tuple:
    return (response.status_code, response.headers["Content-Type"], response.content)


def test_ids_cannot_be_enumerated(db, account):
    """Every id that is not an X account with webhooks on answers byte for byte the
    same, to the CRC and to a POST; a malformed token answers the same for every id."""
    ids = [
        SocialAccountFactory(network="bluesky").pk,
        SocialAccountFactory(network="mastodon", credentials={"consumer_secret": "cs"}).pk,
        SocialAccountFactory(network="x", handle="nosecret", credentials={}).pk,
        SocialAccountFactory(
            network="x", handle="badsecret", credentials={"consumer_secret": ["cs"]}
        ).pk,
        999999,
    ]
    client = Client()
    crc = {
        _answer(client.get(reverse("crm:x-webhook", args=[pk]), {"crc_token": "abc"})) for pk in ids
    }
    posted = {
        _answer(
            client.post(
                reverse("crm:x-webhook", args=[pk]),
                b"{}",
                content_type="application/json",
                headers={"x-twitter-webhooks-signature": x_signature("cs", b"{}")},
            )
        )
        for pk in ids
    }
    assert len(crc) == 1
    assert crc == posted
    assert crc.pop()[0] == 404
    bad_token = {
        _answer(client.get(reverse("crm:x-webhook", args=[pk]), {"crc_token": "{x}"}))
        for pk in [*ids, account.pk]
    }
    assert len(bad_token) == 1
    assert bad_token.pop()[0] == 400


@pytest.mark.parametrize(
    "token",
    [
        '{"for_user_id":"2244994945"}',
        "a" * 129,
        "to ken",
        "tok\u00e9n",
        "tök",
        "[1]",
        '"x"',
    ],
)
def test_crc_signs_only_x_like_tokens(account, token):
    response = Client().get(url(account), {"crc_token": token})
    assert response.status_code == 400
    assert "response_token" not in response.json()


def test_crc_is_not_a_signing_oracle(account):
    """The attack: ask the CRC endpoint to sign a body of our choosing, then POST that
    body with the signature. The CRC refuses to sign it, and no signature X-shaped
    tokens can yield is accepted over a JSON body: nothing is stored."""
    body = json.dumps(
        {"for_user_id": ME, **{k: v for k, v in EVENTS.items() if k != "for_user_id"}}
    )
    oracle = Client().get(url(account), {"crc_token": body})
    assert oracle.status_code == 400
    assert "response_token" not in oracle.json()
    # Even a signature the endpoint did hand out (for an X-shaped token) does not
    # carry over to a body: the token is not a JSON object, the body must be one.
    token = "eyJmb3JfdXNlcl9pZCI6IjEifQ=="
    handed = Client().get(url(account), {"crc_token": token}).json()["response_token"]

    def forge(payload: str):
        return Client().post(
            url(account),
            payload,
            content_type="application/json",
            headers={"x-twitter-webhooks-signature": handed},
        )

    assert forge(token).status_code == 400
    assert forge(body).status_code == 403
    assert TimelineEntry.objects.count() == 0
    assert SocialIdentity.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        "sha256=é" + "A" * 42 + "=",
        "sha256=" + "\u2603" * 44,
        "sha256=" + "A" * 43,
        "sha256=" + "A" * 43 + "=" + "A",
        "sha1=" + "A" * 43 + "=",
        "SHA256=" + "A" * 43 + "=",
        "sha256=" + "!" * 43 + "=",
        "",
    ],
)
def test_malformed_signature_header_is_403(account, header):
    body = json.dumps(EVENTS).encode()
    response = Client().post(
        url(account),
        body,
        content_type="application/json",
        headers={"x-twitter-webhooks-signature": header.encode("utf-8").decode("latin-1")},
    )
    assert response.status_code == 403
    assert TimelineEntry.objects.count() == 0


V1_ANA = {
    "id": 1111,
    "id_str": "1111",
    "name": "Ana",
    "screen_name": "ana",
    "followers_count": 320,
    "profile_image_url_https": "https://pbs.twimg.com/profile_images/1111/normal.jpg",
}
V1_ME = {
    "id": int(ME),
    "id_str": ME,
    "name": "Brand",
    "screen_name": "brand",
    "followers_count": 9000,
}
V1_OUR_TWEET = {
    "id": 1850000000000000000,
    "id_str": "1850000000000000000",
    "text": "Our plan",
    "user": V1_ME,
    "created_at": "Fri Nov 20 09:00:00 +0000 2026",
}
EVENTS = {
    "for_user_id": ME,
    "tweet_create_events": [
        {
            "created_at": "Fri Nov 20 10:00:00 +0000 2026",
            "id": 1860000000000000001,
            "id_str": "1860000000000000001",
            "text": "@brand it is broken again \u202e<script>x</script>",
            "in_reply_to_status_id_str": None,
            "user": V1_ANA,
            "timestamp_ms": "1795168800000",
            "favorite_count": 0,
            "retweet_count": 0,
            "reply_count": 0,
            "quote_count": 0,
            "entities": {"user_mentions": [{"screen_name": "brand", "id_str": ME}]},
        },
        {
            "created_at": "Fri Nov 20 10:01:00 +0000 2026",
            "id": 1860000000000000002,
            "id_str": "1860000000000000002",
            "text": "@brand thanks",
            "user": V1_ANA,
            "in_reply_to_status_id_str": "1850000000000000000",
            "timestamp_ms": "1795168860000",
        },
        {**V1_OUR_TWEET, "id_str": "1860000000000000009", "timestamp_ms": "1795168870000"},
        {
            "created_at": "Fri Nov 20 10:02:00 +0000 2026",
            "id_str": "1860000000000000003",
            "text": "no user",
        },
    ],
    "favorite_events": [
        {
            "id": "a7ba59eab0bfcba386f7acedac279542",
            "created_at": "Fri Nov 20 10:03:00 +0000 2026",
            "timestamp_ms": 1795168980000,
            "favorited_status": V1_OUR_TWEET,
            "user": V1_ANA,
        },
    ],
    "follow_events": [
        {"type": "follow", "created_timestamp": "1795169040000", "target": V1_ME, "source": V1_ANA},
    ],
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "1870000000000000001",
            "created_timestamp": "1795169100000",
            "message_create": {
                "target": {"recipient_id": ME},
                "sender_id": "1111",
                "message_data": {"text": "DM: my order 123", "entities": {}},
            },
        },
    ],
    "users": {"1111": V1_ANA, ME: V1_ME},
}


def post(account, payload: dict, *, secret: str = "cs"):
    body = json.dumps(payload).encode()
    signature = (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )
    return Client().post(
        url(account),
        body,
        content_type="application/json",
        headers={"x-twitter-webhooks-signature": signature},
    )


def test_bad_signature_is_403_and_stores_nothing(account):
    assert post(account, EVENTS, secret="not-the-secret").status_code == 403
    response = Client().post(url(account), json.dumps(EVENTS), content_type="application/json")
    assert response.status_code == 403
    assert TimelineEntry.objects.count() == 0


def test_events_go_through_ingest_once(account):
    response = post(account, EVENTS)
    assert response.status_code == 200
    assert response.json() == {"stored": 5, "failed": 1}
    ana = SocialIdentity.objects.get(network="x", external_id="1111")
    kinds = dict(ana.contact.timeline.filter(network="x").values_list("external_id", "kind"))
    assert kinds == {
        "1860000000000000001": "mention",
        "1860000000000000002": "reply",
        "like:1111:1850000000000000000": "like",
        f"follow:1111:{ME}": "follow",
        "1870000000000000001": "dm",
    }
    assert TimelineEntry.objects.get(external_id="1860000000000000001").text.endswith(
        "<script>x</script>"
    )
    assert ana.follower_count == 320
    assert ana.contact.stage == 1
    # One move to stage 1, by the first active rule that matched (she followed and
    # wrote a DM in the same delivery).
    assert StageChange.objects.get(contact=ana.contact).rule in {
        FOLLOW_RULE,
        "Direct message to us",
    }
    assert SyncFailure.objects.get().external_id == "1860000000000000003"
    # X retries deliveries: the same events add nothing.
    assert post(account, EVENTS).json() == {"stored": 0, "failed": 1}
    assert TimelineEntry.objects.filter(network="x").count() == 5


def test_erased_author_is_not_stored_again_from_a_webhook(account, manager):
    """X redelivers (or the person writes again) after she was erased: dropped,
    counted as skipped on the account."""
    from contacts.services import contact_erase

    assert post(account, EVENTS).json()["stored"] == 5
    ana = SocialIdentity.objects.get(network="x", external_id="1111")
    contact_erase(contact=ana.contact, actor=manager)
    again = post(account, EVENTS)
    assert again.json() == {"stored": 0, "failed": 1}  # the item with no author is not hers
    assert not SocialIdentity.objects.filter(network="x", external_id="1111").exists()
    assert not TimelineEntry.objects.filter(text__contains="broken again").exists()
    account.refresh_from_db()
    assert account.items_skipped_erased == 5
