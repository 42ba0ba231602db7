"""Values as a person writes them: one set of rules for pages, e-mails, PDFs and the human
columns of exports (the template filters in pmhub/templatetags/pmhub.py call these).

Pure functions, no request: a number in a KPI's unit, a status code as its label, a date with
its year, a count with its noun.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

EMPTY = "—"
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "INR": "₹"}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value, places: int = 2) -> str:
    """12 345.6789 -> "12,345.68"; 45.0 -> "45"; None -> "—". At most `places` decimals,
    trailing zeros dropped, thousands grouped."""
    d = _decimal(value)
    if d is None:
        return EMPTY
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) if places > 0 else d.quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    text = f"{q:,.{places}f}" if places > 0 else f"{q:,.0f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def currency_symbol() -> str:
    code = getattr(settings, "CURRENCY", "EUR")
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def duration(value) -> str:
    """A duration KPI counts minutes: 13.63 -> "13.6 min", 90 -> "1 h 30 min", 2160 -> "1 d 12 h"."""
    d = _decimal(value)
    if d is None:
        return EMPTY
    sign = "-" if d < 0 else ""
    d = abs(d)
    if d < 60:
        return f"{sign}{number(d, 1)} min"
    minutes = int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins and not days else ""]
    return sign + " ".join(p for p in parts if p)


def kpi_value(value, unit: str | None) -> str:
    """A KPI figure in its unit: count "2,811", percent "3.8%", currency "€52,013", duration "1 h 30 min"."""
    d = _decimal(value)
    if d is None:
        return EMPTY
    if unit in ("percent", "%"):
        return f"{number(d, 1)}%"
    if unit == "currency":
        text = number(abs(d), 0 if abs(d) >= 1000 else 2)
        return f"{'-' if d < 0 else ''}{currency_symbol()}{text}"
    if unit == "duration":
        return duration(d)
    if unit == "count":
        return number(d, 0 if abs(d) >= 100 else 1)
    return number(d)


def status_label(code, labels: dict | None = None) -> str:
    """"in_progress" -> "In progress" (or the workflow's own label when `labels` has it)."""
    if code is None or code == "":
        return EMPTY
    code = str(code)
    if labels and code in labels:
        return str(labels[code])
    text = code.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def plural(count, singular: str, plural_form: str | None = None) -> str:
    """1 -> "1 point", 2 -> "2 points", 2.5 -> "2.5 points"."""
    d = _decimal(count)
    shown = number(d) if d is not None else "0"
    word = singular if d is not None and d == 1 else (plural_form or singular + "s")
    return f"{shown} {word}"


def date(value, *, today: dt.date | None = None) -> str:
    """"26 Aug 2026": always with the year, so "Aug 26" never reads as a day of an unknown year
    (or as the 26th of August). `today` is accepted for symmetry with callers that have one."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):  # report data travels as JSON: ISO dates
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return str(value)
    return f"{value.day} {value.strftime('%b')} {value.year}"


def month(value) -> str:
    """"Aug 2026"."""
    if value is None or value == "":
        return EMPTY
    return value.strftime("%b %Y")
