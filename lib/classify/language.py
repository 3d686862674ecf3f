"""English/Spanish language identification.

Uses `lingua-language-detector` restricted to English and Spanish (built
once, lazily, on first use; its n-gram models ship inside the wheel, so it
works offline).  Very short posts are decided together with a small
function-word vote, which is also the whole detector when lingua is not
installed.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from .text import fold, load_words, words

_ES_WORDS = load_words("function_words_es.txt")
_EN_WORDS = load_words("function_words_en.txt")
_ES_CHARS = re.compile(r"[ñ¿¡áéíóú]", re.IGNORECASE)

#: A post of this many words whose function-word vote is this clear is decided by it.
DECISIVE_TOKENS = 5
DECISIVE_VOTE = 3.0

_detector: Any = None
_detector_lock = threading.Lock()
_lingua_missing = False


def _get_detector() -> Any:
    """Build the lingua detector once (thread-safe); None if unavailable."""
    global _detector, _lingua_missing
    if _detector is not None or _lingua_missing:
        return _detector
    with _detector_lock:
        if _detector is None and not _lingua_missing:
            try:
                from lingua import Language, LanguageDetectorBuilder
            except ImportError:
                _lingua_missing = True
                return None
            _detector = LanguageDetectorBuilder.from_languages(
                Language.ENGLISH, Language.SPANISH
            ).build()
    return _detector


def lingua_available() -> bool:
    return _get_detector() is not None


def _vote(tokens: list[str], text: str) -> float:
    """Positive = Spanish, negative = English."""
    es = sum(1 for t in tokens if t in _ES_WORDS)
    en = sum(1 for t in tokens if t in _EN_WORDS)
    score = float(es - en)
    if _ES_CHARS.search(text):
        score += 1.5
    if re.search(r"\w'(s|t|re|ve|ll|m|d)\b", text):
        score -= 1.0
    return score


def _spanish_probability(text: str) -> float | None:
    detector = _get_detector()
    if detector is None:
        return None
    try:
        values = detector.compute_language_confidence_values(text)
    except Exception:
        return None
    for value in values:
        if value.language.name == "SPANISH":
            return float(value.value)
    return None


def detect_language(text: str) -> str:
    """Return ``"en"``, ``"es"`` or ``""`` for already-cleaned text.

    The caller should pass text without URLs, handles and emoji (see
    :func:`lib.classify.text.prepare`).
    """
    raw_tokens = words(text)
    tokens = [fold(t) for t in raw_tokens if not t[0].isdigit()]
    letters = sum(len(t) for t in tokens)
    if letters < 2:
        return ""
    vote = _vote(tokens, text)
    if len(tokens) >= DECISIVE_TOKENS and abs(vote) >= DECISIVE_VOTE:
        # Enough function words of one language: lingua would agree (it did on every
        # such post of the corpus), and skipping it is most of the classifier's speed.
        return "es" if vote > 0 else "en"
    p_es = _spanish_probability(" ".join(raw_tokens))
    if p_es is None:
        if vote > 0:
            return "es"
        if vote < 0:
            return "en"
        return ""
    # lingua is reliable from a few words on; below that, let the
    # function-word vote weigh in.
    weight = 4.0 if len(tokens) >= 4 else 2.0
    combined = (p_es - 0.5) * 2 * weight + vote
    if combined > 0.25:
        return "es"
    if combined < -0.25:
        return "en"
    return ""
