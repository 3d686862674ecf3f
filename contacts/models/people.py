"""People: a contact, the stage model, tags and their social identities."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Left, Length, Lower, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from django.utils.translation import gettext_lazy as _

from core.choices import Network
from core.fields import FoldedModel, FoldedTextField
from core.models import ChoiceLabels


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


class ContactManager(models.Manager):
    def get_queryset(self):
        # The search documents can be large and are only read by PostgreSQL itself.
        return super().get_queryset().defer(*Contact.DOCUMENTS)


class Contact(ChoiceLabels, FoldedModel):
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
    # Why the score is what it is: [{"code": "recency", "points": 30, "value": 3}, ...]
    # (codes are rendered by ``contacts.scoring.reason_label``).
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True)
    # Name, company, emails and handles as one document, kept current by PostgreSQL
    # triggers (contacts migration 0003); always NULL on SQLite, where search falls back
    # to icontains.
    search_document = SearchVectorField(null=True, editable=False)
    # Every word of the contact's timeline (stripped lexemes, no positions), appended by
    # a statement trigger on crm_timelineentry inserts; rebuilt on erase and merge.
    timeline_document = SearchVectorField(null=True, editable=False)
    # Name, email and company without accents or case, for search off PostgreSQL
    # (contacts.search); NULL on PostgreSQL.
    search_folded = FoldedTextField(sources=("display_name", "email", "company"))
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ContactManager()
    #: Columns only PostgreSQL reads (the search documents, large for a busy contact):
    #: deferred by the manager, and by a query that joins contacts from elsewhere.
    DOCUMENTS = ("search_document", "timeline_document")

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
            # Contacts nobody has heard from, newest first: the tail of the list by
            # last interaction (see contacts.paging).
            models.Index(
                fields=["-id"], condition=Q(last_interaction_at__isnull=True), name="contact_never"
            ),
            models.Index(fields=["email"], name="contact_email"),
            models.Index(fields=["-score", "-id"], name="contact_score"),
            models.Index(fields=["display_name", "id"], name="contact_name"),
            models.Index(Lower("display_name"), name="contact_name_lower"),
            models.Index(Lower("email"), name="contact_email_lower"),
            # Off PostgreSQL, search scans this narrow index rather than the table;
            # empty on PostgreSQL (the copy is NULL there).
            models.Index(
                fields=["search_folded"],
                condition=Q(search_folded__isnull=False),
                name="contact_search_folded",
            ),
        ]
        permissions = [
            ("merge_contact", _("Can merge contacts")),
            ("erase_contact", _("Can erase a contact's personal data (GDPR)")),
            ("export_contact", _("Can export a contact's data (GDPR)")),
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


#: The default Bluesky hosting suffix: lucia.bsky.social is the person "lucia" there.
BSKY_DEFAULT_SUFFIX = ".bsky.social"


def _handle_key():
    """The whole name a person chose, lower-cased: a Mastodon handle's user part
    (lucia@mastodon.social → lucia), a Bluesky handle without the default hosting
    suffix (ruby.king62.bsky.social → ruby.king62; a custom domain stays whole), X's
    username. Never cut at the first dot: ruby.king62 is not ruby.moore46."""
    handle = Lower("handle")
    at = StrIndex(handle, Value("@"))
    suffix = len(BSKY_DEFAULT_SUFFIX)
    return Case(
        When(GreaterThan(at, 1), then=Left(handle, at - 1)),
        When(
            Exact(Right(handle, suffix), Value(BSKY_DEFAULT_SUFFIX)),
            then=Left(handle, Length(handle) - suffix),
        ),
        default=handle,
    )


class SocialIdentity(ChoiceLabels, FoldedModel):
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
    # The person's whole chosen name (see _handle_key): "lucia" for lucia.bsky.social,
    # lucia@mastodon.social and X's lucia. Same key on another contact → likely duplicate.
    handle_key = models.GeneratedField(
        expression=_handle_key(),
        output_field=models.CharField(max_length=255),
        db_persist=True,
    )
    # Handle and name without accents or case, for search off PostgreSQL.
    search_folded = FoldedTextField(sources=("handle", "display_name"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("social identity")
        verbose_name_plural = _("social identities")
        constraints = [
            models.UniqueConstraint(fields=["network", "external_id"], name="identity_unique_user")
        ]
        indexes = [
            models.Index(fields=["network", "handle"], name="identity_handle"),
            models.Index(fields=["handle_key"], name="identity_handle_key"),
            # Search's "contacts with a matching handle": a scan of this index alone.
            models.Index(
                fields=["search_folded", "contact"],
                condition=Q(search_folded__isnull=False),
                name="identity_search_folded",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle} ({self.get_network_display()})"
