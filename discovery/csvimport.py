"""Reading a CSV of companies or insights into clean rows and per-line errors (pure: no database).

Columns are found by their header (case and spaces ignored); unknown columns are ignored.
"""

from decimal import Decimal, InvalidOperation

from pmhub.textfiles import csv_rows, decode_text

from .intake import validate_item

MAX_ROWS = 50_000
COMPANY_COLUMNS = {
    "name": ("name", "company", "company name"), "domain": ("domain", "website"),
    "segment": ("segment",), "revenue": ("revenue", "arr", "mrr x 12"), "currency": ("currency",),
    "plan": ("plan",), "tier": ("tier",), "external_id": ("external id", "external_id", "id", "crm id"),
}
INSIGHT_COLUMNS = {
    "id": ("id", "key", "external id"), "title": ("title", "subject"),
    "text": ("text", "feedback", "insight", "body", "quote"), "email": ("email", "e-mail", "from"),
    "name": ("name", "author", "customer"), "company": ("company", "company id", "company external id"),
}


def _norm(header: str) -> str:
    return " ".join(header.strip().lower().replace("_", " ").split())


def _mapping(headers: list[str], columns: dict) -> dict[str, int]:
    normalised = [_norm(h) for h in headers]
    found = {}
    for field, names in columns.items():
        for name in names:
            if _norm(name) in normalised:
                found[field] = normalised.index(_norm(name))
                break
    return found


def _company_row(values: dict) -> tuple[dict, dict]:
    errors = {}
    row = {k: (values.get(k) or "").strip() for k in COMPANY_COLUMNS}
    if not row["name"]:
        errors["name"] = ["Name the company."]
    if len(row["name"]) > 160:
        errors["name"] = ["At most 160 characters."]
    for field, limit in (("domain", 190), ("plan", 80), ("tier", 80), ("external_id", 100), ("segment", 120)):
        if len(row[field]) > limit:
            errors[field] = [f"At most {limit} characters."]
    revenue = row.pop("revenue").replace(",", "").replace(" ", "")
    row["revenue"] = None
    if revenue:
        try:
            value = Decimal(revenue)
            if not value.is_finite() or value < 0 or value > Decimal("999999999999.99"):
                raise InvalidOperation
            row["revenue"] = str(value.quantize(Decimal("0.01")))
        except InvalidOperation:
            errors["revenue"] = ["A number from 0 to 999,999,999,999.99."]
    row["currency"] = (row["currency"] or "EUR").upper()
    if len(row["currency"]) != 3 or not row["currency"].isalpha():
        errors["currency"] = ["A three-letter currency code such as EUR."]
    return row, errors


def read(data: bytes, kind: str) -> tuple[list[dict], dict, list[str]]:
    """(clean rows, {line: errors}, headers) of a CSV; FileRefused for a file that is not CSV text."""
    text, _ = decode_text(data)
    table = csv_rows(text)
    if not table or not any(table[0]):
        return [], {"1": {"file": ["No header row was found."]}}, []
    headers, body = table[0], table[1:]
    columns = COMPANY_COLUMNS if kind == "companies" else INSIGHT_COLUMNS
    mapping = _mapping(headers, columns)
    required = "name" if kind == "companies" else "text"
    if required not in mapping:
        return [], {"1": {"file": [f"No “{required}” column was found (headers: {', '.join(headers)[:200]})."]}}, \
            headers
    if len(body) > MAX_ROWS:
        return [], {"1": {"file": [f"At most {MAX_ROWS:,} rows per file; this one has {len(body):,}."]}}, headers
    rows, errors = [], {}
    for number, cells in enumerate(body, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {field: cells[i] if i < len(cells) else "" for field, i in mapping.items()}
        if kind == "companies":
            row, row_errors = _company_row(values)
        else:
            row, row_errors = validate_item({k: v for k, v in values.items() if v != ""})
        if row_errors:
            errors[str(number)] = row_errors
        else:
            rows.append(row | {"line": number})
    return rows, errors, headers
