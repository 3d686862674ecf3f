from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

NAV = [
    ("inbox", _("Inbox"), "inbox:list"),
    ("contacts", _("Contacts"), "contacts:list"),
    ("pipeline", _("Pipeline"), "contacts:pipeline"),
    ("campaigns", _("Campaigns"), "campaigns:index"),
    ("support", _("Support"), "support:index"),
    ("reports", _("Reports"), "reports"),
]


def shell(request):
    """Navigation and the unread-notification count for the base layout (one query,
    only for signed-in users)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    section = getattr(request, "nav_section", None)
    if section is None and request.resolver_match:
        section = request.resolver_match.url_name
    path = request.path
    items = []
    for key, label, url_name in NAV:
        url = reverse(url_name)
        items.append(
            {
                "key": key,
                "label": label,
                "url": url,
                "active": path == url or (url != "/" and path.startswith(url)),
            }
        )
    return {
        "nav_items": items,
        "unread_notifications": lambda: user.notifications.filter(read_at__isnull=True).count(),
    }
