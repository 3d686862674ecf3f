"""One click to correct the classifier's intent or sentiment of an inbox/timeline entry."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.access import get_for_user_or_404
from core.choices import Direction

from .. import services
from ..models import TimelineEntry


@require_POST
@permission_required("contacts.add_labelcorrection", raise_exception=True)
def entry_label(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_for_user_or_404(
        TimelineEntry.objects.filter(direction=Direction.INBOUND), user=request.user, pk=pk
    )
    status = 200
    error = ""
    try:
        services.entry_label_correct(
            entry=entry,
            user=request.user,
            intent=request.POST.get("intent", ""),
            sentiment=request.POST.get("sentiment", ""),
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
        status = 400
    if request.htmx:
        return render(
            request,
            "contacts/_entry_label_response.html",
            {"entry": entry, "error": error},
            status=status,
        )
    if error:
        messages.error(request, error)
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("contacts:detail", entry.contact_id)
