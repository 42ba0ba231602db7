"""Values as a person writes them (pmhub.formatting), computed by hand."""

import datetime as dt
from decimal import Decimal

import pytest

from pmhub import formatting


@pytest.mark.parametrize("value,unit,shown", [
    (Decimal("52048.13"), "currency", "€52,048"),
    (Decimal("12.5"), "currency", "€12.5"),
    (Decimal("-1500"), "currency", "-€1,500"),
    (Decimal("2816.76"), "count", "2,817"),
    (Decimal("7.25"), "count", "7.3"),
    (Decimal("45.0"), "percent", "45%"),
    (Decimal("3.76"), "percent", "3.8%"),
    (Decimal("13.63"), "duration", "13.6 min"),
    (Decimal("90"), "duration", "1 h 30 min"),
    (Decimal("2160"), "duration", "1 d 12 h"),
    (None, "count", "—"),
])
def test_kpi_value_in_its_unit(value, unit, shown):
    assert formatting.kpi_value(value, unit) == shown


def test_currency_symbol_follows_the_setting(settings):
    settings.CURRENCY = "USD"
    assert formatting.kpi_value(Decimal("60000"), "currency") == "$60,000"


@pytest.mark.parametrize("value,shown", [
    (Decimal("210.0"), "210"), (400.0, "400"), (Decimal("2211.2300"), "2,211.23"), (0, "0"), (None, "—"),
    ("x", "—"),
])
def test_number_drops_trailing_zeros_and_groups_thousands(value, shown):
    assert formatting.number(value) == shown


@pytest.mark.parametrize("code,shown", [("in_progress", "In progress"), ("off_track", "Off track"),
                                        ("done", "Done"), (None, "—")])
def test_status_codes_read_as_labels(code, shown):
    assert formatting.status_label(code) == shown


def test_status_label_prefers_the_workflow_label():
    assert formatting.status_label("in_review", {"in_review": "Code review"}) == "Code review"


@pytest.mark.parametrize("count,shown", [(1, "1 point"), (0, "0 points"), (3, "3 points"), (Decimal("2.5"), "2.5 points")])
def test_plurals(count, shown):
    assert formatting.plural(count, "point") == shown


def test_dates_carry_the_year_and_iso_strings_are_read():
    assert formatting.date(dt.date(2026, 8, 26)) == "26 Aug 2026"
    assert formatting.date("2026-08-26") == "26 Aug 2026"
    assert formatting.date(None) == "—"
    assert formatting.month(dt.date(2026, 8, 1)) == "Aug 2026"
