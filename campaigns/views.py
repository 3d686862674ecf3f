from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from crm.views import section_unbuilt


def index(request: HttpRequest) -> HttpResponse:
    return section_unbuilt(
        request,
        title=_("Campaigns"),
        what=_("Listening, lead capture and campaign funnels are not available yet."),
    )
