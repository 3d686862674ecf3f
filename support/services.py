"""Writes on the support desk: tickets and their SLA clock, assignment, replies and the
public → private handoff, escalation, incidents and CSAT.

Entry points for the sync engine (call them inside the transaction that stores a page):

- ``tickets_open_for_entries(entries=...)`` after each stored page of new items;
- ``tickets_escalate_for_entries(entries=...)`` after engagement counts or follower
  counts of stored items were refreshed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from contacts.models import Contact, SocialIdentity, Stage, TimelineEntry
from core.choices import Direction, EntryKind, Intent
from core.models import Notification
from core.roles import MANAGER, SUPPORT
from crm.models import OutboundMessage
from crm.outbox import outbound_queue
from lib.classify import topic_keywords

from .models import (
    ACTIVE_STATUSES,
    CannedResponse,
    CsatSurvey,
    Incident,
    Priority,
    SlaEvent,
    SlaPolicy,
    Status,
    SupportAgent,
    Team,
    Ticket,
    TicketLink,
    TicketReply,
)

#: Inbound kinds that are a conversation with us (likes, follows and reposts are not).
CONVERSATION_KINDS = frozenset(
    {EntryKind.MENTION, EntryKind.REPLY, EntryKind.QUOTE, EntryKind.DM, EntryKind.POST}
)
PUBLIC_KINDS = CONVERSATION_KINDS - {EntryKind.DM}
RULE_DM = "Inbound direct message"
RULE_COMPLAINT = "Complaint from a customer"
CSAT_SALT = "support.csat"
WARNING_RATIO = 0.8


# --- Teams and clocks -------------------------------------------------------------------


def team_default() -> Team:
    """The team that gets tickets from accounts of no team (created when missing)."""
    team = Team.objects.filter(is_default=True).first()
    if team is None:
        team, _created = Team.objects.get_or_create(
            name="Support", defaults={"is_default": not Team.objects.filter(is_default=True)}
        )
    return team


def team_for_account(account) -> Team:
    if account is not None:
        team = account.teams.order_by("id").first()
        if team is not None:
            return team
    return team_default()


def _team_with_schedule(team_id: int) -> Team:
    return Team.objects.prefetch_related("hours", "holidays").get(pk=team_id)


def _sla_targets(ticket: Ticket) -> None:
    policy = SlaPolicy.objects.filter(team_id=ticket.team_id, priority=ticket.priority).first()
    ticket.sla_first_response_minutes = policy.first_response_minutes if policy else None
    ticket.sla_resolution_minutes = policy.resolution_minutes if policy else None


def _sla_moments(ticket: Ticket, schedule) -> list[tuple[str, str, datetime]]:
    """(target, level, wall-clock moment) of the marks still ahead of a running clock."""
    if ticket.sla_running_since is None:
        return []
    moments = []
    targets = (
        (
            SlaEvent.Target.FIRST_RESPONSE,
            ticket.sla_first_response_minutes,
            ticket.first_response_at,
        ),
        (SlaEvent.Target.RESOLUTION, ticket.sla_resolution_minutes, ticket.resolved_at),
    )
    for target, minutes, met in targets:
        if minutes is None or met is not None:
            continue
        for level, ratio in ((SlaEvent.Level.WARNING, WARNING_RATIO), (SlaEvent.Level.BREACH, 1.0)):
            left = minutes * 60 * ratio - ticket.sla_elapsed_seconds
            moment = schedule.add(ticket.sla_running_since, left)
            if moment is not None:
                moments.append((target, level, moment))
    return moments


def _sla_plan(ticket: Ticket, schedule, *, after: datetime | None = None) -> None:
    """Set due times and the next moment the beat job must look (marks after ``after``;
    all of them when None, so a mark already passed is evaluated soon)."""
    moments = _sla_moments(ticket, schedule)
    due = {target: moment for target, level, moment in moments if level == SlaEvent.Level.BREACH}
    ticket.first_response_due_at = due.get(SlaEvent.Target.FIRST_RESPONSE)
    ticket.resolution_due_at = due.get(SlaEvent.Target.RESOLUTION)
    ahead = [m for _t, _l, m in moments if after is None or m > after]
    ticket.sla_next_check_at = min(ahead) if ahead else None


SLA_FIELDS = [
    "sla_first_response_minutes",
    "sla_resolution_minutes",
    "sla_elapsed_seconds",
    "sla_running_since",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
    "first_response_due_at",
    "resolution_due_at",
    "sla_next_check_at",
]


def _clock_stop(ticket: Ticket, schedule, now: datetime) -> None:
    if ticket.sla_running_since is not None:
        ticket.sla_elapsed_seconds = ticket.sla_elapsed(now, schedule)
        ticket.sla_running_since = None


def _set_status(ticket: Ticket, status: str, *, now: datetime, schedule) -> None:
    """Move the status and the clock together: it runs while new or open, pauses while
    pending customer, and stops at resolution."""
    if status in (Status.NEW, Status.OPEN):
        if ticket.sla_running_since is None:
            ticket.sla_running_since = now
        if ticket.status in (Status.RESOLVED, Status.CLOSED):
            ticket.resolved_at = None
            ticket.resolution_seconds = None
    else:
        _clock_stop(ticket, schedule, now)
        if status == Status.RESOLVED or (status == Status.CLOSED and ticket.resolved_at is None):
            ticket.resolved_at = now
            ticket.resolution_seconds = ticket.sla_elapsed_seconds
    ticket.status = status
    _sla_plan(ticket, schedule)


def _save(ticket: Ticket, *fields: str) -> None:
    ticket.save(update_fields=[*SLA_FIELDS, *fields, "updated_at"])


def _copy_back(ticket: Ticket, locked: Ticket, *fields: str) -> None:
    """Give the caller's instance what a service changed on its locked copy."""
    for name in ("status", *SLA_FIELDS, *fields):
        setattr(ticket, name, getattr(locked, name))


