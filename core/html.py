"""``format_html`` for the hot loops of the lists (a contact-list row, an inbox message).

Django's ``format_html`` escapes each argument through ``conditional_escape``, whose lazy
wrapper and ``SafeString`` make it cost about 15 µs for two arguments; a 50-row page
calls it hundreds of times. :func:`fast_format_html` has the same contract (every
argument escaped with ``&<>"'``, an argument that is already safe HTML kept as it is,
the result safe HTML) on the standard library's ``html.escape``, which Django's
``escape`` wraps: the same bytes in a tenth of the time (tests/core/test_html.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString


def _escaped(value: object) -> str:
    if type(value) is str:  # the common case first (SafeString is a subclass)
        return escape(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def fast_format_html(format_string: str, *args: object) -> SafeString:
    """``django.utils.html.format_html(format_string, *args)``, faster."""
    # Every argument is escaped or already safe; the format string is the caller's markup.
    return SafeString(format_string.format(*map(_escaped, args)))


def fast_format_html_join(
    sep: str, format_string: str, args_generator: Iterable[Iterable[object]]
) -> SafeString:
    """``django.utils.html.format_html_join``, faster."""
    # Each part is fast_format_html's, and the separator is escaped.
    return SafeString(
        _escaped(sep).join(fast_format_html(format_string, *args) for args in args_generator)
    )
