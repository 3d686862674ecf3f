"""Demo mode: post as a customer on the local demo Mastodon server and watch Momento's
answers arrive there. Only with DEBUG on and the demo server configured (else 404)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from mastodon.errors import MastodonError

from crm.networks.mastodon import html_to_text
from crm.sync import sync_queue

from . import server as demo_server
from .forms import SimulateForm


def _state_or_404() -> dict:
    if not demo_server.demo_enabled():
        raise Http404
    return demo_server.state_load()


def _customer_inbox(state: dict, username: str) -> tuple[list[dict], str]:
    """The customer's latest messages from the brand as the demo server shows them
    (plain text: never the server's HTML), or an error sentence."""
    try:
        notes = demo_server.customer_client(state, username).notifications(
            types=["mention"], limit=15
        )
    except (MastodonError, OSError) as exc:
        return [], _("The demo server did not answer (%(error)s). Is `make run` running?") % {
            "error": type(exc).__name__
        }
    items = [
        {
            "author": n["account"]["acct"],
            "visibility": n["status"]["visibility"],
            "text": html_to_text(n["status"]["content"]),
            "at": n["status"]["created_at"],
        }
        for n in notes
        if n.get("status")
    ]
    return items, ""


@require_http_methods(["GET", "POST"])
def simulate(request):
    state = _state_or_404()
    customers = state.get("customers") or []
    usernames = [c["username"] for c in customers]
    selected = request.POST.get("customer") or request.GET.get("customer") or ""
    if selected not in usernames:
        selected = usernames[0] if usernames else ""
    account = demo_server.brand_account(state)
    form = SimulateForm(customers=customers, initial={"customer": selected})
    if request.method == "POST" and request.POST.get("action") == "sync":
        if account is None:
            messages.error(request, _("The demo brand account is not connected yet."))
        else:
            sync_queue(account_id=account.pk)
            messages.success(request, _("Sync queued: the new messages show in the inbox."))
        return redirect(f"{reverse('demo:simulate')}?customer={selected}")
    if request.method == "POST":
        form = SimulateForm(request.POST, customers=customers)
        if form.is_valid():
            data = form.cleaned_data
            dm = data["kind"] == "dm"
            try:
                demo_server.customer_client(state, data["customer"]).status_post(
                    f"@{state['brand']} {data['text']}", visibility="direct" if dm else "public"
                )
            except (MastodonError, OSError) as exc:
                form.add_error(
                    None,
                    _("The demo server refused the message (%(error)s).")
                    % {"error": type(exc).__name__},
                )
            else:
                messages.success(
                    request,
                    _("Sent on the demo server as @%(customer)s. Press “Sync now” to bring it in.")
                    % {"customer": data["customer"]},
                )
                return redirect(f"{reverse('demo:simulate')}?customer={data['customer']}")
    received, error = _customer_inbox(state, selected) if selected else ([], "")
    return render(
        request,
        "demo/simulate.html",
        {
            "form": form,
            "state": state,
            "account": account,
            "selected": selected,
            "received": received,
            "inbox_error": error,
        },
        status=400 if form.errors else 200,
    )
