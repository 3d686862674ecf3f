"""The public :func:`classify` entry point."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from .intent import decide, gather
from .language import detect_language
from .model import Model, RuleView, feature_parts, get_model
from .sentiment import emoji_raw, english_raw, exclamation_boost, normalize, spanish_raw
from .text import Prepared, prepare

logger = logging.getLogger(__name__)

#: |compound| below this is "neutral".
NEUTRAL_BAND = 0.25
#: Below this confidence a label is shown as uncertain (to be checked by an agent).
LOW_CONFIDENCE = 0.8


@dataclass(frozen=True, slots=True)
class Classification:
    language: str  # "en" | "es" | "" (unknown)
    intent: str  # "complaint" | "question" | "praise" | "other"
    sentiment: str  # "positive" | "neutral" | "negative"
    score: float  # sentiment compound in [-1, 1]
    #: How sure the model is of intent and sentiment together, in [0, 1].
    confidence: float = 1.0

    @property
    def uncertain(self) -> bool:
        return self.confidence < LOW_CONFIDENCE


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


def analyse(prepared: Prepared, language: str) -> tuple[RuleView, float]:
    """The rule layer: cue evidence, lexicon sentiment and its intent decision.

    Returns what the model sees and the rule layer's final compound score.
    """
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
    intent, scores = decide(evidence, compound, prepared.emoji)

    if evidence.sarcastic and intent == "complaint":
        raw = -abs(raw) - 1.0
    elif intent == "question":
        raw *= 0.4  # questions to support are mostly neutral, even with "thanks"
    elif intent == "complaint" and raw > 0:
        raw = min(raw, 0.0) - 1.0
    view = RuleView(
        intent=intent,
        compound=compound,
        scores=scores,
        sarcastic=evidence.sarcastic,
        resolved=evidence.resolved,
        directed=evidence.directed,
    )
    return view, round(normalize(raw), 4)


def rules_only(text: object) -> Classification:
    """The rule layer alone (the classifier before the model), for comparison."""
    prepared = prepare(text)
    if not prepared.text and not prepared.emoji:
        return UNKNOWN
    language = detect_language(prepared.text)
    view, score = analyse(prepared, language)
    return Classification(
        language=language, intent=view.intent, sentiment=_label(score), score=score
    )


def classify_with(model: Model, text: object) -> Classification:
    """:func:`classify` with another model than the shipped one (training, evaluation)."""
    return _classify(text, model)


def _classify(text: object, model: Model | None = None) -> Classification:
    prepared = prepare(text)
    if not prepared.text and not prepared.emoji:
        return UNKNOWN
    language = detect_language(prepared.text)
    view, score = analyse(prepared, language)
    model = model or get_model()
    if model is None:  # no artefact: the rules alone, and say they are unsure
        return Classification(
            language=language,
            intent=view.intent,
            sentiment=_label(score),
            score=score,
            confidence=0.5,
        )
    return decide_with(model, prepared, language, view, score)


#: The sentiment an intent has by definition.
_OWN_SENTIMENT = {"complaint": "negative", "praise": "positive"}


def decide_with(
    model: Model, prepared: Prepared, language: str, view: RuleView, score: float = 0.0
) -> Classification:
    """The model's labels for a prepared post and the rule layer's view of it (``score``:
    the rule layer's final compound)."""
    p_intent, p_sentiment = model.predict_parts(
        *feature_parts(prepared, language, view, model.shape)
    )
    if model.joint:
        # Decide both at once: a complaint must also be a negative post and praise a
        # positive one, so the sentiment head's evidence counts for the intent too.
        def joint(i: int) -> float:
            tied = _OWN_SENTIMENT.get(model.intents[i])
            p_s = p_sentiment[model.sentiments.index(tied)] if tied else max(p_sentiment)
            return math.log(p_intent[i] + 1e-12) + model.joint * math.log(p_s + 1e-12)

        best = max(range(len(p_intent)), key=joint)
    else:
        best = max(range(len(p_intent)), key=p_intent.__getitem__)
    intent = model.intents[best]
    confidence = p_intent[best]
    words = len(prepared.text.split())
    guarded = (
        model.guard
        and intent in ("praise", "other")
        and view.intent == "complaint"
        and view.compound <= -NEUTRAL_BAND
        and (model.guard_words is None or words <= model.guard_words)
    )
    if guarded:
        # The rule layer found complaint cues in a short, clearly negative post (a
        # negated compliment, "broken", "outage"...): the model's n-grams do not
        # overrule that.
        intent, confidence = "complaint", min(confidence, 0.79)
    if (
        model.guard
        and intent == "complaint"
        and view.scores.get("complaint", 0.0) <= 0
        and view.compound >= 0
        and words <= 5
    ):
        # A short post in which the rule layer sees no complaint and nothing negative
        # ("the app"): the model may be right (implicit complaints), but it is a guess.
        confidence = min(confidence, 0.79)
    # A complaint is negative and praise positive by definition. With ``tie`` set, the
    # sentiment head decides with that label favoured: a post called a complaint only
    # because of the complaint bias, which the head reads as neutral, keeps its neutral
    # sentiment (and says it is unsure).
    own = _OWN_SENTIMENT.get(intent)
    if own is not None and model.tie is None:
        sentiment = own
    elif model.guard and not prepared.text:
        # No words (emoji, handles, a URL): the emoji lexicon knows more than the corpus,
        # whose writers labelled nearly every such post neutral.
        sentiment = _label(score)
    else:
        logs = [math.log(p + 1e-12) for p in p_sentiment]
        if own is not None:
            logs[model.sentiments.index(own)] += model.tie or 0.0
        allowed = range(len(logs))
        if guarded:  # the n-grams read "me gusta" in "no me gusta": never positive
            allowed = [i for i, name in enumerate(model.sentiments) if name != "positive"]
        s = max(allowed, key=logs.__getitem__)
        sentiment = model.sentiments[s]
        if sentiment != own:
            confidence = min(confidence, p_sentiment[s])
    p_neg = p_sentiment[model.sentiments.index("negative")]
    p_pos = p_sentiment[model.sentiments.index("positive")]
    compound = p_pos - p_neg
    if _label(compound) != sentiment:  # keep score and label in agreement
        compound = {"negative": -0.5, "neutral": 0.0, "positive": 0.5}[sentiment]
    return Classification(
        language=language,
        intent=intent,
        sentiment=sentiment,
        score=round(max(-1.0, min(1.0, compound)), 4),
        confidence=round(confidence, 4),
    )
