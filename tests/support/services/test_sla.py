"""SLA clocks on business hours, holidays and pauses, with frozen time."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from core.models import Notification
from lib.business_hours import Schedule
from support.models import BusinessHours, Holiday, SlaEvent, Status
from support.selectors import team_schedules, ticket_queue, ticket_sla_state
from support.services import (
    sla_evaluate,
    ticket_change_status,
    ticket_open,
    ticket_reply,
    ticket_reply_confirmed,
    ticket_resolve,
    tickets_open_for_entries,
)
from support.tasks import sla_check
from tests.factories import SupportAgentFactory, UserFactory, complaint_entry

pytestmark = pytest.mark.django_db
MADRID = ZoneInfo("Europe/Madrid")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=MADRID)


@pytest.fixture
def office(team):
    """Mon–Fri 09:00–17:00 in Madrid; Wednesday 2026-01-07 is a holiday. Normal priority:
    first response in 60 business minutes, resolution in 480 (one working day)."""
    team.time_zone = "Europe/Madrid"
    team.save()
    for day in range(5):
        BusinessHours.objects.create(team=team, weekday=day, opens=time(9), closes=time(17))
    Holiday.objects.create(team=team, date=date(2026, 1, 7), name="Reyes (moved)")
    team.sla_policies.filter(priority=2).update(first_response_minutes=60, resolution_minutes=480)
    return team


def test_schedule_counts_only_open_hours():
    s = Schedule(
        tz=MADRID,
        hours={d: ((time(9), time(17)),) for d in range(5)},
        holidays=frozenset({date(2026, 1, 7)}),
    )
    # Friday 16:30 → Monday 09:30: 30 minutes on Friday, 30 on Monday.
    assert s.seconds_between(at(2026, 1, 9, 16, 30), at(2026, 1, 12, 9, 30)) == 3600
    assert s.add(at(2026, 1, 9, 16, 30), 3600) == at(2026, 1, 12, 9, 30)
    # Tuesday 16:45 + 1h skips the Wednesday holiday.
    assert s.add(at(2026, 1, 6, 16, 45), 3600) == at(2026, 1, 8, 9, 45)
    # Opening before hours starts at 09:00.
    assert s.add(at(2026, 1, 5, 7, 0), 60) == at(2026, 1, 5, 9, 1)
    assert Schedule(tz=MADRID).seconds_between(at(2026, 1, 5), at(2026, 1, 6)) == 86400
    closed = Schedule(tz=MADRID, hours={0: ()})
    assert closed.add(at(2026, 1, 5), 60) is None


def test_friday_afternoon_ticket_is_due_monday_morning(office, customer, account):
    with time_machine.travel(at(2026, 1, 9, 16, 30), tick=False):
        ticket = ticket_open(
            contact=customer, entry=complaint_entry(contact=customer, account=account)
        )
    assert ticket.first_response_due_at == at(2026, 1, 12, 9, 30)
    # Resolution: 30 min Friday + 7h30 Monday.
    assert ticket.resolution_due_at == at(2026, 1, 12, 16, 30)
    schedule = team_schedules([office.pk])[office.pk]
    # Saturday noon: the clock has not moved since Friday's close.
    state = ticket_sla_state(ticket, schedule, at(2026, 1, 10, 12, 0))
    assert state.target == "first_response" and state.seconds_left == 30 * 60


def test_holiday_is_skipped(office, customer, account):
    with time_machine.travel(at(2026, 1, 6, 16, 45), tick=False):
        ticket = ticket_open(contact=customer, subject="Router")
    assert ticket.first_response_due_at == at(2026, 1, 8, 9, 45)


def test_clock_pauses_while_pending_customer(office, customer, account):
    entry = complaint_entry(contact=customer, account=account)
    with time_machine.travel(at(2026, 1, 5, 10, 0), tick=False):
        ticket = ticket_open(contact=customer, entry=entry)
    agent = UserFactory(role="Support")
    with time_machine.travel(at(2026, 1, 5, 10, 20), tick=False):
        reply = ticket_reply(
            ticket=ticket, text="Can you send your customer number?", user=agent, pending=True
        )
        ticket_reply_confirmed(message_id=reply.message_id, sent_at=at(2026, 1, 5, 10, 20))
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.first_response_seconds == 20 * 60
    assert ticket.sla_elapsed_seconds == 20 * 60 and ticket.sla_running_since is None
    assert ticket.resolution_due_at is None and ticket.sla_next_check_at is None
    with time_machine.travel(at(2026, 1, 5, 14, 0), tick=False):
        tickets_open_for_entries(
            entries=[complaint_entry(contact=customer, account=account, kind="dm", intent="other")]
        )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    # 480 business minutes minus the 20 already used, counted from 14:00: 3h today
    # (14–17) and 4h40 on Tuesday.
    assert ticket.resolution_due_at == at(2026, 1, 6, 13, 40)
    with time_machine.travel(at(2026, 1, 6, 10, 0), tick=False):
        ticket_resolve(ticket=ticket, user=agent, csat=False)
    ticket.refresh_from_db()
    assert ticket.resolution_seconds == (20 + 180 + 60) * 60


def test_warning_at_80_percent_and_breach_alert_once(office, customer, account, manager):
    agent = SupportAgentFactory(team=office).user
    office.email_alerts = True
    office.save()
    with time_machine.travel(at(2026, 1, 5, 10, 0), tick=False):
        ticket = ticket_open(
            contact=customer, entry=complaint_entry(contact=customer, account=account)
        )
    assert ticket.assignee == agent
    assert ticket.sla_next_check_at == at(2026, 1, 5, 10, 48)

    with time_machine.travel(at(2026, 1, 5, 10, 47), tick=False):
        assert sla_evaluate() == 0
    with time_machine.travel(at(2026, 1, 5, 10, 50), tick=False), mail_on_commit():
        assert sla_evaluate() == 1
        assert sla_evaluate() == 0  # nothing twice
    warning = SlaEvent.objects.get(ticket=ticket)
    assert (warning.target, warning.level) == ("first_response", "warning")
    assert warning.created_at == at(2026, 1, 5, 10, 48)
    notes = Notification.objects.filter(dedupe_key=f"ticket-{ticket.pk}-sla-first_response-warning")
    assert {n.user for n in notes} == {agent, manager}
    [email] = mail.outbox
    assert sorted(email.to) == sorted([agent.email, manager.email])

    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == at(2026, 1, 5, 11, 0)
    with time_machine.travel(at(2026, 1, 5, 11, 5), tick=False):
        sla_check.delay()
        sla_check.delay()
    assert SlaEvent.objects.filter(ticket=ticket, level="breach").count() == 1
    assert Notification.objects.filter(user=agent).count() == 2
    with time_machine.travel(at(2026, 1, 5, 11, 5), tick=False):
        assert list(
            ticket_queue(ticket.__class__.objects.all(), queue="breaching", user=agent)
        ) == [ticket]
        state = ticket_sla_state(
            ticket, team_schedules([office.pk])[office.pk], at(2026, 1, 5, 11, 5)
        )
    assert state.breached and state.seconds_left == -5 * 60


def test_answering_in_time_records_nothing(office, customer, account):
    agent = UserFactory(role="Support")
    with time_machine.travel(at(2026, 1, 5, 10, 0), tick=False):
        ticket = ticket_open(
            contact=customer, entry=complaint_entry(contact=customer, account=account)
        )
    with time_machine.travel(at(2026, 1, 5, 10, 30), tick=False):
        reply = ticket_reply(ticket=ticket, text="On it", user=agent)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at is not None  # queued is not answered
    with time_machine.travel(at(2026, 1, 5, 10, 31), tick=False):
        ticket_reply_confirmed(message_id=reply.message_id, sent_at=at(2026, 1, 5, 10, 31))
    ticket.refresh_from_db()
    assert ticket.first_response_due_at is None
    # Next mark: 80% of the resolution target (384 min from 10:00 = 16:24).
    assert ticket.sla_next_check_at == at(2026, 1, 5, 16, 24)
    with time_machine.travel(at(2026, 1, 5, 12, 0), tick=False):
        assert sla_evaluate() == 0
    assert not SlaEvent.objects.exists()


def test_priority_change_moves_the_targets(office, customer, account):
    with time_machine.travel(at(2026, 1, 5, 10, 0), tick=False):
        ticket = ticket_open(contact=customer, subject="Outage")
        ticket_change_status(ticket=ticket, status=Status.OPEN)
    from support.services import ticket_change_priority

    with time_machine.travel(at(2026, 1, 5, 10, 10), tick=False):
        ticket = ticket_change_priority(ticket=ticket, priority=4)  # urgent: 15 / 240
    assert ticket.first_response_due_at == at(2026, 1, 5, 10, 15)
    assert ticket.resolution_due_at == at(2026, 1, 5, 14, 0)


class mail_on_commit:
    """Run on-commit callbacks (the alert emails) when the block ends."""

    def __enter__(self):
        from django.test import TestCase

        self._ctx = TestCase.captureOnCommitCallbacks(execute=True)
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
