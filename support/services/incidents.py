"""Incidents: a surge of similar complaints grouped into one, one public statement
replied to every complaint (once each, also when the worker retries), and one
resolution for all its tickets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import TimelineEntry
from core.choices import Direction, Intent
from core.models import Notification
from crm.models import OutboundMessage
from crm.outbox import system_key
from lib.classify import PLACE, shared_keys

from ..models import ACTIVE_STATUSES, PUBLIC_KINDS, Incident, Team, Ticket, TicketReply
from .events import managers, ticket_event
from .replies import ticket_reply
from .resolution import ticket_resolve


def _overlap(a: list[str], b: list[str]) -> int:
    # Bilingual concept keys and content words; different places never group.
    return shared_keys(a, b)


@transaction.atomic
def incident_detect(*, ticket: Ticket) -> Incident | None:
    """Group a complaint ticket into an incident: an open incident of its team sharing
    enough topic keywords, or a new one when enough similar complaints arrived within
    the team's window. Returns the incident, or None."""
    team = ticket.team
    need = max(team.incident_min_shared_keywords, 1)
    if ticket.incident_id or len([k for k in ticket.keywords if not k.startswith(PLACE)]) < need:
        return None
    Team.objects.select_for_update().filter(pk=team.pk).first()  # one detector per team
    for incident in Incident.objects.filter(team=team, state=Incident.State.OPEN).order_by("-id"):
        if _overlap(ticket.keywords, incident.keywords) >= need:
            return incident_link(incident=incident, tickets=[ticket])
    since = timezone.now() - timedelta(minutes=team.incident_window_minutes)
    similar = [
        other
        for other in Ticket.objects.filter(
            team=team, incident__isnull=True, created_at__gte=since, status__in=ACTIVE_STATUSES
        )
        .exclude(pk=ticket.pk)
        .exclude(keywords=[])
        if _overlap(ticket.keywords, other.keywords) >= need
    ]
    if len(similar) + 1 < max(team.incident_min_tickets, 2):
        return None
    group = [ticket, *similar]
    shared = [k for k in ticket.keywords if sum(k in t.keywords for t in group) * 2 > len(group)]
    incident = Incident.objects.create(
        team=team,
        keywords=shared,
        title=_("Surge of complaints: %(keywords)s")
        % {"keywords": ", ".join([k for k in shared if not k.startswith(PLACE)][:5])},
    )
    incident_link(incident=incident, tickets=group)
    _alert_incident(incident, len(group))
    return incident


@transaction.atomic
def incidents_detect_bulk(*, tickets: list[Ticket]) -> list[Incident]:
    """``incident_detect`` for many new complaint tickets, in order, in a constant
    number of statements per team (plus one per incident it creates): the team is
    locked once, its open incidents and its recent tickets without one are read once,
    the grouping is decided in memory and written with one update. Returns the
    incidents created."""
    by_team: dict[int, list[Ticket]] = {}
    for ticket in tickets:
        if not ticket.incident_id and ticket.keywords:
            by_team.setdefault(ticket.team_id, []).append(ticket)
    created: dict[Incident, int] = {}  # each with the size of the group it started with
    linked: list[Ticket] = []
    for team in Team.objects.select_for_update().filter(pk__in=by_team).order_by("pk"):
        need = max(team.incident_min_shared_keywords, 1)
        open_incidents = list(
            Incident.objects.filter(team=team, state=Incident.State.OPEN).order_by("-id")
        )
        since = timezone.now() - timedelta(minutes=team.incident_window_minutes)
        mine = {t.pk: t for t in by_team[team.pk]}
        free = {
            t.pk: mine.get(t.pk, t)
            for t in Ticket.objects.filter(
                team=team, incident__isnull=True, created_at__gte=since, status__in=ACTIVE_STATUSES
            ).exclude(keywords=[])
        }
        for ticket in by_team[team.pk]:
            topics = [k for k in ticket.keywords if not k.startswith(PLACE)]
            if ticket.incident_id or len(topics) < need:
                continue
            incident = next(
                (i for i in open_incidents if _overlap(ticket.keywords, i.keywords) >= need), None
            )
            if incident is not None:
                group = [ticket]
            else:
                similar = [
                    other
                    for pk, other in free.items()
                    if pk != ticket.pk and _overlap(ticket.keywords, other.keywords) >= need
                ]
                if len(similar) + 1 < max(team.incident_min_tickets, 2):
                    continue
                group = [ticket, *similar]
                shared = [
                    k
                    for k in ticket.keywords
                    if sum(k in t.keywords for t in group) * 2 > len(group)
                ]
                incident = Incident.objects.create(
                    team=team,
                    keywords=shared,
                    title=_("Surge of complaints: %(keywords)s")
                    % {"keywords": ", ".join([k for k in shared if not k.startswith(PLACE)][:5])},
                )
                open_incidents.insert(0, incident)
                created[incident] = len(group)
            for member in group:
                member.incident = incident
                free.pop(member.pk, None)
                linked.append(member)
    if linked:
        now = timezone.now()
        for ticket in linked:
            ticket.updated_at = now
        Ticket.objects.bulk_update(linked, ["incident", "updated_at"], batch_size=500)
        TimelineEntry.objects.bulk_create(
            [
                ticket_event(
                    t, "incident", incident=t.incident_id, title=t.incident.title, build_only=True
                )
                for t in linked
            ],
            batch_size=500,
        )
    for incident, count in created.items():
        _alert_incident(incident, count)
    return list(created)


