"""Plain-text helpers with no Django state."""

from __future__ import annotations

import unicodedata

#: Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069):
#: text from a network can use them to make what we send read differently from what
#: it says ("Trojan Source"). Marks (U+200E/U+200F) only hint direction and stay.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def strip_bidi_controls(text: str) -> str:
    """``text`` without bidirectional embeddings, overrides and isolates."""
    return text.translate(BIDI_CONTROLS) if text else text


def fold(text: str) -> str:
    """``text`` lower-cased (``casefold``) and without accents, for matching what people
    type: "Qué Pésimo" → "que pesimo", "Contraseña" → "contrasena", "Straße" →
    "strasse". ``ñ`` folds to ``n`` too: Spanish social text often omits it. The
    classifier's features and the stored search copies use this one function."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
