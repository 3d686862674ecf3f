"""A ticket's SLA clock: targets from the team's policy, due times on the team's business
hours, the status moves that run, pause and stop the clock, and the beat job's look
at due tickets (80 % warnings and breaches, each recorded once with its alerts).

The clock helpers here are its one copy; the other services modules call them on a
ticket they hold locked (``select_for_update``), then ``save_clock`` it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import SlaEvent, SlaPolicy, Status, Team, Ticket
from .events import managers, ticket_alert

#: Share of a target at which the clock warns before it breaches.
WARNING_RATIO = 0.8

#: The ticket fields the clock owns; ``save_clock`` always writes them.
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


def team_with_schedule(team_id: int) -> Team:
    return Team.objects.prefetch_related("hours", "holidays").get(pk=team_id)


def ticket_schedule(ticket: Ticket):
    """The business hours of the ticket's team."""
    return team_with_schedule(ticket.team_id).schedule()


def sla_targets(ticket: Ticket) -> None:
    """Copy the targets of the policy for the ticket's team and priority (None: none)."""
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


def sla_plan(ticket: Ticket, schedule, *, after: datetime | None = None) -> None:
    """Set due times and the next moment the beat job must look (marks after ``after``;
    all of them when None, so a mark already passed is evaluated soon)."""
    moments = _sla_moments(ticket, schedule)
    due = {target: moment for target, level, moment in moments if level == SlaEvent.Level.BREACH}
    ticket.first_response_due_at = due.get(SlaEvent.Target.FIRST_RESPONSE)
    ticket.resolution_due_at = due.get(SlaEvent.Target.RESOLUTION)
    ahead = [m for _t, _l, m in moments if after is None or m > after]
    ticket.sla_next_check_at = min(ahead) if ahead else None


def _clock_stop(ticket: Ticket, schedule, now: datetime) -> None:
    if ticket.sla_running_since is not None:
        ticket.sla_elapsed_seconds = ticket.sla_elapsed(now, schedule)
        ticket.sla_running_since = None


def set_status(ticket: Ticket, status: str, *, now: datetime, schedule) -> None:
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
    sla_plan(ticket, schedule)


def save_clock(ticket: Ticket, *fields: str) -> None:
    """Save the clock's fields and ``fields``."""
    ticket.save(update_fields=[*SLA_FIELDS, *fields, "updated_at"])


def copy_back(ticket: Ticket, locked: Ticket, *fields: str) -> None:
    """Give the caller's instance what a service changed on its locked copy."""
    for name in ("status", *SLA_FIELDS, *fields):
        setattr(ticket, name, getattr(locked, name))


# --- Evaluation (beat) ------------------------------------------------------------------


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
    ticket_alert(
        ticket=ticket,
        users=[*managers(), ticket.assignee],
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
            schedules[ticket.team_id] = ticket_schedule(ticket)
        schedule = schedules[ticket.team_id]
        for target, level, moment in _sla_moments(ticket, schedule):
            if moment <= now:
                recorded += _sla_record(ticket, target, level, moment)
        sla_plan(ticket, schedule, after=now)
        ticket.save(
            update_fields=["first_response_due_at", "resolution_due_at", "sla_next_check_at"]
        )
    return recorded