# --- Timeline and alerts ----------------------------------------------------------------


def _ticket_event(
    ticket: Ticket, event: str, *, user: AbstractBaseUser | None = None, text: str = "", **raw
) -> TimelineEntry:
    """A "ticket" entry on the contact's timeline, pointing to the ticket."""
    return TimelineEntry.objects.create(
        contact_id=ticket.contact_id,
        kind=EntryKind.TICKET,
        direction=Direction.INTERNAL,
        text=text,
        created_by=user,
        occurred_at=timezone.now(),
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id=ticket.pk,
        raw={"event": event, "ticket": ticket.pk, "subject": ticket.subject, **raw},
    )


def _managers():
    return get_user_model().objects.filter(groups__name=MANAGER, is_active=True)


def _alert(
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


# --- Opening tickets --------------------------------------------------------------------


def _subject_from(entry: TimelineEntry | None) -> str:
    text = " ".join((entry.text if entry else "").split())
    if not text:
        return _("Conversation")
    return text if len(text) <= 80 else text[:79] + "…"


@transaction.atomic
def ticket_open(
    *,
    contact: Contact,
    subject: str = "",
    entry: TimelineEntry | None = None,
    user: AbstractBaseUser | None = None,
    rule: str = "",
    priority: int = Priority.NORMAL,
    team: Team | None = None,
) -> Ticket:
    """Open a ticket for ``contact``, from ``entry`` when given (its account, network
    and author become the ticket's). Starts the SLA clock, records the event on the
    timeline, assigns round-robin when the team does, and groups a complaint into an
    incident when it is part of a surge."""
    if entry is not None and entry.contact_id != contact.pk:
        raise ValidationError({"interaction": _("This interaction belongs to another contact.")})
    if entry is not None and TicketLink.objects.filter(entry=entry).exists():
        raise ValidationError({"interaction": _("This interaction is already on a ticket.")})
    subject = (subject or "").strip() or _subject_from(entry)
    account = entry.account if entry else None
    identity = entry.identity if entry else None
    if identity is None:
        identity = contact.identities.order_by("id").first()
    team = team or team_for_account(account)
    now = timezone.now()
    ticket = Ticket(
        subject=subject[:200],
        contact=contact,
        identity=identity,
        network=(entry.network if entry else "") or (identity.network if identity else ""),
        account=account,
        priority=priority,
        team=team,
        opened_by_rule=rule,
        created_by=user,
        status=Status.NEW,
        sla_running_since=now,
    )
    if entry is not None and entry.intent == Intent.COMPLAINT:
        ticket.keywords = topic_keywords(entry.text, entry.language)
    _sla_targets(ticket)
    _sla_plan(ticket, _team_with_schedule(team.pk).schedule())
    ticket.save()
    if entry is not None:
        TicketLink.objects.create(ticket=ticket, entry=entry)
    _ticket_event(ticket, "opened", user=user, rule=rule)
    if team.auto_assign:
        ticket_auto_assign(ticket=ticket)
    if ticket.keywords:
        incident_detect(ticket=ticket)
    if entry is not None:
        tickets_escalate_for_entries(entries=[entry])
    return ticket


@transaction.atomic
def ticket_open_for_entry(*, entry: TimelineEntry, user: AbstractBaseUser | None = None) -> Ticket:
    """The ticket of an inbound item: the one it is on, the contact's open ticket (which
    it joins), or a new one. The inbox and the timeline's "Open ticket" call this."""
    link = TicketLink.objects.filter(entry=entry).select_related("ticket").first()
    if link is not None:
        return link.ticket
    Contact.objects.select_for_update().filter(pk=entry.contact_id).first()
    active = _active_ticket(entry.contact_id)
    if active is not None:
        ticket_link_entry(ticket=active, entry=entry)
        return active
    return ticket_open(contact=entry.contact, entry=entry, user=user)


def _active_ticket(contact_id: int) -> Ticket | None:
    return (
        Ticket.objects.filter(contact_id=contact_id, status__in=ACTIVE_STATUSES)
        .order_by("-id")
        .first()
    )


@transaction.atomic
def ticket_link_entry(*, ticket: Ticket, entry: TimelineEntry) -> TicketLink:
    """Add an interaction to a ticket. A customer's message on a ticket pending the
    customer reopens it (and restarts the clock)."""
    if entry.contact_id != ticket.contact_id:
        raise ValidationError({"interaction": _("This interaction belongs to another contact.")})
    link, created = TicketLink.objects.get_or_create(entry=entry, defaults={"ticket": ticket})
    if link.ticket_id != ticket.pk:
        raise ValidationError({"interaction": _("This interaction is already on a ticket.")})
    if created and entry.direction == Direction.INBOUND:
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        changed = []
        if locked.status == Status.PENDING:
            _set_status(locked, Status.OPEN, now=timezone.now(), schedule=_schedule(locked))
            changed.append("status")
        if locked.account_id is None and entry.account_id:
            locked.account_id = entry.account_id
            locked.network = entry.network
            changed += ["account", "network"]
        if locked.identity_id is None and entry.identity_id:
            locked.identity_id = entry.identity_id
            changed.append("identity")
        if changed:
            _save(locked, *changed)
            _copy_back(ticket, locked)
    return link


@transaction.atomic
def tickets_open_for_entries(*, entries: Iterable[TimelineEntry]) -> list[Ticket]:
    """The ticket rules, for newly stored timeline entries (the sync engine calls this
    after each stored page, inside its transaction):

    - a message from a person with an open ticket joins that ticket;
    - otherwise an inbound DM, or a complaint (``intent == "complaint"``) from a stage-2
      customer, opens a ticket;
    - complaints already past a team's virality thresholds escalate their ticket.

    Returns the tickets opened or joined. Idempotent: an entry already on a ticket is
    left alone. Locks the contacts involved so two pages cannot open two tickets."""
    fresh = [
        e
        for e in entries
        if e.direction == Direction.INBOUND and e.kind in CONVERSATION_KINDS and e.contact_id
    ]
    if not fresh:
        return []
    # Only people who already have an open ticket, or who wrote a DM or a complaint, can
    # be touched: lock just those (a sync page of mentions from strangers locks nothing).
    with_ticket = set(
        Ticket.objects.filter(
            contact_id__in={e.contact_id for e in fresh}, status__in=ACTIVE_STATUSES
        ).values_list("contact_id", flat=True)
    )
    fresh = [
        e
        for e in fresh
        if e.contact_id in with_ticket or e.kind == EntryKind.DM or e.intent == Intent.COMPLAINT
    ]
    if not fresh:
        return []
    contact_ids = sorted({e.contact_id for e in fresh})
    contacts = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=contact_ids)
        .only("id", "stage", "display_name", "language")
        .order_by("pk")
    }
    linked = set(
        TicketLink.objects.filter(entry__in=[e.pk for e in fresh]).values_list(
            "entry_id", flat=True
        )
    )
    active: dict[int, Ticket] = {}
    for ticket in Ticket.objects.filter(
        contact_id__in=contact_ids, status__in=ACTIVE_STATUSES
    ).order_by("id"):
        active[ticket.contact_id] = ticket  # the newest wins
    touched: dict[int, Ticket] = {}
    for entry in sorted(fresh, key=lambda e: (e.occurred_at, e.pk)):
        if entry.pk in linked:
            continue
        ticket = active.get(entry.contact_id)
        if ticket is not None:
            ticket_link_entry(ticket=ticket, entry=entry)
        else:
            contact = contacts[entry.contact_id]
            if entry.kind == EntryKind.DM:
                rule = RULE_DM
            elif entry.intent == Intent.COMPLAINT and contact.stage == Stage.CUSTOMER:
                rule = RULE_COMPLAINT
            else:
                continue
            ticket = ticket_open(contact=contact, entry=entry, rule=rule)
            active[entry.contact_id] = ticket
        touched[ticket.pk] = ticket
    tickets_escalate_for_entries(entries=fresh)
    return list(touched.values())


