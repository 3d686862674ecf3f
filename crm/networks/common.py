"""Small helpers the network adapters share (no Django, no network I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

#: When a 429 carries no usable reset time, try again after this long.
DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)

_EPOCH = re.compile(r"^\s*\d+(\.\d+)?\s*$")


def parse_reset(value: str | None, *, retry_after: str | None = None) -> datetime:
    """The moment a rate limit resets, from a reset header: epoch seconds (Bluesky, X,
    mastodon-mock) or ISO-8601 (real Mastodon). Falls back to ``Retry-After`` seconds,
    then to a minute from now."""
    now = datetime.now(UTC)
    if value:
        value = value.strip()
        try:
            if _EPOCH.match(value):
                return datetime.fromtimestamp(float(value), tz=UTC)
            return parse_time(value)
        except (ValueError, OverflowError):
            pass
    if retry_after:
        try:
            return now + timedelta(seconds=max(0.0, float(retry_after)))
        except ValueError:
            pass
    return now + DEFAULT_RATE_LIMIT_WAIT


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header by case-insensitive name (SDKs hand back plain dicts of either case)."""
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_time(value: Any) -> datetime:
    """An aware datetime from an ISO-8601 string (``Z`` or offset) or a datetime.
    Raises ValueError for anything else: the caller turns that into a FailedItem."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def text_of(value: Any) -> str:
    """A text field as ``str`` ("" for None); anything else is malformed."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"text is {type(value).__name__}, not a string")
    return value


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def chunks[T](items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def id_key(value: str) -> tuple[int, str]:
    """Sort key for numeric ids (Mastodon statuses, X snowflakes) that are strings."""
    # isascii(): "²".isdigit() is true and int("²") fails (a network's text is hostile).
    return (int(value), value) if value.isascii() and value.isdigit() else (0, value)
