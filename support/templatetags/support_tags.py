from __future__ import annotations

import functools

from django import template
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from core.html import fast_format_html
from support.services.rules import RULE_COMPLAINT, RULE_DM

register = template.Library()


@register.simple_tag
def thread_message(row: dict) -> str:
    """One message of an inbox thread from ``support.inbox.thread_rows``.

    The pane's hot loop (up to 200 items): built with ``format_html`` (its faster twin,
    ``core.html``), as Django's admin builds its change-list cells, instead of ~15
    template nodes an item, with the fixed labels translated once per language. Every
    value is escaped; the author's handle and the text are isolated (``dir="auto"``)."""
    labels = _message_labels(get_language() or "")
    if row["author"]:
        who = fast_format_html(" · {}", row["author"])
    elif row["handle"]:
        who = fast_format_html(' · <span dir="auto">@{}</span>', row["handle"])
    else:
        who = ""
    return fast_format_html(
        '<li class="msg {}" id="item-{}"><div class="muted"><strong>{}</strong>{}'
        ' · <time datetime="{}">{}</time>{}{}{}</div>{}{}</li>',
        row["css"],
        row["pk"],
        row["kind"],
        who,
        row["iso"],
        row["when"],
        fast_format_html(" · {}", row["intent"]) if row["intent"] else "",
        labels.get(row["state"], ""),
        fast_format_html(' · <span class="assignee">{}</span>', row["assignee"])
        if row["assignee"]
        else "",
        fast_format_html('<p class="text" dir="auto">{}</p>', row["text"]) if row["text"] else "",
        fast_format_html(
            '<a href="{}" rel="noopener noreferrer nofollow" target="_blank" class="muted">{}</a>',
            row["url"],
            labels["open"],
        )
        if row["url"]
        else "",
    )


@functools.cache
def _message_labels(language: str) -> dict[str, str]:
    """The fixed pieces of a thread message in ``language`` (the active one)."""
    return {
        "handled": fast_format_html(' · <span class="ok">{}</span>', _("handled")),
        "waiting": fast_format_html(' · <strong class="waiting">{}</strong>', _("waiting")),
        "open": _("Open on the network"),
    }


@register.filter
def rule_label(name: str) -> str:
    """The name of the rule that opened a ticket, in the user's language. The built-in
    rules store their English names (``opened_by_rule``); any other name is shown as
    stored."""
    labels = {RULE_DM: _("Inbound direct message"), RULE_COMPLAINT: _("Complaint from a customer")}
    return labels.get(name, name)


@register.filter
def duration(seconds) -> str:
    """Seconds as "2d 3h", "1h 05m" or "12m" (absolute value)."""
    if seconds is None:
        return "—"
    total = int(abs(seconds)) // 60
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)02dm") % {"h": hours, "m": minutes}
    return _("%(m)sm") % {"m": minutes}


@register.filter
def topic_key(key: str) -> str:
    """One of an incident's keywords as a reader says it: a bilingual concept in the
    reader's language ("bill" → "factura"), a place mark as the place ("place:madrid"
    → "in Madrid"), any other word as stored."""
    from lib.classify.concepts import PLACE
    from support.selectors import TOPIC_LABELS

    if key in TOPIC_LABELS:
        return str(TOPIC_LABELS[key])
    if key.startswith(PLACE):
        place = key.removeprefix(PLACE)
        return pgettext("incident keyword", "in %(place)s") % {"place": place.title()}
    return key