# --- Assignment -------------------------------------------------------------------------


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, assignee: AbstractBaseUser | None, user: AbstractBaseUser | None = None
) -> Ticket:
    """Give the ticket to ``assignee`` (None: unassign), recorded on the timeline."""
    if assignee is not None and not assignee.has_perm("support.change_ticket"):
        raise ValidationError({"assignee": _("This person cannot work on tickets.")})
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    if assignee is not None:
        SupportAgent.objects.filter(user=assignee).update(last_assigned_at=timezone.now())
    _ticket_event(
        ticket, "assigned", user=user, assignee=assignee.get_username() if assignee else ""
    )
    return ticket


@transaction.atomic
def tickets_bulk_assign(
    *, tickets: Iterable[Ticket], assignee: AbstractBaseUser | None, user: AbstractBaseUser
) -> int:
    count = 0
    for ticket in tickets:
        ticket_assign(ticket=ticket, assignee=assignee, user=user)
        count += 1
    return count


def _open_counts(user_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Ticket.objects.filter(assignee_id__in=list(user_ids), status__in=ACTIVE_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["assignee_id"]: row["n"] for row in rows}


@transaction.atomic
def ticket_auto_assign(*, ticket: Ticket) -> AbstractBaseUser | None:
    """Round-robin: the available member of the ticket's team who was assigned least
    recently, among those under their cap of open tickets. None when nobody can take
    it (the beat job tries again). Locks the team's agent rows, so concurrent
    assignments take turns."""
    if ticket.assignee_id is not None or not ticket.is_active:
        return None
    staff = get_user_model().objects.filter(
        Q(groups__name__in=(SUPPORT, MANAGER)) | Q(is_superuser=True), is_active=True
    )
    agents = list(
        SupportAgent.objects.select_for_update(of=("self",))
        .filter(team_id=ticket.team_id, is_available=True, user__in=staff.values("pk"))
        .select_related("user")
        .order_by("id")
    )
    counts = _open_counts(a.user_id for a in agents)
    eligible = [a for a in agents if counts.get(a.user_id, 0) < a.max_open_tickets]
    if not eligible:
        return None
    epoch = datetime.min.replace(tzinfo=UTC)
    agent = min(eligible, key=lambda a: (a.last_assigned_at or epoch, a.pk))
    ticket_assign(ticket=ticket, assignee=agent.user)
    return agent.user


def tickets_assign_waiting() -> int:
    """Assign unassigned open tickets of auto-assigning teams, oldest first."""
    assigned = 0
    waiting = Ticket.objects.filter(
        assignee__isnull=True, status__in=ACTIVE_STATUSES, team__auto_assign=True
    ).order_by("id")[:200]
    for ticket in waiting:
        if ticket_auto_assign(ticket=ticket) is None:
            continue
        assigned += 1
    return assigned


# --- Status -----------------------------------------------------------------------------


def _schedule(ticket: Ticket):
    return _team_with_schedule(ticket.team_id).schedule()


@transaction.atomic
def ticket_change_status(
    *, ticket: Ticket, status: str, user: AbstractBaseUser | None = None
) -> Ticket:
    """Set a status other than resolved (use ``ticket_resolve`` for that)."""
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == Status.RESOLVED:
        return ticket_resolve(ticket=ticket, user=user)
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.status == status:
        return locked
    previous = locked.status
    _set_status(locked, status, now=timezone.now(), schedule=_schedule(locked))
    _save(locked, "status")
    _ticket_event(locked, "status", user=user, status=status, previous=previous)
    return locked


@transaction.atomic
def ticket_change_priority(
    *, ticket: Ticket, priority: int, user: AbstractBaseUser | None = None
) -> Ticket:
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority.")})
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.priority == priority:
        return locked
    locked.priority = priority
    _sla_targets(locked)
    _sla_plan(locked, _schedule(locked))
    _save(locked, "priority")
    _ticket_event(locked, "priority", user=user, priority=priority)
    return locked


# --- Replies and handoff ----------------------------------------------------------------


def ticket_public_anchor(ticket: Ticket) -> TimelineEntry | None:
    """The customer's newest public message on the ticket (what a public reply answers)."""
    return (
        TimelineEntry.objects.filter(
            ticket_link__ticket=ticket, direction=Direction.INBOUND, kind__in=PUBLIC_KINDS
        )
        .select_related("account", "identity")
        .order_by("-occurred_at", "-id")
        .first()
    )


def ticket_dm_anchor(ticket: Ticket) -> TimelineEntry | None:
    """The newest DM of the ticket's thread, ours or theirs (it carries the thread)."""
    return (
        TimelineEntry.objects.filter(kind=EntryKind.DM)
        .filter(Q(ticket_link__ticket=ticket) | Q(outbound__ticket_reply__ticket=ticket))
        .order_by("-occurred_at", "-id")
        .first()
    )


def _recipient(ticket: Ticket, account) -> SocialIdentity | None:
    if ticket.identity is not None and ticket.identity.network == account.network:
        return ticket.identity
    return ticket.contact.identities.filter(network=account.network).order_by("id").first()


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    text: str,
    kind: str = OutboundMessage.Kind.REPLY,
    user: AbstractBaseUser | None = None,
    entry: TimelineEntry | None = None,
    purpose: str = TicketReply.Purpose.REPLY,
    idempotency_key: str | None = None,
    pending: bool = False,
) -> TicketReply:
    """Answer the customer through the account that received their message: publicly
    (``kind="reply"``, to ``entry`` or the newest public message) or by DM (in the
    ticket's DM thread, or a new one). A person's first answer stops the first-response
    clock; ``pending`` then waits for the customer (the clock pauses)."""
    if kind == OutboundMessage.Kind.REPLY:
        target = entry or ticket_public_anchor(ticket)
        if target is None:
            raise ValidationError(
                {"kind": _("There is no public message on this ticket to answer.")}
            )
        account = target.account or ticket.account
        recipient = None
    elif kind == OutboundMessage.Kind.DM:
        account = ticket.account
        target = ticket_dm_anchor(ticket)
        recipient = _recipient(ticket, account) if account else None
    else:
        raise ValidationError({"kind": _("Answer with a public reply or a direct message.")})
    if account is None:
        raise ValidationError({"kind": _("No account of ours received this conversation.")})
    message = outbound_queue(
        account=account,
        kind=kind,
        text=text,
        in_reply_to=target,
        recipient=recipient,
        contact=ticket.contact,
        user=user,
        idempotency_key=idempotency_key,
    )
    reply, _created = TicketReply.objects.get_or_create(
        message=message, defaults={"ticket": ticket, "purpose": purpose}
    )
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    changed: list[str] = []
    now = timezone.now()
    schedule = _schedule(locked)
    if user is not None and locked.first_response_at is None:
        locked.first_response_at = now
        locked.first_response_seconds = locked.sla_elapsed(now, schedule)
        _sla_plan(locked, schedule)
    if pending and locked.is_active:
        _set_status(locked, Status.PENDING, now=now, schedule=schedule)
        changed.append("status")
    elif locked.status == Status.NEW:
        locked.status = Status.OPEN
        changed.append("status")
    _save(locked, *changed)
    _copy_back(ticket, locked)
    return reply


