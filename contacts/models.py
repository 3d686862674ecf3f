from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Left, Lower, StrIndex
from django.db.models.lookups import Exact, GreaterThan, LessThan
from django.utils import timezone
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
    # Why the score is what it is: [{"code": "recency", "points": 30, "value": 3}, ...]
    # (codes are rendered by ``contacts.scoring.reason_label``).
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True)
    # Name, company, emails and handles as one document, kept current by PostgreSQL
    # triggers (contacts migration 0003); always NULL on SQLite, where search falls back
    # to icontains.
    search_document = SearchVectorField(null=True, editable=False)
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


def _handle_key():
    handle = Lower("handle")
    at, dot = StrIndex(handle, Value("@")), StrIndex(handle, Value("."))
    at_first = Q(GreaterThan(at, 0), LessThan(at, dot)) | Q(GreaterThan(at, 0), Exact(dot, 0))
    return Case(
        When(at_first, then=Left(handle, at - 1)),
        When(GreaterThan(dot, 0), then=Left(handle, dot - 1)),
        default=handle,
    )


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
    # The handle's first label, lower-cased: "lucia" for lucia.bsky.social,
    # lucia@mastodon.social and X's lucia. Same key on another contact → likely duplicate.
    handle_key = models.GeneratedField(
        expression=_handle_key(),
        output_field=models.CharField(max_length=255),
        db_persist=True,
    )
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
        ]

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
    admin). Applied by sync (``contacts.rules.stage_rules_apply``) and by events
    (purchases). A rule fires at most once per contact and never moves one backwards."""

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


class Task(models.Model):
    """A follow-up on a contact, due at a time, for one member of staff."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("contact")
    )
    title = models.CharField(_("title"), max_length=300)
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_tasks",
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    # Set when the reminder notification is created (beat: ``task_reminders_send``).
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_at"], name="task_mine"),
            models.Index(fields=["contact", "due_at"], name="task_contact"),
            models.Index(
                fields=["due_at"],
                condition=Q(done_at__isnull=True, reminded_at__isnull=True),
                name="task_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()


class Purchase(models.Model):
    """Something a contact bought: entered by staff or posted by a shop's integration.
    ``(source, external_ref)`` is unique, so a shop may post the same order twice."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="purchases", verbose_name=_("contact")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    product = models.CharField(_("product"), max_length=300)
    source = models.CharField(
        _("source"), max_length=100, default="manual", help_text=_("e.g. shop, manual")
    )
    external_ref = models.CharField(
        _("external reference"),
        max_length=200,
        blank=True,
        help_text=_("The order number in the source; unique per source."),
    )
    purchased_at = models.DateTimeField(_("purchased at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-purchased_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~Q(external_ref=""),
                name="purchase_unique_source_ref",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="purchase_amount_positive"),
        ]
        indexes = [models.Index(fields=["contact", "-purchased_at"], name="purchase_contact")]

    def __str__(self) -> str:
        return f"{self.product} · {self.amount} {self.currency}"


class ContactAudit(models.Model):
    """One change to a contact: who, when, what, and each field's old and new value."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        STAGE = "stage", _("Stage changed")
        MERGE = "merge", _("Merged")
        IMPORT = "import", _("Imported")
        EXPORT = "export", _("Data exported (GDPR)")
        ERASE = "erase", _("Personal data erased (GDPR)")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="audit", verbose_name=_("contact")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action)
    # {"field": [old, new], ...}; for merges {"merged": {...}}.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact history entry")
        verbose_name_plural = _("contact history")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at", "-id"], name="audit_contact")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.contact_id}"


class ContactImport(models.Model):
    """A CSV file being imported by a Celery task, with its progress and row errors."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Choosing columns")
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filename = models.CharField(_("file"), max_length=255, blank=True)
    content = models.TextField(_("CSV"))
    # CSV column → contact field ("display_name", "email", ..., or "" to skip).
    mapping = models.JSONField(_("column mapping"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.DRAFT)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    # [{"row": 3, "errors": {"email": ["Enter a valid email address."]}}, ...]
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename or self.pk} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 100
