"""What is done from a campaign's listening feed: like, reply, follow or dismiss a
matched post. Everything sent goes through ``crm.outbox.outbound_queue``."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import SocialIdentity
from crm.models import OutboundMessage, SocialAccount
from crm.outbox import outbound_queue, system_key

from ..models import Attribution, Campaign, CampaignMatch
from .attribution import attribution_touch

Via = Attribution.Via


def _campaign_account(campaign: Campaign, account: SocialAccount, field: str = "account"):
    if not campaign.accounts.filter(pk=account.pk).exists():
        raise ValidationError({field: _("This account does not work for this campaign.")})


def _feed_account(match: CampaignMatch, account: SocialAccount) -> SocialAccount:
    _campaign_account(match.campaign, account)
    if account.network != match.entry.network:
        raise ValidationError({"account": _("Choose an account on the post's network.")})
    return account


def _mark(match: CampaignMatch, user, **flags) -> None:
    for name, value in flags.items():
        setattr(match, name, value)
    match.state = CampaignMatch.State.ENGAGED
    match.handled_by = user
    match.handled_at = timezone.now()
    match.save(update_fields=[*flags, "state", "handled_by", "handled_at"])


@transaction.atomic
def match_like(
    *, match: CampaignMatch, account: SocialAccount, user: AbstractBaseUser
) -> OutboundMessage:
    """Like the matched post from ``account`` (once per account)."""
    account = _feed_account(match, account)
    message = outbound_queue(
        account=account,
        kind=OutboundMessage.Kind.LIKE,
        in_reply_to=match.entry,
        user=user,
        idempotency_key=system_key(f"campaign-like-{match.entry_id}-{account.pk}"),
    )
    _mark(match, user, liked=True)
    return message


@transaction.atomic
def match_reply(
    *,
    match: CampaignMatch,
    account: SocialAccount,
    user: AbstractBaseUser,
    text: str,
    idempotency_key: str = "",
) -> OutboundMessage:
    """Answer the matched post publicly from ``account``; the campaign touches its author."""
    account = _feed_account(match, account)
    key = f"campaign-reply-{match.pk}-{idempotency_key or uuid.uuid4().hex}"[:100]
    message = outbound_queue(
        account=account,
        kind=OutboundMessage.Kind.REPLY,
        in_reply_to=match.entry,
        text=text,
        user=user,
        idempotency_key=key,
    )
    _mark(match, user, replied=True)
    attribution_touch(
        contact_ids=[match.entry.contact_id],
        campaign=match.campaign,
        via=Via.REPLY,
        account=account,
    )
    return message


@transaction.atomic
def match_follow(
    *, match: CampaignMatch, account: SocialAccount, user: AbstractBaseUser
) -> OutboundMessage:
    """Follow the post's author from ``account`` (once per account and person)."""
    account = _feed_account(match, account)
    entry = match.entry
    identity = (
        entry.identity
        if entry.identity_id
        else SocialIdentity.objects.filter(contact_id=entry.contact_id, network=entry.network)
        .order_by("id")
        .first()
    )
    if identity is None:
        raise ValidationError({"recipient": _("The author's account is not known.")})
    message = outbound_queue(
        account=account,
        kind=OutboundMessage.Kind.FOLLOW,
        recipient=identity,
        contact=entry.contact,
        user=user,
        idempotency_key=system_key(f"campaign-follow-{identity.pk}-{account.pk}"),
    )
    _mark(match, user, followed=True)
    attribution_touch(
        contact_ids=[entry.contact_id], campaign=match.campaign, via=Via.FOLLOW, account=account
    )
    return message


def match_dismiss(*, match: CampaignMatch, user: AbstractBaseUser) -> None:
    match.state = CampaignMatch.State.DISMISSED
    match.handled_by = user
    match.handled_at = timezone.now()
    match.save(update_fields=["state", "handled_by", "handled_at"])
