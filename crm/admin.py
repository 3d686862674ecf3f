from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Notification, OutboundMessage, SocialAccount, SyncFailure, TimelineEntry


class SocialAccountAdminForm(forms.ModelForm):
    """Credentials are write-only: the form never shows what is stored."""

    new_credentials = forms.JSONField(
        label=_("New credentials"),
        required=False,
        help_text=_(
            'Leave empty to keep the stored ones. Bluesky {"app_password": ...}, '
            'Mastodon {"access_token": ...}, X {"consumer_key", "consumer_secret", '
            '"access_token", "access_token_secret", "bearer_token"}.'
        ),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )

    class Meta:
        model = SocialAccount
        fields = ["network", "kind", "user", "handle", "external_id", "base_url", "state"]

    def save(self, commit=True):
        account = super().save(commit=False)
        if self.cleaned_data.get("new_credentials"):
            account.credentials = self.cleaned_data["new_credentials"]
        if commit:
            account.save()
        return account


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


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    form = SocialAccountAdminForm
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
        "last_error",
        "last_synced_at",
        "next_sync_at",
        "items_synced",
        "items_failed",
        "consecutive_failures",
        "sync_lease_until",
        "backfill_state",
        "backfill_pages",
        "backfill_items",
        "backfill_started_at",
        "backfill_finished_at",
        "created_at",
        "updated_at",
    ]
    autocomplete_fields = ["user"]
    inlines = [SyncFailureInline]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "kind",
        "network",
        "direction",
        "contact",
        "account",
        "short_text",
    ]
    list_filter = ["kind", "network", "direction", "intent", "sentiment", "language"]
    search_fields = ["external_id", "text", "contact__display_name"]
    raw_id_fields = ["contact", "identity", "account", "created_by", "handled_by", "assigned_to"]
    readonly_fields = ["created_at", "content_type", "object_id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    list_select_related = ["contact", "account"]

    @admin.display(description=_("text"))
    def short_text(self, obj: TimelineEntry) -> str:
        return obj.text[:80]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "title", "read_at"]
    list_filter = ["read_at"]
    search_fields = ["title", "user__username"]
    raw_id_fields = ["user"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "account", "state", "attempts", "contact", "sent_at"]
    list_filter = ["state", "kind", "account__network"]
    search_fields = ["text", "idempotency_key", "external_id"]
    raw_id_fields = ["contact", "in_reply_to", "recipient", "entry", "created_by"]
    readonly_fields = [
        "idempotency_key",
        "state",
        "attempts",
        "last_error",
        "external_id",
        "url",
        "entry",
        "sent_at",
        "created_at",
    ]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None):
        # What was sent is history; only pending messages may still be edited.
        return super().has_change_permission(request, obj) and (
            obj is None or obj.state == "pending"
        )
