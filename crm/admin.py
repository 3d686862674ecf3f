from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.parsers import BoundedJSONDecoder

from .models import IngestBatch, OutboundMessage, SocialAccount, SyncFailure
from .selectors import (
    syncstream_error_text,
    syncstream_gap_text,
    syncstream_history_text,
    syncstream_label,
)
from .services import socialaccount_connect, socialaccount_reconnect, socialaccount_verify


class SecretTextarea(forms.Textarea):
    """A textarea that never sends its value back to the browser (not even the one just
    typed, when the form has errors)."""

    def format_value(self, value):
        return None


class SocialAccountAdminForm(forms.ModelForm):
    """Credentials are write-only: the form never shows what is stored. New ones are
    checked by logging in to the network before they replace the old ones."""

    new_credentials = forms.JSONField(
        label=_("New credentials"),
        decoder=BoundedJSONDecoder,
        required=False,
        help_text=_(
            'Leave empty to keep the stored ones. Bluesky {"app_password": ...}, '
            'Mastodon {"access_token": ...}, X {"consumer_key", "consumer_secret", '
            '"access_token", "access_token_secret", "bearer_token"}.'
        ),
        widget=SecretTextarea(attrs={"rows": 3, "autocomplete": "off"}),
    )

    class Meta:
        model = SocialAccount
        fields = ["network", "kind", "user", "handle", "base_url", "state"]

    def clean(self):
        cleaned = super().clean()
        credentials = cleaned.get("new_credentials")
        if credentials and not self.errors:
            self.verified = _call_service(
                self,
                socialaccount_verify,
                network=cleaned["network"],
                handle=cleaned["handle"],
                base_url=cleaned.get("base_url") or "",
                credentials=credentials,
            )
        return cleaned

    def save(self, commit=True):
        account = super().save(commit=commit)
        if getattr(self, "verified", None) is not None:
            socialaccount_reconnect(
                account=account,
                credentials=self.cleaned_data["new_credentials"],
                author=self.verified,
            )
        return account


class SocialAccountConnectAdminForm(forms.ModelForm):
    """The admin's add form: connects through ``socialaccount_connect``, which logs in
    with the credentials before anything is stored."""

    credentials = forms.JSONField(
        label=_("Credentials"),
        decoder=BoundedJSONDecoder,
        help_text=SocialAccountAdminForm.base_fields["new_credentials"].help_text,
        widget=SecretTextarea(attrs={"rows": 3, "autocomplete": "off"}),
    )

    class Meta:
        model = SocialAccount
        fields = ["network", "kind", "user", "handle", "base_url"]

    #: Set by ``SocialAccountAdmin.get_form`` on the class it builds for one request.
    request = None

    def validate_unique(self):
        """Checked by the service, which also compares the id the network reports."""

    def _post_clean(self):
        # The model's own validation would reject the empty credentials field; the
        # service validates everything and stores the account.
        if self.errors:
            return
        data = self.cleaned_data
        account = _call_service(
            self,
            socialaccount_connect,
            network=data["network"],
            kind=data["kind"],
            handle=data["handle"],
            base_url=data.get("base_url") or "",
            credentials=data["credentials"],
            user=data.get("user"),
            actor=self.request.user if self.request else None,
        )
        if account is not None:
            self.instance = account

    def save(self, commit=True):
        # Stored by socialaccount_connect in _post_clean; it has no many-to-many fields.
        self.save_m2m = lambda: None
        return self.instance


def _call_service(form: forms.BaseForm, func, **kwargs):
    """Run a service from a form's validation; its field messages go on the form (the
    credentials' on the credentials field)."""
    try:
        return func(**kwargs)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field == "credentials" and "credentials" not in form.fields:
                field = "new_credentials"
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        return None


