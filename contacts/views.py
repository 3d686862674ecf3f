from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event

from core.choices import EntryKind
from core.paging import keyset_page_or_404

from .filters import DEFAULT_SORT, LAST_INTERACTION, SORTS, ContactFilter, extra_filter_choices
from .forms import (
    BulkForm,
    EraseForm,
    ImportMappingForm,
    ImportUploadForm,
    MergeForm,
    NoteForm,
    OwnerForm,
    PurchaseForm,
    StageChangeForm,
    TaskForm,
)
from .imports import contact_import_draft, contact_import_start, csv_decode, import_preview
from .models import Contact, ContactImport, Stage, Tag, Task
from .selectors import (
    contact_board_queryset,
    contact_duplicates,
    contact_history,
    contact_list_queryset,
    contact_open_tasks,
    contact_purchases,
    contact_timeline,
    owner_choices,
    tasks_for_user,
)
from .services import (
    contact_add_note,
    contact_change_stage,
    contact_erase,
    contact_export,
    contact_merge,
    contact_update,
    contacts_bulk_apply,
    purchase_record,
    task_complete,
    task_create,
)

PAGE_SIZE = 50
BOARD_PAGE_SIZE = 20
TIMELINE_PAGE_SIZE = 50
HISTORY_SIZE = 20


def _get_contact_for_user(request: HttpRequest, pk: int) -> Contact:
    """The contact ``pk`` if this user may see it (all staff share one CRM), else 404."""
    return get_object_or_404(Contact.objects.select_related("owner"), pk=pk)


def _filtered(request: HttpRequest, queryset):
    filterset = ContactFilter(request.GET, queryset=queryset, request=request)
    qs = filterset.qs if filterset.is_valid() else queryset.none()
    return filterset, qs


def _filter_context(request: HttpRequest, filterset) -> dict:
    return {
        "filter": filterset,
        "stages": Stage.choices,
        "owners": owner_choices(),
        "all_tags": Tag.objects.order_by("name")[:200],
        # Filters of the apps above (campaigns: the campaign that attributed a contact).
        "extra_filters": extra_filter_choices(filterset),
        "last_interaction_choices": LAST_INTERACTION,
        "sorts": [(key, sort.label) for key, sort in SORTS.items()],
        "sort": request.GET.get("sort") if request.GET.get("sort") in SORTS else DEFAULT_SORT,
    }


