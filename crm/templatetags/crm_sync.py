"""``{{ account|backfill_percent }}``: the backfill progress bar's value; ``{{ stream|… }}``:
what the status page says about one sync stream, in the user's language."""

from __future__ import annotations

from django import template

from crm.selectors import (
    socialaccount_backfill_percent,
    socialaccount_problem_text,
    syncstream_error_text,
    syncstream_gap_text,
    syncstream_history_text,
    syncstream_label,
)

register = template.Library()


@register.filter
def backfill_percent(account) -> int:
    return socialaccount_backfill_percent(account)


@register.filter
def account_problem(account) -> str:
    return socialaccount_problem_text(account)


@register.filter
def stream_label(stream) -> str:
    return syncstream_label(stream.name)


@register.filter
def stream_error(stream) -> str:
    return syncstream_error_text(stream)


@register.filter
def stream_gap(stream) -> str:
    return syncstream_gap_text(stream)


@register.filter
def stream_history(stream) -> str:
    return syncstream_history_text(stream)
