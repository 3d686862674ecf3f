from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from contacts.models import Contact, Stage

from .models import Notification


def home(request: HttpRequest) -> HttpResponse:
    counts = dict(Contact.objects.values_list("stage").annotate(n=Count("id")).order_by())
    stages = [(stage, counts.get(stage.value, 0)) for stage in Stage]
    return render(request, "crm/home.html", {"stages": stages})


def section_unbuilt(request: HttpRequest, *, title, what) -> HttpResponse:
    """A section of the navigation that is not built yet says so plainly."""
    return render(request, "crm/unbuilt.html", {"title": title, "what": what})


def inbox(request: HttpRequest) -> HttpResponse:
    return section_unbuilt(
        request,
        title=_("Inbox"),
        what=_("The unified inbox arrives with social sync (Bluesky, Mastodon and X)."),
    )


def reports(request: HttpRequest) -> HttpResponse:
    """The reports hub: one card per section that has reports (crm/reports.html)."""
    return render(request, "crm/reports.html")


@permission_required("crm.view_notification", raise_exception=True)
def notifications(request: HttpRequest) -> HttpResponse:
    items = request.user.notifications.order_by("-created_at")[:100]
    return render(request, "crm/notifications.html", {"items": items})


@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("crm:notifications")
