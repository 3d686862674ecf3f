"""What the support desk records and announces: a ticket's events on the contact's
timeline, and alerts (a notification each, email too when the team asks) to managers
and assignees. The one copy every other services module uses."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction

from contacts.models import TimelineEntry, timeline_event_record
from core.choices import EntryKind
from core.models import Notification
from core.roles import MANAGER

from ..models import Ticket


def ticket_event(
    ticket: Ticket,
    event: str,
    *,
    user: AbstractBaseUser | None = None,
    text: str = "",
    build_only: bool = False,
    **raw,
) -> TimelineEntry:
    """A "ticket" entry on the contact's timeline, pointing to the ticket
    (``build_only``: unsaved, for a caller that stores many with one ``bulk_create``)."""
    return timeline_event_record(
        contact_id=ticket.contact_id,
        kind=EntryKind.TICKET,
        subject=ticket,
        text=text,
        actor=user,
        raw={"event": event, "ticket": ticket.pk, "subject": ticket.subject, **raw},
        build_only=build_only,
    )


def managers():
    """The active managers: they hear of every escalation, SLA mark and incident."""
    return get_user_model().objects.filter(groups__name=MANAGER, is_active=True)


def ticket_alert(
    *, ticket: Ticket, users: Iterable, title: str, body: str, dedupe_key: str
) -> list[Notification]:
    """Notify each user once per ``dedupe_key``; email too when the team asks for it."""
    url = ticket.get_absolute_url()
    users = {u.pk: u for u in users if u is not None}
    already = set(
        Notification.objects.filter(user_id__in=users, dedupe_key=dedupe_key).values_list(
            "user_id", flat=True
        )
    )
    fresh = [
        Notification(user=u, title=title[:300], body=body, url=url, dedupe_key=dedupe_key)
        for pk, u in users.items()
        if pk not in already
    ]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    emails = [n.user.email for n in fresh if n.user.email]
    if ticket.team.email_alerts and emails:
        link = settings.SITE_URL + url
        transaction.on_commit(
            lambda: send_mail(title, f"{body}\n\n{link}", None, emails, fail_silently=True)
        )
    return fresh
