from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.choices import EntryKind
from crm.keyset import InvalidCursor, keyset_page
from crm.views import section_unbuilt

from .filters import ContactFilter
from .forms import NoteForm, StageChangeForm
from .models import Contact, Stage
from .selectors import contact_list_queryset, contact_timeline
from .services import contact_add_note, contact_change_stage

PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 50


def _get_contact_for_user(request: HttpRequest, pk: int) -> Contact:
    """The contact ``pk`` if this user may see it (all staff share one CRM), else 404."""
    return get_object_or_404(Contact.objects.select_related("owner"), pk=pk)


@permission_required("contacts.view_contact", raise_exception=True)
def contact_list(request: HttpRequest) -> HttpResponse:
    filterset = ContactFilter(request.GET, queryset=contact_list_queryset())
    qs = filterset.qs if filterset.is_valid() else contact_list_queryset().none()
    try:
        page = keyset_page(qs, fields=("id",), cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    except InvalidCursor:
        raise Http404 from None
    context = {"filter": filterset, "page": page, "stages": Stage.choices}
    if request.htmx and request.GET.get("cursor"):
        return render(request, "contacts/list.html#rows", context)
    if request.htmx and request.htmx.target == "contact-rows":
        return render(request, "contacts/list.html#rows", context)
    return render(request, "contacts/list.html", context)


@permission_required("contacts.view_contact", raise_exception=True)
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    kinds = [k for k in request.GET.getlist("kind") if k in EntryKind.values]
    try:
        page = keyset_page(
            contact_timeline(contact.pk, kinds=kinds),
            fields=("occurred_at", "id"),
            cursor=request.GET.get("cursor"),
            size=TIMELINE_PAGE_SIZE,
        )
    except InvalidCursor:
        raise Http404 from None
    context = {
        "contact": contact,
        "page": page,
        "kinds": kinds,
        "kind_choices": EntryKind.choices,
        "stage_form": StageChangeForm(initial={"stage": contact.stage}),
        "note_form": NoteForm(),
        "identities": contact.identities.order_by("network", "id"),
        "tags": contact.tags.all(),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "contacts/detail.html#timeline-page", context)
    return render(request, "contacts/detail.html", context)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_stage(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = StageChangeForm(request.POST)
    if form.is_valid():
        try:
            contact_change_stage(
                contact=contact,
                stage=form.cleaned_data["stage"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request, _("Stage changed to %(stage)s.") % {"stage": contact.get_stage_display()}
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Choose a valid stage."))
    return redirect("contacts:detail", pk=contact.pk)


@require_POST
@permission_required("crm.add_timelineentry", raise_exception=True)
def contact_note(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        contact_add_note(contact=contact, author=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Note added."))
    else:
        messages.error(request, _("A note cannot be empty."))
    return redirect("contacts:detail", pk=contact.pk)


def pipeline(request: HttpRequest) -> HttpResponse:
    return section_unbuilt(
        request,
        title=gettext_lazy("Pipeline"),
        what=gettext_lazy(
            "The drag-and-drop pipeline board is not available yet; change stages from a contact's page."
        ),
    )
