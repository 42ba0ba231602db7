"""What a date or a number from people may be: the one definition every API field and form
field uses (pmhub.api.fields, pmhub.formfields).

Dates: 1900-01-01 to 2200-12-31. Python and PostgreSQL hold 9999-12-31, but nothing a product
plans is that far, and the pages that draw spans (timeline, share page) computed past
`date.max` and answered 500. Pages also clamp what is already stored (`clamp_date`).

Numbers: integers within PostgreSQL's `integer` (what our IntegerField columns are), decimals
and floats finite and within `NUMBER_LIMIT` (a 2^40 capacity or a 1e308 input reached the
database or Decimal arithmetic and answered 500).
"""

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2200, 12, 31)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
NUMBER_LIMIT = 10**12


DATE_RANGE_MESSAGE = f"Enter a date between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d}."


def date_error(value) -> str | None:
    """The message for a date (or datetime) outside the range, or None."""
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not DATE_MIN <= day <= DATE_MAX:
        return DATE_RANGE_MESSAGE
    return None


def validate_date(value) -> None:
    """Django validator: a date or datetime within DATE_MIN..DATE_MAX."""
    message = date_error(value)
    if message:
        raise ValidationError(message, code="date_range")


def number_error(value) -> str | None:
    """The message for a non-finite number or one beyond NUMBER_LIMIT, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal) and not value.is_finite() or isinstance(value, float) and not math.isfinite(value):
        return "Enter a finite number."
    if abs(value) > NUMBER_LIMIT:
        return f"Enter a number between -{NUMBER_LIMIT:,} and {NUMBER_LIMIT:,}."
    return None


def validate_number(value) -> None:
    """Django validator: a finite number within NUMBER_LIMIT."""
    message = number_error(value)
    if message:
        raise ValidationError(message, code="number_range")


def clamp_date(value: date | None) -> date | None:
    """`value` moved into DATE_MIN..DATE_MAX, for drawing what was stored before the bounds
    existed (a page must survive any stored date)."""
    if value is None:
        return None
    return min(max(value, DATE_MIN), DATE_MAX)


def add_days(value: date, days: int) -> date:
    """`value` + `days` without OverflowError at the ends of the calendar."""
    try:
        return value + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min
