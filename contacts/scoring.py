"""Lead score: 0–100 from engagement (recency, frequency, kinds, sentiment), with the
reasons behind it. ``score_compute`` is pure; ``contacts_score_refresh`` (services of
this module) reads the figures for many contacts in one grouped query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts.models import TimelineEntry
from core.choices import Direction, EntryKind

from .models import Contact

FREQUENCY_DAYS = 90


def score_compute(stats: dict[str, Any], *, now: datetime) -> tuple[int, list[dict]]:
    """``(score, reasons)`` from one contact's figures (see ``_stats``). Each reason is
    ``{"code", "points", "value"}``; ``reason_label`` says it in words."""
    reasons = []

    def add(code: str, points: int, value: Any) -> None:
        if points:
            reasons.append({"code": code, "points": points, "value": value})

    if stats.get("last_in"):
        days = max(0, (now - stats["last_in"]).days)
        add("recency", 30 if days <= 7 else 20 if days <= 30 else 10 if days <= 90 else 0, days)
    add("frequency", min(25, 3 * stats.get("recent", 0)), stats.get("recent", 0))
    add("follow", 10 if stats.get("follows") else 0, stats.get("follows", 0))
    add("dm", 15 if stats.get("dms") else 0, stats.get("dms", 0))
    add("conversation", min(10, 2 * stats.get("talks", 0)), stats.get("talks", 0))
    add("reactions", min(5, stats.get("reactions", 0)), stats.get("reactions", 0))
    add("purchase", 20 if stats.get("purchases") else 0, stats.get("purchases", 0))
    positive, negative = stats.get("positive", 0), stats.get("negative", 0)
    if positive + negative:
        add("sentiment", round(10 * (positive - negative) / (positive + negative)), positive)
    score = max(0, min(100, sum(r["points"] for r in reasons)))
    return score, reasons


def reason_label(reason: dict) -> str:
    code, value = reason.get("code"), reason.get("value", 0)
    labels = {
        "recency": lambda: ngettext(
            "Last interaction %(n)s day ago", "Last interaction %(n)s days ago", value
        ),
        "frequency": lambda: ngettext(
            "%(n)s interaction in 90 days", "%(n)s interactions in 90 days", value
        ),
        "follow": lambda: _("Follows us"),
        "dm": lambda: ngettext("%(n)s direct message", "%(n)s direct messages", value),
        "conversation": lambda: ngettext(
            "%(n)s reply or mention", "%(n)s replies or mentions", value
        ),
        "reactions": lambda: ngettext("%(n)s like or repost", "%(n)s likes or reposts", value),
        "purchase": lambda: ngettext("%(n)s purchase", "%(n)s purchases", value),
        "sentiment": lambda: _("Tone of their messages"),
    }
    text = labels.get(code, lambda: str(code))()
    return text % {"n": value} if "%(n)s" in text else text


def _stats(contact_ids: list[int], *, now: datetime) -> dict[int, dict[str, Any]]:
    inbound = Q(direction=Direction.INBOUND)
    rows = (
        TimelineEntry.objects.filter(contact_id__in=contact_ids)
        .values("contact_id")
        .annotate(
            last_in=Max("occurred_at", filter=inbound),
            recent=Count(
                "id", filter=inbound & Q(occurred_at__gte=now - timedelta(days=FREQUENCY_DAYS))
            ),
            follows=Count("id", filter=inbound & Q(kind=EntryKind.FOLLOW)),
            dms=Count("id", filter=inbound & Q(kind=EntryKind.DM)),
            talks=Count(
                "id",
                filter=inbound & Q(kind__in=[EntryKind.MENTION, EntryKind.REPLY, EntryKind.QUOTE]),
            ),
            reactions=Count("id", filter=inbound & Q(kind__in=[EntryKind.LIKE, EntryKind.REPOST])),
            purchases=Count("id", filter=Q(kind=EntryKind.PURCHASE)),
            positive=Count("id", filter=inbound & Q(sentiment="positive")),
            negative=Count("id", filter=inbound & Q(sentiment="negative")),
        )
        .order_by()
    )
    return {row.pop("contact_id"): row for row in rows}


def contacts_score_refresh(*, contact_ids: Iterable[int], now: datetime | None = None) -> int:
    """Recompute and store the score and reasons of ``contact_ids``. Returns how many
    contacts changed."""
    now = now or timezone.now()
    ids = list(contact_ids)
    stats = _stats(ids, now=now)
    contacts = list(Contact.objects.filter(pk__in=ids).only("id", "score", "score_reasons"))
    changed = []
    for contact in contacts:
        score, reasons = score_compute(stats.get(contact.pk, {}), now=now)
        if (score, reasons) != (contact.score, contact.score_reasons):
            contact.score, contact.score_reasons = score, reasons
            changed.append(contact)
    Contact.objects.bulk_update(changed, ["score", "score_reasons"])
    return len(changed)
