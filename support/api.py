from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.models import TimelineEntry
from contacts.serializers import TimelineEntrySerializer
from core.api import MomentoReadOnlyViewSet, MomentoViewSet

from . import selectors, services
from .filters import IncidentFilter, TicketFilter
from .models import CannedResponse, CsatSurvey, Incident, SlaPolicy, Ticket, TicketReply
from .serializers import (
    AssignInputSerializer,
    BulkAssignInputSerializer,
    CannedResponseSerializer,
    EscalateInputSerializer,
    HandoffInputSerializer,
    IncidentLinkInputSerializer,
    IncidentResolveInputSerializer,
    IncidentSerializer,
    PriorityInputSerializer,
    ReplyInputSerializer,
    ResolveInputSerializer,
    SlaPolicySerializer,
    StatementInputSerializer,
    StatusInputSerializer,
    SupportReportSerializer,
    TicketCreateSerializer,
    TicketReplySerializer,
    TicketSerializer,
    as_drf_error,
)

CHANGE_TICKET = ("support.change_ticket",)
CHANGE_INCIDENT = ("support.change_incident",)


def _ticket_queryset():
    return selectors.ticket_list_queryset().prefetch_related(
        Prefetch(
            "interactions",
            queryset=TimelineEntry.objects.select_related(
                "identity", "created_by", "account"
            ).order_by("occurred_at", "id"),
        ),
        Prefetch("replies", queryset=TicketReply.objects.select_related("message__account")),
        Prefetch("csat_surveys", queryset=CsatSurvey.objects.order_by("created_at")),
    )


class TicketViewSet(MomentoViewSet):
    """Tickets. Create with ``{"interaction": ID}`` or ``{"contact": ID, "subject": ...}``;
    work on them with the actions (assign, reply, handoff, resolve, status, priority,
    escalate). ``?queue=mine|unassigned|breaching`` gives the queue views."""

    queryset = Ticket.objects.all()
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    keyset_fields = ("id",)

    def get_queryset(self):
        qs = self.scope_queryset(_ticket_queryset())
        queue = self.request.query_params.get("queue")
        if queue in selectors.QUEUES:
            qs = selectors.ticket_queue(qs, queue=queue, user=self.request.user)
        return qs

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            selectors.tickets_with_sla(page)
        return page

    def get_object(self):
        ticket = super().get_object()
        selectors.tickets_with_sla([ticket])
        return ticket

    def _respond(self, ticket, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=ticket.pk)
        selectors.tickets_with_sla([fresh])
        return Response(self.get_serializer(fresh).data, status=code)

    def _run(self, serializer_class, call):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            return call(serializer.validated_data)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None

    @extend_schema(
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
        parameters=[OpenApiParameter("queue", str, enum=list(selectors.QUEUES))],
    )
    def create(self, request, *args, **kwargs):
        def call(data):
            if data.get("interaction") is not None:
                ticket = services.ticket_open_for_entry(
                    entry=data["interaction"], user=request.user
                )
                if data.get("priority"):
                    services.ticket_change_priority(
                        ticket=ticket, priority=data["priority"], user=request.user
                    )
                return ticket
            return services.ticket_open(
                contact=data["contact"],
                subject=data["subject"],
                user=request.user,
                priority=data.get("priority") or 2,
            )

        return self._respond(self._run(TicketCreateSerializer, call), status.HTTP_201_CREATED)

    @extend_schema(request=AssignInputSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], required_permissions=CHANGE_TICKET)
    def assign(self, request, pk=None):
        ticket = self.get_object()
        self._run(
            AssignInputSerializer,
            lambda d: services.ticket_assign(
                ticket=ticket, assignee=d["assignee"], user=request.user
            ),
        )
        return self._respond(ticket)

    @extend_schema(request=BulkAssignInputSerializer, responses={200: None})
    @action(
        detail=False, methods=["post"], url_path="bulk-assign", required_permissions=CHANGE_TICKET
    )
    def bulk_assign(self, request):
        count = self._run(
            BulkAssignInputSerializer,
            lambda d: services.tickets_bulk_assign(
                tickets=d["tickets"], assignee=d["assignee"], user=request.user
            ),
        )
        return Response({"assigned": count})

    @extend_schema(request=ReplyInputSerializer, responses={201: TicketReplySerializer})
    @action(detail=True, methods=["post"], required_permissions=CHANGE_TICKET)
    def reply(self, request, pk=None):
        """Answer through the account that received the conversation (public or DM)."""
        ticket = self.get_object()
        reply = self._run(
            ReplyInputSerializer,
            lambda d: services.ticket_reply(
                ticket=ticket,
                kind=d["kind"],
                text=d["text"],
                pending=d["pending"],
                entry=d.get("interaction"),
                user=request.user,
            ),
        )
        return Response(TicketReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HandoffInputSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], required_permissions=CHANGE_TICKET)
    def handoff(self, request, pk=None):
        """Public acknowledgement to the complaint plus a DM to its author, once."""
        ticket = self.get_object()
        self._run(
            HandoffInputSerializer,
            lambda d: services.ticket_handoff(
                ticket=ticket, user=request.user, public_text=d["public_text"], dm_text=d["dm_text"]
            ),
        )
        return self._respond(ticket)

    @extend_schema(request=ResolveInputSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], required_permissions=CHANGE_TICKET)
    def resolve(self, request, pk=None):
        ticket = self.get_object()
        self._run(
            ResolveInputSerializer,
            lambda d: services.ticket_resolve(
                ticket=ticket, user=request.user, message=d["message"]
            ),
        )
        return self._respond(ticket)

    @extend_schema(request=StatusInputSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], url_path="status", required_permissions=CHANGE_TICKET)
    def change_status(self, request, pk=None):
        ticket = self.get_object()
        self._run(
            StatusInputSerializer,
            lambda d: services.ticket_change_status(
                ticket=ticket, status=d["status"], user=request.user
            ),
        )
        return self._respond(ticket)

    @extend_schema(request=PriorityInputSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], url_path="priority", required_permissions=CHANGE_TICKET)
    def change_priority(self, request, pk=None):
        ticket = self.get_object()
        self._run(
            PriorityInputSerializer,
            lambda d: services.ticket_change_priority(
                ticket=ticket, priority=d["priority"], user=request.user
            ),
        )
        return self._respond(ticket)

    @extend_schema(request=EscalateInputSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], required_permissions=CHANGE_TICKET)
    def escalate(self, request, pk=None):
        ticket = self.get_object()
        self._run(
            EscalateInputSerializer,
            lambda d: services.ticket_escalate(
                ticket=ticket, reason=d["reason"], user=request.user
            ),
        )
        return self._respond(ticket)


