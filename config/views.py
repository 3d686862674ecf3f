"""The project's own pages, above every app: the home page and the reports hub link to
what each section offers."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from contacts.models import Contact, Stage
from core.roles import MANAGER, SALES, SUPPORT

from . import home as home_data


def home(request: HttpRequest) -> HttpResponse:
    """What to do next, per role: Support's tickets by SLA time left, Sales' tasks,
    leads and feeds, a Manager's SLA today, accounts and incidents."""
    roles = home_data.user_roles(request.user)
    context: dict = {"roles": roles}
    if SUPPORT in roles:
        context["support"] = home_data.home_support(user=request.user)
    if SALES in roles:
        context["sales"] = home_data.home_sales(user=request.user)
    if MANAGER in roles:
        context["manager"] = home_data.home_manager()
    if SALES in roles or MANAGER in roles or not roles:
        # A salesperson's figures are their own contacts ("Your pipeline"); a manager's
        # are everyone's.
        contacts = Contact.objects.all()
        context["stages_mine"] = SALES in roles and MANAGER not in roles
        if context["stages_mine"]:
            contacts = contacts.filter(owner=request.user)
        counts = dict(contacts.values_list("stage").annotate(n=Count("id")).order_by())
        context["stages"] = [(stage, counts.get(stage.value, 0)) for stage in Stage]
    return render(request, "home.html", context)


def reports(request: HttpRequest) -> HttpResponse:
    """The reports hub: one card per section that has reports (reports.html)."""
    return render(request, "reports.html")
