"""Step 1: authors to ``SocialIdentity`` rows by (network, user id), in bulk.

A new author gets a new stage-0 ``Contact``; a changed handle, name, follower count or
picture is updated. Two syncs meeting the same new author at once end with one
identity: the loser's contact is deleted again."""

from __future__ import annotations

from itertools import batched

from django.db import connection
from django.utils import timezone

from contacts.models import Contact, SocialIdentity
from core.fields import folded_update_fields

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
    for pk, external_id, contact_id, *stored in _known(network, list(latest)):
        found[external_id] = (pk, contact_id)
        wanted = identity_values(latest[external_id])
        if wanted["follower_count"] is None:
            wanted["follower_count"] = stored[2]
        if tuple(stored) != tuple(wanted[name] for name in fields):
            changed.append(SocialIdentity(pk=pk, **wanted))
    if changed:
        SocialIdentity.objects.bulk_update(
            changed, folded_update_fields(changed, fields), batch_size=500
        )

    missing = [latest[key] for key in latest if key not in found]
    if missing:
        create = _create_postgres if connection.vendor == "postgresql" else _create_orm
        stats.new_contacts = create(network, missing, found)
    return found


def _known(network: str, external_ids: list[str]) -> list[tuple]:
    """(id, external id, contact id, *IDENTITY_FIELDS) of the identities already stored:
    on PostgreSQL one query with the ids as one array parameter (an ``IN`` list of a
    thousand parameters costs more to build than to run); elsewhere in chunks."""
    columns = ("id", "external_id", "contact_id", *IDENTITY_FIELDS)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM contacts_socialidentity "  # noqa: S608
                "WHERE network = %s AND external_id = ANY(%s::text[])",
                [network, external_ids],
            )
            return cursor.fetchall()
    rows: list[tuple] = []
    for chunk in batched(external_ids, LOOKUP_CHUNK):
        rows += SocialIdentity.objects.filter(network=network, external_id__in=chunk).values_list(
            *columns
        )
    return rows


def _create_orm(network: str, missing: list[Author], found: dict) -> int:
    """New authors through the ORM's bulk paths (SQLite); returns the contacts kept."""
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
    return len(contacts) - len(orphans)


def _create_postgres(network: str, missing: list[Author], found: dict) -> int:
    """New authors in two statements whatever their number: contact ids drawn from the
    sequence, then contacts and identities inserted together from arrays. The contacts'
    search documents are computed once, by the identity insert trigger (the contact
    row trigger stands aside for this statement). An author another sync created
    meanwhile keeps that sync's identity; the contact made here for it is deleted."""
    values = [identity_values(a) for a in missing]
    now = timezone.now()
    with connection.cursor() as cursor:
        # One round trip: the contacts' ids, and the contact row trigger told to stand
        # aside (the upsert that follows in the page turns it back on and off).
        count = len(missing)
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('contacts_contact', 'id')) "  # noqa: S608
            f"FROM generate_series(1, {count});"
            "SELECT set_config('momento.search_deferred', 'on', true)"
        )
        contact_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            WITH src AS (
              SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[],
                                   %s::text[], %s::int[], %s::text[], %s::text[])
                AS s(contact_id, name, external_id, handle, display_name, follower_count,
                     profile_url, avatar_url)
            ), contacts AS (
              INSERT INTO contacts_contact (id, display_name, stage, email, phone, company,
                                            language, score, score_reasons, created_at,
                                            updated_at)
              SELECT contact_id, name, 0, '', '', '', '', 0, '[]'::jsonb, %s, %s FROM src
              RETURNING id
            ), identities AS (
              INSERT INTO contacts_socialidentity (contact_id, network, external_id, handle,
                                                   display_name, follower_count, profile_url,
                                                   avatar_url, created_at, updated_at)
              SELECT contact_id, %s, external_id, handle, display_name, follower_count,
                     profile_url, avatar_url, %s, %s FROM src
              ON CONFLICT (network, external_id) DO NOTHING
              RETURNING id, external_id, contact_id
            )
            SELECT id, external_id, contact_id FROM identities
            """,
            [
                contact_ids,
                [fit(a.display_name or a.handle, 200) for a in missing],
                [a.external_id for a in missing],
                [v["handle"] for v in values],
                [v["display_name"] for v in values],
                [v["follower_count"] for v in values],
                [v["profile_url"] for v in values],
                [v["avatar_url"] for v in values],
                now,
                now,
                network,
                now,
                now,
            ],
        )
        for pk, external_id, contact_id in cursor.fetchall():
            found[external_id] = (pk, contact_id)
    lost = [a.external_id for a in missing if a.external_id not in found]
    if not lost:
        return len(missing)
    for pk, external_id, contact_id, *_stored in _known(network, lost):
        found[external_id] = (pk, contact_id)
    used = {contact_id for _, contact_id in found.values()}
    orphans = [pk for pk in contact_ids if pk not in used]
    Contact.objects.filter(pk__in=orphans).delete()
    return len(missing) - len(orphans)


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
