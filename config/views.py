"""The project's own pages, above every app: the home page and the reports hub link to
what each section offers."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from contacts.models import Contact, Stage


def home(request: HttpRequest) -> HttpResponse:
    counts = dict(Contact.objects.values_list("stage").annotate(n=Count("id")).order_by())
    stages = [(stage, counts.get(stage.value, 0)) for stage in Stage]
    return render(request, "home.html", {"stages": stages})


def reports(request: HttpRequest) -> HttpResponse:
    """The reports hub: one card per section that has reports (reports.html)."""
    return render(request, "reports.html")
