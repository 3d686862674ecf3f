"""The contact list: filters, sort orders, keyset pages, bulk actions and CSV export.
The board reuses its filters (``filtered``, ``filter_context``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from core.http import next_url
from core.paging import keyset_page_or_404

from .. import services
from ..exports import contacts_csv_response
from ..filters import DEFAULT_SORT, LAST_INTERACTION, SORTS, ContactFilter, extra_filter_choices
from ..forms import BulkForm
from ..models import Stage, Tag
from ..selectors import (
    contact_list_page_queryset,
    contact_list_queryset,
    contact_list_row_extras,
    owner_choices,
)
from ..templatetags.contacts_tags import score_summary

PAGE_SIZE = 50


def filtered(request: HttpRequest, queryset):
    """The list's filters applied to ``queryset``: ``(filterset, rows)``; no rows when
    a filter is invalid."""
    filterset = ContactFilter(request.GET, queryset=queryset, request=request)
    qs = filterset.qs if filterset.is_valid() else queryset.none()
    return filterset, qs


def filter_context(request: HttpRequest, filterset) -> dict:
    form = filterset.form
    return {
        "filter": filterset,
        # Each filter's value as the request gave it, read once (not once an option).
        "selected": {
            name: "" if (value := form[name].value()) is None else str(value)
            for name in form.fields
        },
        "stages": Stage.choices,
        "owners": owner_choices(),
        "all_tags": Tag.objects.order_by("name")[:200],
        # Filters of the apps above (campaigns: the campaign that attributed a contact).
        "extra_filters": extra_filter_choices(filterset),
        "last_interaction_choices": LAST_INTERACTION,
        "sorts": [(key, sort.label) for key, sort in SORTS.items()],
        "sort": request.GET.get("sort") if request.GET.get("sort") in SORTS else DEFAULT_SORT,
    }


def contact_rows(contacts) -> list[dict]:
    """What each row of the list shows, worked out here rather than by the template
    (a row drew ~20 lookups, a permission check, a translation and a ``timesince``):
    plain values the template only escapes and places. ``contacts`` come from
    ``contact_list_page_queryset``; their handles and tags from two plain queries."""
    contacts = list(contacts)
    handles, tags = contact_list_row_extras([contact.pk for contact in contacts])
    now = timezone.now()
    stages = {value: str(label) for value, label in Stage.choices}
    ago = _("%(since)s ago")
    # One reverse for the page: the contact's id is the only part that changes.
    url = reverse("contacts:detail", args=[_URL_SLOT]).replace(str(_URL_SLOT), "{}")
    return [
        {
            "pk": contact.pk,
            "url": url.format(contact.pk),
            "name": contact.display_name,
            "company": contact.company,
            "tags": tags.get(contact.pk, ()),
            "stage": contact.stage,
            "stage_label": stages.get(contact.stage, contact.stage),
            "handles": handles.get(contact.pk, ()),
            "owner": contact.owner_username or "",
            "score": contact.score,
            "score_title": score_summary(contact.score_reasons),
            "since": ago % {"since": timesince(contact.last_interaction_at, now)}
            if contact.last_interaction_at
            else "",
        }
        for contact in contacts
    ]


#: A number no contact's id is, put in the reversed detail URL and replaced per row.
_URL_SLOT = 918273645546372819


@permission_required("contacts.view_contact", raise_exception=True)
def contact_list(request: HttpRequest) -> HttpResponse:
    filterset, qs = filtered(request, contact_list_page_queryset())
    context = filter_context(request, filterset)
    page = keyset_page_or_404(
        qs, **SORTS[context["sort"]].keyset, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    context.update(
        page=page,
        rows=contact_rows(page.items),
        can_change=request.user.has_perm("contacts.change_contact"),
        bulk_form=BulkForm(),
    )
    if request.htmx and (request.GET.get("cursor") or request.htmx.target == "contact-rows"):
        return render(request, "contacts/list.html#rows", context)
    return render(request, "contacts/list.html", context)


@permission_required("contacts.view_contact", raise_exception=True)
def contact_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV."""
    _filterset, qs = filtered(request, contact_list_queryset())
    return contacts_csv_response(qs)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    ok = form.is_valid()
    if ok:
        data = form.cleaned_data
        action = data["action"]
        try:
            result = services.contacts_bulk_apply(
                contact_ids=data["ids"],
                actor=request.user,
                owner=data["owner"] if action == "owner" else None,
                unassign=action == "owner" and data["owner"] is None,
                tag=data["tag"] if action == "tag" else "",
                stage=data["stage"] if action == "stage" else None,
                reason=data["reason"],
            )
        except ValidationError as exc:
            ok, text = False, " ".join(exc.messages)
        else:
            text = _("%(updated)s contacts updated, %(skipped)s unchanged.") % {
                "updated": result.updated,
                "skipped": result.skipped,
            }
    else:
        # Each error names its field ("Tag: Name the tag to add."); the selection's own
        # message already says what it is about.
        text = " ".join(
            f"{form.fields[name].label}: {error}"
            if name in form.fields and form.fields[name].label
            else str(error)
            for name, errors in form.errors.items()
            for error in errors
        )
    if request.htmx:
        response = render(
            request, "contacts/list.html#bulk-result", {"bulk_message": text, "bulk_ok": ok}
        )
        return trigger_client_event(response, "contactsChanged") if ok else response
    (messages.success if ok else messages.error)(request, text)
    return redirect(next_url(request, "contacts:list"))
