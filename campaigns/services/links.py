"""Tracked links: saving them, the signed per-person URL, and counting clicks."""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from contacts.models import Contact

from ..models import Attribution, LinkClick, TrackedLink
from .attribution import attribution_touch


def tracked_link_check(
    *, link: TrackedLink, campaign_accounts: Collection[int] | None = None
) -> None:
    """Raise ``ValidationError`` (by field) for a link that cannot be saved: a
    destination that is not http(s), an account that does not work for the link's
    campaign, a code another link has. ``campaign_accounts`` are the campaign's account
    ids when they change in the same form as the link (the admin's campaign page)."""
    errors: dict[str, list[str]] = {}
    try:
        link.clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if link.account_id:
        if campaign_accounts is None:
            works = link.campaign.accounts.filter(pk=link.account_id).exists()
        else:
            works = link.account_id in campaign_accounts
        if not works:
            errors["account"] = [_("This account does not work for this campaign.")]
    if link.code and TrackedLink.objects.filter(code=link.code).exclude(pk=link.pk).exists():
        errors["code"] = [_("This code is taken.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def tracked_link_save(*, link: TrackedLink, user: AbstractBaseUser | None = None) -> TrackedLink:
    """Save a new or changed tracked link after ``tracked_link_check``; a new one
    records ``user`` as who created it."""
    tracked_link_check(link=link)
    if link._state.adding and user is not None:
        link.created_by = user
    link.save()
    return link


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
            via=Attribution.Via.LINK,
            account=link.account,
            at=click.at,
        )
    return click