def _language(ticket: Ticket) -> str:
    entry = ticket.interactions.exclude(language="").order_by("-occurred_at").first()
    language = (entry.language if entry else "") or ticket.contact.language
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def canned_variables(ticket: Ticket, *, user: AbstractBaseUser | None = None, **extra) -> dict:
    team = ticket.team
    values = {
        "contact_name": ticket.contact.display_name,
        "ticket_number": ticket.number,
        "agent_name": (user.get_full_name() or user.get_username()) if user else "",
        "phone": team.phone,
        "form_url": team.form_url,
        "help_url": team.help_url,
        "csat_link": "",
    }
    values.update(extra)
    return values


def canned_render(body: str, variables: dict) -> str:
    """``body`` with each known ``{variable}`` filled in; other braces stay as written."""
    for name in CannedResponse.VARIABLES:
        body = body.replace("{" + name + "}", str(variables.get(name, "")))
    return body


#: Built-in texts when a team has no canned response for a purpose and language.
DEFAULT_TEXTS = {
    CannedResponse.Purpose.HANDOFF_PUBLIC: gettext_noop(
        "Hi {contact_name}, sorry about this. We've sent you a direct message so we can "
        "sort it out privately ({ticket_number})."
    ),
    CannedResponse.Purpose.HANDOFF_DM: gettext_noop(
        "Hi {contact_name}, this is {agent_name} from support ({ticket_number}). Could you "
        "give us the details here? You can also call {phone}."
    ),
    CannedResponse.Purpose.CSAT: gettext_noop(
        "Your ticket {ticket_number} is resolved. How did we do? Rate us from 1 to 5: {csat_link}"
    ),
}


