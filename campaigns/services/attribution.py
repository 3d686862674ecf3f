"""Attribution: which campaign touched a contact first and last, and through what."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact, Stage
from crm.models import SocialAccount

from ..models import Attribution, Campaign


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
