from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.models import OutboundMessage

from . import services
from .forms import support_staff
from .models import (
    ACTIVE_STATUSES,
    BusinessHours,
    CannedResponse,
    CsatSurvey,
    Holiday,
    Incident,
    SlaEvent,
    SlaPolicy,
    SupportAgent,
    Team,
    Ticket,
    TicketLink,
    TicketReply,
)


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class SlaPolicyInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0


class SupportAgentInline(admin.TabularInline):
    model = SupportAgent
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["last_assigned_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "time_zone", "auto_assign", "email_alerts"]
    list_filter = ["auto_assign", "email_alerts"]
    search_fields = ["name"]
    filter_horizontal = ["accounts"]
    inlines = [BusinessHoursInline, HolidayInline, SlaPolicyInline, SupportAgentInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "is_default",
                    "accounts",
                    "time_zone",
                    "auto_assign",
                    "email_alerts",
                ]
            },
        ),
        (_("Canned response values"), {"fields": ["phone", "form_url", "help_url"]}),
        (
            _("Virality escalation"),
            {
                "fields": [
                    "escalate_likes",
                    "escalate_reposts",
                    "escalate_replies",
                    "escalate_followers",
                    "escalate_to",
                ]
            },
        ),
        (
            _("Incidents"),
            {
                "fields": [
                    "incident_min_tickets",
                    "incident_min_shared_keywords",
                    "incident_window_minutes",
                ]
            },
        ),
    ]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "priority", "first_response_minutes", "resolution_minutes"]
    list_filter = ["team", "priority"]
    search_fields = ["team__name"]


@admin.register(SupportAgent)
class SupportAgentAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "is_available", "max_open_tickets", "last_assigned_at"]
    list_filter = ["team", "is_available"]
    list_editable = ["is_available", "max_open_tickets"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "language", "team"]
    list_filter = ["purpose", "language", "team"]
    search_fields = ["name", "body"]


class TicketLinkInline(admin.TabularInline):
    model = TicketLink
    extra = 0
    raw_id_fields = ["entry"]
    fields = ["entry", "kind", "intent", "text", "created_at"]
    readonly_fields = ["kind", "intent", "text", "created_at"]

    @admin.display(description=_("kind"))
    def kind(self, link):
        return link.entry.get_kind_display()

    @admin.display(description=_("intent"))
    def intent(self, link):
        return link.entry.get_intent_display()

    @admin.display(description=_("text"))
    def text(self, link):
        return link.entry.text[:120]


