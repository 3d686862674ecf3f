"""The support desk's models, one module per topic; import them from here.

Teams with their hours and SLA policies (``teams``), tickets that gather a customer's
public and private messages (``tickets``), incidents, canned responses and CSAT."""

from .canned import CannedResponse
from .csat import CsatSurvey
from .incidents import Incident
from .teams import (
    BusinessHours,
    Holiday,
    Priority,
    SlaPolicy,
    SupportAgent,
    Team,
    Weekday,
    validate_time_zone,
)
from .tickets import (
    ACTIVE_STATUSES,
    CONVERSATION_KINDS,
    PUBLIC_KINDS,
    SlaEvent,
    Status,
    Ticket,
    TicketLink,
    TicketReply,
)

__all__ = [
    "ACTIVE_STATUSES",
    "CONVERSATION_KINDS",
    "PUBLIC_KINDS",
    "BusinessHours",
    "CannedResponse",
    "CsatSurvey",
    "Holiday",
    "Incident",
    "Priority",
    "SlaEvent",
    "SlaPolicy",
    "Status",
    "SupportAgent",
    "Team",
    "Ticket",
    "TicketLink",
    "TicketReply",
    "Weekday",
    "validate_time_zone",
]
