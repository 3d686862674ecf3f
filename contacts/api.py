from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.access import scope_for_user
from core.api import MomentoViewSet
from core.choices import Direction, EntryKind, Intent, Sentiment
from core.paging import KeysetPagination

from . import services
from .filters import ContactFilter, PurchaseFilter, StageRuleFilter, TodoFilter
from .models import (
    Contact,
    ContactImport,
    LabelCorrection,
    Purchase,
    StageRule,
    TimelineEntry,
    Todo,
)
from .selectors import (
    contact_api_list_queryset,
    contact_api_rows_attach,
    contact_duplicates,
    contact_history,
    contact_list_queryset,
    contact_timeline,
)
from .serializers import (
    ContactAuditSerializer,
    ContactExportSerializer,
    ContactImportInputSerializer,
    ContactImportSerializer,
    ContactSerializer,
    DuplicateSerializer,
    EraseResultSerializer,
    MergeInputSerializer,
    MergeResultSerializer,
    NoteInputSerializer,
    PurchaseInputSerializer,
    PurchaseSerializer,
    StageChangeInputSerializer,
    StageRuleSerializer,
    TimelineEntrySerializer,
    TodoSerializer,
)


def _service_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(serializers.as_serializer_error(exc))


class ContactViewSet(MomentoViewSet):
    queryset = contact_list_queryset()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    keyset_fields = ("id",)

    def get_queryset(self):
        if self.action == "list":
            return self.scope_queryset(contact_api_list_queryset())
        return super().get_queryset()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if self.action == "list" and page is not None:
            # The page's identities and tags, for the list serializer's fast path.
            contact_api_rows_attach(page)
        return page

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

    @extend_schema(request=NoteInputSerializer, responses={201: TimelineEntrySerializer})
    @action(
        detail=True,
        methods=["post"],
        required_permissions=("contacts.add_timelineentry", "contacts.view_contact"),
        filterset_class=None,
    )
    def notes(self, request, pk=None):
        """Add a note to the contact's timeline."""
        contact = self.get_object()
        serializer = NoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = serializer.save(contact=contact, author=request.user)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ContactAuditSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        required_permissions=("contacts.view_contact",),
        filterset_class=None,
        keyset_fields=("created_at", "id"),
    )
    def history(self, request, pk=None):
        """Who changed what on this contact, newest first (cursor pagination)."""
        contact = self.get_object()
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(contact_history(contact.pk), request, self)
        return paginator.get_paginated_response(ContactAuditSerializer(page, many=True).data)

    @extend_schema(responses=DuplicateSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        required_permissions=("contacts.view_contact",),
        filterset_class=None,
        pagination_class=None,
    )
    def duplicates(self, request, pk=None):
        """Likely duplicates: the same email, the same handle on another network, or
        the same name."""
        found = contact_duplicates(self.get_object())
        data = [
            {
                "contact": ContactSerializer(d.contact, context={"request": request}).data,
                "reasons": d.reasons,
            }
            for d in found
        ]
        return Response(data)

    @extend_schema(
        request=MergeInputSerializer,
        responses={200: MergeResultSerializer, 400: OpenApiResponse(description="Bad other_id")},
    )
    @action(
        detail=True,
        methods=["post"],
        required_permissions=("contacts.merge_contact",),
        filterset_class=None,
    )
    def merge(self, request, pk=None):
        """Merge contact ``other_id`` into this one: its identities, timeline, purchases,
        tasks, stage changes and history move here, atomically; it is then deleted."""
        survivor = self.get_object()
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        other = Contact.objects.get(pk=serializer.validated_data["other_id"])
        try:
            summary = services.contact_merge(survivor=survivor, other=other, actor=request.user)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        return Response(MergeResultSerializer(summary).data)

    @extend_schema(responses=ContactExportSerializer)
    @action(
        detail=True,
        methods=["get"],
        required_permissions=("contacts.export_contact",),
        filterset_class=None,
    )
    def export(self, request, pk=None):
        """Everything stored about the contact (GDPR access request), as JSON."""
        return Response(services.contact_export(contact=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=EraseResultSerializer)
    @action(
        detail=True,
        methods=["post"],
        required_permissions=("contacts.erase_contact",),
        filterset_class=None,
    )
    def erase(self, request, pk=None):
        """Erase the contact's personal data (GDPR); counts are kept."""
        return Response(services.contact_erase(contact=self.get_object(), actor=request.user))


class TodoViewSet(MomentoViewSet):
    """Follow-up tasks on contacts. ``?mine=true`` lists the caller's."""

    queryset = Todo.objects.select_related("contact", "assignee")
    serializer_class = TodoSerializer
    filterset_class = TodoFilter

    @extend_schema(request=None, responses=TodoSerializer)
    @action(detail=True, methods=["post"], required_permissions=("contacts.change_todo",))
    def complete(self, request, pk=None):
        """Mark the task done (idempotent)."""
        todo = services.todo_complete(todo=self.get_object())
        return Response(TodoSerializer(todo).data)


class PurchaseViewSet(MomentoViewSet):
    """Purchases. ``POST`` is idempotent per ``(source, external_ref)``: the first
    post answers 201, the same order posted again answers 200 with the stored one."""

    queryset = Purchase.objects.all()
    serializer_class = PurchaseSerializer
    filterset_class = PurchaseFilter
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(
        request=PurchaseInputSerializer,
        responses={200: PurchaseSerializer, 201: PurchaseSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = PurchaseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            purchase, created = serializer.save(actor=request.user)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        return Response(
            PurchaseSerializer(purchase).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class StageRuleViewSet(MomentoViewSet):
    queryset = StageRule.objects.all()
    serializer_class = StageRuleSerializer
    filterset_class = StageRuleFilter


class ContactImportViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """CSV imports: ``POST`` a file (and optionally a mapping), then poll the import
    for its progress and row errors."""

    queryset = ContactImport.objects.defer("content")
    serializer_class = ContactImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    keyset_fields = ("id",)

    def get_queryset(self):
        return scope_for_user(super().get_queryset(), self.request.user)

    @extend_schema(request=ContactImportInputSerializer, responses={202: ContactImportSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ContactImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            with transaction.atomic():
                job = services.contact_import_draft(
                    actor=request.user,
                    filename=upload.name,
                    content=services.csv_decode(upload.read()),
                )
                job = services.contact_import_start(
                    job=job, mapping=serializer.validated_data.get("mapping") or job.mapping
                )
        except DjangoValidationError as exc:
            # A message without a field is about the file (its encoding, its rows).
            if not hasattr(exc, "error_dict"):
                exc = DjangoValidationError({"file": exc.messages})
            raise _service_errors(exc) from None
        return Response(ContactImportSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class LabelCorrectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = LabelCorrection
        fields = [
            "id",
            "entry",
            "text",
            "language",
            "previous_intent",
            "previous_sentiment",
            "previous_confidence",
            "intent",
            "sentiment",
            "corrected_by",
            "created_at",
        ]
        read_only_fields = fields


class LabelCorrectionInputSerializer(serializers.Serializer):
    entry = serializers.PrimaryKeyRelatedField(
        queryset=TimelineEntry.objects.filter(direction=Direction.INBOUND)
    )
    intent = serializers.ChoiceField(choices=Intent.choices, required=False, allow_blank=True)
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False, allow_blank=True)


class LabelCorrectionViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Agents' corrections of the classifier's labels. ``POST`` ``{entry, intent,
    sentiment}`` corrects an entry (either label may be left out); ``GET`` lists them,
    newest first, for the next training run."""

    queryset = LabelCorrection.objects.select_related("corrected_by")
    serializer_class = LabelCorrectionSerializer
    keyset_fields = ("id",)

    def get_queryset(self):
        return scope_for_user(super().get_queryset(), self.request.user).order_by("-id")

    @extend_schema(
        request=LabelCorrectionInputSerializer, responses={201: LabelCorrectionSerializer}
    )
    def create(self, request, *args, **kwargs):
        serializer = LabelCorrectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = scope_for_user(TimelineEntry.objects.all(), request.user).filter(
            pk=data["entry"].pk
        )
        if not entry.exists():
            raise serializers.ValidationError({"entry": ["Not found."]})
        try:
            correction = services.entry_label_correct(
                entry=data["entry"],
                user=request.user,
                intent=data.get("intent", ""),
                sentiment=data.get("sentiment", ""),
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        return Response(LabelCorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    router.register("contacts", ContactViewSet, basename="contact")
    # "tasks": the API's word for a to-do (a path and names its clients use).
    router.register("tasks", TodoViewSet, basename="task")
    router.register("purchases", PurchaseViewSet, basename="purchase")
    router.register("stage-rules", StageRuleViewSet, basename="stagerule")
    router.register("contact-imports", ContactImportViewSet, basename="contactimport")
    router.register("label-corrections", LabelCorrectionViewSet, basename="labelcorrection")
