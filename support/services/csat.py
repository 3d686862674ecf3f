"""Customer satisfaction: the one-time signed link DMed after a resolution (answered
publicly where the network has no DMs), reading it back, and the customer's single
answer (on the ticket and the timeline)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import timeline_event_record
from core.choices import Direction, EntryKind
from crm.models import OutboundMessage
from crm.networks import adapter_class
from crm.outbox import system_key

from ..models import CannedResponse, CsatSurvey, Ticket, TicketReply
from .canned import canned_text
from .replies import ticket_public_anchor, ticket_recipient, ticket_reply

CSAT_SALT = "support.csat"


def csat_token(survey: CsatSurvey) -> str:
    return signing.dumps({"s": survey.pk, "n": survey.nonce}, salt=CSAT_SALT, compress=True)


def csat_link(survey: CsatSurvey) -> str:
    return settings.SITE_URL + reverse("support:csat", args=[csat_token(survey)])


def _offers_dms(network: str) -> bool:
    """Whether Momento can DM on ``network`` (YouTube and LinkedIn pages cannot)."""
    return "dms" in adapter_class(network).streams


@transaction.atomic
def csat_request(*, ticket: Ticket) -> CsatSurvey | None:
    """DM the customer, in the ticket's thread, a one-time signed link to rate the help;
    on a network with no direct messages, answer their newest public message with it.
    None when there is no account, identity or message to answer."""
    if ticket.account is None:
        return None
    if _offers_dms(ticket.account.network):
        kind = OutboundMessage.Kind.DM
        if ticket_recipient(ticket, ticket.account) is None:
            return None
    else:
        kind = OutboundMessage.Kind.REPLY
        if ticket_public_anchor(ticket) is None:
            return None
    survey = CsatSurvey.objects.create(ticket=ticket, nonce=secrets.token_hex(16))
    ticket_reply(
        ticket=ticket,
        kind=kind,
        text=canned_text(ticket, CannedResponse.Purpose.CSAT, csat_link=csat_link(survey)),
        purpose=TicketReply.Purpose.CSAT,
        idempotency_key=system_key(f"csat-{survey.pk}"),
    )
    return survey


class CsatLinkError(Exception):
    """A CSAT link that cannot be used; ``reason`` is "invalid", "expired" or "used"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def csat_survey_for_token(token: str) -> CsatSurvey:
    try:
        data = signing.loads(token, salt=CSAT_SALT, max_age=settings.SUPPORT_CSAT_MAX_AGE)
    except signing.SignatureExpired:
        raise CsatLinkError("expired") from None
    except signing.BadSignature:
        raise CsatLinkError("invalid") from None
    if not isinstance(data, dict):
        raise CsatLinkError("invalid")
    survey = (
        CsatSurvey.objects.select_related("ticket__contact")
        .filter(pk=data.get("s"), nonce=str(data.get("n")))
        .first()
    )
    if survey is None:
        raise CsatLinkError("invalid")
    if survey.answered_at is not None:
        raise CsatLinkError("used")
    return survey


@transaction.atomic
def csat_answer(*, token: str, rating: int, comment: str = "") -> CsatSurvey:
    """Record the customer's rating once; the answer lands on the ticket and the
    timeline. Raises ``CsatLinkError`` for a forged, expired or used link and
    ``ValidationError`` for a rating outside 1–5."""
    survey = csat_survey_for_token(token)
    if rating not in range(1, 6):
        raise ValidationError({"rating": _("Choose a rating from 1 to 5.")})
    comment = comment.strip()[:2000]
    now = timezone.now()
    claimed = CsatSurvey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        rating=rating, comment=comment, answered_at=now
    )
    if not claimed:
        raise CsatLinkError("used")
    survey.rating, survey.comment, survey.answered_at = rating, comment, now
    timeline_event_record(
        contact_id=survey.ticket.contact_id,
        kind=EntryKind.CSAT,
        direction=Direction.INBOUND,
        subject=survey,
        text=comment,
        occurred_at=now,
        raw={"rating": rating, "ticket": survey.ticket_id},
    )
    return survey
