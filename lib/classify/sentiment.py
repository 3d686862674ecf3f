"""Sentiment scoring on the VADER scale.

English text goes through `vaderSentiment` (its lexicon ships in the
wheel).  Spanish uses a compact VADER-style scorer written here: lexicon
look-up, negation window ("no", "nunca", "sin", "ni", "cero"...),
intensifiers ("muy", "súper", "re", "-ísimo"), contrast ("pero"), CAPS
emphasis and exclamation marks.  Emoji valences are added for both
languages.  All scorers return a *raw* valence sum; :func:`normalize` maps
it to the [-1, 1] compound the same way VADER does.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

from .emoji_lexicon import EMOTICON_VALENCE, emoji_valence
from .lexicon_es import CONTRAST, INTENSIFIERS, LEXICON, NEGATORS, PHRASES
from .text import WORD_RE as _TOKEN_RE
from .text import fold, words

ALPHA = 15.0  # VADER's normalisation constant
NEGATION_SCALAR = -0.74
CAPS_BOOST = 0.733
EXCLAMATION_BOOST = 0.292

_vader: Any = None
_vader_lock = threading.Lock()


def _get_vader() -> Any:
    global _vader
    if _vader is None:
        with _vader_lock:
            if _vader is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                analyzer = SentimentIntensityAnalyzer()
                # Social/customer-care usage the stock lexicon gets wrong.
                analyzer.lexicon.update(
                    {
                        "joke": -1.5,
                        "lol": 0.6,
                        "lmao": 0.8,
                        "rocks": 2.0,
                        "rock": 1.0,
                        "unreal": 1.5,
                        "props": 1.5,
                        "kudos": 2.0,
                        "smh": -1.5,
                        "throttled": -2.0,
                        "useless": -2.5,
                        "fail": -2.0,
                        "cheers": 1.5,
                        "ty": 1.5,
                        "thx": 1.5,
                        "mad": -1.5,
                        "downhill": -2.0,
                        "fire": 0.0,
                    }
                )
                _vader = analyzer
    return _vader


def normalize(raw: float) -> float:
    """VADER's compound normalisation, clamped to [-1, 1]."""
    if raw == 0:
        return 0.0
    value = raw / math.sqrt(raw * raw + ALPHA)
    return max(-1.0, min(1.0, value))


def _denormalize(compound: float) -> float:
    compound = max(-0.9999, min(0.9999, compound))
    return compound * math.sqrt(ALPHA / (1.0 - compound * compound))


def english_raw(text: str) -> float:
    if not text.strip():
        return 0.0
    try:
        compound = _get_vader().polarity_scores(text)["compound"]
    except Exception:
        return 0.0
    return _denormalize(float(compound))


_SUPERLATIVE_RE = re.compile(r"(.{3,}?)isim([oa])s?$")


def _lookup_es(token: str) -> tuple[float, bool]:
    """Valence of a folded Spanish token and whether it is a superlative."""
    value = LEXICON.get(token)
    if value is not None:
        return value, False
    match = _SUPERLATIVE_RE.match(token)
    if match:
        base = match.group(1)
        for candidate in (
            base + "o",
            base + "e",
            base,
            base[:-1] + "co" if base.endswith("qu") else "",
        ):
            if candidate and candidate in LEXICON:
                return LEXICON[candidate], True
    return 0.0, False


def spanish_raw(text: str) -> float:
    folded = fold(text)
    total = 0.0
    # Multi-word expressions first; their words are then skipped.
    covered: list[tuple[int, int]] = []
    for phrase, valence in PHRASES.items():
        for match in re.finditer(r"\b" + re.escape(phrase) + r"\b", folded):
            before = folded[max(0, match.start() - 15) : match.start()].split()[-2:]
            negated = phrase.split()[0] not in NEGATORS and any(w in NEGATORS for w in before)
            total += valence * (NEGATION_SCALAR if negated else 1.0)
            covered.append(match.span())
    spans = [(m.group(0), m.start()) for m in _TOKEN_RE.finditer(folded)]
    tokens = [t for t, _ in spans]
    skip = {i for i, (_, pos) in enumerate(spans) if any(a <= pos < b for a, b in covered)}
    raw_tokens = words(text)
    if len(raw_tokens) != len(tokens):
        raw_tokens = tokens
    is_shouting = text.isupper()
    contrast_at = next((i for i, t in enumerate(tokens) if t in CONTRAST), -1)
    for i, token in enumerate(tokens):
        if i in skip:
            continue
        value, superlative = _lookup_es(token)
        if not value:
            continue
        sign = 1.0 if value > 0 else -1.0
        if superlative:
            value += sign * INTENSIFIERS["muy"]
        original = raw_tokens[i]
        if not is_shouting and len(original) > 1 and original.isupper():
            value += sign * CAPS_BOOST
        for distance, scale in ((1, 1.0), (2, 0.95)):
            if i - distance >= 0 and tokens[i - distance] in INTENSIFIERS:
                value += sign * INTENSIFIERS[tokens[i - distance]] * scale
        window = tokens[max(0, i - 3) : i]
        if any(w in NEGATORS for w in window):
            value *= NEGATION_SCALAR
        if contrast_at >= 0:
            value *= 0.5 if i < contrast_at else 1.5
        total += value
    return total


def emoji_raw(emoji: list[str], text: str) -> float:
    total = sum(emoji_valence(e) for e in emoji[:20])
    for token in text.lower().split():
        total += EMOTICON_VALENCE.get(token, 0.0)
    return max(-8.0, min(8.0, total))


def exclamation_boost(raw: float, text: str) -> float:
    """VADER-style amplification by '!' (used for the Spanish scorer)."""
    if raw == 0:
        return 0.0
    count = min(text.count("!") + text.count("¡"), 4)
    return math.copysign(count * EXCLAMATION_BOOST, raw)
