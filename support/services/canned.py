"""Canned responses filled in for a ticket: the team's text for a purpose in the
customer's language (or a built-in one), with its ``{variables}`` replaced."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from lib.text import strip_bidi_controls

from ..models import CannedResponse, Ticket

#: Built-in texts when a team has no canned response for a purpose and language.
DEFAULT_TEXTS = {
    CannedResponse.Purpose.HANDOFF_PUBLIC: gettext_noop(
        "Hi {contact_name}, sorry about this. We've sent you a direct message so we can "
        "sort it out privately ({ticket_number})."
    ),
    CannedResponse.Purpose.HANDOFF_DM: gettext_noop(
        "Hi {contact_name}, this is {agent_name} from support ({ticket_number}). Could you "
        "give us the details here? You can also call {phone}."
    ),
    CannedResponse.Purpose.CSAT: gettext_noop(
        "Your ticket {ticket_number} is resolved. How did we do? Rate us from 1 to 5: {csat_link}"
    ),
}


def _language(ticket: Ticket) -> str:
    entry = ticket.interactions.exclude(language="").order_by("-occurred_at").first()
    language = (entry.language if entry else "") or ticket.contact.language
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def canned_variables(ticket: Ticket, *, user: AbstractBaseUser | None = None, **extra) -> dict:
    team = ticket.team
    values = {
        "contact_name": ticket.contact.display_name,
        "ticket_number": ticket.number,
        "agent_name": (user.get_full_name() or user.get_username()) if user else "",
        "phone": team.phone,
        "form_url": team.form_url,
        "help_url": team.help_url,
        "csat_link": "",
    }
    values.update(extra)
    return values


def canned_render(body: str, variables: dict) -> str:
    """``body`` with each known ``{variable}`` filled in; other braces stay as written.
    Bidirectional overrides and isolates (in a display name, say) are removed, so the
    text reads as it says in the preview and in what is sent."""
    for name in CannedResponse.VARIABLES:
        body = body.replace("{" + name + "}", str(variables.get(name, "")))
    return strip_bidi_controls(body)


def canned_text(ticket: Ticket, purpose: str, *, user=None, **extra) -> str:
    """The team's canned response for ``purpose`` in the ticket's language, filled in."""
    language = _language(ticket)
    canned = (
        CannedResponse.objects.filter(purpose=purpose, language=language)
        .filter(Q(team_id=ticket.team_id) | Q(team__isnull=True))
        .order_by(F("team_id").asc(nulls_last=True), "id")
        .first()
    )
    if canned is not None:
        body = canned.body
    else:
        with translation.override(language):
            body = _(DEFAULT_TEXTS[purpose])
    return canned_render(body, canned_variables(ticket, user=user, **extra))
