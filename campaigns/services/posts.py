"""Scheduled posts: composed in Momento, sent by the outbox at their time, once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import OutboundMessage, SocialAccount
from crm.outbox import outbound_key, outbound_queue

from ..models import Campaign, ScheduledPost, TrackedLink

LINK_PLACEHOLDER = "{link}"


def post_text_with_link(text: str, link: TrackedLink | None) -> str:
    """``text`` with the link's short URL at ``{link}``, or appended."""
    text = text.strip()
    if link is None:
        return text
    if LINK_PLACEHOLDER in text:
        return text.replace(LINK_PLACEHOLDER, link.short_url)
    return f"{text} {link.short_url}"


def scheduled_post_check(
    *, campaign: Campaign, account: SocialAccount, text: str, link: TrackedLink | None
) -> None:
    """Raise ``ValidationError`` (by field) for a post that cannot be scheduled."""
    errors = {}
    if not text.strip():
        errors["text"] = _("Write something to post.")
    if not campaign.accounts.filter(pk=account.pk).exists():
        errors["account"] = _("This account does not work for this campaign.")
    if link is not None and link.campaign_id != campaign.pk:
        errors["link"] = _("Choose a link of this campaign.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def scheduled_post_create(
    *,
    campaign: Campaign,
    account: SocialAccount,
    text: str,
    send_at: datetime,
    link: TrackedLink | None = None,
    user: AbstractBaseUser | None = None,
    idempotency_key: str = "",
) -> ScheduledPost:
    """Schedule a post through one of the campaign's accounts. The outbox sends it at
    ``send_at``, once; submitting the same ``idempotency_key`` again returns the first."""
    scheduled_post_check(campaign=campaign, account=account, text=text, link=link)
    key = f"campaign-post-{idempotency_key or uuid.uuid4().hex}"[:100]
    existing = ScheduledPost.objects.filter(
        outbound__idempotency_key=outbound_key(key, user=user)
    ).first()
    if existing:
        return existing
    outbound = outbound_queue(
        account=account,
        kind=OutboundMessage.Kind.POST,
        text=post_text_with_link(text, link),
        user=user,
        idempotency_key=key,
        not_before=send_at,
    )
    return ScheduledPost.objects.create(
        campaign=campaign,
        account=account,
        text=outbound.text,
        link=link,
        send_at=send_at,
        outbound=outbound,
        created_by=user,
    )


@transaction.atomic
def scheduled_posts_create(
    *,
    campaign: Campaign,
    accounts: Iterable[SocialAccount],
    text: str,
    send_at: datetime,
    link: TrackedLink | None = None,
    user: AbstractBaseUser | None = None,
    idempotency_key: str = "",
) -> list[ScheduledPost]:
    """The same post through several of the campaign's accounts, all or none: one
    account that cannot post raises ``ValidationError`` and schedules nothing. Each
    account's post is idempotent on ``idempotency_key`` (a form submitted twice
    schedules once)."""
    return [
        scheduled_post_create(
            campaign=campaign,
            account=account,
            text=text,
            send_at=send_at,
            link=link,
            user=user,
            idempotency_key=f"{idempotency_key}-{account.pk}" if idempotency_key else "",
        )
        for account in accounts
    ]


def scheduled_post_cancel(*, post: ScheduledPost) -> bool:
    """Cancel a post not sent yet. Returns False when it is already sending or done
    (the outbox claims a message by the same conditional update, so only one wins)."""
    return bool(
        OutboundMessage.objects.filter(
            pk=post.outbound_id, state=OutboundMessage.State.PENDING
        ).update(
            state=OutboundMessage.State.FAILED,
            last_error="Cancelled",
            failure=OutboundMessage.Failure.CANCELLED,
        )
    )
