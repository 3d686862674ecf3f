"""What the steps of one ingest page share: the page's figures and the lookup batch."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Lookups by ``IN (...)`` are split so SQLite's parameter limit is never reached.
LOOKUP_CHUNK = 900


@dataclass
class IngestStats:
    """What one page did. ``created`` entries are new on a timeline; ``updated`` were
    already stored (their engagement counts refreshed); ``failed`` items were kept as
    ``SyncFailure`` (``failed_new`` of them for the first time)."""

    received: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    failed_new: int = 0
    #: Items by or of an erased person (GDPR tombstones), dropped before storing.
    skipped_erased: int = 0
    new_contacts: int = 0
    stage_changes: int = 0
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
