from django import template

from contacts.scoring import reason_label

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
