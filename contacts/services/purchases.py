"""Purchases: recorded once per order (``(source, external_ref)``), put on the buyer's
timeline, and applied to the purchase stage rules (→ Customer)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, Purchase, SocialIdentity, StageRule, timeline_event_record
from core.choices import EntryKind

from .activity import contacts_score_refresh_on_commit, contacts_touch
from .contacts import contact_create
from .stages import stage_rules_apply_event


def contact_for_handle(*, network: str, handle: str, actor: AbstractBaseUser | None) -> Contact:
    """The contact with ``handle`` on ``network``; a new one when nobody has it yet
    (its identity is keyed ``handle:<handle>`` until sync learns the network's id)."""
    handle = handle.strip().lstrip("@")
    identity = (
        SocialIdentity.objects.filter(network=network, handle__iexact=handle)
        .select_related("contact")
        .order_by("id")
        .first()
    )
    if identity:
        return identity.contact
    return contact_create(
        actor=actor,
        fields={"display_name": handle},
        identities=[
            {"network": network, "handle": handle, "external_id": f"handle:{handle.lower()}"}
        ],
        note=_("Created for a purchase by handle"),
    )


@transaction.atomic
def purchase_record(
    *,
    contact: Contact,
    amount: Decimal,
    currency: str,
    product: str,
    source: str = "manual",
    external_ref: str = "",
    purchased_at: datetime | None = None,
    actor: AbstractBaseUser | None = None,
) -> tuple[Purchase, bool]:
    """Record a purchase once per ``(source, external_ref)``: returns ``(purchase,
    created)``, the existing one when it was recorded before. A new purchase goes on
    the timeline and applies the purchase rules (→ stage 2)."""
    if external_ref:
        existing = Purchase.objects.filter(source=source, external_ref=external_ref).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                contact=contact,
                amount=amount,
                currency=currency.upper(),
                product=product,
                source=source,
                external_ref=external_ref,
                purchased_at=purchased_at or timezone.now(),
                created_by=actor,
            )
    except IntegrityError:
        # The same order posted twice at once: the other request stored it.
        return Purchase.objects.get(source=source, external_ref=external_ref), False
    entry = timeline_event_record(
        contact_id=contact.pk,
        kind=EntryKind.PURCHASE,
        subject=purchase,
        text=product,
        actor=actor,
        occurred_at=purchase.purchased_at,
        raw={"amount": str(purchase.amount), "currency": purchase.currency, "source": source},
    )
    contacts_touch(entries=[entry])
    stage_rules_apply_event(
        kind=StageRule.Kind.PURCHASE,
        contact=contact,
        reason=_("Purchase: %(product)s") % {"product": product},
    )
    contacts_score_refresh_on_commit(contact_ids=[contact.pk])
    return purchase, True
