from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts.models import TimelineEntry
from core.api import MomentoReadOnlyViewSet, MomentoViewSet
from core.choices import Direction

from .filters import InteractionFilter
from .models import OutboundMessage
from .outbox import outbound_retry
from .selectors import interaction_list_queryset, interaction_queryset, socialaccount_status_list
from .serializers import (
    AnswerInputSerializer,
    HandledInputSerializer,
    InteractionSerializer,
    OutboundMessageSerializer,
    OutboundRetryInputSerializer,
    SocialAccountConnectSerializer,
    SocialAccountSerializer,
    SyncQueuedSerializer,
)
from .services import (
    interaction_answer,
    interaction_mark_handled,
    socialaccount_connect,
    socialaccount_pause,
    socialaccount_resume,
)
from .sync import sync_queue


def _service_call(func, **kwargs):
    """Call a service; its ``ValidationError`` becomes a 400 with field messages."""
    try:
        return func(**kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None


class SocialAccountViewSet(MomentoViewSet):
    """Our accounts on the networks. Connecting one (POST) logs in with the credentials
    first; they are stored encrypted and never returned."""

    queryset = socialaccount_status_list()
    serializer_class = SocialAccountSerializer
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = ["network", "kind", "state"]

    @extend_schema(request=SocialAccountConnectSerializer, responses={201: SocialAccountSerializer})
    def create(self, request, *args, **kwargs):
        data = SocialAccountConnectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = _service_call(socialaccount_connect, **data.validated_data, actor=request.user)
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: SyncQueuedSerializer})
    @action(detail=True, methods=["post"], required_permissions=("crm.change_socialaccount",))
    def sync(self, request, pk=None):
        """Queue a sync of this account now; answers with the Celery task id."""
        account = self.get_object()
        task_id = sync_queue(account_id=account.pk)
        return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=SocialAccountSerializer)
    @action(detail=True, methods=["post"], required_permissions=("crm.change_socialaccount",))
    def pause(self, request, pk=None):
        """Stop syncing this account until it is resumed."""
        account = _service_call(socialaccount_pause, account=self.get_object())
        return Response(self.get_serializer(account).data)

    @extend_schema(request=None, responses=SocialAccountSerializer)
    @action(detail=True, methods=["post"], required_permissions=("crm.change_socialaccount",))
    def resume(self, request, pk=None):
        """Sync a paused account again (not one whose credentials were rejected)."""
        account = _service_call(socialaccount_resume, account=self.get_object())
        return Response(self.get_serializer(account).data)


class InteractionViewSet(MomentoReadOnlyViewSet):
    """Social timeline entries (mentions, replies, quotes, follows, likes, reposts, DMs
    and posts, in and out), newest first with cursor pagination."""

    queryset = interaction_queryset()
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    keyset_fields = ("occurred_at", "id")

    def get_queryset(self):
        if self.action == "list":
            return self.scope_queryset(interaction_list_queryset())
        return super().get_queryset()

    def _inbound(self) -> TimelineEntry:
        entry = self.get_object()
        if entry.direction != Direction.INBOUND:
            raise serializers.ValidationError({"id": "Only inbound items can be answered."})
        return entry

    @extend_schema(request=AnswerInputSerializer, responses={202: OutboundMessageSerializer})
    @action(detail=True, methods=["post"], required_permissions=("crm.add_outboundmessage",))
    def reply(self, request, pk=None):
        """Answer through the account that received the item: a public reply, or a DM
        to its author with ``"private": true``. Sent once per ``idempotency_key``."""
        entry = self._inbound()
        data = AnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = _service_call(
            interaction_answer, entry=entry, user=request.user, **data.validated_data
        )
        message.refresh_from_db()
        return Response(OutboundMessageSerializer(message).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=HandledInputSerializer, responses=InteractionSerializer)
    @action(detail=True, methods=["post"], required_permissions=("contacts.change_timelineentry",))
    def handled(self, request, pk=None):
        """Take the item out of the inbox (``{"handled": false}`` puts it back)."""
        entry = self._inbound()
        data = HandledInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = _service_call(
            interaction_mark_handled,
            entry=entry,
            user=request.user,
            handled=data.validated_data["handled"],
        )
        return Response(self.get_serializer(entry).data)


class OutboundMessageViewSet(MomentoReadOnlyViewSet):
    """The outbox: what Momento sent or tried to send, with each failure as a code and a
    sentence (``failure_text``); ``retry`` sends a failed or unknown one again."""

    queryset = OutboundMessage.objects.select_related("account").order_by("-id")
    serializer_class = OutboundMessageSerializer
    filterset_fields = ["state", "kind", "account", "failure"]

    @extend_schema(request=OutboundRetryInputSerializer, responses={202: OutboundMessageSerializer})
    @action(detail=True, methods=["post"], required_permissions=("crm.add_outboundmessage",))
    def retry(self, request, pk=None):
        """**Retry** a failed message or one of unknown outcome (no ``text``), or **edit
        and resend** it with ``text``; 400 with field messages when it cannot be."""
        data = OutboundRetryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = _service_call(
            outbound_retry, message=self.get_object(), text=data.validated_data.get("text")
        )
        return Response(OutboundMessageSerializer(message).data, status=status.HTTP_202_ACCEPTED)


def register(router) -> None:
    router.register("social-accounts", SocialAccountViewSet, basename="socialaccount")
    router.register("interactions", InteractionViewSet, basename="interaction")
    router.register("outbox", OutboundMessageViewSet, basename="outboundmessage")
