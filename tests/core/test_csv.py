"""core.csv: the one writer every export uses neutralises formulas."""

import io
from decimal import Decimal

import pytest

from core.csv import SafeWriter, csv_cell, csv_streaming_response


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x"])
def test_text_that_could_start_a_formula_gets_an_apostrophe(text):
    assert csv_cell(text) == "'" + text


def test_numbers_and_plain_text_pass():
    assert csv_cell(-5) == -5 and csv_cell(Decimal("-1.50")) == Decimal("-1.50")
    assert csv_cell(None) == "" and csv_cell("Lucía 😀") == "Lucía 😀"
    assert csv_cell(True) == "True"


def test_writer_and_streaming_response():
    out = io.StringIO()
    SafeWriter(out).writerow(["=HYPERLINK(1)", 3])
    assert out.getvalue() == "'=HYPERLINK(1),3\r\n"
    response = csv_streaming_response([["a"], ["@x"]], filename="x.csv")
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert b"".join(response.streaming_content) == b"a\r\n'@x\r\n"
