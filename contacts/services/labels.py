"""An agent corrects the classifier's labels of an entry; corrections are exported
in the training corpus' format for the next ``classify_train`` run."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.choices import Direction, Intent, Sentiment

from ..models import LabelCorrection, TimelineEntry

#: What a complaint or praise is by definition; other intents keep their sentiment.
_SENTIMENT_OF = {Intent.COMPLAINT: Sentiment.NEGATIVE, Intent.PRAISE: Sentiment.POSITIVE}
EXPORT_COLUMNS = ("text", "language", "intent", "sentiment")


@transaction.atomic
def entry_label_correct(
    *, entry: TimelineEntry, user: Any, intent: str = "", sentiment: str = ""
) -> LabelCorrection:
    """Set the entry's intent and/or sentiment as the agent says, and keep the
    correction. A complaint is negative and praise positive unless told otherwise."""
    if intent and intent not in Intent.values:
        raise ValidationError({"intent": _("Choose a valid intent.")})
    if sentiment and sentiment not in Sentiment.values:
        raise ValidationError({"sentiment": _("Choose a valid sentiment.")})
    if not intent and not sentiment:
        raise ValidationError({"intent": _("Choose an intent or a sentiment.")})
    if entry.direction != Direction.INBOUND or not entry.text:
        raise ValidationError(_("Only received messages with text have labels to correct."))
    locked = TimelineEntry.objects.select_for_update().get(pk=entry.pk)
    new_intent = intent or locked.intent or Intent.OTHER
    new_sentiment = sentiment or _SENTIMENT_OF.get(new_intent) or locked.sentiment
    correction = LabelCorrection.objects.create(
        entry=locked,
        text=locked.text,
        language=locked.language,
        previous_intent=locked.intent,
        previous_sentiment=locked.sentiment,
        previous_confidence=locked.label_confidence,
        intent=new_intent,
        sentiment=new_sentiment or Sentiment.NEUTRAL,
        corrected_by=user,
    )
    locked.intent, locked.sentiment = correction.intent, correction.sentiment
    locked.label_confidence = 1.0
    locked.save(update_fields=["intent", "sentiment", "label_confidence"])
    entry.intent, entry.sentiment = locked.intent, locked.sentiment
    entry.label_confidence = locked.label_confidence
    return correction


def label_corrections_rows() -> Iterator[dict[str, str]]:
    """The latest correction of each entry, as training rows (text, language, intent,
    sentiment), oldest entry first."""
    latest = (
        LabelCorrection.objects.order_by("entry_id", "-created_at", "-id")
        .distinct("entry_id")
        .values_list("text", "language", "intent", "sentiment")
    )
    for text, language, intent, sentiment in latest.iterator():
        if text.strip():
            yield dict(zip(EXPORT_COLUMNS, (text, language, intent, sentiment), strict=True))


def label_corrections_csv() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(label_corrections_rows())
    return out.getvalue()
