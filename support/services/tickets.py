"""Tickets themselves: which team gets one, opening one (from an interaction or for a
contact), the interactions that join it, and changes of status and priority.

Opening is where the other concepts meet: it starts the SLA clock, assigns round-robin,
groups a complaint into an incident and checks it for escalation."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, TimelineEntry
from core.choices import Direction, Intent
from lib.classify import topic_keys

from ..models import ACTIVE_STATUSES, Priority, SlaPolicy, Status, Team, Ticket, TicketLink
from .assignment import ticket_auto_assign
from .escalation import tickets_escalate_for_entries
from .events import ticket_event
from .incidents import incident_detect
from .resolution import ticket_resolve
from .sla import (
    SLA_FIELDS,
    copy_back,
    save_clock,
    set_status,
    sla_plan,
    sla_targets,
    team_with_schedule,
    ticket_schedule,
)


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
        ticket.keywords = topic_keys(entry.text, entry.language)
    sla_targets(ticket)
    sla_plan(ticket, team_with_schedule(team.pk).schedule())
    ticket.save()
    if entry is not None:
        TicketLink.objects.create(ticket=ticket, entry=entry)
    ticket_event(ticket, "opened", user=user, rule=rule)
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
    return ticket_open_or_join(entry=entry, user=user)[0]


@transaction.atomic
def ticket_open_or_join(
    *, entry: TimelineEntry, user: AbstractBaseUser | None = None
) -> tuple[Ticket, str]:
    """Like ``ticket_open_for_entry``, and says what happened: "existing" (the item was
    already on the ticket), "joined" (it joined the contact's open ticket: tell the
    person, who may open a new one instead with ``ticket_split_entry``) or "opened"."""
    link = TicketLink.objects.filter(entry=entry).select_related("ticket").first()
    if link is not None:
        return link.ticket, "existing"
    Contact.objects.select_for_update().filter(pk=entry.contact_id).first()
    active = _active_ticket(entry.contact_id)
    if active is not None:
        ticket_link_entry(ticket=active, entry=entry)
        return active, "joined"
    return ticket_open(contact=entry.contact, entry=entry, user=user), "opened"


@transaction.atomic
def ticket_split_entry(*, entry: TimelineEntry, user: AbstractBaseUser | None = None) -> Ticket:
    """Take an item off the ticket it joined and open a new ticket for it (the agent's
    choice after "Open ticket" joined an unrelated conversation). An item that is its
    ticket's only one stays where it is."""
    link = TicketLink.objects.select_for_update().filter(entry=entry).first()
    if link is None:
        return ticket_open(contact=entry.contact, entry=entry, user=user)
    if not TicketLink.objects.filter(ticket_id=link.ticket_id).exclude(pk=link.pk).exists():
        raise ValidationError(
            {"interaction": _("This message is the only one on its ticket: it is already apart.")}
        )
    previous = link.ticket
    link.delete()
    ticket = ticket_open(contact=entry.contact, entry=entry, user=user)
    ticket_event(previous, "split", user=user, new_ticket=ticket.pk, entry=entry.pk)
    return ticket


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
            set_status(locked, Status.OPEN, now=timezone.now(), schedule=ticket_schedule(locked))
            changed.append("status")
        if locked.account_id is None and entry.account_id:
            locked.account_id = entry.account_id
            locked.network = entry.network
            changed += ["account", "network"]
        if locked.identity_id is None and entry.identity_id:
            locked.identity_id = entry.identity_id
            changed.append("identity")
        if changed:
            save_clock(locked, *changed)
            copy_back(ticket, locked)
    return link


@transaction.atomic
def ticket_change_status(
    *, ticket: Ticket, status: str, user: AbstractBaseUser | None = None
) -> Ticket:
    """Set a status other than resolved (use ``ticket_resolve`` for that)."""
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.status == status:
        return locked  # the form's current status, sent back unchanged: nothing happens
    if status == Status.RESOLVED:
        return ticket_resolve(ticket=ticket, user=user)
    previous = locked.status
    set_status(locked, status, now=timezone.now(), schedule=ticket_schedule(locked))
    save_clock(locked, "status")
    ticket_event(locked, "status", user=user, status=status, previous=previous)
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
    sla_targets(locked)
    sla_plan(locked, ticket_schedule(locked))
    save_clock(locked, "priority")
    ticket_event(locked, "priority", user=user, priority=priority)
    return locked


