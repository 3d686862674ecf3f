from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import Network


class Stage(models.IntegerChoices):
    DISCOVERED = 0, _("Discovered")
    LEAD = 1, _("Lead")
    CUSTOMER = 2, _("Customer")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    display_name = models.CharField(_("display name"), max_length=200)
    stage = models.PositiveSmallIntegerField(_("stage"), choices=Stage, default=Stage.DISCOVERED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=8, blank=True, help_text=_("ISO code, e.g. en or es")
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    score = models.IntegerField(_("score"), default=0)
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stage__in=[0, 1, 2]), name="contact_stage_valid"
            )
        ]
        indexes = [
            models.Index(fields=["stage", "-id"], name="contact_stage_newest"),
            models.Index(fields=["-last_interaction_at", "-id"], name="contact_recent"),
            models.Index(fields=["email"], name="contact_email"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def can_move_to(self, stage: int, *, backwards: bool) -> bool:
        """Whether a stage change to ``stage`` is allowed from the current one.

        People may move a contact backwards (a mistake, a refund); rules never do.
        """
        if stage not in Stage.values or stage == self.stage:
            return False
        return backwards or stage > self.stage


class SocialIdentity(models.Model):
    """A contact's account on one network, keyed by the network's stable user id."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="identities", verbose_name=_("contact")
    )
    network = models.CharField(_("network"), max_length=16, choices=Network)
    external_id = models.CharField(_("network user id"), max_length=255)
    handle = models.CharField(_("handle"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    profile_url = models.URLField(_("profile URL"), max_length=500, blank=True)
    avatar_url = models.URLField(_("avatar URL"), max_length=1000, blank=True)
    follower_count = models.PositiveIntegerField(_("followers"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("social identity")
        verbose_name_plural = _("social identities")
        constraints = [
            models.UniqueConstraint(fields=["network", "external_id"], name="identity_unique_user")
        ]
        indexes = [models.Index(fields=["network", "handle"], name="identity_handle")]

    def __str__(self) -> str:
        return f"@{self.handle} ({self.get_network_display()})"


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
