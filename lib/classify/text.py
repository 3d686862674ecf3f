"""Sanitising and tokenising hostile social-media text.

Everything here is total: any ``str`` (including lone surrogates, control
characters, HTML, bidi marks) goes in, clean text comes out, nothing raises.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from lib.text import fold

#: Posts longer than this are truncated before analysis (keeps worst-case
#: latency bounded; social posts are far shorter).
MAX_CHARS = 10_000

_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,500}>|<!--.*?-->", re.DOTALL)
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|ly|co|es|io|mx|ar|me|info)/\S*",
    re.IGNORECASE,
)
_HANDLE_RE = re.compile(r"(?<![\w@])@\w{1,30}")
_HASHTAG_RE = re.compile(r"(?<![\w#])#(\w{1,60})")
_CAMEL_RE = re.compile(r"(?<=[a-záéíóúñü])(?=[A-ZÁÉÍÓÚÑ])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
# Bidi controls, zero-width chars (ZWJ U+200D is kept: it glues emoji), BOM.
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE_RE = re.compile(r"\s+")

# Pictographs, dingbats, symbols, flags, skin tones, variation selectors, ZWJ.
EMOJI_RE = re.compile(
    "(?:[\U0001f1e6-\U0001f1ff]{2})"
    "|(?:[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff"
    "\u3030\u303d\u3297\u3299\u00a9\u00ae\u203c\u2049\u2122\u2139\u24c2\u25aa-\u25fe]"
    "[\U0001f3fb-\U0001f3ff\ufe0f\u20e3]*"
    "(?:\u200d[\U0001f000-\U0001faff\u2600-\u27bf\u2640\u2642][\U0001f3fb-\U0001f3ff\ufe0f]*)*)"
)
_EMOJI_MODIFIERS_RE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\ufe0e\u200d\u20e3]")

# Word tokens: letters (any script) with inner apostrophes/hyphens, or numbers.
WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\d+[a-zA-Z]*", re.UNICODE)


def sanitize(value: object) -> str:
    """Coerce to ``str`` and remove everything that is not readable text.

    Invalid surrogates become U+FFFD and are then dropped; HTML tags and
    script/style blocks are removed; entities are decoded; bidi and
    zero-width controls are stripped; whitespace is collapsed.
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    else:
        try:
            text = value if isinstance(value, str) else str(value)
        except Exception:
            return ""
    text = text[:MAX_CHARS]
    # Re-pair valid surrogate pairs, replace lone ones.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.replace("\ufffd", " ")
    text = unicodedata.normalize("NFC", text)
    for _ in range(2):  # twice: entities may hide tags ("&lt;script&gt;")
        text = _SCRIPT_RE.sub(" ", text)
        text = _TAG_RE.sub(" ", text)
        text = html.unescape(text)
    text = _INVISIBLE_RE.sub("", text)
    text = _CONTROL_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


def split_hashtag(tag: str) -> str:
    """``"MomentoFail"`` -> ``"Momento Fail"``; ``"fail"`` -> ``"fail"``."""
    return _CAMEL_RE.sub(" ", tag).replace("_", " ")


@dataclass(slots=True)
class Prepared:
    """A post split into the parts the classifiers use."""

    raw: str
    #: Text without URLs, @handles and emoji; hashtags turned into words.
    text: str
    emoji: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    urls: int = 0
    _folded: str | None = None

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded


def prepare(value: object) -> Prepared:
    raw = sanitize(value)
    urls = len(_URL_RE.findall(raw))
    text = _URL_RE.sub(" ", raw)
    handles = [h.lower() for h in _HANDLE_RE.findall(text)]
    text = _HANDLE_RE.sub(" ", text)
    hashtags = _HASHTAG_RE.findall(text)
    text = _HASHTAG_RE.sub(lambda m: " " + split_hashtag(m.group(1)) + " ", text)
    emoji = [_EMOJI_MODIFIERS_RE.sub("", e) or e for e in EMOJI_RE.findall(text)]
    text = EMOJI_RE.sub(" ", text)
    text = _EMOJI_MODIFIERS_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text).strip()
    return Prepared(raw=raw, text=text, emoji=emoji, handles=handles, hashtags=hashtags, urls=urls)


def words(text: str) -> list[str]:
    """Word tokens in original case (apostrophes kept inside words)."""
    return WORD_RE.findall(text)


DATA_DIR = Path(__file__).resolve().parent / "data"


def load_words(name: str) -> frozenset[str]:
    """Read a word list from ``data/``: one word per line, '#' starts a comment."""
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))
