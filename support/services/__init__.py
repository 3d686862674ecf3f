"""Writes on the support desk, one module per concept; call them from here
(``services.ticket_open(...)``).

- ``tickets``: which team gets a ticket, opening one, joining interactions, status and
  priority changes;
- ``rules``: the ticket rules for what the sync engine stored (``entries_ingested``);
- ``sla``: the SLA clock and the beat job's evaluation;
- ``assignment``: by hand, in bulk and round-robin;
- ``replies``, ``canned`` and ``handoff``: answering the customer, canned texts, public →
  private in one action;
- ``resolution`` and ``csat``: the end of a ticket and the customer's rating;
- ``escalation``: virality past a team's thresholds;
- ``incidents``: a surge of similar complaints, one statement, one resolution;
- ``events``: ticket events on the timeline and alerts (shared by the others).
"""

from .assignment import (
    ticket_assign,
    ticket_auto_assign,
    tickets_assign_waiting,
    tickets_bulk_assign,
)
from .canned import DEFAULT_TEXTS, canned_render, canned_text, canned_variables
from .conversations import conversation_assign, conversation_mark_handled
from .csat import (
    CSAT_SALT,
    CsatLinkError,
    csat_answer,
    csat_link,
    csat_request,
    csat_survey_for_token,
    csat_token,
)
from .escalation import ticket_escalate, tickets_escalate_for_entries, virality_reason
from .handoff import ticket_handoff
from .incidents import (
    incident_complaints,
    incident_detect,
    incident_link,
    incident_post_statement,
    incident_resolve,
    incident_statement_deliver,
)
from .replies import (
    ticket_dm_anchor,
    ticket_public_anchor,
    ticket_reply,
    ticket_reply_confirmed,
)
from .resolution import ticket_resolve
from .rules import (
    RULE_COMPLAINT,
    RULE_DM,
    tickets_apply_rules_for_ingested,
    tickets_open_for_entries,
)
from .sla import sla_evaluate
from .tickets import (
    team_default,
    team_for_account,
    ticket_change_priority,
    ticket_change_status,
    ticket_link_entry,
    ticket_open,
    ticket_open_for_entry,
    ticket_open_or_join,
    ticket_split_entry,
)

__all__ = [
    "CSAT_SALT",
    "DEFAULT_TEXTS",
    "RULE_COMPLAINT",
    "RULE_DM",
    "CsatLinkError",
    "canned_render",
    "canned_text",
    "canned_variables",
    "conversation_assign",
    "conversation_mark_handled",
    "csat_answer",
    "csat_link",
    "csat_request",
    "csat_survey_for_token",
    "csat_token",
    "incident_complaints",
    "incident_detect",
    "incident_link",
    "incident_post_statement",
    "incident_resolve",
    "incident_statement_deliver",
    "sla_evaluate",
    "team_default",
    "team_for_account",
    "ticket_assign",
    "ticket_auto_assign",
    "ticket_change_priority",
    "ticket_change_status",
    "ticket_dm_anchor",
    "ticket_escalate",
    "ticket_handoff",
    "ticket_link_entry",
    "ticket_open",
    "ticket_open_for_entry",
    "ticket_open_or_join",
    "ticket_public_anchor",
    "ticket_reply",
    "ticket_reply_confirmed",
    "ticket_resolve",
    "ticket_split_entry",
    "tickets_apply_rules_for_ingested",
    "tickets_assign_waiting",
    "tickets_bulk_assign",
    "tickets_escalate_for_entries",
    "tickets_open_for_entries",
    "virality_reason",
]
