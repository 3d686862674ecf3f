from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.params import ascii_ints

from .models import (
    Attribution,
    Campaign,
    CampaignMatch,
    LinkClick,
    ListeningRule,
    ScheduledPost,
    TrackedLink,
)
from .services import (
    listening_rule_save,
    scheduled_post_check,
    scheduled_post_create,
    tracked_link_check,
    tracked_link_save,
)


class TrackedLinkAdminForm(forms.ModelForm):
    """Checks what ``tracked_link_save`` checks beyond the model's own validation, so
    that saving never fails after the form was accepted. On the campaign's page the
    campaign's accounts are those being saved with it (``campaign_accounts``)."""

    def __init__(self, *args, campaign_accounts: set[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign_accounts = campaign_accounts

    def _post_clean(self):
        super()._post_clean()
        if self.errors or (not self.instance.campaign_id and self.campaign_accounts is None):
            return
        try:
            tracked_link_check(link=self.instance, campaign_accounts=self.campaign_accounts)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)


class ListeningRuleInline(admin.StackedInline):
    model = ListeningRule
    extra = 0
    fields = [
        "name",
        ("keywords", "phrases", "hashtags"),
        ("excluded_words", "language", "networks"),
        "active",
        ("matched_count", "last_run_at", "last_error"),
    ]
    readonly_fields = ["matched_count", "last_run_at", "last_error"]


class TrackedLinkInline(admin.TabularInline):
    model = TrackedLink
    form = TrackedLinkAdminForm
    extra = 0
    fields = [
        "code",
        "destination",
        "account",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "click_count",
    ]
    readonly_fields = ["click_count"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "starts_at", "ends_at", "active"]
    list_filter = ["active", "accounts__network", "owner"]
    search_fields = ["name", "goal"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["accounts"]
    autocomplete_fields = ["owner"]
    inlines = [ListeningRuleInline, TrackedLinkInline]
    list_select_related = ["owner"]

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, TrackedLinkInline) and request.method == "POST":
            # The links are checked against the accounts this same form saves.
            chosen = request.POST.getlist("accounts")
            kwargs["form_kwargs"] = {"campaign_accounts": set(ascii_ints(chosen))}
        return kwargs

    def save_formset(self, request, form, formset, change):
        """Rules and links are saved by their services, as everywhere else."""
        if formset.model not in (ListeningRule, TrackedLink):
            return super().save_formset(request, form, formset, change)
        for obj in formset.save(commit=False):
            if isinstance(obj, ListeningRule):
                listening_rule_save(rule=obj)
            else:
                tracked_link_save(link=obj, user=obj.created_by or request.user)
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(ListeningRule)
class ListeningRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "language", "active", "matched_count", "last_run_at"]
    list_filter = ["active", "language", "campaign"]
    search_fields = ["name", "keywords", "phrases", "hashtags", "campaign__name"]
    readonly_fields = ["cursors", "matched_count", "last_run_at", "last_error", "created_at"]
    list_select_related = ["campaign"]

    def save_model(self, request, obj, form, change):
        listening_rule_save(rule=obj)


class LinkClickInline(admin.TabularInline):
    model = LinkClick
    extra = 0
    can_delete = False
    fields = ["at", "contact", "referrer"]
    readonly_fields = fields
    ordering = ["-at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TrackedLink)
class TrackedLinkAdmin(admin.ModelAdmin):
    form = TrackedLinkAdminForm
    list_display = ["code", "campaign", "destination", "account", "click_count", "created_at"]
    list_filter = ["campaign", "utm_medium"]
    search_fields = ["code", "destination", "campaign__name"]
    readonly_fields = ["click_count", "created_at", "short_url", "target_url"]
    raw_id_fields = ["account", "created_by"]
    inlines = [LinkClickInline]
    list_select_related = ["campaign", "account"]

    @admin.display(description=_("redirects to"))
    def target_url(self, obj):
        return obj.target_url() if obj.pk else ""

    def save_model(self, request, obj, form, change):
        tracked_link_save(link=obj, user=obj.created_by or request.user)


@admin.register(LinkClick)
class LinkClickAdmin(admin.ModelAdmin):
    list_display = ["at", "link", "contact", "referrer"]
    list_filter = ["link__campaign"]
    search_fields = ["link__code", "contact__display_name", "referrer"]
    raw_id_fields = ["link", "contact"]
    date_hierarchy = "at"
    list_select_related = ["link", "contact"]

    def has_change_permission(self, request, obj=None):
        return False


class ScheduledPostAdminForm(forms.ModelForm):
    class Meta:
        model = ScheduledPost
        fields = ["campaign", "account", "text", "link", "send_at"]

    def clean(self):
        data = super().clean()
        if all(data.get(f) for f in ("campaign", "account", "text")):
            try:
                scheduled_post_check(
                    campaign=data["campaign"],
                    account=data["account"],
                    text=data["text"],
                    link=data.get("link"),
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(ScheduledPost)
class ScheduledPostAdmin(admin.ModelAdmin):
    """New posts are scheduled through the outbox like those composed in the app."""

    form = ScheduledPostAdminForm

    list_display = ["send_at", "campaign", "account", "state_label", "short_text"]
    list_filter = ["campaign", "account__network", "outbound__state"]
    search_fields = ["text", "campaign__name", "account__handle"]
    date_hierarchy = "send_at"
    raw_id_fields = ["link", "created_by"]
    list_select_related = ["campaign", "account", "outbound"]
    fields = [
        "campaign",
        "account",
        "text",
        "link",
        "send_at",
        "state_label",
        "reason",
        "created_by",
    ]
    readonly_fields = ["state_label", "reason", "created_by"]

    @admin.display(description=_("state"))
    def state_label(self, obj):
        return obj.get_state_display() if obj.pk else ""

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text[:80]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # what was queued is what is sent: cancel and compose again
            return [*self.fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        post = scheduled_post_create(
            campaign=obj.campaign,
            account=obj.account,
            text=obj.text,
            send_at=obj.send_at,
            link=obj.link,
            user=request.user,
        )
        obj.pk = post.pk
        obj.outbound = post.outbound
        obj.text = post.text


@admin.register(CampaignMatch)
class CampaignMatchAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "campaign",
        "entry",
        "query",
        "state",
        "liked",
        "replied",
        "followed",
    ]
    list_filter = ["state", "campaign", "liked", "replied", "followed"]
    search_fields = ["entry__text", "query", "campaign__name"]
    raw_id_fields = ["entry", "rule", "handled_by"]
    date_hierarchy = "occurred_at"
    list_select_related = ["campaign", "entry"]
    show_full_result_count = False


@admin.register(Attribution)
class AttributionAdmin(admin.ModelAdmin):
    list_display = ["contact", "touch", "campaign", "account", "via", "at"]
    list_filter = ["touch", "via", "campaign", "account"]
    search_fields = ["contact__display_name", "campaign__name"]
    raw_id_fields = ["contact", "account"]
    date_hierarchy = "at"
    list_select_related = ["contact", "campaign", "account"]