class SlaPolicyViewSet(MomentoViewSet):
    queryset = SlaPolicy.objects.select_related("team")
    serializer_class = SlaPolicySerializer
    filterset_fields = ["team", "priority"]


class CannedResponseViewSet(MomentoViewSet):
    queryset = CannedResponse.objects.all()
    serializer_class = CannedResponseSerializer
    filterset_fields = ["team", "language", "purpose"]


class IncidentViewSet(MomentoViewSet):
    """Incidents: similar complaints grouped; post one statement to all, resolve all."""

    queryset = Incident.objects.prefetch_related("tickets")
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _done(self, incident):
        return Response(self.get_serializer(Incident.objects.get(pk=incident.pk)).data)

    @extend_schema(request=IncidentLinkInputSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="link", required_permissions=CHANGE_INCIDENT)
    def link(self, request, pk=None):
        incident = self.get_object()
        services.incident_link(
            incident=incident, tickets=self._input(IncidentLinkInputSerializer)["tickets"]
        )
        return self._done(incident)

    @extend_schema(request=StatementInputSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"], required_permissions=CHANGE_INCIDENT)
    def statement(self, request, pk=None):
        """Reply the statement once to every linked complaint (queued)."""
        incident = self.get_object()
        data = self._input(StatementInputSerializer)
        try:
            services.incident_post_statement(
                incident=incident, text=data["text"], user=request.user
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        return self._done(incident)

    @extend_schema(request=IncidentResolveInputSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"], required_permissions=CHANGE_INCIDENT)
    def resolve(self, request, pk=None):
        incident = self.get_object()
        data = self._input(IncidentResolveInputSerializer)
        try:
            services.incident_resolve(
                incident=incident, user=request.user, final_message=data["final_message"]
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        return self._done(incident)


class TestimonialViewSet(MomentoReadOnlyViewSet):
    """Praise received from people (intent "praise"), newest first, for marketing."""

    queryset = selectors.testimonial_queryset().select_related("created_by")
    serializer_class = TimelineEntrySerializer
    keyset_fields = ("occurred_at", "id")
    filterset_fields = ["network", "language"]


class SupportReportView(APIView):
    """``GET /api/v1/reports/support/?from=YYYY-MM-DD&to=YYYY-MM-DD`` (last 30 days by
    default): volume, median times, SLA attainment, CSAT, topics and incidents."""

    required_permissions = ("support.view_ticket",)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="First day, YYYY-MM-DD"),
            OpenApiParameter("to", str, description="Last day, YYYY-MM-DD"),
        ],
        responses={200: dict},
    )
    def get(self, request):
        try:
            start, end = selectors.report_period(
                request.query_params.get("from"), request.query_params.get("to")
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        report = selectors.support_report(start=start, end=end)
        return Response(SupportReportSerializer(report).data)


urlpatterns = [
    path("reports/support/", SupportReportView.as_view(), name="support-report"),
]


def register(router) -> None:
    router.register("tickets", TicketViewSet, basename="ticket")
    router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
    router.register("canned-responses", CannedResponseViewSet, basename="canned-response")
    router.register("incidents", IncidentViewSet, basename="incident")
    router.register("testimonials", TestimonialViewSet, basename="testimonial")
