"""JSON from clients, with its nesting bounded.

The standard decoder recurses once per level: a body of 100,000 ``[`` is a
``RecursionError`` (a 500) in every endpoint that reads JSON. ``BoundedJSONDecoder``
turns it, and anything nested deeper than ``MAX_JSON_DEPTH``, into a
``JSONDecodeError``, which DRF's parser and ``JSONField`` answer with a 400 and
Django's ``forms.JSONField`` (the admin's) with a form error.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

__all__ = ["MAX_JSON_DEPTH", "BoundedJSONDecoder", "JSONParser", "json_too_deep"]

#: No request of ours nests deeper than a few levels.
MAX_JSON_DEPTH = 32


def json_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` (decoded JSON) nests lists and objects more than ``limit``
    deep. Iterative: it never recurses itself."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONDecoder(json.JSONDecoder):
    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        try:
            value = super().decode(s, *args, **kwargs)
        except RecursionError:
            value = None
        else:
            if not json_too_deep(value):
                return value
        # A JSONDecodeError, so Django's forms.JSONField answers it as a form error too.
        raise json.JSONDecodeError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep", s, 0)


class JSONParser(parsers.JSONParser):
    """DRF's parser with ``BoundedJSONDecoder``."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        parse_constant = drf_json.strict_constant if self.strict else None
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
            return json.loads(text, cls=BoundedJSONDecoder, parse_constant=parse_constant)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from None
