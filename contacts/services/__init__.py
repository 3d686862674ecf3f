"""Writes on contacts, one module per concept; call them through this package
(``services.contact_merge(...)``).

- ``contacts``: a contact's own record (create, update, bulk actions, notes)
- ``stages``: stage changes and the stage rules that sync and events apply
- ``todos``: follow-ups for staff ("tasks" in the UI) and their reminders
- ``purchases``: purchases, once per order
- ``merge``: two contacts into one
- ``gdpr``: export and erasure
- ``audit``: the change history
- ``imports``: CSV imports
- ``labels``: agents' corrections of the classifier's labels, and their export
- ``activity`` and ``relations``: what the others share (last interaction and score;
  every table that refers to a contact)
"""

from .activity import (
    contacts_activity_append,
    contacts_score_refresh_on_commit,
    contacts_touch,
)
from .audit import AUDITED_FIELDS, audit_record, audit_value
from .contacts import (
    BulkResult,
    contact_add_note,
    contact_create,
    contact_update,
    contacts_bulk_apply,
)
from .gdpr import ERASED, contact_erase, contact_export
from .imports import (
    IMPORT_FIELDS,
    ImportPreview,
    contact_import_draft,
    contact_import_start,
    contact_import_step,
    csv_decode,
    import_preview,
)
from .labels import entry_label_correct, label_corrections_csv, label_corrections_rows
from .merge import contact_merge
from .purchases import contact_for_handle, purchase_record
from .relations import ContactRelation, contact_generic_references, contact_relations
from .stages import (
    FOLLOW_RULE,
    contact_change_stage,
    contacts_advance_by_rule,
    stage_rules_apply,
    stage_rules_apply_event,
)
from .todos import todo_complete, todo_create, todo_reminders_send

__all__ = [
    "AUDITED_FIELDS",
    "ERASED",
    "FOLLOW_RULE",
    "IMPORT_FIELDS",
    "BulkResult",
    "ContactRelation",
    "ImportPreview",
    "audit_record",
    "audit_value",
    "contact_add_note",
    "contact_change_stage",
    "contact_create",
    "contact_erase",
    "contact_export",
    "contact_for_handle",
    "contact_generic_references",
    "contact_import_draft",
    "contact_import_start",
    "contact_import_step",
    "contact_merge",
    "contact_relations",
    "contact_update",
    "contacts_activity_append",
    "contacts_advance_by_rule",
    "contacts_bulk_apply",
    "contacts_score_refresh_on_commit",
    "contacts_touch",
    "csv_decode",
    "entry_label_correct",
    "import_preview",
    "label_corrections_csv",
    "label_corrections_rows",
    "purchase_record",
    "stage_rules_apply",
    "stage_rules_apply_event",
    "todo_complete",
    "todo_create",
    "todo_reminders_send",
]
