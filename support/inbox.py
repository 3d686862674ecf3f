"""The conversation inbox (list and thread side by side): one row per person and
network, the whole thread with one answer box, the contact and their open ticket beside
it. One view serves a full page and its fragment; every action works without
JavaScript (a POST that redirects) and in place with HTMX."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.models import Contact
from core.choices import Direction, EntryKind, Network
from core.paging import InvalidCursor
from crm.forms import AnswerForm
from crm.services import answer_modes, interaction_answer

from . import services
from .conversations import (
    FILTERS,
    Thread,
    conversation_page,
    conversation_thread,
    conversation_version,
)
from .models import CannedResponse
from .selectors import tickets_with_sla

PAGE_SIZE = 50
#: How often an open conversation and the list look for something new (seconds).
POLL_SECONDS = 5


def _list_context(request: HttpRequest) -> dict:
    show = request.GET.get("show", "all")
    show = show if show in FILTERS else "all"
    network = request.GET.get("network", "")
    network = network if network in Network.values else ""
    try:
        page = conversation_page(
            user=request.user,
            show=show,
            network=network,
            cursor=request.GET.get("cursor") or None,
            size=PAGE_SIZE,
        )
    except InvalidCursor as exc:
        raise Http404(_("This page of the inbox does not exist.")) from exc
    query = {"show": show, "network": network}
    current = None
    if request.resolver_match and request.resolver_match.url_name == "thread":
        kwargs = request.resolver_match.kwargs
        current = (kwargs["contact_id"], kwargs["network"])
    return {
        "page": page,
        "conv_rows": conversation_rows(page.conversations, current),
        "show": show,
        "network": network,
        "filters": [
            (name, label, page.counts.get(name))
            for name, label in (
                ("all", _("All")),
                ("mine", _("Mine")),
                ("unassigned", _("Unassigned")),
            )
        ],
        "networks": Network.choices,
        "query": "&".join(f"{k}={v}" for k, v in query.items() if v),
        "poll_seconds": POLL_SECONDS,
    }


def conversation_rows(conversations, current: tuple[int, str] | None = None) -> list[dict]:
    """What each row of the list shows, worked out once here (the template only
    escapes and places it): the person, the badge, network and handle, how long ago,
    mine / unassigned, and the newest item's kind and opening words."""
    now = timezone.now()
    mine, unassigned = _("mine"), _("unassigned")
    rows = []
    for c in conversations:
        latest = c.latest
        rows.append(
            {
                "key": c.key,
                "current": current == (c.contact_id, c.network),
                "url": reverse("inbox:thread", args=[c.contact_id, c.network]),
                "name": latest.contact.display_name if latest else "",
                "unread": c.unread,
                "network": c.network_label,
                "handle": latest.identity.handle if latest and latest.identity else "",
                "iso": timezone.localtime(c.last_at).isoformat(),
                "since": _("%(since)s ago") % {"since": timesince(c.last_at, now)},
                "tag": mine if c.mine else ("" if c.assigned else unassigned),
                "kind": latest.get_kind_display() if latest else "",
                "preview": Truncator(latest.text).chars(120) if latest else "",
            }
        )
    return rows


