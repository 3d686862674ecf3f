from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import Network
from core.fields import EncryptedJSONField
from core.models import ChoiceLabels


class BackfillState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SocialAccount(ChoiceLabels, models.Model):
    """One of our accounts on a network: the brand's, or a staff member's own."""

    class Kind(models.TextChoices):
        BRAND = "brand", _("Brand")
        PERSONAL = "personal", _("Personal (staff)")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
        ERROR = "error", _("Error")

    network = models.CharField(_("network"), max_length=16, choices=Network)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.BRAND)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="social_accounts",
        help_text=_("For personal accounts: the staff member it belongs to."),
    )
    handle = models.CharField(_("handle"), max_length=255)
    external_id = models.CharField(_("network user id"), max_length=255, blank=True)
    base_url = models.URLField(_("server URL"), max_length=500, blank=True)
    credentials = EncryptedJSONField(_("credentials"), blank=True, default=dict)
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.ACTIVE)
    last_error = models.TextField(_("last error"), blank=True)
    last_synced_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    next_sync_at = models.DateTimeField(_("next sync"), null=True, blank=True)
    items_synced = models.PositiveBigIntegerField(_("items synced"), default=0)
    items_failed = models.PositiveBigIntegerField(_("items failed"), default=0)
    items_skipped_erased = models.PositiveBigIntegerField(_("skipped: erased"), default=0)
    # Sync bookkeeping (crm.sync): failures in a row, and the lease that keeps a second
    # sync of this account from running while one holds it.
    consecutive_failures = models.PositiveSmallIntegerField(_("failures in a row"), default=0)
    sync_lease_until = models.DateTimeField(_("sync lease until"), null=True, blank=True)
    sync_lease_token = models.CharField(max_length=64, blank=True)
    # Backfill of the history the network still serves, in bounded batches: the first
    # poll of each stream (SyncStream); these count it for the status page.
    backfill_state = models.CharField(
        _("backfill"), max_length=10, choices=BackfillState, blank=True
    )
    backfill_pages = models.PositiveIntegerField(_("backfill pages"), default=0)
    backfill_items = models.PositiveBigIntegerField(_("backfill items"), default=0)
    backfill_started_at = models.DateTimeField(_("backfill started"), null=True, blank=True)
    backfill_finished_at = models.DateTimeField(_("backfill finished"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "handle"], name="socialaccount_unique_handle"
            ),
            models.CheckConstraint(
                condition=Q(kind="brand") | Q(user__isnull=False),
                name="socialaccount_personal_has_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_network_display()} @{self.handle}"


class OutboundMessage(ChoiceLabels, models.Model):
    """Something we send through one of our accounts: a public reply, a DM, a post, a
    like or a follow. The row is the outbox: it is created first, sent by a task that
    claims it, and never sent twice (the idempotency key is unique, and a send whose
    outcome is unknown is not retried blindly)."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Public reply")
        DM = "dm", _("Direct message")
        POST = "post", _("Post")
        LIKE = "like", _("Like")
        FOLLOW = "follow", _("Follow")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    class Failure(models.TextChoices):
        """Why a send did not go through, stored as a code (``failure_params`` fill in
        its sentence); ``last_error`` keeps the network's technical answer."""

        #: Nothing left this machine (name not resolved, connection refused or timed
        #: out, TLS handshake failed): the network cannot have posted it.
        UNREACHABLE = "unreachable", _("Network unreachable")
        #: The request may have reached the network, which did not answer in time or
        #: dropped the connection: it may or may not be posted.
        NO_ANSWER = "no_answer", _("No answer from the network")
        RECONNECT = "reconnect", _("Account needs reconnecting")
        REFUSED = "refused", _("Refused by the network")
        RATE_LIMITED = "rate_limited", _("Rate limited")
        INTERRUPTED = "interrupted", _("Interrupted")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(
        SocialAccount, on_delete=models.PROTECT, related_name="outbound", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="outbound"
    )
    in_reply_to = models.ForeignKey(
        "contacts.TimelineEntry",
        verbose_name=_("in reply to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answers",
    )
    recipient = models.ForeignKey(
        "contacts.SocialIdentity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("text"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(_("last error"), blank=True)
    failure = models.CharField(_("failure"), max_length=16, choices=Failure, blank=True)
    failure_params = models.JSONField(_("failure details"), default=dict, blank=True)
    #: An automatic attempt since the last person's send may have reached the network
    #: (no answer in time, interrupted): a later attempt that never left does not make
    #: it "nothing was posted".
    maybe_posted = models.BooleanField(_("may have been posted"), default=False)
    not_before = models.DateTimeField(_("send at"), null=True, blank=True)
    external_id = models.CharField(max_length=512, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    entry = models.OneToOneField(
        "contacts.TimelineEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the current attempt claimed the row (the reaper's measure of "stuck").
    sending_since = models.DateTimeField(null=True, blank=True)
    #: How many times a person edited and resent it; each edit is sent under its own key.
    resends = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [models.Index(fields=["state", "not_before"], name="outbound_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} via {self.account} ({self.get_state_display()})"

    @property
    def client_key(self) -> str:
        """The idempotency key as its client chose it ("" for Momento's own messages,
        whose keys are keyed hashes; see ``crm.outbox.outbound_key``)."""
        scope, _sep, rest = self.idempotency_key.partition(":")
        if scope != "c":
            return ""
        return rest.partition(":")[2]

    @property
    def network_key(self) -> str:
        """The idempotency key sent to the network: the row's, and a new one per edit,
        so a network that deduplicates by key never answers an edit with the old text."""
        return (
            self.idempotency_key if not self.resends else f"{self.idempotency_key}~{self.resends}"
        )

    @property
    def needs_attention(self) -> bool:
        """Failed or of unknown outcome: a person retries it, or edits and resends it."""
        return (
            self.state in {self.State.FAILED, self.State.UNKNOWN}
            and self.failure != self.Failure.CANCELLED
        )

    @property
    def failure_text(self) -> str:
        """The failure as one short sentence in the reader's language (never the raw
        exception: that is ``last_error``, shown to managers only)."""
        if not self.failure and not self.needs_attention:
            return ""
        if self.failure == self.Failure.CANCELLED:
            return str(_("Cancelled"))
        network = Network(self.account.network).label if self.account_id else ""
        params = {"network": network, "handle": self.account.handle if self.account_id else ""}
        params.update({k: str(v) for k, v in (self.failure_params or {}).items()})
        if self.state == self.State.UNKNOWN:
            if self.failure == self.Failure.INTERRUPTED:
                text = _(
                    "Sending was interrupted, so it may or may not be on %(network)s. "
                    "Check there before you send it again."
                )
            else:
                text = _(
                    "%(network)s did not confirm it, so it may or may not have been posted. "
                    "Check %(network)s before you send it again."
                )
        elif self.failure == self.Failure.RECONNECT:
            text = _("The %(network)s account @%(handle)s needs reconnecting; nothing was posted.")
        elif self.failure == self.Failure.REFUSED:
            text = _("%(network)s refused it; nothing was posted.")
        elif self.failure == self.Failure.RATE_LIMITED:
            text = _("%(network)s asked us to wait; it will be sent at %(at)s.")
        elif self.failure == self.Failure.NO_ANSWER and self.state == self.State.PENDING:
            text = _("%(network)s did not answer; trying again under the same key.")
        elif self.failure == self.Failure.INTERRUPTED and self.state == self.State.PENDING:
            text = _("Sending was interrupted; trying again under the same key.")
        elif self.failure in {self.Failure.UNREACHABLE, self.Failure.INTERRUPTED}:
            if self.state == self.State.PENDING:
                text = _("%(network)s could not be reached; trying again.")
            else:
                text = _("%(network)s could not be reached; nothing was posted.")
        else:
            text = _("It could not be sent; nothing was posted.")
        try:
            return str(text) % params
        except (KeyError, ValueError, TypeError):
            return str(text) % {"network": network, "handle": params["handle"], "at": ""}


class SyncFailure(models.Model):
    """An item a sync could not store or normalise, kept with its reason and payload
    (never dropped). One row per (account, item); ``last_seen`` moves when it recurs."""

    account = models.ForeignKey(
        SocialAccount, on_delete=models.CASCADE, related_name="failures", verbose_name=_("account")
    )
    network = models.CharField(_("network"), max_length=16, choices=Network)
    stream = models.CharField(_("stream"), max_length=32, blank=True)
    external_id = models.CharField(_("network item id"), max_length=512)
    reason = models.TextField(_("reason"))
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("sync failure")
        verbose_name_plural = _("sync failures")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="syncfailure_once")
        ]
        indexes = [models.Index(fields=["account", "-last_seen"], name="syncfailure_recent")]

    def __str__(self) -> str:
        return f"{self.account} {self.external_id}: {self.reason[:60]}"


class SyncStream(models.Model):
    """One stream of one account (notifications, DMs, mentions, followers): where its
    sync stands, on its own, so one stream's failure never stops or delays another.

    ``cursor`` is the forward cursor: the key of the newest item stored with everything
    before it (it moves only when a catch-up closes its gap). While a catch-up walks a
    newest-first network back to the cursor, ``walk_*`` hold its state: ``walk_position``
    the network's page token of the next page, ``walk_stop`` the key it walks back to
    (empty on a first poll: the history the network serves, at most
    ``MOMENTO_BACKFILL_MAX_PAGES`` pages), ``walk_top`` the newest key it saw (the next
    cursor). Each page's items and this row's new state commit in one transaction.
    """

    class Status(models.TextChoices):
        NEW = "new", _("Not synced yet")
        OK = "ok", _("Up to date")
        CATCHING_UP = "catching_up", _("Catching up")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Refused")

    account = models.ForeignKey(
        SocialAccount, on_delete=models.CASCADE, related_name="streams", verbose_name=_("account")
    )
    name = models.CharField(_("stream"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.NEW)
    cursor = models.TextField(_("cursor"), blank=True)
    cursor_at = models.DateTimeField(_("newest item stored at"), null=True, blank=True)
    walking = models.BooleanField(_("catch-up under way"), default=False)
    walk_position = models.TextField(_("catch-up position"), blank=True)
    walk_stop = models.TextField(_("catch-up stops at"), blank=True)
    walk_top = models.TextField(_("catch-up newest key"), blank=True)
    walk_top_at = models.DateTimeField(null=True, blank=True)
    walk_oldest_at = models.DateTimeField(null=True, blank=True)
    walk_pages = models.PositiveIntegerField(_("catch-up pages"), default=0)
    walk_started_at = models.DateTimeField(_("catch-up started"), null=True, blank=True)
    # The history a first poll read stopped at MOMENTO_BACKFILL_MAX_PAGES pages.
    history_limited_at = models.DateTimeField(_("history fetched back to"), null=True, blank=True)
    # The last gap the network no longer served: "N items may be missing between …".
    gap_since = models.DateTimeField(_("gap from"), null=True, blank=True)
    gap_until = models.DateTimeField(_("gap until"), null=True, blank=True)
    gap_count = models.PositiveIntegerField(_("items missing"), null=True, blank=True)
    gap_found_at = models.DateTimeField(_("gap found"), null=True, blank=True)
    error_code = models.CharField(_("error"), max_length=32, blank=True)
    error_params = models.JSONField(_("error details"), default=dict, blank=True)
    failures = models.PositiveSmallIntegerField(_("failures in a row"), default=0)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    items_stored = models.PositiveBigIntegerField(_("items stored"), default=0)
    pages_read = models.PositiveBigIntegerField(_("pages read"), default=0)
    last_synced_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sync stream")
        verbose_name_plural = _("sync streams")
        ordering = ["account", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="syncstream_once"),
        ]
        indexes = [
            models.Index(
                fields=["retry_at"],
                name="syncstream_unfinished",
                condition=Q(walking=True) | Q(status="retrying"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.name}"


class IngestBatch(models.Model):
    """The durable record of one stored page's follow-up (crm.ingest.followup): the
    entries it created or refreshed, written in the page's own transaction. The page
    commits with only the storage done; search documents, the contacts' touch, stage
    rules, ticket rules and scores run later as one set-based follow-up that locks this
    row, does its work and sets ``done_at`` in one transaction, so a kill anywhere loses
    nothing (the beat sweep re-queues what is left undone)."""

    account = models.ForeignKey(
        SocialAccount,
        on_delete=models.CASCADE,
        related_name="ingest_batches",
        verbose_name=_("account"),
    )
    created_ids = models.JSONField(_("entries created"), default=list, blank=True)
    updated_ids = models.JSONField(_("entries refreshed"), default=list, blank=True)
    created_at = models.DateTimeField(_("stored at"), default=timezone.now)
    done_at = models.DateTimeField(_("followed up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")
        indexes = [
            models.Index(
                fields=["account", "id"], condition=Q(done_at=None), name="ingestbatch_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} #{self.pk} ({len(self.created_ids)} new)"