def canned_text(ticket: Ticket, purpose: str, *, user=None, **extra) -> str:
    """The team's canned response for ``purpose`` in the ticket's language, filled in."""
    language = _language(ticket)
    canned = (
        CannedResponse.objects.filter(purpose=purpose, language=language)
        .filter(Q(team_id=ticket.team_id) | Q(team__isnull=True))
        .order_by(F("team_id").asc(nulls_last=True), "id")
        .first()
    )
    if canned is not None:
        body = canned.body
    else:
        with translation.override(language):
            body = _(DEFAULT_TEXTS[purpose])
    return canned_render(body, canned_variables(ticket, user=user, **extra))


@transaction.atomic
def ticket_handoff(
    *, ticket: Ticket, user: AbstractBaseUser, public_text: str = "", dm_text: str = ""
) -> tuple[TicketReply, TicketReply]:
    """Public → private in one action: a short public acknowledgement in reply to the
    complaint and a DM to its author, both on this ticket. The SLA clock keeps running.
    Sent once per complaint: repeating the action returns the same two messages."""
    complaint = ticket_public_anchor(ticket)
    if complaint is None:
        raise ValidationError({"kind": _("There is no public message on this ticket to answer.")})
    key = f"ticket-{ticket.pk}-handoff-{complaint.pk}"
    repeated = TicketReply.objects.filter(message__idempotency_key=f"{key}-public").exists()
    public = ticket_reply(
        ticket=ticket,
        kind=OutboundMessage.Kind.REPLY,
        entry=complaint,
        text=public_text or canned_text(ticket, CannedResponse.Purpose.HANDOFF_PUBLIC, user=user),
        user=user,
        purpose=TicketReply.Purpose.HANDOFF_PUBLIC,
        idempotency_key=f"{key}-public",
    )
    dm = ticket_reply(
        ticket=ticket,
        kind=OutboundMessage.Kind.DM,
        text=dm_text or canned_text(ticket, CannedResponse.Purpose.HANDOFF_DM, user=user),
        user=user,
        purpose=TicketReply.Purpose.HANDOFF_DM,
        idempotency_key=f"{key}-dm",
    )
    if not repeated:
        _ticket_event(ticket, "handoff", user=user, complaint=complaint.pk)
    return public, dm