class SyncFailureInline(admin.TabularInline):
    model = SyncFailure
    fields = ["external_id", "stream", "reason", "last_seen"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = True
    ordering = ["-last_seen"]
    show_change_link = True


@admin.register(SyncFailure)
class SyncFailureAdmin(admin.ModelAdmin):
    list_display = ["last_seen", "account", "network", "stream", "external_id", "reason"]
    list_filter = ["network", "stream"]
    search_fields = ["external_id", "reason", "account__handle"]
    readonly_fields = ["first_seen", "last_seen"]
    raw_id_fields = ["account"]
    list_select_related = ["account"]
    date_hierarchy = "last_seen"


@admin.register(IngestBatch)
class IngestBatchAdmin(admin.ModelAdmin):
    """Stored pages and their follow-up (ticket and stage rules, search): read-only; an
    undone one is re-queued by the beat sweep."""

    list_display = ["id", "created_at", "account", "done_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter), "account__network"]
    search_fields = ["account__handle"]
    readonly_fields = ["account", "created_ids", "updated_ids", "created_at", "done_at"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    form = SocialAccountAdminForm
    add_form = SocialAccountConnectAdminForm
    list_display = [
        "handle",
        "network",
        "kind",
        "user",
        "state",
        "last_synced_at",
        "items_synced",
        "items_failed",
    ]
    list_filter = ["network", "kind", "state"]
    search_fields = ["handle", "external_id", "user__username"]
    readonly_fields = [
        "external_id",
        "last_error",
        "last_synced_at",
        "next_sync_at",
        "items_synced",
        "items_failed",
        "items_skipped_erased",
        "consecutive_failures",
        "sync_lease_until",
        "backfill_state",
        "backfill_pages",
        "backfill_items",
        "backfill_started_at",
        "backfill_finished_at",
        "streams",
        "created_at",
        "updated_at",
    ]
    autocomplete_fields = ["user"]
    inlines = [SyncFailureInline]

    @admin.display(description=_("streams"))
    def streams(self, account: SocialAccount) -> str:
        """Each stream: its status, and its error, gap or history limit (translated)."""
        rows = []
        for stream in account.streams.order_by("id"):
            notes = (
                syncstream_error_text(stream),
                syncstream_gap_text(stream),
                syncstream_history_text(stream),
            )
            rows.append(
                (
                    stream.name,
                    syncstream_label(stream.name),
                    stream.get_status_display(),
                    stream.items_stored,
                    " ".join(n for n in notes if n),
                )
            )
        if not rows:
            return "—"
        return format_html(
            '<ul class="streams">{}</ul>',
            format_html_join(
                "",
                '<li class="stream-{}"><strong>{}</strong>: {} · {} <span dir="auto">{}</span></li>',
                rows,
            ),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = None
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.request = request  # modelform_factory made this class for this request
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["network", "kind", "user", "handle", "base_url", "credentials"]})
            ]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        # A new account was stored by socialaccount_connect while the form validated.


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """The outbox, read-only: a message whose outcome is unknown is checked on the
    network by a person, then sent again with the **Retry** action (never blindly)."""

    list_display = [
        "created_at",
        "kind",
        "account",
        "state",
        "failure",
        "attempts",
        "created_by",
        "sent_at",
    ]
    list_filter = ["state", "failure", "kind", "account__network"]
    actions = ["retry"]

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("crm.add_outboundmessage")

    @admin.action(
        description=_("Retry the selected failed or unknown messages"), permissions=["retry"]
    )
    def retry(self, request, queryset):
        from .outbox import outbound_retry

        retried = 0
        for message in queryset.select_related("account"):
            try:
                outbound_retry(message=message)
            except ValidationError as exc:
                self.message_user(request, f"{message}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                retried += 1
        self.message_user(request, _("%(n)d message(s) queued again.") % {"n": retried})

    search_fields = ["idempotency_key", "external_id", "text", "account__handle"]
    list_select_related = ["account", "created_by"]
    raw_id_fields = ["contact", "in_reply_to", "recipient", "entry", "created_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
