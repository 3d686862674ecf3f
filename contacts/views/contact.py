"""A contact's page: its timeline (paged as you scroll) and the forms on it (stage,
note, owner, purchase, merge). Each form posts, calls one service and comes back."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import get_for_user_or_404
from core.choices import EntryKind
from core.paging import keyset_page_or_404

from .. import services
from ..forms import MergeForm, NoteForm, OwnerForm, PurchaseForm, StageChangeForm, TodoForm
from ..models import Contact
from ..selectors import (
    contact_duplicates,
    contact_history,
    contact_open_todos,
    contact_purchases,
    contact_timeline,
)

TIMELINE_PAGE_SIZE = 50
HISTORY_SIZE = 20


def contact_redirect(pk: int, anchor: str = "") -> HttpResponse:
    """Back to the contact's page (at ``anchor``) after a form posts."""
    return redirect(reverse("contacts:detail", args=[pk]) + anchor)


@permission_required("contacts.view_contact", raise_exception=True)
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    kinds = [k for k in request.GET.getlist("kind") if k in EntryKind.values]
    page = keyset_page_or_404(
        contact_timeline(contact.pk, kinds=kinds),
        fields=("occurred_at", "id"),
        cursor=request.GET.get("cursor"),
        size=TIMELINE_PAGE_SIZE,
    )
    context = {"contact": contact, "page": page, "kinds": kinds, "kind_choices": EntryKind.choices}
    if request.htmx and (request.GET.get("cursor") or request.htmx.target == "timeline"):
        return render(request, "contacts/detail.html#timeline-page", context)
    context.update(
        stage_form=StageChangeForm(initial={"stage": contact.stage}),
        note_form=NoteForm(),
        owner_form=OwnerForm(initial={"owner": contact.owner_id}),
        todo_form=TodoForm(),
        purchase_form=PurchaseForm(),
        identities=contact.identities.order_by("network", "id"),
        tags=contact.tags.all(),
        todos=contact_open_todos(contact.pk)[:20],
        purchases=contact_purchases(contact.pk)[:20],
        history=contact_history(contact.pk)[:HISTORY_SIZE],
        duplicates=contact_duplicates(contact),
    )
    return render(request, "contacts/detail.html", context)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_stage(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = StageChangeForm(request.POST)
    if form.is_valid():
        try:
            services.contact_change_stage(
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
    return contact_redirect(contact.pk)


@require_POST
@permission_required("contacts.add_timelineentry", raise_exception=True)
def contact_note(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.contact_add_note(
            contact=contact, author=request.user, text=form.cleaned_data["text"]
        )
        messages.success(request, _("Note added."))
    else:
        messages.error(request, _("A note cannot be empty."))
    return contact_redirect(contact.pk)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_owner(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = OwnerForm(request.POST)
    if form.is_valid():
        services.contact_update(
            contact=contact, actor=request.user, fields={"owner": form.cleaned_data["owner"]}
        )
        messages.success(request, _("Owner saved."))
    else:
        messages.error(request, _("Choose a member of staff who handles contacts."))
    return contact_redirect(contact.pk)


@require_POST
@permission_required("contacts.add_purchase", raise_exception=True)
def contact_purchase_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = PurchaseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        _purchase, created = services.purchase_record(
            contact=contact,
            amount=data["amount"],
            currency=data["currency"],
            product=data["product"],
            source="manual",
            external_ref=data["external_ref"],
            purchased_at=data["purchased_at"],
            actor=request.user,
        )
        if created:
            messages.success(request, _("Purchase recorded."))
        else:
            messages.error(request, _("That order reference was already recorded."))
    else:
        problems = " ".join(e for errors in form.errors.values() for e in errors)
        messages.error(
            request, _("The purchase was not recorded: %(problems)s") % {"problems": problems}
        )
    return contact_redirect(contact.pk, "#purchases")


@require_POST
@permission_required("contacts.merge_contact", raise_exception=True)
def contact_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        other = get_for_user_or_404(
            Contact.objects.all(), user=request.user, pk=form.cleaned_data["other_id"]
        )
        try:
            services.contact_merge(survivor=contact, other=other, actor=request.user)
            messages.success(request, _("Contacts merged."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Choose a contact to merge."))
    return contact_redirect(contact.pk)