class TicketReplyInline(admin.TabularInline):
    model = TicketReply
    extra = 0
    can_delete = False
    fields = ["purpose", "kind", "state", "text", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kind"))
    def kind(self, reply):
        return reply.message.get_kind_display()

    @admin.display(description=_("state"))
    def state(self, reply):
        return reply.message.get_state_display()

    @admin.display(description=_("text"))
    def text(self, reply):
        return reply.message.text[:120]


class SlaEventInline(admin.TabularInline):
    model = SlaEvent
    extra = 0
    can_delete = False
    readonly_fields = ["target", "level", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class CsatInline(admin.TabularInline):
    model = CsatSurvey
    extra = 0
    can_delete = False
    fields = ["rating", "comment", "created_at", "answered_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class TicketAdminForm(forms.ModelForm):
    """The ticket's fields plus one-off actions that go through the services: send a
    reply, hand off to a DM, resolve."""

    reply_kind = forms.ChoiceField(
        label=_("Send"),
        required=False,
        choices=[
            ("", "—"),
            (OutboundMessage.Kind.REPLY, _("Public reply")),
            (OutboundMessage.Kind.DM, _("Direct message")),
            ("handoff", _("Handoff: public acknowledgement + DM (canned texts)")),
        ],
    )
    reply_text = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    resolve = forms.BooleanField(label=_("Resolve (and ask for a rating)"), required=False)

    class Meta:
        model = Ticket
        fields = ["subject", "contact", "priority", "status", "assignee", "team", "incident"]

    # A new ticket opens through ticket_open: no status to pick, nothing to send yet.
    CHANGE_ONLY = ("reply_kind", "reply_text", "resolve", "status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = support_staff()
        if not self.instance.pk:
            for name in self.CHANGE_ONLY:
                self.fields.pop(name, None)

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("reply_kind")
        if kind in (OutboundMessage.Kind.REPLY, OutboundMessage.Kind.DM) and not cleaned.get(
            "reply_text"
        ):
            self.add_error("reply_text", _("Write something to send."))
        return cleaned


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = [
        "id",
        "subject",
        "contact",
        "network",
        "priority",
        "status",
        "assignee",
        "team",
        "created_at",
    ]
    list_filter = ["status", "priority", "network", "team", "escalated_at"]
    search_fields = ["subject", "contact__display_name", "=id"]
    raw_id_fields = ["contact", "incident"]
    list_select_related = ["contact", "assignee", "team"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [TicketLinkInline, TicketReplyInline, SlaEventInline, CsatInline]
    actions = ["assign_to_me", "resolve_tickets", "hand_off"]
    readonly_fields = [
        "opened_by_rule",
        "first_response_at",
        "resolved_at",
        "escalated_at",
        "created_at",
    ]

    def get_fields(self, request, obj=None):
        """The add page lists only the fields its form keeps (a field the form drops
        would break the page)."""
        fields = super().get_fields(request, obj)
        if obj is None:
            fields = [f for f in fields if f not in TicketAdminForm.CHANGE_ONLY]
        return fields

    def save_model(self, request, obj, form, change):
        """Creation, assignment, status, priority and messages all go through the
        services so the SLA clock, the timeline and the outbox stay right."""
        data = form.cleaned_data
        try:
            if not change:
                ticket = services.ticket_open(
                    contact=data["contact"],
                    subject=data["subject"],
                    user=request.user,
                    priority=data["priority"],
                    team=data.get("team"),
                )
                obj.pk = ticket.pk
                if data.get("assignee"):
                    services.ticket_assign(
                        ticket=ticket, assignee=data["assignee"], user=request.user
                    )
                return
            original = Ticket.objects.get(pk=obj.pk)
            Ticket.objects.filter(pk=obj.pk).update(
                subject=data["subject"], team=data["team"], incident=data.get("incident")
            )
            if data["assignee"] != original.assignee:
                services.ticket_assign(
                    ticket=original, assignee=data["assignee"], user=request.user
                )
            if data["priority"] != original.priority:
                services.ticket_change_priority(
                    ticket=original, priority=data["priority"], user=request.user
                )
            if data["reply_kind"] == "handoff":
                services.ticket_handoff(ticket=original, user=request.user)
            elif data["reply_kind"]:
                services.ticket_reply(
                    ticket=original,
                    kind=data["reply_kind"],
                    text=data["reply_text"],
                    user=request.user,
                )
            if data["resolve"]:
                services.ticket_resolve(ticket=original, user=request.user)
            elif data["status"] != original.status:
                services.ticket_change_status(
                    ticket=original, status=data["status"], user=request.user
                )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        services.tickets_bulk_assign(tickets=queryset, assignee=request.user, user=request.user)

    @admin.action(description=_("Resolve (and ask for a rating)"), permissions=["change"])
    def resolve_tickets(self, request, queryset):
        for ticket in queryset.filter(status__in=ACTIVE_STATUSES):
            services.ticket_resolve(ticket=ticket, user=request.user)

    @admin.action(description=_("Hand off to a DM (canned texts)"), permissions=["change"])
    def hand_off(self, request, queryset):
        for ticket in queryset:
            try:
                services.ticket_handoff(ticket=ticket, user=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{ticket}: {' '.join(exc.messages)}", messages.ERROR)


class IncidentTicketInline(admin.TabularInline):
    model = Ticket
    fk_name = "incident"
    extra = 0
    can_delete = False
    fields = ["subject", "contact", "status", "assignee"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "state", "created_at", "statement_at", "resolved_at"]
    list_filter = ["state", "team"]
    search_fields = ["title", "statement"]
    readonly_fields = ["statement_at", "resolved_at", "created_at", "state"]
    inlines = [IncidentTicketInline]
    actions = ["post_statement", "resolve_incidents"]

    @admin.action(
        description=_("Post the saved statement to every complaint"), permissions=["change"]
    )
    def post_statement(self, request, queryset):
        for incident in queryset.exclude(statement=""):
            services.incident_post_statement(
                incident=incident, text=incident.statement, user=request.user
            )

    @admin.action(description=_("Resolve with the saved final message"), permissions=["change"])
    def resolve_incidents(self, request, queryset):
        for incident in queryset.filter(state=Incident.State.OPEN):
            services.incident_resolve(
                incident=incident, user=request.user, final_message=incident.final_message
            )


@admin.register(CsatSurvey)
class CsatSurveyAdmin(admin.ModelAdmin):
    list_display = ["ticket", "rating", "created_at", "answered_at"]
    list_filter = ["rating"]
    search_fields = ["comment", "ticket__subject"]
    readonly_fields = ["ticket", "nonce", "rating", "comment", "created_at", "answered_at"]


@admin.register(SlaEvent)
class SlaEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "target", "level", "created_at"]
    list_filter = ["target", "level"]
    raw_id_fields = ["ticket"]
