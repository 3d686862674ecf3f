"""CSV import: upload a file, map its columns, then watch the import run (a Celery
task) and read its row errors."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRefresh

from core.access import get_for_user_or_404

from .. import services
from ..forms import ImportMappingForm, ImportUploadForm
from ..models import ContactImport


@permission_required("contacts.add_contactimport", raise_exception=True)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.contact_import_draft(
                actor=request.user, filename=upload.name, content=services.csv_decode(upload.read())
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("contacts:import", pk=job.pk)
    recent = ContactImport.objects.visible_to(request.user).defer("content")[:10]
    return render(request, "contacts/import.html", {"form": form, "recent": recent})


@permission_required("contacts.add_contactimport", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_for_user_or_404(ContactImport.objects.all(), user=request.user, pk=pk)
    context = {"job": job}
    if job.state == ContactImport.State.DRAFT:
        preview = services.import_preview(job.content)
        form = ImportMappingForm(
            request.POST or None, headers=preview.headers, initial_mapping=job.mapping
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.contact_import_start(job=job, mapping=form.mapping())
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