def _alert_incident(incident: Incident, count: int) -> None:
    url = incident.get_absolute_url()
    Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                title=(_("Incident: %(title)s") % {"title": incident.title})[:300],
                body=_("%(n)s similar complaints.") % {"n": count},
                url=url,
                dedupe_key=f"incident-{incident.pk}",
            )
            for user in managers()
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def incident_link(*, incident: Incident, tickets: Iterable[Ticket]) -> Incident:
    for ticket in tickets:
        if ticket.incident_id == incident.pk:
            continue
        ticket.incident = incident
        ticket.save(update_fields=["incident", "updated_at"])
        ticket_event(ticket, "incident", incident=incident.pk, title=incident.title)
    return incident


def incident_complaints(incident: Incident) -> list[tuple[Ticket, TimelineEntry]]:
    """Each linked ticket's public complaints (or its first public message)."""
    pairs = []
    tickets = incident.tickets.select_related("team", "contact", "account").order_by("id")
    entries = (
        TimelineEntry.objects.filter(
            ticket_link__ticket__incident=incident,
            direction=Direction.INBOUND,
            kind__in=PUBLIC_KINDS,
        )
        .select_related("account", "ticket_link")
        .order_by("occurred_at", "id")
    )
    by_ticket: dict[int, list[TimelineEntry]] = {}
    for entry in entries:
        by_ticket.setdefault(entry.ticket_link.ticket_id, []).append(entry)
    for ticket in tickets:
        public = by_ticket.get(ticket.pk, [])
        complaints = [e for e in public if e.intent == Intent.COMPLAINT] or public[:1]
        pairs.extend((ticket, entry) for entry in complaints)
    return pairs


@transaction.atomic
def incident_post_statement(*, incident: Incident, text: str, user: AbstractBaseUser) -> Incident:
    """Save the public statement and queue it as a reply to every linked complaint
    (``support.tasks.incident_statement_send``; each complaint answered once)."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the statement.")})
    incident.statement = text
    incident.statement_at = timezone.now()
    incident.created_by = incident.created_by or user
    incident.save(update_fields=["statement", "statement_at", "created_by"])
    from ..tasks import incident_statement_send

    transaction.on_commit(lambda: incident_statement_send.delay(incident.pk, user.pk))
    return incident


def incident_statement_deliver(*, incident_id: int, user_id: int | None = None) -> int:
    """Reply the statement to each linked complaint once: the outbox key is
    ``incident-<id>-statement-<entry id>``, so a retried task queues nothing twice.
    Returns how many replies exist for the statement."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None or not incident.statement:
        return 0
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    count = 0
    for ticket, entry in incident_complaints(incident):
        if entry.account is None and ticket.account is None:
            continue
        ticket_reply(
            ticket=ticket,
            kind=OutboundMessage.Kind.REPLY,
            entry=entry,
            text=incident.statement,
            user=user,
            purpose=TicketReply.Purpose.STATEMENT,
            idempotency_key=system_key(f"incident-{incident.pk}-statement-{entry.pk}"),
        )
        count += 1
    return count


@transaction.atomic
def incident_resolve(
    *, incident: Incident, user: AbstractBaseUser, final_message: str = ""
) -> Incident:
    """Resolve the incident and every open ticket in it, each with the final message
    (once per ticket) and a CSAT request."""
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.state == Incident.State.RESOLVED:
        raise ValidationError({"state": _("This incident is already resolved.")})
    locked.state = Incident.State.RESOLVED
    locked.resolved_at = timezone.now()
    locked.final_message = final_message.strip()
    locked.save(update_fields=["state", "resolved_at", "final_message"])
    for ticket in locked.tickets.filter(status__in=ACTIVE_STATUSES).order_by("id"):
        ticket_resolve(
            ticket=ticket,
            user=user,
            message=locked.final_message,
            message_key=system_key(f"incident-{locked.pk}-final-{ticket.pk}"),
        )
    incident.state, incident.resolved_at = locked.state, locked.resolved_at
    incident.final_message = locked.final_message
    return locked
