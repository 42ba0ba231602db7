"""Parse a measurements CSV (pure): header `period,value` or `timestamp,value`.

Every bad row is reported with its line number and the reason; valid rows come back as
{"line", "period", "value"} with the period already cut in the workspace's time zone.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pmhub.textfiles import FileRefused, csv_rows, decode_text

from .periods import local_date, period_of

MAX_ROWS = 10_000


def parse_value(raw: str) -> Decimal:
    text = (raw or "").strip().replace(",", "")
    if not text:
        raise ValueError("value is empty")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"value {raw!r} is not a number")
    if not value.is_finite() or abs(value) >= Decimal("1e14"):
        raise ValueError(f"value {raw!r} is out of range")
    return value


def parse_when(raw: str):
    text = (raw or "").strip()
    if not text:
        raise ValueError("date is empty")
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"date {raw!r} is not an ISO date (YYYY-MM-DD) or timestamp")


def future_error(when, *, today: date, time_zone: str) -> str | None:
    """The reason a date or timestamp is refused as a measurement's period, or None: its local day
    (in the workspace's zone) is after `today` (pmhub.clock.today_in of that zone)."""
    day = local_date(when, time_zone) if isinstance(when, datetime) else when
    if day > today:
        return (f"{day.isoformat()} is after today ({today.isoformat()} in {time_zone or 'UTC'}): "
                "values can only be recorded for days that have begun.")
    return None


def parse_csv(content: bytes | str, *, cadence: str, time_zone: str,
              today: date | None = None) -> tuple[list[dict], list[dict]]:
    """Rows and per-line errors; with `today`, a row dated after it is an error, not a row."""
    try:
        if isinstance(content, bytes):
            content, _encoding = decode_text(content, fallbacks=())  # UTF-8 or UTF-16 with its mark
        records = csv_rows(content)
    except FileRefused as exc:
        return [], [{"line": 0, "raw": "", "reason": str(exc)}]
    reader = iter(records)
    rows, errors = [], []
    header = next(reader, None)
    names = [h.strip().lower() for h in header or []]
    when_col = next((names.index(n) for n in ("period", "date", "timestamp") if n in names), None)
    value_col = names.index("value") if "value" in names else None
    if when_col is None or value_col is None:
        return [], [{"line": 1, "raw": ",".join(header or []),
                     "reason": "The first line must name the columns: period (or date, timestamp) and value."}]
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if line - 1 > MAX_ROWS:
            errors.append({"line": line, "raw": "", "reason": f"More than {MAX_ROWS} rows; split the file."})
            break
        raw = ",".join(record)
        try:
            if len(record) <= max(when_col, value_col):
                raise ValueError("missing column")
            when = parse_when(record[when_col])
            value = parse_value(record[value_col])
            reason = future_error(when, today=today, time_zone=time_zone) if today else None
            if reason:
                raise ValueError(reason)
        except ValueError as e:
            errors.append({"line": line, "raw": raw[:200], "reason": str(e)})
            continue
        rows.append({"line": line, "period": period_of(when, cadence, time_zone).isoformat(), "value": str(value)})
    return rows, errors
