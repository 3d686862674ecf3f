from django import template
from django.utils.translation import gettext as _

from contacts.scoring import reason_label
from core.html import fast_format_html, fast_format_html_join

register = template.Library()


@register.filter
def score_reasons(reasons) -> list[tuple[str, int]]:
    """``[(label, points), ...]`` for a contact's stored score reasons."""
    return [(reason_label(r), r.get("points", 0)) for r in reasons or ()]


@register.filter
def score_summary(reasons) -> str:
    """The reasons on one line (a card's or row's title)."""
    return "; ".join(f"{label} ({points:+d})" for label, points in score_reasons(reasons))


@register.inclusion_tag("contacts/_entry_label.html", takes_context=True)
def entry_label(context, entry, error: str = "") -> dict:
    """An entry's intent and sentiment, marked when the classifier was unsure, with the
    one-click correction for those who may make it."""
    from core.choices import Intent, Sentiment

    return {
        "entry": entry,
        "error": error,
        "perms": context.get("perms"),
        "request": context.get("request"),
        "intent_choices": Intent.choices,
        "sentiment_choices": Sentiment.choices,
    }


@register.filter
def history_field(name: str) -> str:
    """A changed field's name in the reader's language ("stage" → "etapa")."""
    from django.core.exceptions import FieldDoesNotExist

    from contacts.models import Contact

    try:
        return str(Contact._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


@register.filter
def history_value(value, name: str) -> str:
    """A recorded value as a person reads it: a stage by its name (0 is "Discovered",
    not "—"), nothing as "—"."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "stage":
        return stage_name(value)
    return str(value)


@register.filter
def stage_name(value) -> str:
    """A stage number by its name, in the reader's language."""
    from contacts.models import Stage

    try:
        return str(Stage(int(value)).label)
    except (TypeError, ValueError):
        return str(value)


@register.filter
def stage_rule_name(name: str) -> str:
    """The name of the stage rule that moved a contact, in the reader's language: the
    four rules Momento ships with store English names (migration 0004); a rule someone
    named is shown as named."""
    labels = {
        "Follow of our account": _("Follow of our account"),
        "Repeated engagement": _("Repeated engagement"),
        "Direct message to us": _("Direct message to us"),
        "Purchase": _("Purchase"),
    }
    return labels.get(name, name)


@register.simple_tag
def contact_row(row: dict, can_change: bool, select_label: str) -> str:
    """One row of the contact list from ``contacts.views.lists.contact_rows``.

    The page's hot loop: built with ``format_html`` (its faster twin,
    ``core.html``), as Django's admin builds its change-list cells, instead of ~15
    template nodes a row (a third of the page's rendering). Every value is escaped;
    names, companies, tags and handles are isolated (``dir="auto"``)."""
    select = (
        fast_format_html(
            '<td><input type="checkbox" name="ids" value="{}" form="bulk-form"'
            ' aria-label="{} {}"></td>',
            row["pk"],
            select_label,
            row["name"],
        )
        if can_change
        else ""
    )
    company = (
        fast_format_html('<div class="muted" dir="auto">{}</div>', row["company"])
        if row["company"]
        else ""
    )
    return fast_format_html(
        "<tr>{}<td>{}{}{}</td>"
        '<td><span class="stage stage-{}">{}</span></td>'
        "<td>{}</td><td>{}</td>"
        '<td><span class="score" title="{}">{}</span></td><td>{}</td></tr>',
        select,
        fast_format_html('<a href="{}" dir="auto">{}</a>', row["url"], row["name"]),
        company,
        fast_format_html_join("", ' <span class="tag">{}</span>', ((tag,) for tag in row["tags"])),
        row["stage"],
        row["stage_label"],
        fast_format_html_join(
            "", '<span class="muted" dir="auto">@{}</span> ', ((h,) for h in row["handles"])
        ),
        row["owner"] or "—",
        row["score_title"],
        row["score"],
        row["since"] or "—",
    )
