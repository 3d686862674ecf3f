"""Emoji and emoticon valences on the VADER scale (-4 .. +4).

Keys are the base code point (skin tones, ZWJ and variation selectors are
stripped before lookup).  Values reflect how the emoji is used in customer
care posts, not its literal name (🔥 = "great", 🐌 = "slow", 🤡 = mockery).
"""

from __future__ import annotations

EMOJI_VALENCE: dict[str, float] = {
    # love / delight
    "😍": 3.0,
    "🥰": 3.0,
    "😻": 3.0,
    "🤩": 3.0,
    "😘": 2.5,
    "❤": 3.0,
    "💕": 3.0,
    "💖": 3.0,
    "💗": 3.0,
    "💓": 3.0,
    "💞": 3.0,
    "💘": 3.0,
    "💝": 3.0,
    "💙": 2.5,
    "💚": 2.5,
    "💛": 2.5,
    "💜": 2.5,
    "🧡": 2.5,
    "♥": 2.5,
    "😇": 2.0,
    # happy
    "😊": 2.0,
    "😀": 2.0,
    "😃": 2.0,
    "😄": 2.0,
    "😁": 2.0,
    "🙂": 1.0,
    "😉": 1.0,
    "😎": 1.5,
    "🤗": 2.0,
    "😌": 1.0,
    "☺": 2.0,
    "😆": 1.5,
    "😂": 1.5,
    "🤣": 1.5,
    "😅": 0.5,
    "🥳": 2.5,
    "🎉": 2.0,
    "🎊": 2.0,
    "🥂": 1.5,
    "🍾": 1.5,
    # approval / thanks
    "👍": 2.0,
    "👌": 2.0,
    "👏": 2.0,
    "🙌": 2.0,
    "🙏": 1.5,
    "💪": 1.5,
    "✅": 1.0,
    "💯": 2.0,
    "🔥": 1.5,
    "⭐": 1.5,
    "🌟": 2.0,
    "✨": 1.0,
    "🏆": 2.0,
    "🥇": 2.0,
    "🤝": 1.5,
    "☀": 1.0,
    "🌞": 1.5,
    "😋": 1.5,
    # anger
    "😡": -3.0,
    "🤬": -3.5,
    "😠": -2.5,
    "👿": -2.5,
    "😾": -2.0,
    "🖕": -3.5,
    "😤": -2.0,
    "💢": -2.5,
    # disapproval / annoyance / mockery
    "👎": -2.5,
    "😒": -2.0,
    "🙄": -2.0,
    "🤦": -2.0,
    "🤡": -1.5,
    "💩": -2.5,
    "😑": -1.0,
    "😐": -0.5,
    "😬": -1.0,
    "🤨": -1.0,
    "❌": -1.0,
    "⚠": -1.0,
    "🐌": -1.5,
    "🚫": -1.5,
    "💸": -1.0,
    # sadness / distress
    "😞": -2.0,
    "😔": -1.5,
    "😢": -2.0,
    "😭": -2.0,
    "😩": -2.0,
    "😫": -2.0,
    "😖": -2.0,
    "😣": -1.5,
    "😟": -1.5,
    "😕": -1.0,
    "🙁": -1.5,
    "☹": -2.0,
    "💔": -2.5,
    "😱": -1.5,
    "😰": -1.5,
    "😨": -1.5,
    "😪": -1.0,
    "🥺": -1.0,
    # illness / weather gloom
    "🤒": -1.5,
    "🤢": -2.0,
    "🤮": -3.0,
    "🤕": -1.5,
    "🌧": -1.0,
    "⛈": -1.0,
}

#: ASCII emoticons (matched as whole whitespace-separated tokens).
EMOTICON_VALENCE: dict[str, float] = {
    ":)": 2.0,
    ":-)": 2.0,
    ":d": 2.5,
    ":-d": 2.5,
    "xd": 1.5,
    ";)": 1.0,
    "<3": 3.0,
    ":(": -2.0,
    ":-(": -2.0,
    ":'(": -2.0,
    ">:(": -3.0,
    ":/": -1.0,
    ":-/": -1.0,
    "-_-": -1.0,
    "d:": -2.0,
}


def emoji_valence(emoji: str) -> float:
    """Valence of one extracted emoji (0.0 when unknown)."""
    if not emoji:
        return 0.0
    return EMOJI_VALENCE.get(emoji, EMOJI_VALENCE.get(emoji[0], 0.0))
