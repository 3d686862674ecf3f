"""Step 1: authors to ``SocialIdentity`` rows by (network, user id), in bulk.

A new author gets a new stage-0 ``Contact``; a changed handle, name, follower count or
picture is updated. Two syncs meeting the same new author at once end with one
identity: the loser's contact is deleted again."""

from __future__ import annotations

from itertools import batched

from contacts.models import Contact, SocialIdentity

from ..networks.base import Author
from .cleaning import clean_text, fit
from .common import LOOKUP_CHUNK, IngestStats

#: What ``identity_values`` compares and writes.
IDENTITY_FIELDS = ("handle", "display_name", "follower_count", "profile_url", "avatar_url")


def authors_resolve(
    network: str, authors: list[Author], stats: IngestStats
) -> dict[str, tuple[int, int]]:
    """Map author id → (identity id, contact id), creating what is missing."""
    latest: dict[str, Author] = {}
    for author in authors:
        latest[author.external_id] = author
    if not latest:
        return {}
    found: dict[str, tuple[int, int]] = {}
    changed: list[SocialIdentity] = []
    fields = IDENTITY_FIELDS
    for chunk in batched(list(latest), LOOKUP_CHUNK):
        # Plain tuples: a model instance per known author would cost more than the query.
        for pk, external_id, contact_id, *stored in SocialIdentity.objects.filter(
            network=network, external_id__in=chunk
        ).values_list("id", "external_id", "contact_id", *fields):
            found[external_id] = (pk, contact_id)
            wanted = identity_values(latest[external_id])
            if wanted["follower_count"] is None:
                wanted["follower_count"] = stored[2]
            if tuple(stored) != tuple(wanted[name] for name in fields):
                changed.append(SocialIdentity(pk=pk, **wanted))
    if changed:
        SocialIdentity.objects.bulk_update(changed, fields, batch_size=500)

    missing = [latest[key] for key in latest if key not in found]
    if missing:
        contacts = Contact.objects.bulk_create(
            [Contact(display_name=fit(a.display_name or a.handle, 200)) for a in missing],
            batch_size=1000,
        )
        SocialIdentity.objects.bulk_create(
            [
                SocialIdentity(
                    contact_id=contact.pk,
                    network=network,
                    external_id=a.external_id,
                    **identity_values(a),
                )
                for a, contact in zip(missing, contacts, strict=True)
            ],
            batch_size=1000,
            ignore_conflicts=True,  # another sync may have created the same author meanwhile
        )
        ids = [a.external_id for a in missing]
        for chunk in batched(ids, LOOKUP_CHUNK):
            for pk, external_id, contact_id in SocialIdentity.objects.filter(
                network=network, external_id__in=chunk
            ).values_list("pk", "external_id", "contact_id"):
                found[external_id] = (pk, contact_id)
        used = {contact_id for _, contact_id in found.values()}
        orphans = [c.pk for c in contacts if c.pk not in used]
        if orphans:
            Contact.objects.filter(pk__in=orphans).delete()
        stats.new_contacts = len(contacts) - len(orphans)
    return found


def identity_values(author: Author) -> dict:
    """The ``SocialIdentity`` fields for ``author``, cleaned and cut to their columns
    (an over-long URL is dropped rather than cut: a cut URL leads nowhere)."""
    profile = clean_text(author.profile_url or "")
    avatar = clean_text(author.avatar_url or "")
    return {
        "handle": fit(author.handle or author.external_id, 255),
        "display_name": fit(author.display_name, 200),
        "follower_count": author.follower_count
        if author.follower_count is not None and author.follower_count >= 0
        else None,
        "profile_url": profile if len(profile) <= 500 else "",
        "avatar_url": avatar if len(avatar) <= 1000 else "",
    }