def _teams_for_accounts(account_ids: set[int | None]) -> dict[int | None, Team]:
    """``team_for_account`` for many accounts (None: no account) in a constant number of
    queries; the teams come with their business hours."""
    first: dict[int | None, int] = {}
    for account_id, team_id in (
        Team.accounts.through.objects.filter(socialaccount_id__in=account_ids - {None})
        .order_by("team_id")
        .values_list("socialaccount_id", "team_id")
    ):
        first.setdefault(account_id, team_id)
    default_id = team_default().pk if account_ids - first.keys() else None
    teams = Team.objects.prefetch_related("hours", "holidays").in_bulk(
        {*first.values(), default_id} - {None}
    )
    return {key: teams[first.get(key, default_id)] for key in account_ids}


@transaction.atomic
def tickets_open_bulk(*, opens: list[tuple[Contact, TimelineEntry, str]]) -> list[Ticket]:
    """Open one ticket per (contact, inbound entry, rule) — what ``ticket_open`` does
    for each, in a constant number of statements for the whole list (per team: its
    policies, business hours, round-robin and incident grouping). The caller holds the
    contacts locked and has checked that no entry is on a ticket already."""
    if not opens:
        return []
    from .assignment import tickets_auto_assign_bulk
    from .incidents import incidents_detect_bulk

    teams = _teams_for_accounts({e.account_id for _c, e, _r in opens})
    team_ids = {t.pk for t in teams.values()}
    policies = {(p.team_id, p.priority): p for p in SlaPolicy.objects.filter(team_id__in=team_ids)}
    schedules = {t.pk: t.schedule() for t in teams.values()}
    now = timezone.now()
    tickets = []
    for contact, entry, rule in opens:
        team = teams[entry.account_id]
        policy = policies.get((team.pk, Priority.NORMAL))
        ticket = Ticket(
            subject=_subject_from(entry)[:200],
            contact=contact,
            identity_id=entry.identity_id,
            network=entry.network,
            account_id=entry.account_id,
            priority=Priority.NORMAL,
            team=team,
            opened_by_rule=rule,
            status=Status.NEW,
            sla_running_since=now,
            sla_first_response_minutes=policy.first_response_minutes if policy else None,
            sla_resolution_minutes=policy.resolution_minutes if policy else None,
        )
        if entry.intent == Intent.COMPLAINT:
            ticket.keywords = topic_keys(entry.text, entry.language)
        sla_plan(ticket, schedules[team.pk])
        tickets.append(ticket)
    Ticket.objects.bulk_create(tickets, batch_size=500)
    TicketLink.objects.bulk_create(
        [TicketLink(ticket=t, entry=e) for t, (_c, e, _r) in zip(tickets, opens, strict=True)],
        batch_size=500,
    )
    TimelineEntry.objects.bulk_create(
        [
            ticket_event(t, "opened", rule=rule, build_only=True)
            for t, (_c, _e, rule) in zip(tickets, opens, strict=True)
        ],
        batch_size=500,
    )
    tickets_auto_assign_bulk(tickets=[t for t in tickets if t.team.auto_assign])
    incidents_detect_bulk(tickets=[t for t in tickets if t.keywords])
    return tickets


@transaction.atomic
def tickets_link_bulk(*, pairs: list[tuple[Ticket, TimelineEntry]]) -> None:
    """``ticket_link_entry`` for many (ticket, entry) pairs of the same contacts, in a
    constant number of statements: the links, then one update of the tickets a
    customer's message reopens (pending → open) or gives an account or identity."""
    if not pairs:
        return
    TicketLink.objects.bulk_create(
        [TicketLink(ticket=t, entry=e) for t, e in pairs], batch_size=500, ignore_conflicts=True
    )
    inbound = [(t, e) for t, e in pairs if e.direction == Direction.INBOUND]
    if not inbound:
        return
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update().filter(pk__in={t.pk for t, _e in inbound})
    }
    schedules: dict[int, object] = {}
    changed: dict[int, Ticket] = {}
    for ticket, entry in inbound:
        row = locked[ticket.pk]
        if row.status == Status.PENDING:
            if row.team_id not in schedules:
                schedules[row.team_id] = ticket_schedule(row)
            set_status(row, Status.OPEN, now=timezone.now(), schedule=schedules[row.team_id])
            changed[row.pk] = row
        if row.account_id is None and entry.account_id:
            row.account_id, row.network = entry.account_id, entry.network
            changed[row.pk] = row
        if row.identity_id is None and entry.identity_id:
            row.identity_id = entry.identity_id
            changed[row.pk] = row
        copy_back(ticket, row, "account_id", "network", "identity_id")
    if changed:
        for row in changed.values():
            row.updated_at = timezone.now()
        Ticket.objects.bulk_update(
            list(changed.values()),
            ["status", *SLA_FIELDS, "account", "network", "identity", "updated_at"],
            batch_size=500,
        )
