from __future__ import annotations

from django.urls import reverse

from . import server as demo_server


def demo(request):
    """The "Simulate a customer" link, only on a development box with the demo server."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated or not demo_server.demo_enabled():
        return {}
    return {"demo_simulate_url": reverse("demo:simulate")}
