"""Signals other apps listen to, so the shared ``crm`` app calls no app above it."""

from django.dispatch import Signal

#: Sent by ``crm.ingest.ingest_interactions`` inside the page's transaction, after the
#: entries are stored and the stage rules ran. Arguments: ``account``, ``created_ids``
#: (entries new on a timeline) and ``updated_ids`` (entries whose engagement counts
#: were refreshed). Receivers must not commit or swallow errors: a failure rolls the
#: page (and its cursor) back, so it is fetched again.
entries_ingested = Signal()

#: Sent by ``crm.outbox`` inside the transaction that records a send the network
#: confirmed. Arguments: ``message_id`` and ``sent_at``. Support stops the
#: first-response clock here: a reply that failed or whose outcome is unknown stops none.
outbound_confirmed = Signal()
