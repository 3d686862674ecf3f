from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from contacts.models import TimelineEntry
from core.access import get_for_user_or_404
from core.http import next_url
from core.paging import keyset_page_or_404

from .forms import AnswerForm, InboxFilterForm, SocialAccountConnectForm
from .models import OutboundMessage, SocialAccount
from .outbox import outbound_retry
from .selectors import inbox_entry_queryset, inbox_queryset, socialaccount_status_list
from .services import (
    answer_modes,
    interaction_answer,
    interaction_assign,
    interaction_mark_handled,
    socialaccount_connect,
    socialaccount_pause,
    socialaccount_resume,
)
from .sync import sync_queue

INBOX_PAGE_SIZE = 50


# --- Unified inbox -------------------------------------------------------------------


@permission_required("contacts.view_timelineentry", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    page = keyset_page_or_404(
        inbox_queryset(**form.selected(request.user)),
        fields=("occurred_at", "id"),
        cursor=request.GET.get("cursor"),
        size=INBOX_PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    if request.htmx and (request.GET.get("cursor") or request.htmx.target == "inbox-items"):
        return render(request, "crm/inbox.html#items", context)
    return render(request, "crm/inbox.html", context)


def _inbox_item(request: HttpRequest, entry: TimelineEntry) -> HttpResponse:
    if request.htmx:
        entry = inbox_entry_queryset().get(pk=entry.pk)
        return render(request, "crm/inbox.html#item", {"entry": entry})
    return redirect("crm:inbox")


@require_POST
@permission_required("contacts.change_timelineentry", raise_exception=True)
def inbox_assign(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_for_user_or_404(inbox_entry_queryset(), user=request.user, pk=pk)
    mine = entry.assigned_to_id != request.user.pk
    interaction_assign(entry=entry, user=request.user if mine else None)
    return _inbox_item(request, entry)


@require_POST
@permission_required("contacts.change_timelineentry", raise_exception=True)
def inbox_handled(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_for_user_or_404(inbox_entry_queryset(), user=request.user, pk=pk)
    handled = entry.handled_at is None
    interaction_mark_handled(entry=entry, user=request.user, handled=handled)
    if not request.htmx and handled:
        messages.success(request, _("Marked as handled."))
    return _inbox_item(request, entry)


@require_POST
@permission_required("crm.add_outboundmessage", raise_exception=True)
def interaction_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer an inbound item (from the inbox or a contact's page): the answer box is
    drawn again with what was queued or sent, in place."""
    entry = get_for_user_or_404(inbox_entry_queryset(), user=request.user, pk=pk)
    form = AnswerForm(request.POST, modes=answer_modes(entry), prefix=f"answer{entry.pk}")
    sent = None
    if form.is_valid():
        try:
            sent = interaction_answer(
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
    if not request.htmx:
        if sent is not None:
            messages.success(request, _("Your answer is on its way."))
        else:
            messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect(next_url(request, "crm:inbox"))
    if sent is not None:
        sent.refresh_from_db()
        form = None  # a fresh form, with a new idempotency key
    return render(
        request,
        "crm/_answer.html",
        {
            "entry": entry,
            "answers": [sent] if sent else [],
            "form": form,
            "next": next_url(request),
        },
    )


def _outbound_for_user(request: HttpRequest, pk: int) -> OutboundMessage:
    messages_ = OutboundMessage.objects.select_related("created_by", "account")
    return get_for_user_or_404(messages_, user=request.user, pk=pk)


@permission_required("crm.view_outboundmessage", raise_exception=True)
def outbound_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One outbox message; polled while it is being sent. ``?edit=1`` draws its text in
    a form to edit and resend (a failed message, or one of unknown outcome)."""
    message = _outbound_for_user(request, pk)
    editing = (
        request.GET.get("edit") == "1"
        and message.needs_attention
        and request.user.has_perm("crm.add_outboundmessage")
    )
    return render(request, "crm/_outbound.html", {"message": message, "editing": editing})


@require_POST
@permission_required("crm.add_outboundmessage", raise_exception=True)
def outbound_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """**Retry** (no ``text``) or **Edit and resend** (``text``) a failed message or one
    whose outcome is unknown; drawn again in place, or back to the page it came from."""
    message = _outbound_for_user(request, pk)
    text = request.POST.get("text")
    errors: list[str] = []
    try:
        outbound_retry(message=message, text=text)
    except ValidationError as exc:
        errors = [error for field_errors in exc.message_dict.values() for error in field_errors]
    if not request.htmx:
        if errors:
            messages.error(request, " ".join(errors))
        else:
            messages.success(request, _("Sending it again."))
        return redirect(next_url(request) or _referer(request) or "crm:inbox")
    context = {"message": message, "retry_errors": errors, "editing": bool(errors and text)}
    return render(request, "crm/_outbound.html", context)


def _referer(request: HttpRequest) -> str | None:
    url = request.headers.get("referer", "")
    allowed = url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure())
    return url if url and allowed else None


# --- Social accounts: connect, sync status -------------------------------------------


@permission_required("crm.view_socialaccount", raise_exception=True)
def sync_status(request: HttpRequest) -> HttpResponse:
    """Each account's state, last sync, counts, last error, failures and backfill."""
    return render(request, "crm/sync_status.html", {"accounts": socialaccount_status_list()})


@permission_required("crm.view_socialaccount", raise_exception=True)
def sync_status_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One account's row; polled every 2 s while its backfill runs."""
    account = get_for_user_or_404(socialaccount_status_list(), user=request.user, pk=pk)
    return render(request, "crm/sync_status.html#account", {"account": account})


@permission_required("crm.add_socialaccount", raise_exception=True)
def account_connect(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SocialAccountConnectForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                account = socialaccount_connect(
                    network=data["network"],
                    kind=data["kind"],
                    handle=data["handle"],
                    base_url=data["base_url"],
                    credentials=form.credentials(),
                    user=data["user"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("%(account)s is connected; its history is being fetched.")
                    % {"account": account},
                )
                if request.htmx:
                    return HttpResponseClientRedirect(reverse("crm:sync-status"))
                return redirect("crm:sync-status")
    else:
        # Secrets never travel in a URL: GET only redraws the form for another network.
        form = SocialAccountConnectForm(initial=request.GET.dict())
    if request.htmx:
        return render(request, "crm/connect.html#form", {"form": form})
    return render(request, "crm/connect.html", {"form": form})


def _account_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    account = get_for_user_or_404(SocialAccount.objects.all(), user=request.user, pk=pk)
    try:
        action(account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        account = socialaccount_status_list().get(pk=pk)
        return render(request, "crm/sync_status.html#account", {"account": account})
    return redirect("crm:sync-status")


@require_POST
@permission_required("crm.change_socialaccount", raise_exception=True)
def account_sync(request: HttpRequest, pk: int) -> HttpResponse:
    def queue(account):
        sync_queue(account_id=account.pk)
        messages.info(request, _("A sync of %(account)s is queued.") % {"account": account})

    return _account_action(request, pk, queue)


@require_POST
@permission_required("crm.change_socialaccount", raise_exception=True)
def account_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_action(request, pk, lambda account: socialaccount_pause(account=account))


@require_POST
@permission_required("crm.change_socialaccount", raise_exception=True)
def account_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_action(request, pk, lambda account: socialaccount_resume(account=account))
