from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from crm.views import section_unbuilt


def index(request: HttpRequest) -> HttpResponse:
    return section_unbuilt(
        request,
        title=_("Support"),
        what=_("Tickets, SLAs, handoff to DMs, incidents and CSAT are not available yet."),
    )
