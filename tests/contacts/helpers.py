"""A contact with a row in every table that refers to contacts, and a generic walk over
those tables (Contact._meta), so tests cover rows other apps add later."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from campaigns.services import link_click_record, tracked_link_url
from contacts.models import Contact, ContactAudit, Tag
from contacts.services import contact_add_note, contact_change_stage, purchase_record, todo_create
from crm.models import OutboundMessage
from support.services import ticket_open
from tests.factories import (
    SocialAccountFactory,
    SocialIdentityFactory,
    TimelineEntryFactory,
    TrackedLinkFactory,
)

SECRET = "Calle Mayor 5, DNI 12345678Z"


def full_contact(user, *, name="Lucía Pérez", email="lucia@example.com", n=1) -> Contact:
    """A contact with identities, social posts (with raw payloads), a note, a to-do, a
    purchase, stage changes, history, tags, an outbound message and a generic reference."""
    contact = Contact.objects.create(display_name=name, email=email, phone="600 000 000")
    contact.tags.add(Tag.objects.get_or_create(name="vip")[0])
    identity = SocialIdentityFactory(
        contact=contact, handle=f"lucia{n}.bsky.social", profile_url="https://bsky.app/x"
    )
    now = timezone.now()
    for i, kind in enumerate(["mention", "dm", "follow"]):
        TimelineEntryFactory(
            contact=contact,
            identity=identity,
            kind=kind,
            text=f"{SECRET} post {i}",
            url=f"https://bsky.app/post/{n}{i}",
            raw={"record": {"text": SECRET}},
            occurred_at=now - timedelta(hours=i),
        )
    contact_add_note(contact=contact, author=user, text=f"Said {SECRET}")
    todo_create(contact=contact, title=f"Visit {SECRET}", due_at=now, assignee=user, actor=user)
    purchase_record(
        contact=contact,
        amount="10",
        currency="EUR",
        product="Fibra",
        source="shop",
        external_ref=f"o-{n}",
        actor=user,
    )
    contact_change_stage(contact=contact, stage=0, actor=user, reason=f"Refund {SECRET}")
    ContactAudit.objects.create(
        contact=contact, actor=user, action="update", changes={"email": ["old@x.y", email]}
    )
    OutboundMessage.objects.create(
        account=SocialAccountFactory(),
        kind="dm",
        idempotency_key=f"k-{n}",
        contact=contact,
        text=f"Hi, about {SECRET}",
    )
    # Campaigns: a click on a link sent to them (and so a touch); support: a ticket.
    link = TrackedLinkFactory(destination=f"https://shop.example.com/?n={n}")
    link_click_record(
        link=link, signed_contact=tracked_link_url(link, contact=contact).split("c=")[1]
    )
    if apps.is_installed("support"):
        ticket_open(contact=contact, subject=f"Outage at {SECRET}", user=user)
    # Something elsewhere that points at the contact generically.
    TimelineEntryFactory(
        contact=contact,
        kind="note",
        network="",
        external_id="",
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=contact.pk,
    )
    return contact


def tables_referring_to_contacts():
    """(model, field) of every foreign key to Contact, including many-to-many tables."""
    found = []
    for rel in Contact._meta.related_objects:
        if rel.many_to_many:
            through = rel.through
            field = next(f for f in through._meta.fields if f.related_model is Contact)
            found.append((through, field.name))
        else:
            found.append((rel.related_model, rel.field.name))
    for m2m in Contact._meta.many_to_many:
        found.append((m2m.remote_field.through, m2m.m2m_field_name()))
    return found


def rows_referring_to(contact_id: int) -> dict[str, int]:
    counts = {}
    for model, field in tables_referring_to_contacts():
        counts[model._meta.label_lower] = model._base_manager.filter(**{field: contact_id}).count()
    return counts
