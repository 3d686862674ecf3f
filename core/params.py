"""Numbers read from a request (query strings, form lists): ASCII digits only.

``str.isdigit`` is true for ``²`` and ``٣``; ``int`` then fails on the first and reads
the second, so ``isdigit()`` followed by ``int()`` is a 500 waiting for a Unicode digit.
Every id or count a client sends goes through ``ascii_int``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["ascii_int", "ascii_ints"]

#: Up to 18 digits: always inside a PostgreSQL bigint.
_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


def ascii_int(value: object) -> int | None:
    """``value`` as a non-negative int when it is 1–18 ASCII digits (no sign, no
    spaces, no other script's digits), else ``None``."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None


def ascii_ints(values: Iterable[object]) -> list[int]:
    """The values of ``values`` that ``ascii_int`` reads, in order; the rest dropped."""
    return [n for n in map(ascii_int, values) if n is not None]
