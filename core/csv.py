"""CSV that a spreadsheet opens safely: the one writer every export uses.

Spreadsheets run a cell that starts with ``= + - @`` (or a tab or carriage return that
hides one) as a formula, so a handle or a post from a social network could run code on
the reader's machine (CSV injection). Such text gets a leading apostrophe; numbers we
produce pass as numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse

#: Leading characters a spreadsheet may read as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """One cell: ``None`` is empty, numbers stay numbers, text that could start a
    formula is prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    """A file that hands back what is written to it (for streaming)."""

    def write(self, value: str) -> str:
        return value


class SafeWriter:
    """``csv.writer`` with every cell passed through ``csv_cell``. Without ``out``,
    ``writerow`` returns the row's text (for a streaming response)."""

    def __init__(self, out: Any = None) -> None:
        self._writer = csv.writer(out if out is not None else _Echo())

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])


def csv_streaming_response(
    rows: Iterable[Iterable[Any]], *, filename: str
) -> StreamingHttpResponse:
    """Stream ``rows`` (the first is the header) as a CSV download named ``filename``."""
    writer = SafeWriter()

    def lines() -> Iterator[str]:
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
