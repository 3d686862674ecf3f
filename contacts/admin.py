from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Contact, SocialIdentity, StageChange, Tag
from .services import contact_change_stage


class ContactAdminForm(forms.ModelForm):
    stage_reason = forms.CharField(
        label=_("Reason for the stage change"), required=False, widget=forms.TextInput
    )

    class Meta:
        model = Contact
        fields = [
            "display_name",
            "stage",
            "owner",
            "email",
            "phone",
            "company",
            "language",
            "tags",
            "score",
        ]


class SocialIdentityInline(admin.TabularInline):
    model = SocialIdentity
    extra = 0
    fields = ["network", "handle", "external_id", "display_name", "profile_url", "follower_count"]


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_stage", "to_stage", "actor", "rule", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        # Stage changes go through the contact's stage, which records them.
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "stage",
        "owner",
        "email",
        "company",
        "score",
        "last_interaction_at",
    ]
    list_filter = ["stage", "language", "identities__network", "owner", "tags"]
    search_fields = ["display_name", "email", "company", "identities__handle"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["tags"]
    inlines = [SocialIdentityInline, StageChangeInline]
    form = ContactAdminForm
    readonly_fields = ["created_at", "updated_at", "last_interaction_at"]
    show_full_result_count = False
    list_select_related = ["owner"]

    def save_model(self, request, obj, form, change):
        # A stage edited here is recorded like any other: through the one service.
        new_stage = obj.stage
        if change and "stage" in form.changed_data:
            obj.stage = form.initial["stage"]
        super().save_model(request, obj, form, change)
        if change and "stage" in form.changed_data:
            contact_change_stage(
                contact=obj,
                stage=new_stage,
                actor=request.user,
                reason=form.cleaned_data.get("stage_reason") or str(_("Changed in the admin")),
            )


@admin.register(SocialIdentity)
class SocialIdentityAdmin(admin.ModelAdmin):
    list_display = ["handle", "network", "external_id", "contact", "follower_count"]
    list_filter = ["network"]
    search_fields = ["handle", "external_id", "display_name"]
    raw_id_fields = ["contact"]


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "contact", "from_stage", "to_stage", "actor", "rule"]
    list_filter = ["to_stage", "rule"]
    search_fields = ["contact__display_name", "reason", "rule"]
    raw_id_fields = ["contact", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]
