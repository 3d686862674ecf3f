from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.models import TimelineEntry
from core.access import get_for_user_or_404
from core.choices import Direction, Network
from core.http import next_url
from core.paging import keyset_page_or_404
from core.params import ascii_int

from . import exports, selectors, services
from .forms import (
    AssignForm,
    BulkAssignForm,
    CsatForm,
    HandoffForm,
    IncidentResolveForm,
    PriorityForm,
    ReplyForm,
    ResolveForm,
    StatementForm,
    StatusForm,
)
from .models import CannedResponse, Incident, Ticket

PAGE_SIZE = 50


def _fail(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@permission_required("support.view_ticket", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    """The queue: mine, unassigned, breaching soon or all, filtered by network,
    priority, status and team, with bulk assignment."""
    shown = selectors.ticket_queue_for_page(request.GET, user=request.user)
    page = keyset_page_or_404(
        shown.tickets, fields=("priority", "id"), cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    selectors.tickets_with_sla(page.items)
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "filter": shown.filterset,
        "page": page,
        "queue": shown.queue,
        "queues": [
            ("all", _("All open")),
            ("mine", _("Mine")),
            ("unassigned", _("Unassigned")),
            ("breaching", _("Breaching soon")),
        ],
        "params": params.urlencode(),
        "assign_form": AssignForm(),
    }
    if request.htmx and (request.GET.get("cursor") or request.htmx.target == "ticket-rows"):
        return render(request, "support/queue.html#rows", context)
    return render(request, "support/queue.html", context)


@require_POST
@permission_required("support.change_ticket", raise_exception=True)
def bulk_assign(request: HttpRequest) -> HttpResponse:
    form = BulkAssignForm(request.POST)
    if form.is_valid():
        tickets = Ticket.objects.filter(pk__in=form.ticket_ids).order_by("id")
        try:
            count = services.tickets_bulk_assign(
                tickets=tickets, assignee=form.cleaned_data["assignee"], user=request.user
            )
            messages.success(request, _("%(n)s tickets assigned.") % {"n": count})
        except ValidationError as exc:
            _fail(request, exc)
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(next_url(request, "support:index"))


@permission_required("support.view_ticket", raise_exception=True)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_for_user_or_404(selectors.ticket_detail_queryset(), user=request.user, pk=pk)
    selectors.tickets_with_sla([ticket])
    canned = list(selectors.canned_for_ticket(ticket))
    variables = services.canned_variables(ticket, user=request.user)
    for response in canned:
        response.filled = services.canned_render(response.body, variables)
    reply_initial = {"kind": "reply" if ticket.network else "dm"}
    if (chosen := ascii_int(request.GET.get("canned"))) is not None:
        picked = next((c for c in canned if c.pk == chosen), None)
        if picked is not None:
            reply_initial["text"] = picked.filled
    handoff_initial = {
        "public_text": services.canned_text(
            ticket, CannedResponse.Purpose.HANDOFF_PUBLIC, user=request.user
        ),
        "dm_text": services.canned_text(
            ticket, CannedResponse.Purpose.HANDOFF_DM, user=request.user
        ),
    }
    context = {
        "ticket": ticket,
        "canned": canned,
        "reply_form": ReplyForm(initial=reply_initial),
        "handoff_form": HandoffForm(initial=handoff_initial),
        "resolve_form": ResolveForm(),
        "assign_form": AssignForm(initial={"assignee": ticket.assignee_id}),
        "status_form": StatusForm(current=ticket.status),
        "priority_form": PriorityForm(initial={"priority": ticket.priority}),
        # "Open ticket" added this message to the ticket: offer to keep it apart.
        "joined_entry": next(
            (e for e in ticket.interactions.all() if str(e.pk) == request.GET.get("joined")),
            None,
        ),
    }
    return render(request, "support/ticket.html", context)


def _ticket_action(request: HttpRequest, pk: int, form_class, action, success: str):
    ticket = get_for_user_or_404(
        Ticket.objects.select_related("team", "contact"), user=request.user, pk=pk
    )
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(ticket, form.cleaned_data)
            messages.success(request, success)
        except ValidationError as exc:
            _fail(request, exc)
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("support:ticket", pk=ticket.pk)


@require_POST
@permission_required("support.change_ticket", raise_exception=True)
def ticket_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        AssignForm,
        lambda t, d: services.ticket_assign(ticket=t, assignee=d["assignee"], user=request.user),
        _("Assignment saved."),
    )


@require_POST
@permission_required("support.change_ticket", raise_exception=True)
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        ReplyForm,
        lambda t, d: services.ticket_reply(
            ticket=t, kind=d["kind"], text=d["text"], user=request.user, pending=d["pending"]
        ),
        _("Reply queued."),
    )


@require_POST
@permission_required("support.change_ticket", raise_exception=True)
def ticket_handoff(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        HandoffForm,
        lambda t, d: services.ticket_handoff(
            ticket=t, user=request.user, public_text=d["public_text"], dm_text=d["dm_text"]
        ),
        _("Public acknowledgement and direct message queued."),
    )


@require_POST
@permission_required("support.change_ticket", raise_exception=True)
def ticket_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        ResolveForm,
        lambda t, d: services.ticket_resolve(ticket=t, user=request.user, message=d["message"]),
        _("Ticket resolved; the customer was asked to rate the help."),
    )


@require_POST
@permission_required("support.change_ticket", raise_exception=True)
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        StatusForm,
        lambda t, d: services.ticket_change_status(ticket=t, status=d["status"], user=request.user),
        _("Status changed."),
    )


