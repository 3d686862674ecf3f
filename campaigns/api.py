from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import MomentoViewSet
from core.paging import KeysetPagination

from .filters import (
    CampaignFilter,
    CampaignMatchFilter,
    ListeningRuleFilter,
    ScheduledPostFilter,
    TrackedLinkFilter,
)
from .models import Attribution, Campaign, CampaignMatch, ListeningRule, ScheduledPost, TrackedLink
from .selectors import campaign_feed, campaign_funnel, campaign_listen_blocker, campaign_posts
from .serializers import (
    CampaignMatchSerializer,
    CampaignSerializer,
    FunnelSerializer,
    ListeningRuleSerializer,
    ScheduledPostSerializer,
    TrackedLinkSerializer,
)
from .services import campaign_listen_now, scheduled_post_cancel


class CampaignViewSet(MomentoViewSet):
    queryset = Campaign.objects.prefetch_related("accounts")
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter

    @extend_schema(
        responses=FunnelSerializer,
        parameters=[OpenApiParameter("touch", str, enum=Attribution.Touch.values)],
    )
    @action(
        detail=True,
        methods=["get"],
        required_permissions=("campaigns.view_campaign",),
        filterset_class=None,
    )
    def funnel(self, request, pk=None):
        """Discovered → lead → customer, revenue and tickets, in total and per account:
        the figures of the funnel page and its CSV."""
        touch = request.query_params.get("touch", Attribution.Touch.FIRST)
        if touch not in Attribution.Touch.values:
            raise serializers.ValidationError({"touch": "Use first or last."})
        return Response(campaign_funnel(self.get_object(), touch=touch).as_dict())

    @extend_schema(
        responses=CampaignMatchSerializer(many=True),
        parameters=[OpenApiParameter("state", str, enum=CampaignMatch.State.values)],
    )
    @action(
        detail=True,
        methods=["get"],
        required_permissions=("campaigns.view_campaignmatch",),
        filterset_class=None,
        keyset_fields=("occurred_at", "id"),
    )
    def feed(self, request, pk=None):
        """Matched posts, newest first, with cursor pagination."""
        campaign = self.get_object()
        filterset = CampaignMatchFilter(request.query_params, queryset=campaign_feed(campaign.pk))
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        state = filterset.form.cleaned_data.get("state") or ""
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(campaign_feed(campaign.pk, state=state), request, self)
        return paginator.get_paginated_response(CampaignMatchSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("ListenQueued", {"queued": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"], required_permissions=("campaigns.change_campaign",))
    def listen(self, request, pk=None):
        """Search every network for the campaign's active rules now."""
        campaign = self.get_object()
        queued = campaign_listen_now(campaign=campaign)
        body = {"queued": queued}
        if not queued:
            body["reason"] = campaign_listen_blocker(campaign)
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ListeningRuleViewSet(MomentoViewSet):
    queryset = ListeningRule.objects.select_related("campaign")
    serializer_class = ListeningRuleSerializer
    filterset_class = ListeningRuleFilter


class TrackedLinkViewSet(MomentoViewSet):
    queryset = TrackedLink.objects.select_related("campaign", "account")
    serializer_class = TrackedLinkSerializer
    filterset_class = TrackedLinkFilter


class ScheduledPostViewSet(MomentoViewSet):
    """Posts are created through the outbox and never edited; cancel one not sent yet."""

    queryset = ScheduledPost.objects.select_related("account", "outbound", "link")
    serializer_class = ScheduledPostSerializer
    filterset_class = ScheduledPostFilter
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=None, responses=ScheduledPostSerializer)
    @action(detail=True, methods=["post"], required_permissions=("campaigns.change_scheduledpost",))
    def cancel(self, request, pk=None):
        """Cancel a post that is still scheduled (409 when it is sending or sent)."""
        post = self.get_object()
        if not scheduled_post_cancel(post=post):
            return Response(
                {"detail": "The post is already being sent or was sent."},
                status=status.HTTP_409_CONFLICT,
            )
        post = campaign_posts(post.campaign_id).get(pk=post.pk)
        return Response(ScheduledPostSerializer(post, context={"request": request}).data)


def register(router) -> None:
    router.register("campaigns", CampaignViewSet, basename="campaign")
    router.register("campaign-rules", ListeningRuleViewSet, basename="campaign-rule")
    router.register("campaign-links", TrackedLinkViewSet, basename="campaign-link")
    router.register("campaign-posts", ScheduledPostViewSet, basename="campaign-post")
