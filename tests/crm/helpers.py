"""Shared by the answering tests: what a peer has for one of our accounts goes on the
timeline through the sync engine's own ingest path (``crm.ingest``), one stream page
read with the network's adapter."""

from __future__ import annotations

from contacts.models import TimelineEntry
from crm.ingest import ingest_interactions
from crm.models import SocialAccount
from crm.networks import adapter_for


def ingest_from_peer(account: SocialAccount, stream: str = "notifications") -> list[TimelineEntry]:
    """Store the newest page of ``stream``; returns its inbound entries, oldest first."""
    page = adapter_for(account).fetch(stream, None)
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
