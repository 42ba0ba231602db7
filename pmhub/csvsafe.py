"""CSV injection guard for every CSV export.

A spreadsheet treats a cell starting with = + - @ (or a tab / carriage return before them) as
a formula, so a story titled `=HYPERLINK("http://evil", "x")` would run in the reader's Excel.
Pass every user-controlled cell through `safe_cell` (or a whole row through `safe_row`):

    writer.writerow(safe_row([story.title, story.points]))

The cell is prefixed with a single quote, which spreadsheets show as text; numbers stay numbers.
"""

from collections.abc import Iterable
from numbers import Number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Return the value ready for a CSV cell: strings that would start a formula get a leading '."""
    if value is None or isinstance(value, Number):  # bool, int, float, Decimal: -5 is a number, not a formula
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_row(values: Iterable) -> list:
    return [safe_cell(v) for v in values]
