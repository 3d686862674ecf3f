"""Teams and what they promise: opening hours, holidays, SLA policies per priority, the
people round-robin assigns to, and each team's thresholds for escalation and incidents."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lib.business_hours import Schedule


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone.")) from None


class Team(models.Model):
    """A support team: its accounts, hours, SLA policies, links for canned answers and
    the thresholds for escalation and incidents."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(
        _("default team"), default=False, help_text=_("Gets tickets from accounts of no team.")
    )
    accounts = models.ManyToManyField(
        "crm.SocialAccount", verbose_name=_("social accounts"), blank=True, related_name="teams"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    auto_assign = models.BooleanField(
        _("assign automatically"),
        default=True,
        help_text=_("Round-robin among available members under their cap of open tickets."),
    )
    email_alerts = models.BooleanField(
        _("email alerts"),
        default=False,
        help_text=_("Also email SLA and escalation alerts to people with an email address."),
    )
    # Values for canned responses.
    phone = models.CharField(_("support phone"), max_length=60, blank=True)
    form_url = models.URLField(_("contact form link"), blank=True)
    help_url = models.URLField(_("help centre link"), blank=True)
    # Virality escalation: 0 turns a threshold off.
    escalate_likes = models.PositiveIntegerField(_("escalate at likes"), default=50)
    escalate_reposts = models.PositiveIntegerField(_("escalate at reposts"), default=20)
    escalate_replies = models.PositiveIntegerField(_("escalate at replies"), default=20)
    escalate_followers = models.PositiveIntegerField(
        _("escalate at author's followers"), default=10000
    )
    escalate_to = models.PositiveSmallIntegerField(
        _("escalated priority"), choices=Priority, default=Priority.URGENT
    )
    # Incidents: this many complaints sharing this many topic keywords within the window.
    incident_min_tickets = models.PositiveSmallIntegerField(
        _("incident after complaints"), default=3
    )
    incident_min_shared_keywords = models.PositiveSmallIntegerField(_("shared keywords"), default=2)
    incident_window_minutes = models.PositiveIntegerField(
        _("incident window (minutes)"), default=60
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="team_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> Schedule:
        """This team's opening hours; uses prefetched ``hours`` and ``holidays``."""
        intervals: dict[int, list[tuple[time, time]]] = {}
        for row in self.hours.all():
            intervals.setdefault(row.weekday, []).append((row.opens, row.closes))
        return Schedule(
            tz=ZoneInfo(self.time_zone),
            hours={day: tuple(spans) for day, spans in intervals.items()},
            holidays=frozenset(h.date for h in self.holidays.all()),
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessHours(models.Model):
    """One opening interval of a team on a weekday. A team with none is open 24/7."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(
        _("closes"), help_text=_("00:00 means midnight at the end of the day.")
    )

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["team", "weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValidationError({"closes": _("Closing time must be after opening time.")})


class Holiday(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="holiday_unique_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Targets for one priority of one team, in business minutes."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"))

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["team", "-priority"]
        constraints = [
            models.UniqueConstraint(fields=["team", "priority"], name="slapolicy_unique_priority")
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.get_priority_display()}"


class SupportAgent(models.Model):
    """A member of a team as round-robin sees them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_agent"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="agents")
    is_available = models.BooleanField(_("available"), default=True)
    max_open_tickets = models.PositiveSmallIntegerField(_("cap of open tickets"), default=20)
    last_assigned_at = models.DateTimeField(_("last assigned"), null=True, blank=True)

    class Meta:
        verbose_name = _("support agent")
        verbose_name_plural = _("support agents")

    def __str__(self) -> str:
        return self.user.get_username()
