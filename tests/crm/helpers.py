"""Shared by the answering tests: put what a peer has for one of our accounts on the
timeline, read with the network's adapter (the normalised items the sync engine
stores), so external ids are the ones a real sync writes."""

from __future__ import annotations

from contacts.models import Contact, SocialIdentity
from crm.models import SocialAccount, TimelineEntry
from crm.networks import adapter_for


def ingest_from_peer(account: SocialAccount, stream: str = "notifications") -> list[TimelineEntry]:
    page = adapter_for(account).fetch(stream, None)
    entries = []
    for item in page.items:
        identity = SocialIdentity.objects.filter(
            network=item.network, external_id=item.author.external_id
        ).first() or SocialIdentity.objects.create(
            contact=Contact.objects.create(display_name=item.author.handle),
            network=item.network,
            external_id=item.author.external_id,
            handle=item.author.handle,
        )
        entries.append(
            TimelineEntry.objects.create(
                contact=identity.contact,
                identity=identity,
                account=account,
                kind=item.kind,
                network=item.network,
                external_id=item.external_id,
                text=item.text,
                url=item.url,
                direction=item.direction,
                in_reply_to=item.in_reply_to,
                thread_id=item.thread_id,
                occurred_at=item.occurred_at,
            )
        )
    return entries


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
