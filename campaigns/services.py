"""Writes on campaigns: attribution, tracked-link clicks, scheduled posts and the
actions taken from a campaign's listening feed. Everything sent to a network goes
through ``crm.outbox.outbound_queue``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, SocialIdentity, Stage
from crm.models import OutboundMessage, SocialAccount
from crm.outbox import outbound_queue

from .models import Attribution, Campaign, CampaignMatch, LinkClick, ScheduledPost, TrackedLink

Via = Attribution.Via
LINK_PLACEHOLDER = "{link}"


# --- Attribution ------------------------------------------------------------------------


@transaction.atomic
def attribution_touch(
    *,
    contact_ids: Iterable[int],
    campaign: Campaign,
    via: str,
    account: SocialAccount | None = None,
    at: datetime | None = None,
) -> None:
    """Record that ``campaign`` touched these contacts (through ``account``).

    The last touch always moves to this one. The first touch is kept once set, and is
    only given to a contact the campaign reaches while it is still at stage 0
    (Discovered): a campaign does not "discover" someone who was already a lead.
    """
    ids = set(contact_ids)
    if not ids:
        return
    at = at or timezone.now()
    fields = {"campaign": campaign, "account": account, "via": via, "at": at}
    undiscovered = Contact.objects.filter(pk__in=ids, stage=Stage.DISCOVERED).values_list(
        "pk", flat=True
    )
    Attribution.objects.bulk_create(
        [
            Attribution(contact_id=pk, touch=Attribution.Touch.FIRST, **fields)
            for pk in undiscovered
        ],
        ignore_conflicts=True,
    )
    Attribution.objects.bulk_create(
        [Attribution(contact_id=pk, touch=Attribution.Touch.LAST, **fields) for pk in sorted(ids)],
        update_conflicts=True,
        unique_fields=["contact", "touch"],
        update_fields=["campaign", "account", "via", "at"],
    )


# --- Tracked links ----------------------------------------------------------------------


def _link_signer(link: TrackedLink) -> signing.Signer:
    # Salted per link: a signature copied from one link does not identify anyone on another.
    return signing.Signer(salt=f"campaigns.link.{link.code}")


def tracked_link_url(link: TrackedLink, *, contact: Contact | None = None) -> str:
    """The short URL to share; for a known person, with ``c`` identifying them."""
    if contact is None:
        return link.short_url
    return f"{link.short_url}?c={_link_signer(link).sign(str(contact.pk))}"


def tracked_link_contact_id(link: TrackedLink, signed: str) -> int | None:
    """The contact a ``c`` parameter identifies, or None when it is missing or forged."""
    if not signed:
        return None
    try:
        return int(_link_signer(link).unsign(signed))
    except (signing.BadSignature, ValueError):
        return None


@transaction.atomic
def link_click_record(
    *, link: TrackedLink, signed_contact: str = "", referrer: str = ""
) -> LinkClick:
    """Count a click on ``link``; a visitor identified by ``signed_contact`` (and still in
    the CRM) is recorded and the campaign touches them."""
    contact_id = tracked_link_contact_id(link, signed_contact)
    if contact_id is not None and not Contact.objects.filter(pk=contact_id).exists():
        contact_id = None
    click = LinkClick.objects.create(link=link, contact_id=contact_id, referrer=referrer[:500])
    TrackedLink.objects.filter(pk=link.pk).update(click_count=F("click_count") + 1)
    if contact_id is not None:
        attribution_touch(
            contact_ids=[contact_id],
            campaign=link.campaign,
            via=Via.LINK,
            account=link.account,
            at=click.at,
        )
    return click


# --- Scheduled posts ----------------------------------------------------------------------


def post_text_with_link(text: str, link: TrackedLink | None) -> str:
    """``text`` with the link's short URL at ``{link}``, or appended."""
    text = text.strip()
    if link is None:
        return text
    if LINK_PLACEHOLDER in text:
        return text.replace(LINK_PLACEHOLDER, link.short_url)
    return f"{text} {link.short_url}"


def _campaign_account(campaign: Campaign, account: SocialAccount, field: str = "account"):
    if not campaign.accounts.filter(pk=account.pk).exists():
        raise ValidationError({field: _("This account does not work for this campaign.")})


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
    existing = ScheduledPost.objects.filter(outbound__idempotency_key=key).first()
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


def scheduled_post_cancel(*, post: ScheduledPost) -> bool:
    """Cancel a post not sent yet. Returns False when it is already sending or done
    (the outbox claims a message by the same conditional update, so only one wins)."""
    return bool(
        OutboundMessage.objects.filter(
            pk=post.outbound_id, state=OutboundMessage.State.PENDING
        ).update(state=OutboundMessage.State.FAILED, last_error=_("Cancelled"))
    )


# --- The listening feed ---------------------------------------------------------------------


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
        idempotency_key=f"campaign-like-{match.entry_id}-{account.pk}",
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
        idempotency_key=f"campaign-follow-{identity.pk}-{account.pk}",
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
