"""GDPR requests from a contact's page: download everything about them as JSON, or
erase their personal data (after a confirmation)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.access import get_for_user_or_404

from .. import services
from ..forms import EraseForm
from ..models import Contact
from .contact import contact_redirect


@permission_required("contacts.export_contact", raise_exception=True)
def contact_export_json(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    data = services.contact_export(contact=contact, actor=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@permission_required("contacts.erase_contact", raise_exception=True)
def contact_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.contact_erase(contact=contact, actor=request.user)
        messages.success(request, _("The contact's personal data was erased."))
        return contact_redirect(contact.pk)
    return render(request, "contacts/erase.html", {"contact": contact, "form": form})
