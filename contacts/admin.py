from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import (
    Contact,
    ContactAudit,
    ContactImport,
    LabelCorrection,
    Purchase,
    SocialIdentity,
    StageChange,
    StageRule,
    Tag,
    TimelineEntry,
    Todo,
)
from .services import (
    AUDITED_FIELDS,
    audit_record,
    audit_value,
    contact_change_stage,
    contact_merge,
    purchase_record,
    todo_create,
)


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
        ]


class SocialIdentityInline(admin.TabularInline):
    model = SocialIdentity
    extra = 0
    fields = ["network", "handle", "external_id", "display_name", "profile_url", "follower_count"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _table(headers, rows):
    """A small read-only HTML table; every value is escaped."""
    if not rows:
        return "—"
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((v,) for v in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class StageChangeInline(ReadOnlyInline):
    # Stage changes go through the contact's stage, which records them.
    model = StageChange
    fields = ["created_at", "from_stage", "to_stage", "actor", "rule", "reason"]
    readonly_fields = fields


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
    # To-dos, purchases and history are shown read-only (not as inline formsets, which
    # would make every save of a contact post their management forms).
    readonly_fields = [
        "score",
        "score_reasons",
        "created_at",
        "updated_at",
        "last_interaction_at",
        "todo_list",
        "purchase_list",
        "history",
    ]
    show_full_result_count = False
    list_select_related = ["owner"]
    actions = ["merge_selected"]

    def save_model(self, request, obj, form, change):
        # A stage edited here is recorded like any other: through the one service; the
        # other fields' old and new values go to the contact's history.
        new_stage = obj.stage
        stage_changed = change and "stage" in form.changed_data
        if stage_changed:
            obj.stage = form.initial["stage"]
        super().save_model(request, obj, form, change)
        if change:
            changes = {
                name: [
                    audit_value(form.initial.get(name)),
                    audit_value(form.cleaned_data.get(name)),
                ]
                for name in form.changed_data
                if name in AUDITED_FIELDS
            }
            if "owner" in changes:
                owner = form.initial.get("owner")
                changes["owner"][0] = (
                    Contact._meta.get_field("owner").related_model.objects.get(pk=owner).username
                    if owner
                    else None
                )
            if changes:
                audit_record(
                    contact=obj,
                    actor=request.user,
                    action=ContactAudit.Action.UPDATE,
                    changes=changes,
                    note=str(_("Changed in the admin")),
                )
        else:
            audit_record(contact=obj, actor=request.user, action=ContactAudit.Action.CREATE)
        if stage_changed:
            contact_change_stage(
                contact=obj,
                stage=new_stage,
                actor=request.user,
                reason=form.cleaned_data.get("stage_reason") or str(_("Changed in the admin")),
            )

    @admin.action(
        description=_("Merge the selected contacts into the oldest"), permissions=["merge"]
    )
    def merge_selected(self, request, queryset):
        contacts = list(queryset.order_by("pk"))
        if len(contacts) < 2:
            self.message_user(request, _("Select at least two contacts."), messages.WARNING)
            return
        survivor = contacts[0]
        try:
            for other in contacts[1:]:
                contact_merge(survivor=survivor, other=other, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(
            request,
            _("Merged %(n)s contacts into %(name)s.")
            % {"n": len(contacts) - 1, "name": survivor.display_name},
        )

    @admin.display(description=_("Follow-up tasks"))
    def todo_list(self, obj):
        rows = obj.todos.select_related("assignee").order_by("-due_at")[:20]
        return _table(
            [_("Due"), _("Task"), _("Assignee"), _("Done")],
            [(t.due_at, t.title, t.assignee or "—", t.done_at or "—") for t in rows],
        )

    @admin.display(description=_("Purchases"))
    def purchase_list(self, obj):
        rows = obj.purchases.order_by("-purchased_at")[:20]
        return _table(
            [_("Date"), _("Product"), _("Amount"), _("Source"), _("Order reference")],
            [
                (p.purchased_at, p.product, f"{p.amount} {p.currency}", p.source, p.external_ref)
                for p in rows
            ],
        )

    @admin.display(description=_("History"))
    def history(self, obj):
        rows = obj.audit.select_related("actor")[:50]
        return _table(
            [_("When"), _("Who"), _("Action"), _("Changes"), _("Note")],
            [
                (a.created_at, a.actor or "—", a.get_action_display(), a.changes, a.note)
                for a in rows
            ],
        )

    def has_merge_permission(self, request):
        return request.user.has_perm("contacts.merge_contact")


@admin.register(SocialIdentity)
class SocialIdentityAdmin(admin.ModelAdmin):
    list_display = ["handle", "network", "external_id", "contact", "follower_count"]
    list_filter = ["network"]
    search_fields = ["handle", "external_id", "display_name"]
    raw_id_fields = ["contact"]


class RecordAdmin(admin.ModelAdmin):
    """Records of what happened: read in the admin, written only by the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StageChange)
class StageChangeAdmin(RecordAdmin):
    list_display = ["created_at", "contact", "from_stage", "to_stage", "actor", "rule"]
    list_filter = ["to_stage", "stage_rule"]
    search_fields = ["contact__display_name", "reason", "rule"]
    raw_id_fields = ["contact", "actor"]
    list_select_related = ["contact", "actor"]


@admin.register(StageRule)
class StageRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "target_stage", "threshold", "window_days", "active"]
    list_filter = ["kind", "active", "target_stage"]
    list_editable = ["active"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "target_stage", "active"]}),
        (_("Engagement rules"), {"fields": ["threshold", "window_days"]}),
    ]


class TodoAdminForm(forms.ModelForm):
    class Meta:
        model = Todo
        fields = ["contact", "title", "due_at", "assignee", "done_at"]


@admin.register(Todo)
class TodoAdmin(admin.ModelAdmin):
    form = TodoAdminForm
    list_display = ["title", "contact", "assignee", "due_at", "done_at", "reminded_at"]
    list_filter = ["done_at", "assignee"]
    search_fields = ["title", "contact__display_name"]
    raw_id_fields = ["contact", "assignee"]
    date_hierarchy = "due_at"
    list_select_related = ["contact", "assignee"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        todo = todo_create(
            contact=obj.contact,
            title=obj.title,
            due_at=obj.due_at,
            assignee=obj.assignee,
            actor=request.user,
        )
        obj.pk = todo.pk


class PurchaseAdminForm(forms.ModelForm):
    class Meta:
        model = Purchase
        fields = [
            "contact",
            "product",
            "amount",
            "currency",
            "source",
            "external_ref",
            "purchased_at",
        ]


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    form = PurchaseAdminForm
    list_display = [
        "purchased_at",
        "contact",
        "product",
        "amount",
        "currency",
        "source",
        "external_ref",
    ]
    list_filter = ["source", "currency"]
    search_fields = ["product", "external_ref", "contact__display_name"]
    raw_id_fields = ["contact"]
    date_hierarchy = "purchased_at"
    list_select_related = ["contact"]

    def get_readonly_fields(self, request, obj=None):
        # A recorded purchase is history; refunds are new rows or a person's stage change.
        return [*self.form.Meta.fields, "created_by"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        purchase, _created = purchase_record(
            contact=obj.contact,
            amount=obj.amount,
            currency=obj.currency,
            product=obj.product,
            source=obj.source,
            external_ref=obj.external_ref,
            purchased_at=obj.purchased_at,
            actor=request.user,
        )
        obj.pk = purchase.pk


@admin.register(ContactAudit)
class ContactAuditAdmin(RecordAdmin):
    list_display = ["created_at", "contact", "actor", "action", "note"]
    list_filter = ["action"]
    search_fields = ["contact__display_name", "note", "actor__username"]
    raw_id_fields = ["contact", "actor"]
    list_select_related = ["contact", "actor"]
    date_hierarchy = "created_at"


@admin.register(ContactImport)
class ContactImportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "filename", "created_by", "state", "processed_rows", "total_rows"]
    list_filter = ["state"]
    search_fields = ["filename", "created_by__username"]
    exclude = ["content"]
    readonly_fields = [
        "created_by",
        "filename",
        "mapping",
        "state",
        "total_rows",
        "processed_rows",
        "created_count",
        "updated_count",
        "errors",
        "finished_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


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


@admin.register(LabelCorrection)
class LabelCorrectionAdmin(admin.ModelAdmin):
    """Agents' corrections of the classifier (read-only: made from the inbox or the API;
    exported with ``manage.py classify_corrections`` for the next training run)."""

    list_display = [
        "created_at",
        "short_text",
        "language",
        "previous_intent",
        "intent",
        "previous_sentiment",
        "sentiment",
        "previous_confidence",
        "corrected_by",
    ]
    list_filter = ["intent", "sentiment", "language", "previous_intent"]
    search_fields = ["text"]
    raw_id_fields = ["entry", "corrected_by"]
    date_hierarchy = "created_at"
    list_select_related = ["corrected_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("text"))
    def short_text(self, obj: LabelCorrection) -> str:
        return obj.text[:80]
