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
