"""The support desk: teams with their hours and SLA policies, tickets that gather a
customer's public and private messages, incidents, canned responses and CSAT."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.choices import Network
from lib.business_hours import Schedule


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


#: Statuses of a ticket someone still has to work on.
ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)


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


class Incident(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    title = models.CharField(_("title"), max_length=200)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="incidents")
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.OPEN)
    keywords = models.JSONField(_("topic keywords"), default=list, blank=True)
    statement = models.TextField(_("public statement"), blank=True)
    statement_at = models.DateTimeField(_("statement posted"), null=True, blank=True)
    final_message = models.TextField(_("final message"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["team", "state"], name="incident_team_state")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("support:incident", args=[self.pk])


class Ticket(models.Model):
    """One customer problem, across the public complaint and the DMs that follow.

    The SLA clock counts business seconds of the team: ``sla_elapsed_seconds`` banked
    while it ran before, plus the time since ``sla_running_since`` (None while pending
    customer or once resolved)."""

    subject = models.CharField(_("subject"), max_length=200)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="tickets"
    )
    identity = models.ForeignKey(
        "contacts.SocialIdentity",
        verbose_name=_("customer's account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    network = models.CharField(_("network"), max_length=16, choices=Network, blank=True)
    account = models.ForeignKey(
        "crm.SocialAccount",
        verbose_name=_("our account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_tickets",
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    interactions = models.ManyToManyField(
        "contacts.TimelineEntry", through="TicketLink", related_name="tickets", blank=True
    )
    opened_by_rule = models.CharField(_("opened by rule"), max_length=100, blank=True)
    keywords = models.JSONField(_("topic keywords"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # SLA clock (see the class docstring) and its targets, copied from the policy.
    sla_first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    sla_resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    sla_elapsed_seconds = models.FloatField(default=0)
    sla_running_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    first_response_seconds = models.FloatField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution_seconds = models.FloatField(null=True, blank=True)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    #: When the beat job must look at this ticket next (an 80% mark or a breach).
    sla_next_check_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "-id"], name="ticket_status_newest"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["contact", "status"], name="ticket_contact_status"),
            models.Index(
                fields=["sla_next_check_at"],
                condition=Q(sla_next_check_at__isnull=False),
                name="ticket_sla_due",
            ),
            models.Index(fields=["created_at"], name="ticket_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("support:ticket", args=[self.pk])

    @property
    def number(self) -> str:
        return f"#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def sla_elapsed(self, now: datetime, schedule: Schedule) -> float:
        """Business seconds the clock has run until ``now``."""
        running = 0.0
        if self.sla_running_since is not None:
            running = schedule.seconds_between(self.sla_running_since, now)
        return self.sla_elapsed_seconds + running


class TicketLink(models.Model):
    """An interaction (public or DM) that belongs to a ticket; each to one ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links")
    entry = models.OneToOneField(
        "contacts.TimelineEntry", on_delete=models.CASCADE, related_name="ticket_link"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("linked interaction")
        verbose_name_plural = _("linked interactions")

    def __str__(self) -> str:
        return f"{self.ticket_id} ← {self.entry_id}"


class TicketReply(models.Model):
    """Something sent for a ticket (through the outbox), and why."""

    class Purpose(models.TextChoices):
        REPLY = "reply", _("Reply")
        HANDOFF_PUBLIC = "handoff_public", _("Handoff: public acknowledgement")
        HANDOFF_DM = "handoff_dm", _("Handoff: direct message")
        STATEMENT = "statement", _("Incident statement")
        FINAL = "final", _("Final message")
        CSAT = "csat", _("Satisfaction survey")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replies")
    message = models.OneToOneField(
        "crm.OutboundMessage", on_delete=models.CASCADE, related_name="ticket_reply"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ticket reply")
        verbose_name_plural = _("ticket replies")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_purpose_display()}"


class SlaEvent(models.Model):
    """An 80% warning or a breach of one target, recorded once for alerts and reports."""

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    class Level(models.TextChoices):
        WARNING = "warning", _("80% of the target")
        BREACH = "breach", _("Breach")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_events")
    target = models.CharField(_("target"), max_length=20, choices=Target)
    level = models.CharField(_("level"), max_length=10, choices=Level)
    created_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "level"], name="slaevent_once")
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.target} {self.level}"


class CannedResponse(models.Model):
    """A reusable answer with variables such as {contact_name} (see ``VARIABLES``)."""

    class Purpose(models.TextChoices):
        GENERAL = "general", _("Reply")
        HANDOFF_PUBLIC = "handoff_public", _("Handoff: public acknowledgement")
        HANDOFF_DM = "handoff_dm", _("Handoff: direct message")
        RESOLUTION = "resolution", _("Resolution")
        CSAT = "csat", _("Satisfaction survey")

    VARIABLES = (
        "contact_name",
        "ticket_number",
        "agent_name",
        "phone",
        "form_url",
        "help_url",
        "csat_link",
    )

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose, default=Purpose.GENERAL
    )
    body = models.TextField(
        _("text"),
        help_text=_(
            "Variables: {contact_name}, {ticket_number}, {agent_name}, {phone}, {form_url}, "
            "{help_url}, {csat_link}."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["purpose", "language", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class CsatSurvey(models.Model):
    """A satisfaction question sent after a resolution, answered once through a signed
    link whose ``nonce`` this row holds (the row makes the link single-use)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="csat_surveys")
    nonce = models.CharField(max_length=32, unique=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, choices=[(i, str(i)) for i in range(1, 6)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="csat_rating_1_to_5",
            )
        ]
        indexes = [models.Index(fields=["answered_at"], name="csat_answered")]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.rating or '—'}"
