"""The contacts app's models, one module per topic; import them from here."""

from .audit import ContactAudit
from .imports import ContactImport
from .labels import LabelCorrection
from .people import Contact, SocialIdentity, Stage, Tag
from .purchases import Purchase
from .stages import StageChange, StageRule
from .timeline import WAITING, TimelineEntry, TimelineEntryQuerySet, timeline_event_record
from .todos import Todo
from .tombstones import Tombstone

__all__ = [
    "WAITING",
    "Contact",
    "ContactAudit",
    "ContactImport",
    "LabelCorrection",
    "Purchase",
    "SocialIdentity",
    "Stage",
    "StageChange",
    "StageRule",
    "Tag",
    "TimelineEntry",
    "TimelineEntryQuerySet",
    "Todo",
    "Tombstone",
    "timeline_event_record",
]
