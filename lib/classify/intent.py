"""Rule-based intent scoring (complaint / question / praise / other)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .cues import (
    COMPLAINT,
    DOMAIN,
    OTHER_CUES,
    PRAISE,
    QUESTION_CUES,
    QUESTION_START,
    SARCASM,
    SARCASM_EMOJI,
    Cue,
)
from .emoji_lexicon import emoji_valence

LANGS = ("en", "es")
#: Score "other" starts with: a post needs more evidence than this to be
#: labelled complaint/question/praise.
OTHER_BASELINE = 1.5

_RESOLUTION_RE = re.compile(
    r"\b(fix(ed|ing)?|sorted|resolved|solved|refunding|refund landed|replacement|no regrets|"
    r"arregl\w+|resolv\w+|solucion\w+|devolverme|me llego el reembolso|cumplio)\b"
)
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?¿¡:])\s+|\s*[¿¡]\s*")


@dataclass(slots=True)
class IntentEvidence:
    complaint: float = 0.0
    question: float = 0.0
    praise: float = 0.0
    other: float = OTHER_BASELINE
    #: Valence contributed by complaint/praise cues (VADER scale).
    valence_pos: float = 0.0
    valence_neg: float = 0.0
    sarcastic: bool = False
    resolved: bool = False
    directed: bool = False
    matched: list[str] = field(default_factory=list)


_NEGATORS = frozenset(
    {
        "no",
        "not",
        "never",
        "nunca",
        "ni",
        "nada",
        "jamas",
        "tampoco",
        "dont",
        "didnt",
        "isnt",
        "wasnt",
        "arent",
        "doesnt",
        "don't",
        "didn't",
        "isn't",
        "wasn't",
        "aren't",
        "doesn't",
    }
)


def _negated(folded: str, start: int) -> bool:
    """True if one of the three words before ``start`` is a negator."""
    before = folded[max(0, start - 30) : start].split()[-3:]
    return any(w.strip(".,!?¿¡") in _NEGATORS for w in before)


def _match(cues: tuple[Cue, ...], folded: str, evidence: IntentEvidence, kind: str) -> float:
    score = 0.0
    for cue in cues:
        found = cue.pattern.search(folded)
        if not found:
            continue
        if kind == "praise" and _negated(folded, found.start()):
            continue  # "no fue nada amable", "not impressed"
        score += cue.weight
        if cue.valence > 0:
            evidence.valence_pos += cue.valence
        else:
            evidence.valence_neg += cue.valence
        evidence.matched.append(f"{kind}:{cue.pattern.pattern[:30]}")
    return score


def gather(
    folded: str, raw: str, language: str, emoji: list[str], handles: list[str]
) -> IntentEvidence:
    """Collect cue evidence.  ``folded`` is the cleaned, accent-folded text."""
    ev = IntentEvidence()
    langs = (language,) if language in LANGS else LANGS
    # Cues are matched for both languages: code-switching is common and the
    # patterns are specific enough not to fire across languages.
    for lang in LANGS:
        ev.complaint += _match(COMPLAINT[lang], folded, ev, "complaint")
        ev.praise += _match(PRAISE[lang], folded, ev, "praise")
        ev.question += _match(QUESTION_CUES[lang], folded, ev, "question")
        ev.other += _match(OTHER_CUES[lang], folded, ev, "other")
    if "?" in raw or "¿" in raw:
        ev.question += 2.5
    sentences = [s.strip(" ,;-") for s in _SENTENCE_SPLIT_RE.split(folded) if s.strip(" ,;-")]
    if any(QUESTION_START[lang].match(s) for lang in langs for s in sentences[:4]):
        ev.question += 2.0
    ev.directed = bool(handles) or any(DOMAIN[lang].search(folded) for lang in LANGS)
    ev.resolved = bool(_RESOLUTION_RE.search(folded))
    sarcasm_marker = any(SARCASM[lang].search(folded) for lang in LANGS) or any(
        e in SARCASM_EMOJI for e in emoji
    )
    ev.sarcastic = sarcasm_marker and (ev.complaint >= 1.5 or ev.praise >= 2.0) and ev.directed
    return ev


def decide(ev: IntentEvidence, compound: float, emoji: list[str]) -> tuple[str, dict[str, float]]:
    complaint, question, praise, other = ev.complaint, ev.question, ev.praise, ev.other
    negative_emoji = sum(1 for e in emoji if emoji_valence(e) <= -1.5)
    positive_emoji = sum(1 for e in emoji if emoji_valence(e) >= 1.5)
    complaint += min(negative_emoji, 2) * 0.75
    praise += min(positive_emoji, 2) * 0.5
    if compound <= -0.3:
        complaint += 1.75
    elif compound >= 0.4:
        praise += 1.75
    if ev.sarcastic:
        complaint += 1.0 + praise * 0.5
        praise = 0.0
    if ev.resolved and praise >= 2.0:
        complaint *= 0.3
    if complaint >= 3.0 and question > 0:
        # "where is my order?? it never arrived" is a complaint phrased as a question
        question *= 0.6
    if not ev.directed:
        complaint *= 0.5
        question *= 0.5
        praise *= 0.5
    scores = {
        "complaint": complaint,
        "question": question,
        "praise": praise,
        "other": other,
    }
    intent = max(scores, key=lambda k: (scores[k], k == "other"))
    return intent, scores
