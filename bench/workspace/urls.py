"""The real URLs, plus two floors for the same 50 contacts: a bare DRF list (same
authentication, permission and throttle classes, a three-field serializer, no paging,
filters or prefetch) and a bare Django view (one query, JSON, session login)."""

from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.urls import path
from rest_framework import generics, serializers

from config.urls import urlpatterns as real
from contacts.models import Contact


class BareContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "display_name", "stage"]


class BareDrfList(generics.ListAPIView):
    serializer_class = BareContactSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Contact.objects.order_by("-id")[:50]


@permission_required("contacts.view_contact", raise_exception=True)
def bare_view(request):
    rows = list(Contact.objects.order_by("-id").values("id", "display_name", "stage")[:50])
    return JsonResponse({"results": rows})


urlpatterns = [
    path("bench/bare-drf/", BareDrfList.as_view()),
    path("bench/bare/", bare_view),
    *real,
]
