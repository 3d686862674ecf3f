"""Topic keywords for grouping similar posts into incidents."""

from __future__ import annotations

import threading
from typing import Any

from .text import WORD_RE, fold, load_words, prepare

_EN_STOP = load_words("stopwords_en.txt")
_ES_STOP = load_words("stopwords_es.txt")
#: Brand and platform noise: present in most posts, useless for grouping.
_NOISE = frozenset({"momento", "rt", "via", "http", "https", "www", "com"})
#: Spelling variants folded to one keyword.
_CANONICAL = {
    "wi-fi": "wifi",
    "fiber": "fibre",
    "fibra": "fibra",
    "e-mail": "email",
    "mail": "email",
    "correo": "email",
    "celular": "movil",
    "cel": "movil",
}

_stemmers: dict[str, Any] = {}
_lock = threading.Lock()


def _stemmer(language: str) -> Any:
    name = {"en": "english", "es": "spanish"}[language]
    if name not in _stemmers:
        with _lock:
            if name not in _stemmers:
                import snowballstemmer

                _stemmers[name] = snowballstemmer.stemmer(name)
    return _stemmers[name]


def topic_keywords(text: object, language: str = "", limit: int = 12) -> list[str]:
    """Normalised content keywords, in order of first appearance.

    Lowercased, accent-folded, stopwords (English and Spanish) removed, and
    stemmed with the Snowball stemmer of ``language`` ("en"/"es"); with an
    unknown language ("") words are only folded, not stemmed.  URLs,
    @handles, emoji and numbers are dropped; hashtags are split into words.
    """
    try:
        prepared = prepare(text)
    except Exception:
        return []
    stemmer = _stemmer(language) if language in ("en", "es") else None
    seen: set[str] = set()
    keywords: list[str] = []
    for match in WORD_RE.finditer(prepared.text.casefold()):
        word = match.group(0).replace("’", "'")
        if word[0].isdigit() and not any(c.isalpha() for c in word):
            continue
        folded_word = fold(word)
        if len(folded_word) < 2 or folded_word in _EN_STOP or folded_word in _ES_STOP:
            continue
        if folded_word in _NOISE or word in _EN_STOP:
            continue
        folded_word = _CANONICAL.get(folded_word, folded_word)
        if stemmer is not None and not word[0].isdigit():
            folded_word = fold(stemmer.stemWord(folded_word))
        if len(folded_word) < 2 or folded_word in seen:
            continue
        seen.add(folded_word)
        keywords.append(folded_word)
        if len(keywords) >= limit:
            break
    return keywords