def _canned(thread: Thread, user) -> list[dict]:
    """The general canned answers, the contact's language first, filled in."""
    language = (thread.answer_to.language if thread.answer_to else "") or thread.contact.language
    canned = CannedResponse.objects.filter(purpose=CannedResponse.Purpose.GENERAL).order_by(
        Case(When(language=language, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "name",
    )
    if thread.ticket is not None:
        canned = canned.filter(Q(team=thread.ticket.team_id) | Q(team__isnull=True))
        variables = services.canned_variables(thread.ticket, user=user)
    else:
        variables = {
            "contact_name": thread.contact.display_name,
            "agent_name": user.get_full_name() or user.get_username(),
        }
    return [
        {"name": c.name, "language": c.language, "text": services.canned_render(c.body, variables)}
        for c in canned[:30]
    ]


def thread_rows(items: list) -> list[dict]:
    """What each item of a thread shows, worked out here rather than by the template
    (a 200-item pane drew ~20 lookups and 20 conditions an item): a message's labels,
    author, times and state as plain values the template only escapes and places; an
    outbox message or a ticket event goes to its own include."""
    rows = []
    when = get_format("DATETIME_FORMAT")  # looked up once, not once an item
    for item in items:
        if item.kind == "outbox":
            rows.append({"type": "outbox", "message": item.message})
            continue
        if item.kind in (EntryKind.TICKET, EntryKind.CSAT):
            rows.append({"type": "event", "entry": item})
            continue
        local = timezone.localtime(item.occurred_at)
        row = {
            "pk": item.pk,
            "iso": local.isoformat(),
            "when": dateformat.format(local, when),
            "text": item.text,
            "author": item.created_by.get_username() if item.created_by else "",
        }
        if item.kind == EntryKind.NOTE:
            rows.append({"type": "note", **row})
            continue
        outbound = item.direction == Direction.OUTBOUND
        row.update(
            type="msg",
            css=("msg-out" if outbound else "msg-in") + (" handled" if item.handled_at else ""),
            kind=item.get_kind_display(),
            author=row["author"] if outbound else "",
            handle=(item.identity_handle or "") if not outbound else "",
            intent=item.get_intent_display() if item.intent else "",
            state=(
                ("handled" if item.handled_at else "waiting")
                if item.direction == Direction.INBOUND
                else ""
            ),
            assignee=_("assigned to %(user)s") % {"user": item.assigned_to.get_username()}
            if item.assigned_to
            else "",
            url=item.url,
        )
        rows.append(row)
    return rows


def _thread_context(request: HttpRequest, contact_id: int, network: str, form=None) -> dict:
    if network not in Network.values:
        raise Http404
    contact = Contact.objects.select_related("owner").filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    thread = conversation_thread(contact=contact, network=network)
    if thread.ticket is not None:
        tickets_with_sla([thread.ticket])
    if form is None and thread.answer_to is not None:
        modes = answer_modes(thread.answer_to)
        if modes:
            form = AnswerForm(modes=modes, prefix="answer")
            # The newest item decides: a DM is answered by DM.
            if thread.answer_to.kind == "dm" and "dm" in modes:
                form.fields["private"].initial = "1"
    return {
        "thread": thread,
        "rows": thread_rows(thread.items),
        "contact": contact,
        "form": form,
        "canned": _canned(thread, request.user) if form is not None else [],
        "version": thread.version,
        "poll_seconds": POLL_SECONDS,
    }


@permission_required("contacts.view_timelineentry", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    """The list of waiting conversations (and, on a wide screen, an empty thread pane)."""
    context = _list_context(request)
    if request.htmx and request.htmx.target in ("conv-list", "conv-more"):
        return render(request, "support/inbox.html#list", context)
    return render(request, "support/inbox.html", context)


@permission_required("contacts.view_timelineentry", raise_exception=True)
def thread(request: HttpRequest, contact_id: int, network: str) -> HttpResponse:
    """One conversation: the full page (list beside it), or the thread pane for HTMX."""
    context = _thread_context(request, contact_id, network)
    if request.htmx and request.htmx.target == "thread":
        return render(request, "support/inbox.html#thread", context)
    return render(request, "support/inbox.html", {**_list_context(request), **context})


@permission_required("contacts.view_timelineentry", raise_exception=True)
def thread_poll(request: HttpRequest, contact_id: int, network: str) -> HttpResponse:
    """Polled while a conversation is open: 204 (nothing to swap) until something
    changed, then the thread's items drawn again."""
    if network not in Network.values:
        raise Http404
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    if conversation_version(contact=contact, network=network) == request.GET.get("v"):
        return HttpResponse(status=204)
    context = _thread_context(request, contact_id, network)
    return render(request, "support/inbox.html#items", context)


def _back(request: HttpRequest, contact_id: int, network: str, context_form=None):
    if request.htmx:
        context = _thread_context(request, contact_id, network, form=context_form)
        response = render(request, "support/inbox.html#thread", context)
        response["HX-Trigger"] = "conversations-changed"
        return response
    return redirect("inbox:thread", contact_id=contact_id, network=network)


@require_POST
@permission_required("crm.add_outboundmessage", raise_exception=True)
def answer(request: HttpRequest, contact_id: int, network: str) -> HttpResponse:
    """The one answer box: a public reply or a DM to the conversation's newest item."""
    context = _thread_context(request, contact_id, network)
    entry = context["thread"].answer_to
    if entry is None:
        messages.error(request, _("Nothing in this conversation can be answered."))
        return _back(request, contact_id, network)
    form = AnswerForm(request.POST, modes=answer_modes(entry), prefix="answer")
    if form.is_valid():
        try:
            interaction_answer(
                entry=entry,
                text=form.cleaned_data["text"],
                private=form.cleaned_data["private"],
                user=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return _back(request, contact_id, network)
    if not request.htmx:
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    return _back(request, contact_id, network, context_form=form)


def _contact(contact_id: int) -> Contact:
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    return contact


@require_POST
@permission_required("contacts.change_timelineentry", raise_exception=True)
def handled(request: HttpRequest, contact_id: int, network: str) -> HttpResponse:
    """``e``: the conversation is handled (it leaves the list until something new)."""
    count = services.conversation_mark_handled(
        contact=_contact(contact_id), network=network, user=request.user
    )
    messages.success(request, _("Marked as handled (%(count)d items).") % {"count": count})
    return _back(request, contact_id, network)


@require_POST
@permission_required("contacts.change_timelineentry", raise_exception=True)
def assign(request: HttpRequest, contact_id: int, network: str) -> HttpResponse:
    """Take the conversation (``?to=me``) or give it back to nobody."""
    mine = request.POST.get("to") == "me"
    services.conversation_assign(
        contact=_contact(contact_id), network=network, user=request.user if mine else None
    )
    return _back(request, contact_id, network)


@require_POST
@permission_required("support.add_ticket", raise_exception=True)
def ticket(request: HttpRequest, contact_id: int, network: str) -> HttpResponse:
    """``t``, one click: the conversation's newest item goes on a ticket (the contact's
    open one, which it joins, or a new one); the message says which."""
    context = _thread_context(request, contact_id, network)
    entry = context["thread"].answer_to
    if entry is None:
        messages.error(request, _("Only messages received from a network go on tickets."))
        return _back(request, contact_id, network)
    before = context["thread"].ticket
    opened = services.ticket_open_for_entry(entry=entry, user=request.user)
    if before is not None and before.pk == opened.pk:
        messages.info(request, _("Added to ticket %(number)s.") % {"number": opened.number})
    else:
        messages.success(request, _("Ticket %(number)s opened.") % {"number": opened.number})
    return _back(request, contact_id, network)
