from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api_base import MomentoViewSet
from crm.choices import EntryKind
from crm.pagination import KeysetPagination

from .filters import ContactFilter
from .selectors import contact_list_queryset, contact_timeline
from .serializers import ContactSerializer, StageChangeInputSerializer, TimelineEntrySerializer


class ContactViewSet(MomentoViewSet):
    queryset = contact_list_queryset()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    keyset_fields = ("id",)

    @extend_schema(request=StageChangeInputSerializer, responses=ContactSerializer)
    @action(detail=True, methods=["post"], required_permissions=("contacts.change_contact",))
    def stage(self, request, pk=None):
        """Move the contact to another stage, recording who did it and why."""
        contact = self.get_object()
        serializer = StageChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(contact=contact, actor=request.user)
        return Response(
            ContactSerializer(self.get_object(), context={"request": request}).data,
            status=status.HTTP_200_OK,
        )

    @extend_schema(
        responses=TimelineEntrySerializer(many=True),
        parameters=[OpenApiParameter("kind", str, many=True, enum=EntryKind.values)],
    )
    @action(
        detail=True,
        methods=["get"],
        required_permissions=("contacts.view_contact",),
        filterset_class=None,
        keyset_fields=("occurred_at", "id"),
    )
    def timeline(self, request, pk=None):
        """The contact's timeline, newest first, with cursor pagination."""
        contact = self.get_object()
        kinds = [k for k in request.query_params.getlist("kind") if k in EntryKind.values]
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(contact_timeline(contact.pk, kinds=kinds), request, self)
        return paginator.get_paginated_response(TimelineEntrySerializer(page, many=True).data)


def register(router) -> None:
    router.register("contacts", ContactViewSet, basename="contact")
