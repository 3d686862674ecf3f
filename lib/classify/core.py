"""The public :func:`classify` entry point."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .intent import decide, gather
from .language import detect_language
from .sentiment import emoji_raw, english_raw, exclamation_boost, normalize, spanish_raw
from .text import prepare

logger = logging.getLogger(__name__)

#: |compound| below this is "neutral".
NEUTRAL_BAND = 0.25


@dataclass(frozen=True, slots=True)
class Classification:
    language: str  # "en" | "es" | "" (unknown)
    intent: str  # "complaint" | "question" | "praise" | "other"
    sentiment: str  # "positive" | "neutral" | "negative"
    score: float  # sentiment compound in [-1, 1]


UNKNOWN = Classification(language="", intent="other", sentiment="neutral", score=0.0)


def _label(compound: float) -> str:
    if compound >= NEUTRAL_BAND:
        return "positive"
    if compound <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def classify(text: object) -> Classification:
    """Classify one post.  Never raises: on internal failure returns ``UNKNOWN``."""
    try:
        return _classify(text)
    except Exception:
        logger.exception("classify failed")
        return UNKNOWN


def _classify(text: object) -> Classification:
    prepared = prepare(text)
    if not prepared.text and not prepared.emoji:
        return UNKNOWN
    language = detect_language(prepared.text)
    folded = prepared.folded
    evidence = gather(folded, prepared.raw, language, prepared.emoji, prepared.handles)

    if language == "es":
        base = spanish_raw(prepared.text)
    else:
        base = english_raw(prepared.text)
    raw = base + emoji_raw(prepared.emoji, prepared.text)
    raw += evidence.valence_pos
    if not evidence.resolved:  # "thanks for fixing the outage" is not negative
        raw += evidence.valence_neg
    if language == "es":
        raw += exclamation_boost(raw, prepared.raw)
    compound = normalize(raw)
    intent, _scores = decide(evidence, compound, prepared.emoji)

    if evidence.sarcastic and intent == "complaint":
        raw = -abs(raw) - 1.0
    elif intent == "question":
        raw *= 0.4  # questions to support are mostly neutral, even with "thanks"
    elif intent == "complaint" and raw > 0:
        raw = min(raw, 0.0) - 1.0
    compound = round(normalize(raw), 4)
    return Classification(
        language=language, intent=intent, sentiment=_label(compound), score=compound
    )
