"""Shared by the answering and outbox tests: what a peer has for one of our accounts goes
on the timeline through the sync engine's own ingest path (``crm.ingest``), one stream
page read with the network's adapter; answers are posted as the inbox's form does."""

from __future__ import annotations

from contacts.models import TimelineEntry
from crm.ingest import ingest_interactions
from crm.models import SocialAccount
from crm.networks import adapter_for
from crm.networks.base import StreamState


def ingest_from_peer(account: SocialAccount, stream: str = "notifications") -> list[TimelineEntry]:
    """Store the newest page of ``stream``; returns its inbound entries, oldest first."""
    adapter = adapter_for(account)
    page = adapter.fetch_page(stream, StreamState(), limit=adapter.max_page)
    ingest_interactions(account=account, items=page.items, failed=page.failed, stream=stream)
    ids = [item.external_id for item in page.items]
    return list(
        TimelineEntry.objects.filter(account=account, direction="in", external_id__in=ids).order_by(
            "occurred_at", "id"
        )
    )


def connect_mastodon(server, username: str, *, actor, **fields) -> SocialAccount:
    """Connect ``username`` of a running mastodon_mock as one of our accounts."""
    from crm.services import socialaccount_connect

    return socialaccount_connect(
        network="mastodon",
        kind=fields.pop("kind", "brand"),
        handle=username,
        base_url=server.base_url,
        credentials={"access_token": server.tokens[username]},
        actor=actor,
        **fields,
    )


def bulk_inbound(account: SocialAccount, count: int, *, kind: str = "mention", authors: int = 1):
    """``count`` inbound entries through ``account``, an hour old and older, from
    ``authors`` distinct people (for query-count and pagination tests)."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import SocialIdentityFactory

    identities = [SocialIdentityFactory(network=account.network) for _ in range(authors)]
    now = timezone.now()
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            contact_id=identities[i % authors].contact_id,
            identity=identities[i % authors],
            account=account,
            kind=kind,
            network=account.network,
            external_id=f"bulk/{account.pk}/{i}",
            direction="in",
            text=f"bulk {i}",
            occurred_at=now - timedelta(hours=1, seconds=i),
        )
        for i in range(count)
    )


def answer(client, entry, text, *, private=False, key="k-1", htmx=True, next_url=""):
    """Submit the answer box of ``entry`` (the inbox's and the contact page's form)."""
    prefix = f"answer{entry.pk}"
    data = {
        f"{prefix}-text": text,
        f"{prefix}-private": "1" if private else "0",
        f"{prefix}-idempotency_key": key,
    }
    if next_url:
        data["next"] = next_url
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/inbox/{entry.pk}/answer/", data, **headers)


def replies_by(server, username: str, to_status_id) -> list[dict]:
    """The statuses ``username`` holds on the mastodon-mock that answer ``to_status_id``."""
    api = server.client(username)
    me = api.me()
    return [
        s for s in api.account_statuses(me["id"]) if str(s["in_reply_to_id"]) == str(to_status_id)
    ]


def statuses_of(server, username: str = "alice") -> list[dict]:
    """The statuses ``username`` holds on the mastodon-mock."""
    api = server.client(username)
    return api.account_statuses(api.me()["id"])


def bsky_mention(sender, target, text: str):
    """``sender`` (an atproto client) posts ``text`` mentioning ``target`` (a BskyAccount)."""
    from atproto import client_utils

    return sender.send_post(
        client_utils.TextBuilder().mention(f"@{target.handle}", target.did).text(text)
    )


def bsky_account(bsky, brand, **fields) -> SocialAccount:
    """``brand`` (a BskyAccount on the local network) connected as one of our accounts."""
    from tests.factories import SocialAccountFactory

    return SocialAccountFactory(
        network="bluesky",
        handle=brand.handle,
        external_id=brand.did,
        base_url=bsky.pds_url,
        credentials={"app_password": brand.app_password},
        **fields,
    )
