"""``{{ account|backfill_percent }}``: the backfill progress bar's value."""

from __future__ import annotations

from django import template

from crm.selectors import socialaccount_backfill_percent

register = template.Library()


@register.filter
def backfill_percent(account) -> int:
    return socialaccount_backfill_percent(account)
