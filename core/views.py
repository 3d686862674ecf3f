from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .selectors import notifications_for_user
from .services import notifications_mark_read as mark_read


@permission_required("core.view_notification", raise_exception=True)
def notifications(request: HttpRequest) -> HttpResponse:
    items = notifications_for_user(user=request.user)
    return render(request, "core/notifications.html", {"items": items})


@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    """Mark the signed-in user's own notifications read (nobody else's)."""
    mark_read(user=request.user)
    return redirect("core:notifications")
