"""Signals other apps listen to, so the shared ``crm`` app calls no app above it."""

from django.dispatch import Signal

#: Sent by the follow-up of each page ``crm.ingest.ingest_interactions`` stored
#: (``crm.ingest.followup.ingest_followup_run``), inside the follow-up's transaction,
#: after the contacts' touch, search documents and stage rules. Arguments: ``account``,
#: ``created_ids`` (entries new on a timeline) and ``updated_ids`` (entries whose
#: engagement counts were refreshed). Receivers must be set-based (a constant number of
#: statements per page) and must not commit or swallow errors: a failure rolls the
#: follow-up back, and the beat sweep runs it again.
entries_ingested = Signal()

#: Sent by ``contacts.services.contact_erase`` inside its transaction, once the
#: person's tombstones are kept. Arguments: ``contact_id`` and ``items`` (network →
#: the network item ids that were on her timeline), so apps above ``contacts`` can
#: drop what they hold about those items (e.g. the sync's failed items).
contact_erased = Signal()

#: Sent by ``crm.outbox`` inside the transaction that records a send the network
#: confirmed. Arguments: ``message_id`` and ``sent_at``. Support stops the
#: first-response clock here: a reply that failed or whose outcome is unknown stops none.
outbound_confirmed = Signal()
