"""Signals other apps listen to, so the shared ``crm`` app calls no app above it."""

from django.dispatch import Signal

#: Sent by ``crm.ingest.ingest_interactions`` inside the page's transaction, after the
#: entries are stored and the stage rules ran. Arguments: ``account``, ``created_ids``
#: (entries new on a timeline) and ``updated_ids`` (entries whose engagement counts
#: were refreshed). Receivers must not commit or swallow errors: a failure rolls the
#: page (and its cursor) back, so it is fetched again.
entries_ingested = Signal()

#: Sent by ``contacts.services.contact_erase`` inside its transaction, once the
#: person's tombstones are kept. Arguments: ``contact_id`` and ``items`` (network →
#: the network item ids that were on her timeline), so apps above ``contacts`` can
#: drop what they hold about those items (e.g. the sync's failed items).
contact_erased = Signal()
