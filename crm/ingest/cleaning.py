"""Step 0, before the transaction: validate, clean, de-duplicate and classify a page.

Text from a network is stored as it came (RTL marks, emoji, markup: templates escape
it), except what PostgreSQL cannot store: lone surrogates and NUL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from contacts.models import Tombstone
from core.choices import SOCIAL_KINDS, Direction
from lib.classify import classify

from ..networks.base import FailedItem, Interaction

_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def clean_text(value: str) -> str:
    """Text PostgreSQL can store: lone surrogates (``"\\ud800"``) and NUL become U+FFFD;
    everything else (RTL marks, emoji, markup) is kept as it is."""
    if not value:
        return ""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value


def clean_json(raw: object) -> str:
    """A payload as JSON text that PostgreSQL's ``jsonb`` accepts."""
    text = json.dumps(raw, ensure_ascii=False, default=str, separators=(",", ":"))
    text = clean_text(text)
    if "\\u0000" in text:
        text = _NUL_ESCAPE.sub(r"\1\\ufffd", text)
    return text


def fit(value: str, size: int) -> str:
    """``value`` cleaned and cut to a column's ``size``."""
    return clean_text(value or "")[:size]


@dataclass
class Row:
    """One item ready to store: its cleaned text, URL and payload, and the classifier's
    reading of its text."""

    item: Interaction
    text: str
    url: str
    raw: str
    language: str = ""
    intent: str = ""
    sentiment: str = ""
    score: float | None = None
    confidence: float | None = None


def rows_prepare(
    items: Iterable[Interaction], failed: list[FailedItem], network: str, *, classify_text: bool
) -> list[Row]:
    """Validate, clean, de-duplicate and classify. Bad items join ``failed``."""
    rows: dict[str, Row] = {}
    for item in items:
        reason = ""
        if item.network != network:
            reason = f"item from network {item.network!r} on a {network} account"
        elif not item.external_id or len(item.external_id) > 512:
            reason = "missing or over-long item id"
        elif item.kind not in SOCIAL_KINDS:
            reason = f"unknown kind {item.kind!r}"
        elif item.direction not in (Direction.INBOUND, Direction.OUTBOUND):
            reason = f"unknown direction {item.direction!r}"
        elif not item.author.external_id or len(item.author.external_id) > 255:
            reason = "missing or over-long author id"
        elif not isinstance(item.occurred_at, datetime) or item.occurred_at.tzinfo is None:
            reason = "occurred_at is not an aware datetime"
        if reason:
            failed.append(
                FailedItem(item.external_id[:512] or "?", reason, {"repr": repr(item)[:4000]})
            )
            continue
        url = clean_text(item.url or "")
        rows[item.external_id] = Row(
            item=item,
            text=clean_text(item.text or ""),
            url=url if len(url) <= 1000 else "",
            raw=clean_json(item.raw or {}),
        )
    for row in rows.values():
        if classify_text and row.text and row.item.direction == Direction.INBOUND:
            result = classify(row.text)
            row.language, row.intent = result.language, result.intent
            row.sentiment, row.score = result.sentiment, result.score
            row.confidence = result.confidence
    return list(rows.values())


def erased_drop(
    network: str, items: Sequence[Interaction], failed: list[FailedItem]
) -> tuple[list[Interaction], int]:
    """Drop the items by, and the items, of people who were erased (GDPR): their
    tombstones match the author's network user id or the item's id. Failed items with
    an erased id are dropped from ``failed`` too, so no payload of theirs is kept.
    Returns the items to store and how many were dropped ("skipped: erased")."""
    if not items and not failed:
        return [], 0
    erased = Tombstone.matching(
        network,
        {
            "author": [item.author.external_id for item in items if item.author],
            "item": [item.external_id for item in items]
            + [failure.external_id for failure in failed],
        },
    )
    authors, item_ids = erased["author"], erased["item"]
    if not authors and not item_ids:
        return list(items), 0
    kept = [
        item
        for item in items
        if item.external_id not in item_ids
        and not (item.author and item.author.external_id in authors)
    ]
    failed_kept = [failure for failure in failed if failure.external_id not in item_ids]
    dropped = len(items) - len(kept) + len(failed) - len(failed_kept)
    failed[:] = failed_kept
    return kept, dropped
