"""Tickets: one customer problem across the public complaint and the DMs that follow,
the interactions linked to it, what was sent for it, and its SLA events."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.choices import EntryKind, Network
from core.models import ChoiceLabels
from lib.business_hours import Schedule

from .incidents import Incident
from .teams import Priority, Team


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


#: Statuses of a ticket someone still has to work on.
ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)

#: Inbound kinds that are a conversation with us (likes, follows and reposts are not).
CONVERSATION_KINDS = frozenset(
    {EntryKind.MENTION, EntryKind.REPLY, EntryKind.QUOTE, EntryKind.DM, EntryKind.POST}
)
#: Conversation kinds others can read (what a public reply answers).
PUBLIC_KINDS = CONVERSATION_KINDS - {EntryKind.DM}


class Ticket(ChoiceLabels, models.Model):
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