@require_POST
@permission_required("support.change_ticket", raise_exception=True)
def ticket_priority(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        PriorityForm,
        lambda t, d: services.ticket_change_priority(
            ticket=t, priority=d["priority"], user=request.user
        ),
        _("Priority changed."),
    )


@require_POST
@permission_required("support.add_ticket", raise_exception=True)
def ticket_from_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    """ "Open ticket" on an inbound timeline item: its ticket, the contact's open ticket
    it joins, or a new one."""
    entry = get_for_user_or_404(
        TimelineEntry.objects.select_related("contact", "account", "identity"),
        user=request.user,
        pk=entry_id,
    )
    if entry.direction != Direction.INBOUND or not entry.network:
        messages.error(request, _("Only messages received from a network go on tickets."))
        return redirect("contacts:detail", pk=entry.contact_id)
    ticket, outcome = services.ticket_open_or_join(entry=entry, user=request.user)
    if outcome == "joined":
        messages.info(
            request,
            _("Added to ticket %(number)s, which was open for this contact.")
            % {"number": ticket.number},
        )
        return redirect(f"{ticket.get_absolute_url()}?joined={entry.pk}#joined")
    return redirect("support:ticket", pk=ticket.pk)


@require_POST
@permission_required("support.add_ticket", raise_exception=True)
def ticket_split_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    """ "Open a new one instead": the message leaves the ticket it joined for its own."""
    entry = get_for_user_or_404(
        TimelineEntry.objects.select_related("contact", "account", "identity"),
        user=request.user,
        pk=entry_id,
    )
    try:
        ticket = services.ticket_split_entry(entry=entry, user=request.user)
    except ValidationError as exc:
        _fail(request, exc)
        return redirect("contacts:detail", pk=entry.contact_id)
    messages.success(request, _("New ticket %(number)s opened.") % {"number": ticket.number})
    return redirect("support:ticket", pk=ticket.pk)


# --- Incidents --------------------------------------------------------------------------


@permission_required("support.view_incident", raise_exception=True)
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = selectors.incident_list_queryset()[:100]
    return render(request, "support/incidents.html", {"incidents": incidents})


@permission_required("support.view_incident", raise_exception=True)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_for_user_or_404(
        Incident.objects.select_related("team"), user=request.user, pk=pk
    )
    tickets = selectors.tickets_with_sla(
        list(selectors.ticket_list_queryset().filter(incident=incident).order_by("id"))
    )
    context = {
        "incident": incident,
        "tickets": tickets,
        "statement_form": StatementForm(initial={"text": incident.statement}),
        "resolve_form": IncidentResolveForm(),
    }
    return render(request, "support/incident.html", context)


@require_POST
@permission_required("support.change_incident", raise_exception=True)
def incident_statement(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_for_user_or_404(Incident.objects.all(), user=request.user, pk=pk)
    form = StatementForm(request.POST)
    if form.is_valid():
        try:
            services.incident_post_statement(
                incident=incident, text=form.cleaned_data["text"], user=request.user
            )
            messages.success(request, _("Statement queued as a reply to every complaint."))
        except ValidationError as exc:
            _fail(request, exc)
    return redirect("support:incident", pk=incident.pk)


@require_POST
@permission_required("support.change_incident", raise_exception=True)
def incident_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_for_user_or_404(Incident.objects.all(), user=request.user, pk=pk)
    form = IncidentResolveForm(request.POST)
    if form.is_valid():
        try:
            services.incident_resolve(
                incident=incident,
                user=request.user,
                final_message=form.cleaned_data["final_message"],
            )
            messages.success(request, _("Incident and its tickets resolved."))
        except ValidationError as exc:
            _fail(request, exc)
    else:
        messages.error(request, _("Write the final message."))
    return redirect("support:incident", pk=incident.pk)


# --- Testimonials and reports -----------------------------------------------------------


@permission_required("contacts.view_timelineentry", raise_exception=True)
def testimonials(request: HttpRequest) -> HttpResponse:
    page = keyset_page_or_404(
        selectors.testimonial_queryset(),
        fields=("occurred_at", "id"),
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    return render(request, "support/testimonials.html", {"page": page})


@permission_required("support.view_ticket", raise_exception=True)
def reports(request: HttpRequest) -> HttpResponse:
    try:
        start, end = selectors.report_period(request.GET.get("from"), request.GET.get("to"))
    except ValidationError as exc:
        _fail(request, exc)
        start, end = selectors.report_period(None, None)
    report = selectors.support_report(start=start, end=end)
    if request.GET.get("format") == "csv":
        return exports.support_report_csv(report)
    # People read brand names ("Bluesky", "Mastodon", "X"); the API and CSV keep codes.
    for row in (*report["by_network"], *report["by_account"]):
        row["network_label"] = Network(row["network"]).label if row["network"] else "—"
    return render(request, "support/reports.html", {"report": report})


# --- CSAT (public) ----------------------------------------------------------------------


@login_not_required
def csat(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's rating page, reached from the link sent by DM. A forged, expired
    or used link gets a page that says so."""
    try:
        survey = services.csat_survey_for_token(token)
    except services.CsatLinkError as exc:
        return render(request, "support/csat.html", {"problem": exc.reason})
    form = CsatForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.csat_answer(
                token=token,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except services.CsatLinkError as exc:
            return render(request, "support/csat.html", {"problem": exc.reason})
        return render(request, "support/csat.html", {"thanks": True})
    return render(
        request, "support/csat.html", {"form": form, "survey": survey, "now": timezone.now()}
    )
