from __future__ import annotations

import functools
from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from support.services.rules import RULE_COMPLAINT, RULE_DM

register = template.Library()


@register.simple_tag
def thread_message(row: dict) -> str:
    """One message of an inbox thread from ``support.inbox.thread_rows``.

    The pane's hot loop (up to 200 items): one string built from escaped values, as
    Django's admin builds its change-list cells with ``format_html``, instead of ~15
    template nodes an item, and the translated labels looked up once per language.
    Every value from a row is escaped (``escape``: ``&<>"'``); the author's handle and
    the text are isolated (``dir="auto"``)."""
    labels = _message_labels(get_language() or "")
    if row["author"]:
        who = " · " + escape(row["author"])
    elif row["handle"]:
        who = ' · <span dir="auto">@' + escape(row["handle"]) + "</span>"
    else:
        who = ""
    intent = " · " + escape(row["intent"]) if row["intent"] else ""
    assignee = (
        ' · <span class="assignee">' + escape(row["assignee"]) + "</span>"
        if row["assignee"]
        else ""
    )
    text = '<p class="text" dir="auto">' + escape(row["text"]) + "</p>" if row["text"] else ""
    link = (
        '<a href="' + escape(row["url"]) + '" rel="noopener noreferrer nofollow"'
        ' target="_blank" class="muted">' + labels["open"] + "</a>"
        if row["url"]
        else ""
    )
    # Every piece above is an escaped value or an escaped fixed label.
    return mark_safe(  # noqa: S308
        f'<li class="msg {escape(row["css"])}" id="item-{int(row["pk"])}"><div class="muted">'
        f'<strong>{escape(row["kind"])}</strong>{who} · <time datetime="{escape(row["iso"])}">'
        f"{escape(row['when'])}</time>{intent}{labels.get(row['state'], '')}{assignee}</div>"
        f"{text}{link}</li>"
    )


@functools.cache
def _message_labels(language: str) -> dict[str, str]:
    """The fixed, escaped pieces of a thread message in ``language`` (the active one)."""
    return {
        "handled": ' · <span class="ok">' + escape(_("handled")) + "</span>",
        "waiting": ' · <strong class="waiting">' + escape(_("waiting")) + "</strong>",
        "open": escape(_("Open on the network")),
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