# --- Resolution and CSAT ----------------------------------------------------------------


@transaction.atomic
def ticket_resolve(
    *,
    ticket: Ticket,
    user: AbstractBaseUser | None = None,
    message: str = "",
    message_key: str | None = None,
    csat: bool = True,
) -> Ticket:
    """Resolve: send the final ``message`` if any (in the DM thread when there is one,
    else publicly), stop the clock, and ask the customer for a rating by DM."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not locked.is_active:
        raise ValidationError({"status": _("This ticket is already resolved.")})
    if message.strip():
        kind = OutboundMessage.Kind.DM if ticket_dm_anchor(locked) else OutboundMessage.Kind.REPLY
        ticket_reply(
            ticket=locked,
            kind=kind,
            text=message,
            user=user,
            purpose=TicketReply.Purpose.FINAL,
            idempotency_key=message_key,
        )
    _set_status(locked, Status.RESOLVED, now=timezone.now(), schedule=_schedule(locked))
    _save(locked, "status")
    _ticket_event(locked, "resolved", user=user)
    if csat:
        csat_request(ticket=locked)
    _copy_back(ticket, locked)
    return locked


def csat_token(survey: CsatSurvey) -> str:
    return signing.dumps({"s": survey.pk, "n": survey.nonce}, salt=CSAT_SALT, compress=True)


def csat_link(survey: CsatSurvey) -> str:
    return settings.SITE_URL + reverse("support:csat", args=[csat_token(survey)])


@transaction.atomic
def csat_request(*, ticket: Ticket) -> CsatSurvey | None:
    """DM the customer, in the ticket's thread, a one-time signed link to rate the help.
    None when there is no account or identity to DM."""
    if ticket.account is None or _recipient(ticket, ticket.account) is None:
        return None
    survey = CsatSurvey.objects.create(ticket=ticket, nonce=secrets.token_hex(16))
    ticket_reply(
        ticket=ticket,
        kind=OutboundMessage.Kind.DM,
        text=canned_text(ticket, CannedResponse.Purpose.CSAT, csat_link=csat_link(survey)),
        purpose=TicketReply.Purpose.CSAT,
        idempotency_key=f"csat-{survey.pk}",
    )
    return survey


class CsatLinkError(Exception):
    """A CSAT link that cannot be used; ``reason`` is "invalid", "expired" or "used"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def csat_survey_for_token(token: str) -> CsatSurvey:
    try:
        data = signing.loads(token, salt=CSAT_SALT, max_age=settings.SUPPORT_CSAT_MAX_AGE)
    except signing.SignatureExpired:
        raise CsatLinkError("expired") from None
    except signing.BadSignature:
        raise CsatLinkError("invalid") from None
    if not isinstance(data, dict):
        raise CsatLinkError("invalid")
    survey = (
        CsatSurvey.objects.select_related("ticket__contact")
        .filter(pk=data.get("s"), nonce=str(data.get("n")))
        .first()
    )
    if survey is None:
        raise CsatLinkError("invalid")
    if survey.answered_at is not None:
        raise CsatLinkError("used")
    return survey


