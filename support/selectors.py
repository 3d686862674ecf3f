"""Reads on the support desk, shared by pages and the API."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import TruncDate
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from contacts.models import TimelineEntry
from core.choices import Direction, Intent

from .filters import TicketFilter
from .models import (
    ACTIVE_STATUSES,
    CannedResponse,
    CsatSurvey,
    Incident,
    SlaEvent,
    Team,
    Ticket,
    TicketReply,
)

#: "Breaching soon": a target due within this long (or already breached).
BREACHING_SOON = timedelta(hours=1)
QUEUES = ("all", "mine", "unassigned", "breaching")


def ticket_list_queryset() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("contact", "assignee", "account", "team", "identity")


def ticket_queue(queryset: QuerySet[Ticket], *, queue: str, user, now: datetime | None = None):
    """One of the queue views over ``queryset``: "mine", "unassigned" and "breaching"
    show open work; "all" leaves ``queryset`` as it is (the API's list)."""
    now = now or timezone.now()
    if queue == "mine":
        return queryset.filter(assignee=user, status__in=ACTIVE_STATUSES)
    if queue == "unassigned":
        return queryset.filter(assignee__isnull=True, status__in=ACTIVE_STATUSES)
    if queue == "breaching":
        limit = now + BREACHING_SOON
        return queryset.filter(
            Q(first_response_due_at__lte=limit) | Q(resolution_due_at__lte=limit),
            status__in=ACTIVE_STATUSES,
        )
    return queryset


@dataclass(frozen=True)
class TicketQueue:
    """The queue page's tickets, with the filters and the queue that chose them."""

    filterset: TicketFilter
    queue: str
    tickets: QuerySet[Ticket]


def ticket_queue_for_page(params: QueryDict, *, user, now: datetime | None = None) -> TicketQueue:
    """The queue page for the query ``params``: the ``TicketFilter`` filters (invalid
    ones show nothing), then the queue (``?queue=``, "all" when unknown). "All" shows
    open work unless a status is asked for."""
    queue = params.get("queue", "all")
    if queue not in QUEUES:
        queue = "all"
    filterset = TicketFilter(params, queryset=ticket_list_queryset())
    tickets = filterset.qs if filterset.is_valid() else Ticket.objects.none()
    if queue == "all" and not params.getlist("status"):
        tickets = tickets.filter(status__in=ACTIVE_STATUSES)
    tickets = ticket_queue(tickets, queue=queue, user=user, now=now)
    return TicketQueue(filterset=filterset, queue=queue, tickets=tickets)


@dataclass(frozen=True)
class SlaState:
    """What the queue shows of a ticket's clock: the nearest unmet target."""

    target: str  # SlaEvent.Target value, or ""
    seconds_left: float | None  # business seconds; negative once breached
    paused: bool

    @property
    def breached(self) -> bool:
        return self.seconds_left is not None and self.seconds_left < 0

    @property
    def label(self) -> str:
        return SlaEvent.Target(self.target).label if self.target else ""


def team_schedules(team_ids) -> dict:
    teams = Team.objects.filter(pk__in=set(team_ids)).prefetch_related("hours", "holidays")
    return {team.pk: team.schedule() for team in teams}


def ticket_sla_state(ticket: Ticket, schedule, now: datetime) -> SlaState:
    elapsed = ticket.sla_elapsed(now, schedule)
    best = None
    for target, minutes, met in (
        (
            SlaEvent.Target.FIRST_RESPONSE,
            ticket.sla_first_response_minutes,
            ticket.first_response_at,
        ),
        (SlaEvent.Target.RESOLUTION, ticket.sla_resolution_minutes, ticket.resolved_at),
    ):
        if minutes is None or met is not None:
            continue
        left = minutes * 60 - elapsed
        if best is None or left < best[1]:
            best = (target, left)
    if best is None or not ticket.is_active:
        return SlaState(target="", seconds_left=None, paused=False)
    return SlaState(target=best[0], seconds_left=best[1], paused=ticket.sla_running_since is None)


def tickets_with_sla(tickets: list[Ticket], now: datetime | None = None) -> list[Ticket]:
    """Set ``ticket.sla`` (an ``SlaState``) on each, with one query for all schedules."""
    now = now or timezone.now()
    schedules = team_schedules(t.team_id for t in tickets)
    for ticket in tickets:
        ticket.sla = ticket_sla_state(ticket, schedules[ticket.team_id], now)
    return tickets


def ticket_detail_queryset() -> QuerySet[Ticket]:
    """Tickets with their interactions, replies, SLA events and surveys prefetched (the
    ticket page)."""
    return (
        ticket_list_queryset()
        .select_related("incident", "created_by")
        .prefetch_related(
            Prefetch(
                "interactions",
                queryset=TimelineEntry.objects.select_related("account", "identity").order_by(
                    "occurred_at", "id"
                ),
            ),
            Prefetch(
                "replies",
                queryset=TicketReply.objects.select_related(
                    "message__account", "message__entry", "message__created_by"
                ),
            ),
            Prefetch("sla_events", queryset=SlaEvent.objects.order_by("created_at")),
            Prefetch("csat_surveys", queryset=CsatSurvey.objects.order_by("created_at")),
        )
    )


def canned_for_ticket(ticket: Ticket) -> QuerySet[CannedResponse]:
    """The canned answers for the ticket's team, those in the contact's language first
    (the language of their profile, else of their newest message on the ticket)."""
    language = ticket.contact.language or (
        TimelineEntry.objects.filter(ticket_link__ticket=ticket)
        .exclude(language="")
        .order_by("-occurred_at")
        .values_list("language", flat=True)
        .first()
    )
    theirs = Case(When(language=language or "", then=0), default=1, output_field=IntegerField())
    return (
        CannedResponse.objects.filter(Q(team=ticket.team) | Q(team__isnull=True))
        .alias(theirs=theirs)
        .order_by("theirs", "purpose", "language", "name")
    )


def testimonial_queryset() -> QuerySet[TimelineEntry]:
    """Praise received from people: what marketing can quote."""
    return TimelineEntry.objects.filter(
        intent=Intent.PRAISE, direction=Direction.INBOUND
    ).select_related("contact", "identity", "account")


# --- Reports ----------------------------------------------------------------------------

#: Default report period: the last 30 days.
DEFAULT_PERIOD = timedelta(days=29)
#: The years a report may cover.
REPORT_YEARS = (2000, 2999)


#: The longest report period whose "tickets by day" lists quiet days too.
MAX_FILLED_DAYS = 366

#: The complaint topics the report counts: the bilingual concepts of
#: ``lib.classify.concepts`` ("internet" stands for fibra, router, wifi...), named in
#: the reader's language. A ticket's other keys (content words, ``place:`` marks) group
#: complaints into incidents; as topics they would read as fragments.
TOPIC_LABELS = {
    "internet": pgettext_lazy("complaint topic", "internet"),
    "outage": pgettext_lazy("complaint topic", "outage"),
    "phone": pgettext_lazy("complaint topic", "phone"),
    "bill": pgettext_lazy("complaint topic", "bill"),
    "payment": pgettext_lazy("complaint topic", "payment"),
    "duplicate": pgettext_lazy("complaint topic", "charged or sent twice"),
    "refund": pgettext_lazy("complaint topic", "refund"),
    "delivery": pgettext_lazy("complaint topic", "delivery"),
    "app": pgettext_lazy("complaint topic", "app and account"),
    "power": pgettext_lazy("complaint topic", "electricity"),
    "water": pgettext_lazy("complaint topic", "water"),
    "tv": pgettext_lazy("complaint topic", "TV"),
    "train": pgettext_lazy("complaint topic", "trains"),
    "bus": pgettext_lazy("complaint topic", "buses"),
    "flight": pgettext_lazy("complaint topic", "flights"),
    "support": pgettext_lazy("complaint topic", "customer service"),
}


def report_period(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    """The report's period from ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (the last 30 days by
    default). Raises ``ValidationError`` with field messages for bad dates."""
    errors = {}
    today = timezone.localdate()
    values = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if not raw:
            continue
        try:
            values[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Use a date like 2026-01-31.")
            continue
        # Year 1 or 9999 leaves the calendar once the period is turned into times.
        if not REPORT_YEARS[0] <= values[name].year <= REPORT_YEARS[1]:
            errors[name] = _("Use a date between %(first)s and %(last)s.") % {
                "first": REPORT_YEARS[0],
                "last": REPORT_YEARS[1],
            }
    if errors:
        raise ValidationError(errors)
    end = values.get("to", today)
    start = values.get("from", end - DEFAULT_PERIOD)
    if start > end:
        raise ValidationError({"from": _("The start must not be after the end.")})
    return start, end


def _median_minutes(durations) -> float | None:
    values = [d.total_seconds() / 60 for d in durations if d is not None]
    return round(statistics.median(values), 1) if values else None


def _attainment(tickets: QuerySet[Ticket], target: str, met_field: str) -> dict:
    considered = tickets.filter(
        Q(**{f"{met_field}__isnull": False}) | Q(sla_events__target=target)
    ).distinct()
    total = considered.count()
    breached = considered.filter(
        sla_events__target=target, sla_events__level=SlaEvent.Level.BREACH
    ).count()
    return {
        "tickets": total,
        "breached": breached,
        "attained_percent": round(100 * (total - breached) / total, 1) if total else None,
    }


def support_report(*, start: date, end: date) -> dict:
    """The support report for tickets opened from ``start`` to ``end`` (inclusive):
    volume by network and account, median times, SLA attainment, CSAT, complaint topics
    and incidents."""
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, datetime.min.time(), tz)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)
    tickets = Ticket.objects.filter(created_at__gte=since, created_at__lt=until)

    by_network = list(
        tickets.values("network").annotate(tickets=Count("id")).order_by("-tickets", "network")
    )
    by_account = [
        {
            "account": row["account__handle"] or "",
            "network": row["account__network"] or "",
            "tickets": row["tickets"],
        }
        for row in tickets.values("account__handle", "account__network")
        .annotate(tickets=Count("id"))
        .order_by("-tickets", "account__handle")
    ]
    counted = {
        row["day"]: row["tickets"]
        for row in tickets.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(tickets=Count("id"))
        .order_by("day")
    }
    # Every day of the period, quiet ones at 0 (one busy day alone drew a single dot);
    # a period longer than MAX_FILLED_DAYS lists only the days with tickets.
    days = (end - start).days + 1
    if days <= MAX_FILLED_DAYS:
        counted = {
            start + timedelta(days=n): counted.get(start + timedelta(days=n), 0)
            for n in range(days)
        } | counted
    by_day = [{"day": day.isoformat(), "tickets": n} for day, n in sorted(counted.items())]
    first_response = tickets.filter(first_response_at__isnull=False).annotate(
        d=ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
    )
    resolution = tickets.filter(resolved_at__isnull=False).annotate(
        d=ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    )
    surveys = CsatSurvey.objects.filter(ticket__in=tickets.values("pk"), answered_at__isnull=False)
    ratings = Counter(dict(surveys.values_list("rating").annotate(n=Count("id")).order_by()))
    answered = sum(ratings.values())
    topics = Counter()
    for keywords in tickets.exclude(keywords=[]).values_list("keywords", flat=True):
        topics.update({k for k in keywords if k in TOPIC_LABELS})
    incidents = Incident.objects.filter(created_at__gte=since, created_at__lt=until).annotate(
        ticket_count=Count("tickets")
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tickets": tickets.count(),
        "by_network": by_network,
        "by_account": by_account,
        "by_day": by_day,
        "median_first_response_minutes": _median_minutes(
            first_response.values_list("d", flat=True)
        ),
        "median_resolution_minutes": _median_minutes(resolution.values_list("d", flat=True)),
        "sla": {
            "first_response": _attainment(
                tickets, SlaEvent.Target.FIRST_RESPONSE, "first_response_at"
            ),
            "resolution": _attainment(tickets, SlaEvent.Target.RESOLUTION, "resolved_at"),
        },
        "csat": {
            "answers": answered,
            "average": round(sum(r * n for r, n in ratings.items()) / answered, 2)
            if answered
            else None,
            "satisfied_percent": round(100 * (ratings[4] + ratings[5]) / answered, 1)
            if answered
            else None,
            "distribution": [{"rating": r, "answers": ratings[r]} for r in range(1, 6)],
        },
        "top_complaint_topics": [
            {"keyword": k, "label": str(TOPIC_LABELS[k]), "tickets": n}
            for k, n in sorted(topics.items(), key=lambda item: (-item[1], item[0]))[:10]
        ],
        "incidents": [
            {
                "id": i.pk,
                "title": i.title,
                "state": i.state,
                "tickets": i.ticket_count,
                "created_at": i.created_at.isoformat(),
            }
            for i in incidents.order_by("-created_at")
        ],
    }


def incident_list_queryset() -> QuerySet[Incident]:
    return (
        Incident.objects.select_related("team")
        .annotate(ticket_count=Count("tickets"))
        .order_by("-created_at", "-id")
    )
