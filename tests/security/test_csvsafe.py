"""CSV injection: pmhub.csvsafe.safe_cell neutralises formula starts; other values pass."""

import csv
import io

import pytest

from pmhub.csvsafe import safe_cell, safe_row

from .xss_corpus import PAYLOADS


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://e","x")'])
def test_formula_starts_are_prefixed(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Plain", "a=b", "", " =x", "1-2", "café", "'quoted"])
def test_harmless_text_is_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", [None, 3, -3, 2.5, -0.5, True])
def test_numbers_and_none_stay_as_they_are(value):
    assert safe_cell(value) is value


def test_row_helper_and_round_trip_through_csv():
    rows = [safe_row(["=cmd|' /C calc'!A0", -1, "ok", None])] + [safe_row([p]) for p in PAYLOADS]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    for row in csv.reader(io.StringIO(buffer.getvalue())):
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r")) or row[0] == "-1"


def test_numbers_of_any_type_stay_numbers():
    from decimal import Decimal

    from pmhub.csvsafe import safe_cell

    assert safe_cell(Decimal("-12.5")) == Decimal("-12.5")
    assert safe_cell(-3) == -3 and safe_cell("-3") == "'-3"
