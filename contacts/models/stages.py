"""How contacts move between stages: each change recorded, and the rules that move them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.choices import EntryKind

from .people import Contact, Stage


class StageChange(models.Model):
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("contact")
    )
    from_stage = models.PositiveSmallIntegerField(_("from"), choices=Stage)
    to_stage = models.PositiveSmallIntegerField(_("to"), choices=Stage)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rule = models.CharField(_("rule"), max_length=200, blank=True)
    # The configured rule that made this change, when one did (``rule`` keeps its name
    # even if the rule is later renamed or deleted).
    stage_rule = models.ForeignKey(
        "StageRule",
        verbose_name=_("stage rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at"], name="stagechange_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.from_stage} → {self.to_stage}"

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return self.actor.get_full_name() or self.actor.get_username()
        return self.rule


class StageRule(models.Model):
    """A rule that moves contacts forward when something happens (configured in the
    admin). Applied by sync (``contacts.services.stage_rules_apply``) and by events
    (purchases). A rule fires at most once per contact and never moves one backwards."""

    #: What an engagement rule counts: replies, mentions and quotes from the person.
    ENGAGEMENT_KINDS = (EntryKind.MENTION, EntryKind.REPLY, EntryKind.QUOTE)

    class Kind(models.TextChoices):
        FOLLOW = "follow", _("Follows one of our accounts")
        ENGAGEMENT = "engagement", _("N replies or mentions within D days")
        DM = "dm", _("Sends us a direct message")
        PURCHASE = "purchase", _("Makes a purchase")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("when"), max_length=20, choices=Kind)
    target_stage = models.PositiveSmallIntegerField(_("move to stage"), choices=Stage)
    threshold = models.PositiveSmallIntegerField(
        _("N (interactions)"), default=3, help_text=_("Engagement rules: replies or mentions.")
    )
    window_days = models.PositiveSmallIntegerField(
        _("D (days)"), default=30, help_text=_("Engagement rules: within this many days.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stage rule")
        verbose_name_plural = _("stage rules")
        ordering = ["target_stage", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_stage__in=[1, 2]), name="stagerule_target_forward"
            ),
            models.CheckConstraint(
                condition=Q(threshold__gte=1, window_days__gte=1), name="stagerule_window_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name