@transaction.atomic
def csat_answer(*, token: str, rating: int, comment: str = "") -> CsatSurvey:
    """Record the customer's rating once; the answer lands on the ticket and the
    timeline. Raises ``CsatLinkError`` for a forged, expired or used link and
    ``ValidationError`` for a rating outside 1–5."""
    survey = csat_survey_for_token(token)
    if rating not in range(1, 6):
        raise ValidationError({"rating": _("Choose a rating from 1 to 5.")})
    comment = comment.strip()[:2000]
    now = timezone.now()
    claimed = CsatSurvey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        rating=rating, comment=comment, answered_at=now
    )
    if not claimed:
        raise CsatLinkError("used")
    survey.rating, survey.comment, survey.answered_at = rating, comment, now
    TimelineEntry.objects.create(
        contact_id=survey.ticket.contact_id,
        kind=EntryKind.CSAT,
        direction=Direction.INBOUND,
        text=comment,
        occurred_at=now,
        content_type=ContentType.objects.get_for_model(CsatSurvey),
        object_id=survey.pk,
        raw={"rating": rating, "ticket": survey.ticket_id},
    )
    return survey


# --- Escalation -------------------------------------------------------------------------


def virality_reason(entry: TimelineEntry, team: Team) -> str:
    """Why a complaint has gone viral for ``team``'s thresholds, or ""."""
    checks = (
        (entry.like_count, team.escalate_likes, _("%(n)s likes")),
        (entry.repost_count, team.escalate_reposts, _("%(n)s reposts")),
        (entry.reply_count, team.escalate_replies, _("%(n)s replies")),
    )
    for value, threshold, label in checks:
        if threshold and value >= threshold:
            return label % {"n": value}
    followers = entry.identity.follower_count if entry.identity_id and entry.identity else None
    if team.escalate_followers and followers is not None and followers >= team.escalate_followers:
        return _("the author has %(n)s followers") % {"n": followers}
    return ""


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, reason: str, user: AbstractBaseUser | None = None) -> bool:
    """Raise the ticket's priority to the team's escalated priority and alert the
    managers and the assignee — once per ticket. Returns whether it escalated now."""
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "assignee")
        .get(pk=ticket.pk)
    )
    if locked.escalated_at is not None or not locked.is_active:
        return False
    locked.escalated_at = timezone.now()
    locked.priority = max(locked.priority, locked.team.escalate_to)
    _sla_targets(locked)
    _sla_plan(locked, _schedule(locked))
    _save(locked, "escalated_at", "priority")
    _ticket_event(locked, "escalated", user=user, text=reason, reason=reason)
    _alert(
        ticket=locked,
        users=[*_managers(), locked.assignee],
        title=_("Escalated: %(ticket)s") % {"ticket": locked},
        body=reason,
        dedupe_key=f"ticket-{locked.pk}-escalated",
    )
    _copy_back(ticket, locked, "priority", "escalated_at")
    return True


