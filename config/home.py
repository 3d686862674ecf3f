"""What the home page shows each role: the next things to do, each linking to where it
is done. Reads across the apps (config is above all of them); a constant number of
queries per section however much work is waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Q
from django.utils import timezone

from campaigns.models import Campaign, CampaignMatch
from contacts.models import Contact, Stage, Todo
from core.roles import MANAGER, SALES, SUPPORT
from crm.models import SocialAccount
from support.models import ACTIVE_STATUSES, Incident, Ticket
from support.selectors import (
    BREACHING_SOON,
    support_report,
    ticket_list_queryset,
    ticket_queue,
    tickets_with_sla,
)

#: Items shown per list (each list links to the page with all of them).
HOME_ITEMS = 8
#: A lead not touched for this long needs a touch.
TOUCH_AFTER = timedelta(days=7)


def user_roles(user: AbstractBaseUser) -> list[str]:
    """The user's roles in the order their home sections show (a superuser: all)."""
    if user.is_superuser:
        return [SUPPORT, SALES, MANAGER]
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in (SUPPORT, SALES, MANAGER) if role in names]


@dataclass
class Counted:
    """The first ``HOME_ITEMS`` of a list and how many there are in all."""

    items: list
    total: int


def _counted(queryset, *, order: tuple[str, ...] | None = None) -> Counted:
    if order:
        queryset = queryset.order_by(*order)
    return Counted(items=list(queryset[:HOME_ITEMS]), total=queryset.count())


def home_support(*, user: AbstractBaseUser, now: datetime | None = None) -> dict:
    """My open tickets, nearest SLA deadline first; tickets breaching soon; unassigned."""
    now = now or timezone.now()
    tickets = ticket_list_queryset()
    due = (
        F("first_response_due_at").asc(nulls_last=True),
        F("resolution_due_at").asc(nulls_last=True),
    )
    mine = _counted(ticket_queue(tickets, queue="mine", user=user).order_by(*due, "id"))
    breaching = _counted(
        ticket_queue(tickets, queue="breaching", user=user, now=now).order_by(*due, "id")
    )
    unassigned = _counted(ticket_queue(tickets, queue="unassigned", user=user).order_by(*due, "id"))
    tickets_with_sla([*mine.items, *breaching.items, *unassigned.items], now)
    for counted in (mine, breaching, unassigned):
        counted.items.sort(
            key=lambda t: (t.sla.seconds_left is None, t.sla.seconds_left or 0, t.pk)
        )
    return {
        "mine": mine,
        "breaching": breaching,
        "unassigned": unassigned,
        "breaching_minutes": int(BREACHING_SOON.total_seconds() // 60),
    }


def home_sales(*, user: AbstractBaseUser, now: datetime | None = None) -> dict:
    """My tasks due by the end of today; my leads without a touch for ``TOUCH_AFTER``;
    the campaign feeds with new matches (my campaigns first)."""
    now = now or timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    todos = _counted(
        Todo.objects.filter(assignee=user, done_at__isnull=True, due_at__lte=end_of_day)
        .select_related("contact")
        .order_by("due_at", "id")
    )
    leads = _counted(
        Contact.objects.filter(owner=user, stage=Stage.LEAD).filter(
            Q(last_interaction_at__lt=now - TOUCH_AFTER) | Q(last_interaction_at__isnull=True)
        ),
        order=(F("last_interaction_at").asc(nulls_first=True), "id"),
    )
    feeds = list(
        Campaign.objects.filter(active=True)
        .annotate(new=Count("matches", filter=Q(matches__state=CampaignMatch.State.NEW)))
        .filter(new__gt=0)
        .order_by("-new", "name")[: HOME_ITEMS * 4]
    )
    feeds.sort(key=lambda c: (c.owner_id != user.pk, -c.new, c.name))
    return {
        "todos": todos,
        "leads": leads,
        "feeds": feeds[:HOME_ITEMS],
        "touch_days": TOUCH_AFTER.days,
        "now": now,
    }


def home_manager(*, now: datetime | None = None) -> dict:
    """SLA attainment of today's tickets; accounts that need reconnecting (or fail);
    open incidents."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = support_report(start=today, end=today)
    accounts = _counted(
        SocialAccount.objects.filter(
            state__in=(SocialAccount.State.NEEDS_RECONNECT, SocialAccount.State.ERROR)
        ),
        order=("network", "handle"),
    )
    incidents = _counted(
        Incident.objects.filter(state=Incident.State.OPEN).annotate(n=Count("tickets")),
        order=("-id",),
    )
    return {
        "sla": report["sla"],
        "tickets_today": report["tickets"],
        "open_tickets": Ticket.objects.filter(status__in=ACTIVE_STATUSES).count(),
        "accounts": accounts,
        "incidents": incidents,
    }
