"""Campaigns: what sales staff listen for, the posts they publish, the links they share,
and which campaign (and which of our accounts) brought each contact in."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contacts.models import TimelineEntry
from core.choices import Network
from crm.models import OutboundMessage, SocialAccount

LANGUAGE_CHOICES = [("", _("Any language")), ("en", _("English")), ("es", _("Spanish"))]


def _terms(value: str) -> list[str]:
    """One term per line or comma, stripped, without empties or repeats."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\n,]", value or ""):
        part = part.strip()
        if part and part.lower() not in {k.lower() for k in seen}:
            seen[part] = None
    return list(seen)


class CampaignQuerySet(models.QuerySet):
    def running(self, now=None):
        """Active campaigns whose dates include ``now``."""
        now = now or timezone.now()
        return self.filter(active=True, starts_at__lte=now).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=now)
        )


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    goal = models.TextField(_("goal"), blank=True)
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    accounts = models.ManyToManyField(
        SocialAccount,
        verbose_name=_("accounts"),
        blank=True,
        related_name="campaigns",
        help_text=_(
            "The brand and staff accounts the campaign listens, engages and posts through."
        ),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Paused campaigns do not listen.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="campaign_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})

    @property
    def slug(self) -> str:
        """The ``utm_campaign`` default: the name, lower-case, dashes for the rest."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or f"campaign-{self.pk}"


class ListeningRule(models.Model):
    """What to listen for on which networks. Each keyword, phrase and hashtag is one
    search; a post must not contain an excluded word, and must be in ``language`` when
    one is set (posts too short to tell are kept)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="rules", verbose_name=_("campaign")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    keywords = models.TextField(_("keywords"), blank=True, help_text=_("One per line or comma."))
    phrases = models.TextField(_("phrases"), blank=True, help_text=_("One per line."))
    hashtags = models.TextField(_("hashtags"), blank=True, help_text=_("With or without #."))
    excluded_words = models.TextField(_("excluded words"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True, choices=LANGUAGE_CHOICES)
    networks = models.JSONField(
        _("networks"),
        default=list,
        blank=True,
        help_text=_("Empty: every network the campaign has an account on."),
    )
    active = models.BooleanField(_("active"), default=True)
    # Where each search stopped: {"bluesky:#momento": {"cursor": "...", "done": false}}.
    cursors = models.JSONField(_("cursors"), default=dict, blank=True, editable=False)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    matched_count = models.PositiveIntegerField(_("posts matched"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("listening rule")
        verbose_name_plural = _("listening rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or ", ".join(self.queries()[:3]) or str(_("(empty rule)"))

    def clean(self):
        if not self.queries():
            raise ValidationError(_("Give at least one keyword, phrase or hashtag."))
        unknown = set(self.networks or []) - set(Network.values)
        if unknown:
            raise ValidationError({"networks": _("Unknown network.")})

    def queries(self) -> list[str]:
        """The searches this rule runs on every network: keywords, "phrases", #hashtags."""
        tags = [f"#{t.lstrip('#')}" for t in _terms(self.hashtags) if t.lstrip("#")]
        phrases = [f'"{p.strip(chr(34))}"' for p in _terms(self.phrases.replace(",", "\n"))]
        return _terms(self.keywords) + phrases + tags

    def excluded(self) -> list[str]:
        return [w.lower() for w in _terms(self.excluded_words)]


class CampaignMatch(models.Model):
    """A post found by listening, in a campaign's feed (the post itself is a
    TimelineEntry on its author's timeline)."""

    class State(models.TextChoices):
        # A match is a post ("publicación", feminine in Spanish, like its other states).
        NEW = "new", pgettext_lazy("campaign match", "New")
        ENGAGED = "engaged", _("Engaged")
        DISMISSED = "dismissed", _("Dismissed")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="matches", verbose_name=_("campaign")
    )
    entry = models.ForeignKey(
        TimelineEntry, on_delete=models.CASCADE, related_name="campaign_matches"
    )
    rule = models.ForeignKey(
        ListeningRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches"
    )
    query = models.CharField(_("matched"), max_length=300, blank=True)
    # Copied from the entry so the feed is one index scan, newest first.
    occurred_at = models.DateTimeField(_("posted at"))
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.NEW)
    liked = models.BooleanField(_("liked"), default=False)
    replied = models.BooleanField(_("replied"), default=False)
    followed = models.BooleanField(_("followed back"), default=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("matched at"), auto_now_add=True)

    class Meta:
        verbose_name = _("matched post")
        verbose_name_plural = _("matched posts")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "entry"], name="campaignmatch_once")
        ]
        indexes = [
            models.Index(
                fields=["campaign", "-occurred_at", "-id"], name="campaignmatch_feed_newest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.entry_id}"


class Attribution(models.Model):
    """Which campaign touched a contact first, and which last (one row of each per
    contact). ``account`` is the one of ours it came through: the brand or a staff
    member's personal account."""

    class Touch(models.TextChoices):
        FIRST = "first", _("First touch")
        LAST = "last", _("Last touch")

    class Via(models.TextChoices):
        LISTENING = "listening", _("Listening")
        LINK = "link", _("Tracked link")
        REPLY = "reply", _("Reply from the feed")
        FOLLOW = "follow", _("Follow from the feed")

    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.CASCADE,
        related_name="campaign_attributions",
        verbose_name=_("contact"),
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="attributions", verbose_name=_("campaign")
    )
    account = models.ForeignKey(
        SocialAccount,
        verbose_name=_("through account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attributions",
    )
    touch = models.CharField(_("touch"), max_length=5, choices=Touch)
    via = models.CharField(_("via"), max_length=10, choices=Via)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("attribution")
        verbose_name_plural = _("attributions")
        constraints = [
            models.UniqueConstraint(fields=["contact", "touch"], name="attribution_one_per_touch")
        ]
        indexes = [models.Index(fields=["campaign", "touch", "account"], name="attribution_funnel")]

    def __str__(self) -> str:
        return f"{self.contact_id} · {self.get_touch_display()} · {self.campaign}"


def _new_code() -> str:
    return secrets.token_urlsafe(6)


class TrackedLink(models.Model):
    """A short ``/r/<code>`` link that records each click and redirects to
    ``destination`` with the UTM parameters added."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="links", verbose_name=_("campaign")
    )
    code = models.SlugField(_("code"), max_length=32, unique=True, default=_new_code)
    destination = models.URLField(_("destination"), max_length=1000)
    utm_source = models.CharField(_("source (utm_source)"), max_length=100, blank=True)
    utm_medium = models.CharField(
        _("medium (utm_medium)"), max_length=100, blank=True, default="social"
    )
    utm_campaign = models.CharField(
        _("campaign (utm_campaign)"),
        max_length=100,
        blank=True,
        help_text=_("Empty: the campaign's name."),
    )
    utm_content = models.CharField(_("content (utm_content)"), max_length=100, blank=True)
    account = models.ForeignKey(
        SocialAccount,
        verbose_name=_("shared through"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    click_count = models.PositiveIntegerField(_("clicks"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")

    def __str__(self) -> str:
        return f"/r/{self.code}"

    def clean(self):
        if urlsplit(self.destination or "").scheme not in {"http", "https"}:
            raise ValidationError({"destination": _("Use an http or https address.")})

    @property
    def short_url(self) -> str:
        return f"{settings.SITE_URL}/r/{self.code}"

    def target_url(self) -> str:
        """``destination`` with the UTM parameters set (they replace any of the same name)."""
        parts = urlsplit(self.destination)
        utm = {
            "utm_source": self.utm_source or (self.account.network if self.account else ""),
            "utm_medium": self.utm_medium,
            "utm_campaign": self.utm_campaign or self.campaign.slug,
            "utm_content": self.utm_content or (self.account.handle if self.account else ""),
        }
        utm = {k: v for k, v in utm.items() if v}
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in utm]
        return urlunsplit(parts._replace(query=urlencode(query + list(utm.items()))))


class LinkClick(models.Model):
    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="clicks")
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="link_clicks",
        verbose_name=_("contact"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    referrer = models.CharField(_("referrer"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("link click")
        verbose_name_plural = _("link clicks")
        indexes = [models.Index(fields=["link", "-at"], name="linkclick_link_newest")]

    def __str__(self) -> str:
        return f"{self.link} · {self.at:%Y-%m-%d %H:%M}"


class ScheduledPost(models.Model):
    """A post composed for one of a campaign's accounts, sent at ``send_at`` through the
    outbox (which sends it once). Its state is the outbox message's."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="posts", verbose_name=_("campaign")
    )
    account = models.ForeignKey(
        SocialAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    text = models.TextField(_("text"), help_text=_("The text as sent, tracked link included."))
    link = models.ForeignKey(
        TrackedLink,
        verbose_name=_("tracked link"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
    )
    send_at = models.DateTimeField(_("send at"))
    outbound = models.OneToOneField(
        OutboundMessage, on_delete=models.PROTECT, related_name="scheduled_post", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled post")
        verbose_name_plural = _("scheduled posts")
        indexes = [models.Index(fields=["campaign", "-send_at"], name="scheduledpost_campaign")]

    def __str__(self) -> str:
        return f"{self.account} · {self.send_at:%Y-%m-%d %H:%M}"

    @property
    def state(self) -> str:
        outbound = OutboundMessage.State
        return {
            outbound.PENDING: self.State.SCHEDULED,
            outbound.SENDING: self.State.SENDING,
            outbound.SENT: self.State.SENT,
        }.get(self.outbound.state, self.State.FAILED)

    def get_state_display(self) -> str:
        return str(self.State(self.state).label)

    @property
    def reason(self) -> str:
        """Why it failed (or the outcome is unknown), from the outbox."""
        return self.outbound.failure_text if self.state == self.State.FAILED else ""
