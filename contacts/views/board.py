"""The pipeline board: a column per stage, each paged on its own, and a card dropped on
another column changes the contact's stage."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import get_for_user_or_404
from core.paging import keyset_page_or_404

from .. import services
from ..filters import SORTS, ContactFilter
from ..forms import StageChangeForm
from ..models import Contact, Stage
from ..selectors import contact_board_queryset, contact_board_totals
from .lists import filter_context, filtered

BOARD_PAGE_SIZE = 20


@permission_required("contacts.view_contact", raise_exception=True)
def pipeline(request: HttpRequest) -> HttpResponse:
    """Three columns, one per stage, each a keyset page at a time (newest interaction
    first), with the list's filters."""
    filterset, qs = filtered(request, contact_board_queryset())
    context = filter_context(request, filterset)
    sort = SORTS["recent"]
    column = request.GET.get("column")
    column = int(column) if column in {str(s) for s in Stage.values} else None
    cursor = request.GET.get("cursor")
    if request.htmx and column is not None:
        page = keyset_page_or_404(
            qs.filter(stage=column), **sort.keyset, cursor=cursor, size=BOARD_PAGE_SIZE
        )
        context.update(column={"stage": column, "page": page})
        return render(request, "contacts/board.html#column-page", context)
    context["columns"] = [
        {
            **totals,
            # Without JavaScript, "Load more" opens the board one page further on in
            # that column.
            "page": keyset_page_or_404(
                qs.filter(stage=totals["stage"]),
                **sort.keyset,
                cursor=cursor if totals["stage"] == column else None,
                size=BOARD_PAGE_SIZE,
            ),
        }
        for totals in _column_totals(qs)
    ]
    return render(request, "contacts/board.html", context)


def _column_totals(contacts) -> list[dict]:
    """Each column's stage, label, count and purchases' value per currency."""
    totals = contact_board_totals(contacts)
    return [
        {
            "stage": stage,
            "label": label,
            "count": totals[stage]["count"],
            "values": totals[stage]["values"],
        }
        for stage, label in Stage.choices
    ]


def _board_of(request: HttpRequest):
    """The contacts of the board a card was dragged on, with the filters it shows: HTMX
    sends the board's URL (the filters push theirs), and only its query is read."""
    url = request.htmx.current_url or ""
    data = QueryDict(urlsplit(url).query)
    filterset = ContactFilter(data, queryset=contact_board_queryset(), request=request)
    return filterset.qs if filterset.is_valid() else contact_board_queryset().none()


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card dropped on another column: change the stage (with the board's reason)."""
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = StageChangeForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.contact_change_stage(
                contact=contact,
                stage=form.cleaned_data["stage"],
                actor=request.user,
                reason=form.cleaned_data["reason"] or _("Moved on the pipeline board"),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = _("Choose a valid stage.")
    if request.htmx:
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        card = contact_board_queryset().get(pk=contact.pk)
        html = render_to_string(
            "contacts/board.html#card",
            {"contact": card, "stages": Stage.choices},
            request=request,
        )
        # Both columns' counts and values change: every column's totals go out of band.
        for column in _column_totals(_board_of(request)):
            html += render_to_string(
                "contacts/board.html#column-totals", {"column": column, "oob": True}
            )
        return HttpResponse(html)
    if error:
        messages.error(request, error)
    return redirect("contacts:pipeline")
