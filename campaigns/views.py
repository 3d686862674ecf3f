from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.access import get_for_user_or_404
from core.paging import keyset_page_or_404

from .exports import funnel_csv_response
from .forms import (
    AccountForm,
    CampaignForm,
    ListeningRuleForm,
    ReplyForm,
    ScheduledPostForm,
    TrackedLinkForm,
)
from .models import Attribution, Campaign, CampaignMatch, ListeningRule, ScheduledPost, TrackedLink
from .selectors import (
    campaign_feed,
    campaign_funnel,
    campaign_list_queryset,
    campaign_listen_blocker,
    campaign_posts,
    campaign_queryset,
)
from .services import (
    campaign_listen_now,
    link_click_record,
    listening_rule_save,
    match_dismiss,
    match_follow,
    match_like,
    match_reply,
    scheduled_post_cancel,
    scheduled_posts_create,
    tracked_link_save,
)

PAGE_SIZE = 50
FEED_PAGE_SIZE = 30


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _add_service_errors(form, exc: ValidationError) -> None:
    """A service's field messages on ``form`` (on top for a field it does not show)."""
    for field, messages_ in exc.message_dict.items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


@permission_required("campaigns.view_campaign", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    page = keyset_page_or_404(
        campaign_list_queryset(),
        fields=("id",),
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    context = {"page": page}
    if request.htmx and request.GET.get("cursor"):
        return render(request, "campaigns/index.html#rows", context)
    return render(request, "campaigns/index.html", context)


@permission_required("campaigns.add_campaign", raise_exception=True)
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        campaign = form.save()
        messages.success(request, _("Campaign created. Add what to listen for."))
        return redirect("campaigns:setup", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": None})


@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Campaign saved."))
        return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


def _feed_context(campaign: Campaign, matches) -> list:
    """Attach to each match the campaign's accounts on its network (for the action forms)."""
    accounts = list(campaign.accounts.order_by("kind", "handle"))
    for match in matches:
        match.account_choices = [a for a in accounts if a.network == match.entry.network]
        match.nonce = uuid.uuid4().hex
    return matches


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The listening feed: matched posts, newest first."""
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    state = request.GET.get("state", "")
    if state not in CampaignMatch.State.values:
        state = ""
    page = keyset_page_or_404(
        campaign_feed(campaign.pk, state=state),
        fields=("occurred_at", "id"),
        cursor=request.GET.get("cursor"),
        size=FEED_PAGE_SIZE,
    )
    _feed_context(campaign, page.items)
    context = {
        "campaign": campaign,
        "page": page,
        "state": state,
        "states": CampaignMatch.State.choices,
        "tab": "feed",
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "campaigns/detail.html#feed-page", context)
    return render(request, "campaigns/detail.html", context)


@require_POST
@permission_required("campaigns.change_campaignmatch", raise_exception=True)
def match_action(request: HttpRequest, pk: int, match_pk: int, action: str) -> HttpResponse:
    """Like, reply, follow back or dismiss one post of the feed. HTMX gets the row back."""
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    match = get_for_user_or_404(
        CampaignMatch.objects.filter(campaign=campaign).select_related(
            "campaign", "entry__contact", "entry__identity", "rule"
        ),
        user=request.user,
        pk=match_pk,
    )
    error = ""
    try:
        if action == "dismiss":
            match_dismiss(match=match, user=request.user)
        elif action == "reply":
            form = ReplyForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose an account and write a reply."))
            match_reply(
                match=match,
                account=form.cleaned_data["account"],
                user=request.user,
                text=form.cleaned_data["text"],
                idempotency_key=form.cleaned_data["nonce"],
            )
        elif action in {"like", "follow"}:
            form = AccountForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose an account."))
            service = match_like if action == "like" else match_follow
            service(match=match, account=form.cleaned_data["account"], user=request.user)
        else:
            raise Http404
    except ValidationError as exc:
        error = _errors(exc)
    if request.htmx:
        _feed_context(campaign, [match])
        return render(
            request,
            "campaigns/detail.html#match",
            {"campaign": campaign, "match": match, "error": error},
        )
    if error:
        messages.error(request, error)
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_listen(request: HttpRequest, pk: int) -> HttpResponse:
    """Search now, without waiting for the schedule."""
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    queued = campaign_listen_now(campaign=campaign)
    if queued:
        messages.success(request, _("Listening now; new posts appear in the feed shortly."))
    else:
        messages.error(request, campaign_listen_blocker(campaign) or _("Nothing to search."))
    return redirect("campaigns:detail", pk=campaign.pk)


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_setup(request: HttpRequest, pk: int) -> HttpResponse:
    """Listening rules and tracked links: lists and the forms that add them."""
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    rule_form = ListeningRuleForm(prefix="rule")
    link_form = TrackedLinkForm(prefix="link", campaign=campaign)
    if request.method == "POST":
        if "rule-keywords" in request.POST:
            if not request.user.has_perm("campaigns.add_listeningrule"):
                raise PermissionDenied
            rule_form = ListeningRuleForm(request.POST, prefix="rule")
            rule_form.instance.campaign = campaign
            if rule_form.is_valid():
                try:
                    listening_rule_save(rule=rule_form.save(commit=False))
                except ValidationError as exc:
                    _add_service_errors(rule_form, exc)
                else:
                    messages.success(request, _("Rule added."))
                    return redirect("campaigns:setup", pk=campaign.pk)
        else:
            if not request.user.has_perm("campaigns.add_trackedlink"):
                raise PermissionDenied
            link_form = TrackedLinkForm(request.POST, prefix="link", campaign=campaign)
            if link_form.is_valid():
                try:
                    tracked_link_save(link=link_form.save(commit=False), user=request.user)
                except ValidationError as exc:
                    _add_service_errors(link_form, exc)
                else:
                    messages.success(request, _("Tracked link created."))
                    return redirect("campaigns:setup", pk=campaign.pk)
    context = {
        "campaign": campaign,
        "tab": "setup",
        "rules": campaign.rules.all(),
        "links": campaign.links.select_related("account"),
        "rule_form": rule_form,
        "link_form": link_form,
    }
    return render(request, "campaigns/setup.html", context)


@require_POST
@permission_required("campaigns.delete_listeningrule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    rules = ListeningRule.objects.filter(campaign=campaign)
    get_for_user_or_404(rules, user=request.user, pk=rule_pk).delete()
    messages.success(request, _("Rule deleted."))
    return redirect("campaigns:setup", pk=campaign.pk)


@permission_required("campaigns.view_scheduledpost", raise_exception=True)
def campaign_posts_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Compose posts for the campaign's accounts, and the posts scheduled so far."""
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    form = ScheduledPostForm(campaign=campaign)
    if request.method == "POST":
        if not request.user.has_perm("campaigns.add_scheduledpost"):
            raise PermissionDenied
        form = ScheduledPostForm(request.POST, campaign=campaign)
        if form.is_valid():
            data = form.cleaned_data
            try:
                scheduled_posts_create(
                    campaign=campaign,
                    accounts=data["accounts"],
                    text=data["text"],
                    send_at=data["send_at"],
                    link=data["link"],
                    user=request.user,
                    idempotency_key=data["nonce"],
                )
            except ValidationError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(request, _("Post scheduled."))
                return redirect("campaigns:posts", pk=campaign.pk)
    page = keyset_page_or_404(
        campaign_posts(campaign.pk),
        fields=("send_at", "id"),
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    context = {"campaign": campaign, "tab": "posts", "form": form, "page": page}
    return render(request, "campaigns/posts.html", context)


@require_POST
@permission_required("campaigns.change_scheduledpost", raise_exception=True)
def post_cancel(request: HttpRequest, pk: int, post_pk: int) -> HttpResponse:
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    posts = ScheduledPost.objects.filter(campaign=campaign)
    post = get_for_user_or_404(posts, user=request.user, pk=post_pk)
    if scheduled_post_cancel(post=post):
        messages.success(request, _("Post cancelled."))
    else:
        messages.error(request, _("Too late: the post is already being sent or was sent."))
    return redirect("campaigns:posts", pk=campaign.pk)


def _touch(request: HttpRequest) -> str:
    touch = request.GET.get("touch", Attribution.Touch.FIRST)
    return touch if touch in Attribution.Touch.values else Attribution.Touch.FIRST


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_funnel_page(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    funnel = campaign_funnel(campaign, touch=_touch(request))
    context = {
        "campaign": campaign,
        "tab": "funnel",
        "funnel": funnel,
        "rows": [funnel.total, *funnel.accounts],
        "chart": funnel_chart_data(funnel),
        "touches": Attribution.Touch.choices,
    }
    return render(request, "campaigns/funnel.html", context)


def funnel_chart_data(funnel) -> dict:
    """What static/js/campaigns.js draws: the funnel in total and per account."""
    return {
        "steps": [_("Discovered"), _("Leads"), _("Customers")],
        "total": [funnel.total.discovered, funnel.total.leads, funnel.total.customers],
        "accounts": [
            {
                "label": row.label or _("No account (links)"),
                "values": [row.discovered, row.leads, row.customers],
            }
            for row in funnel.accounts
        ],
    }


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_funnel_csv(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_user_or_404(campaign_queryset(), user=request.user, pk=pk)
    return funnel_csv_response(campaign, campaign_funnel(campaign, touch=_touch(request)))


@login_not_required
@never_cache
@require_GET
def link_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """``/r/<code>``: count the click (and who, for links sent to a known person) and
    send the visitor on with the UTM parameters. Unknown codes are 404."""
    link = get_object_or_404(TrackedLink.objects.select_related("campaign", "account"), code=code)
    link_click_record(
        link=link,
        signed_contact=request.GET.get("c", ""),
        referrer=request.headers.get("referer", ""),
    )
    return redirect(link.target_url())
