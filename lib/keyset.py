"""Keyset ("seek") cursors: an opaque, URL-safe encoding of the last row's sort key."""

from __future__ import annotations

import base64
import json
from typing import Any


class InvalidCursor(ValueError):
    pass


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("Malformed cursor.") from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor("Malformed cursor.")
    return values