def tickets_escalate_for_entries(*, entries: Iterable[TimelineEntry]) -> list[Ticket]:
    """Escalate the open tickets of complaints whose engagement (likes, reposts,
    replies) or author's follower count has crossed their team's thresholds. The sync
    engine calls this after refreshing counts; ``tickets_open_for_entries`` calls it
    for new items. Returns the tickets escalated now."""
    ids = [e.pk for e in entries if e.intent == Intent.COMPLAINT and e.direction == "in"]
    if not ids:
        return []
    links = TicketLink.objects.filter(
        entry_id__in=ids, ticket__status__in=ACTIVE_STATUSES, ticket__escalated_at__isnull=True
    ).select_related("ticket__team", "entry__identity")
    escalated = []
    for link in links:
        reason = virality_reason(link.entry, link.ticket.team)
        if reason and ticket_escalate(ticket=link.ticket, reason=reason):
            escalated.append(link.ticket)
    return escalated


# --- SLA evaluation (beat) --------------------------------------------------------------


def _sla_record(ticket: Ticket, target: str, level: str, at: datetime) -> bool:
    _event, created = SlaEvent.objects.get_or_create(
        ticket=ticket, target=target, level=level, defaults={"created_at": at}
    )
    if not created:
        return False
    target_label = SlaEvent.Target(target).label
    if level == SlaEvent.Level.BREACH:
        title = _("SLA breached (%(target)s): %(ticket)s")
    else:
        title = _("SLA at 80%% (%(target)s): %(ticket)s")
    _alert(
        ticket=ticket,
        users=[*_managers(), ticket.assignee],
        title=title % {"target": target_label, "ticket": ticket},
        body=ticket.contact.display_name,
        dedupe_key=f"ticket-{ticket.pk}-sla-{target}-{level}",
    )
    return True


@transaction.atomic
def sla_evaluate(*, now: datetime | None = None, batch: int = 500) -> int:
    """Record the 80% warnings and breaches reached by ``now`` (once each, with
    alerts), and plan each ticket's next check. Returns how many events were recorded."""
    now = now or timezone.now()
    due = list(
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sla_next_check_at__lte=now)
        .select_related("team", "assignee", "contact")
        .order_by("sla_next_check_at")[:batch]
    )
    schedules: dict[int, object] = {}
    recorded = 0
    for ticket in due:
        if ticket.team_id not in schedules:
            schedules[ticket.team_id] = _schedule(ticket)
        schedule = schedules[ticket.team_id]
        for target, level, moment in _sla_moments(ticket, schedule):
            if moment <= now:
                recorded += _sla_record(ticket, target, level, moment)
        _sla_plan(ticket, schedule, after=now)
        ticket.save(
            update_fields=["first_response_due_at", "resolution_due_at", "sla_next_check_at"]
        )
    return recorded


# --- Incidents --------------------------------------------------------------------------


def _overlap(a: Iterable[str], b: Iterable[str]) -> int:
    return len(set(a) & set(b))


@transaction.atomic
def incident_detect(*, ticket: Ticket) -> Incident | None:
    """Group a complaint ticket into an incident: an open incident of its team sharing
    enough topic keywords, or a new one when enough similar complaints arrived within
    the team's window. Returns the incident, or None."""
    team = ticket.team
    need = max(team.incident_min_shared_keywords, 1)
    if ticket.incident_id or len(ticket.keywords) < need:
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
        title=_("Surge of complaints: %(keywords)s") % {"keywords": ", ".join(shared[:5])},
    )
    incident_link(incident=incident, tickets=group)
    _alert_incident(incident, len(group))
    return incident


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
            for user in _managers()
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
        _ticket_event(ticket, "incident", incident=incident.pk, title=incident.title)
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
    from .tasks import incident_statement_send

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
            idempotency_key=f"incident-{incident.pk}-statement-{entry.pk}",
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
            message_key=f"incident-{locked.pk}-final-{ticket.pk}",
        )
    incident.state, incident.resolved_at = locked.state, locked.resolved_at
    incident.final_message = locked.final_message
    return locked
