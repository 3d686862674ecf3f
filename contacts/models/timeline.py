"""The timeline: every event on a contact, one row each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import (
    QUESTION_KINDS,
    SOCIAL_KINDS,
    Direction,
    EntryKind,
    Intent,
    Network,
    Sentiment,
)
from core.fields import FoldedModel, FoldedTextField
from core.models import ChoiceLabels
from lib.classify.core import LOW_CONFIDENCE

from .people import Contact, SocialIdentity

#: An inbound question nobody has handled yet, from a network: what the inbox waits on.
WAITING = Q(direction=Direction.INBOUND, handled_at__isnull=True, kind__in=QUESTION_KINDS) & ~Q(
    network=""
)


class TimelineEntryQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-occurred_at", "-id")


class TimelineEntry(ChoiceLabels, FoldedModel):
    """Every event on a contact: a social interaction in or out, a note, a stage change,
    a purchase, a ticket event. Events with their own model point to it."""

    #: Kinds that are Momento's own bookkeeping rather than an interaction with the
    #: person: they do not move a contact's last interaction.
    BOOKKEEPING_KINDS = frozenset({EntryKind.NOTE, EntryKind.STAGE_CHANGE, EntryKind.TODO})

    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="timeline",
        verbose_name=_("contact"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind)
    network = models.CharField(_("network"), max_length=16, choices=Network, blank=True)
    external_id = models.CharField(_("network item id"), max_length=512, blank=True)
    text = models.TextField(_("text"), blank=True)
    # The text without accents or case, for search off PostgreSQL; NULL on PostgreSQL.
    text_folded = FoldedTextField(sources=("text",))
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction)
    # The social engine (crm, the layer above) owns accounts: a string reference, no
    # import (the layers contract lists it).
    account = models.ForeignKey(
        "crm.SocialAccount",
        verbose_name=_("through account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
    )
    identity = models.ForeignKey(
        SocialIdentity,
        verbose_name=_("identity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
    )
    # Threading: the item this one answers, and the conversation (DM thread) it is in.
    in_reply_to = models.CharField(_("in reply to"), max_length=512, blank=True)
    thread_id = models.CharField(_("thread"), max_length=512, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    # Inbox state for inbound items.
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_entries",
    )
    # Text analysis, filled by the classifier.
    language = models.CharField(_("language"), max_length=8, blank=True)
    intent = models.CharField(_("intent"), max_length=16, choices=Intent, blank=True)
    sentiment = models.CharField(_("sentiment"), max_length=16, choices=Sentiment, blank=True)
    sentiment_score = models.FloatField(_("sentiment score"), null=True, blank=True)
    #: How sure the classifier was of intent and sentiment (0..1); 1 once an agent
    #: corrected or confirmed the labels. Empty: not classified by the model.
    label_confidence = models.FloatField(_("label confidence"), null=True, blank=True)
    # Engagement, refreshed by sync (used for virality escalation).
    like_count = models.PositiveIntegerField(default=0)
    repost_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    # The object this entry stands for, when it has its own model (stage change, purchase,
    # ticket, ...).
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        # Kept from when the model lived in the crm app (a state-only move).
        db_table = "crm_timelineentry"
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "external_id"],
                condition=~Q(external_id=""),
                name="timeline_unique_network_item",
            ),
        ]
        indexes = [
            # "The newest 50 entries of one contact": one index scan at any depth.
            models.Index(fields=["contact", "-occurred_at", "-id"], name="timeline_contact_newest"),
            # "The newest 50 interactions" (the interactions API, newest first at any
            # depth): without it every page sorted all social entries.
            models.Index(
                fields=["-occurred_at", "-id"],
                condition=Q(kind__in=sorted(SOCIAL_KINDS)),
                name="timeline_social_newest",
            ),
            models.Index(
                fields=["-occurred_at", "-id"],
                condition=Q(direction=Direction.INBOUND, handled_at__isnull=True),
                name="timeline_inbox_unhandled",
            ),
            # The inbox's conversations (one person on one network) that wait for an
            # answer: its counts step from pair to pair through these, and a page reads
            # each conversation's figures with a few probes (however many items it
            # holds). The condition is the inbox's "waiting" (support.conversations).
            models.Index(
                fields=["network", "contact", "assigned_to", "occurred_at"],
                condition=WAITING,
                name="timeline_waiting_pairs",
            ),
            models.Index(
                fields=["assigned_to", "network", "contact"],
                condition=WAITING,
                name="timeline_waiting_assignee",
            ),
            models.Index(fields=["content_type", "object_id"], name="timeline_subject"),
            models.Index(fields=["account", "-occurred_at"], name="timeline_account_newest"),
            # Search's "contacts who wrote it": a scan of this index, not of the rows and
            # their raw payloads; empty on PostgreSQL (the copy is NULL there).
            models.Index(
                fields=["text_folded", "contact"],
                condition=Q(text_folded__isnull=False),
                name="timeline_text_folded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def label_uncertain(self) -> bool:
        """The classifier was unsure of this entry's labels (an agent should check)."""
        return self.label_confidence is not None and self.label_confidence < LOW_CONFIDENCE

    @property
    def is_social(self) -> bool:
        return bool(self.network)

    @property
    def is_inbound(self) -> bool:
        return self.direction == Direction.INBOUND

    @property
    def is_outbound(self) -> bool:
        return self.direction == Direction.OUTBOUND


def timeline_event_record(
    *,
    contact_id: int,
    kind: str,
    subject: models.Model | None = None,
    text: str = "",
    actor: Any = None,
    occurred_at: datetime | None = None,
    direction: str = Direction.INTERNAL,
    raw: dict[str, Any] | None = None,
    build_only: bool = False,
) -> TimelineEntry:
    """The one way to put an event Momento itself records (a note, a stage change, a
    purchase, a to-do, a ticket event, a rating) on a contact's timeline, pointing at the
    row it stands for (``subject``). ``build_only`` returns the unsaved entry, for a
    caller that stores many with one ``bulk_create``."""
    entry = TimelineEntry(
        contact_id=contact_id,
        kind=kind,
        direction=direction,
        text=text,
        created_by=actor,
        occurred_at=occurred_at or timezone.now(),
        raw=raw or {},
    )
    if subject is not None:
        entry.content_type = ContentType.objects.get_for_model(subject)
        entry.object_id = subject.pk
    if not build_only:
        entry.save()
    return entry
