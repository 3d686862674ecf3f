"""The contacts API's serializers: the resources (one per model) and the inputs and
results of its business actions. Import them from here."""

from .actions import (
    ContactExportSerializer,
    ContactImportInputSerializer,
    EraseResultSerializer,
    MergeInputSerializer,
    MergeResultSerializer,
    NoteInputSerializer,
    PurchaseInputSerializer,
    StageChangeInputSerializer,
)
from .resources import (
    ContactAuditSerializer,
    ContactImportSerializer,
    ContactSerializer,
    DuplicateSerializer,
    PurchaseSerializer,
    ScoreReasonSerializer,
    SocialIdentitySerializer,
    StageRuleSerializer,
    TimelineEntrySerializer,
    TodoSerializer,
)

__all__ = [
    "ContactAuditSerializer",
    "ContactExportSerializer",
    "ContactImportInputSerializer",
    "ContactImportSerializer",
    "ContactSerializer",
    "DuplicateSerializer",
    "EraseResultSerializer",
    "MergeInputSerializer",
    "MergeResultSerializer",
    "NoteInputSerializer",
    "PurchaseInputSerializer",
    "PurchaseSerializer",
    "ScoreReasonSerializer",
    "SocialIdentitySerializer",
    "StageChangeInputSerializer",
    "StageRuleSerializer",
    "TimelineEntrySerializer",
    "TodoSerializer",
]