@permission_required("contacts.view_contact", raise_exception=True)
def contact_list(request: HttpRequest) -> HttpResponse:
    filterset, qs = _filtered(request, contact_list_queryset())
    context = _filter_context(request, filterset)
    page = keyset_page_or_404(
        qs, **SORTS[context["sort"]].keyset, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    context.update(page=page, bulk_form=BulkForm())
    if request.htmx and (request.GET.get("cursor") or request.htmx.target == "contact-rows"):
        return render(request, "contacts/list.html#rows", context)
    return render(request, "contacts/list.html", context)


def _csv_safe(value) -> str:
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@permission_required("contacts.view_contact", raise_exception=True)
def contact_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed in id order a few thousand rows at a time."""
    _filterset, qs = _filtered(request, contact_list_queryset())
    writer = csv.writer(_Echo())
    header = [
        "id",
        "display_name",
        "stage",
        "email",
        "phone",
        "company",
        "language",
        "owner",
        "tags",
        "handles",
        "score",
        "last_interaction_at",
        "created_at",
    ]

    def rows():
        yield writer.writerow(header)
        for c in qs.order_by("pk").iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _csv_safe(v)
                    for v in (
                        c.pk,
                        c.display_name,
                        c.stage,
                        c.email,
                        c.phone,
                        c.company,
                        c.language,
                        c.owner.get_username() if c.owner else "",
                        ";".join(t.name for t in c.tags.all()),
                        ";".join(f"{i.network}:{i.handle}" for i in c.identities.all()),
                        c.score,
                        c.last_interaction_at.isoformat() if c.last_interaction_at else "",
                        c.created_at.isoformat(),
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    ok = form.is_valid()
    if ok:
        data = form.cleaned_data
        action = data["action"]
        try:
            result = contacts_bulk_apply(
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
        text = " ".join(" ".join(errors) for errors in form.errors.values())
    if request.htmx:
        response = render(
            request, "contacts/list.html#bulk-result", {"bulk_message": text, "bulk_ok": ok}
        )
        return trigger_client_event(response, "contactsChanged") if ok else response
    (messages.success if ok else messages.error)(request, text)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/contacts/") else reverse("contacts:list"))


# --- Pipeline board -------------------------------------------------------------------


@permission_required("contacts.view_contact", raise_exception=True)
def pipeline(request: HttpRequest) -> HttpResponse:
    """Three columns, one per stage, each a keyset page at a time (newest interaction
    first), with the list's filters."""
    filterset, qs = _filtered(request, contact_board_queryset())
    context = _filter_context(request, filterset)
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
            "stage": stage,
            "label": label,
            # Without JavaScript, "Load more" opens the board one page further on in
            # that column.
            "page": keyset_page_or_404(
                qs.filter(stage=stage),
                **sort.keyset,
                cursor=cursor if stage == column else None,
                size=BOARD_PAGE_SIZE,
            ),
        }
        for stage, label in Stage.choices
    ]
    return render(request, "contacts/board.html", context)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card dropped on another column: change the stage (with the board's reason)."""
    contact = _get_contact_for_user(request, pk)
    form = StageChangeForm(request.POST)
    error = None
    if form.is_valid():
        try:
            contact_change_stage(
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
        return render(
            request, "contacts/board.html#card", {"contact": card, "stages": Stage.choices}
        )
    if error:
        messages.error(request, error)
    return redirect("contacts:pipeline")


# --- Contact page -----------------------------------------------------------------------


@permission_required("contacts.view_contact", raise_exception=True)
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
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
        task_form=TaskForm(),
        purchase_form=PurchaseForm(),
        identities=contact.identities.order_by("network", "id"),
        tags=contact.tags.all(),
        tasks=contact_open_tasks(contact.pk)[:20],
        purchases=contact_purchases(contact.pk)[:20],
        history=contact_history(contact.pk)[:HISTORY_SIZE],
        duplicates=contact_duplicates(contact),
    )
    return render(request, "contacts/detail.html", context)


def _back(pk: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("contacts:detail", args=[pk]) + anchor)


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
    return _back(contact.pk)


@require_POST
@permission_required("contacts.add_timelineentry", raise_exception=True)
def contact_note(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        contact_add_note(contact=contact, author=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Note added."))
    else:
        messages.error(request, _("A note cannot be empty."))
    return _back(contact.pk)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_owner(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = OwnerForm(request.POST)
    if form.is_valid():
        contact_update(
            contact=contact, actor=request.user, fields={"owner": form.cleaned_data["owner"]}
        )
        messages.success(request, _("Owner saved."))
    else:
        messages.error(request, _("Choose a member of staff who handles contacts."))
    return _back(contact.pk)


@require_POST
@permission_required("contacts.add_task", raise_exception=True)
def contact_task_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = TaskForm(request.POST)
    if form.is_valid():
        task_create(
            contact=contact,
            title=form.cleaned_data["title"],
            due_at=form.cleaned_data["due_at"],
            assignee=form.cleaned_data["assignee"] or request.user,
            actor=request.user,
        )
        messages.success(request, _("Task added."))
    else:
        messages.error(request, _("A task needs a title and a due date."))
    return _back(contact.pk, "#tasks")


@require_POST
@permission_required("contacts.change_task", raise_exception=True)
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("contact", "assignee"), pk=pk)
    task_complete(task=task, done=request.POST.get("done", "1") == "1")
    if request.htmx:
        return render(request, "contacts/tasks.html#task", {"task": task, "show_contact": True})
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/contacts/") else reverse("contacts:tasks"))


@permission_required("contacts.view_task", raise_exception=True)
def my_tasks(request: HttpRequest) -> HttpResponse:
    done = request.GET.get("done") == "1"
    tasks = tasks_for_user(request.user, done=done)[:200]
    return render(
        request,
        "contacts/tasks.html",
        {"tasks": tasks, "done": done, "show_contact": True},
    )


@require_POST
@permission_required("contacts.add_purchase", raise_exception=True)
def contact_purchase_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = PurchaseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        _purchase, created = purchase_record(
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
        messages.error(request, _("A purchase needs a product and an amount."))
    return _back(contact.pk, "#purchases")


@require_POST
@permission_required("contacts.merge_contact", raise_exception=True)
def contact_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        other = get_object_or_404(Contact, pk=form.cleaned_data["other_id"])
        try:
            contact_merge(survivor=contact, other=other, actor=request.user)
            messages.success(request, _("Contacts merged."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Choose a contact to merge."))
    return _back(contact.pk)


@permission_required("contacts.export_contact", raise_exception=True)
def contact_export_json(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    data = contact_export(contact=contact, actor=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@permission_required("contacts.erase_contact", raise_exception=True)
def contact_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact_for_user(request, pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact_erase(contact=contact, actor=request.user)
        messages.success(request, _("The contact's personal data was erased."))
        return _back(contact.pk)
    return render(request, "contacts/erase.html", {"contact": contact, "form": form})


# --- CSV import -------------------------------------------------------------------------


@permission_required("contacts.add_contactimport", raise_exception=True)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = contact_import_draft(
                actor=request.user, filename=upload.name, content=csv_decode(upload.read())
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("contacts:import", pk=job.pk)
    recent = ContactImport.objects.filter(created_by=request.user).defer("content")[:10]
    return render(request, "contacts/import.html", {"form": form, "recent": recent})


@permission_required("contacts.add_contactimport", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ContactImport, pk=pk, created_by=request.user)
    context = {"job": job}
    if job.state == ContactImport.State.DRAFT:
        preview = import_preview(job.content)
        form = ImportMappingForm(
            request.POST or None, headers=preview.headers, initial_mapping=job.mapping
        )
        if request.method == "POST" and form.is_valid():
            try:
                contact_import_start(job=job, mapping=form.mapping())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("contacts:import", pk=job.pk)
        context.update(preview=preview, form=form)
    if request.htmx and request.htmx.target == "import-progress":
        if job.state in (ContactImport.State.DONE, ContactImport.State.FAILED):
            return HttpResponseClientRefresh()
        return render(request, "contacts/import_status.html#progress", context)
    return render(request, "contacts/import_status.html", context)
