"""CSV import: decoding, parsing, column mapping and row validation. Pure functions; the
service feeds in the workspace's members and the product's epics and keys as plain dicts.

Jira's CSV export is the model: repeated header names ("Labels", "Sprint" once per value),
quoted fields with newlines, cp1252 files from Windows, UTF-8 with a BOM from Excel.
"""

import csv
import io
import re
from datetime import date, datetime

from pmhub import csvsafe
from pmhub.csvsafe import FORMULA_STARTS
from pmhub.textfiles import csv_rows, decode_text

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")

FIELDS = {
    "key": "Issue key",
    "title": "Title",
    "description": "Description",
    "status": "Status",
    "points": "Points",
    "assignee": "Assignee",
    "labels": "Labels",
    "epic": "Epic",
    "issue_type": "Issue type",
    "due_date": "Due date",
}
MULTI_FIELDS = {"labels"}  # every column with the header is read, values merged into one list

# Header names (lower case) recognised for each field, best first.
HEADER_DEFAULTS = {
    "key": ["issue key", "key", "id"],
    "title": ["summary", "title", "name"],
    "description": ["description"],
    "status": ["status"],
    "points": ["story points", "custom field (story points)", "custom field (story point estimate)",
               "story point estimate", "points", "estimate"],
    "assignee": ["assignee", "assignee email", "owner"],
    "labels": ["labels", "label"],
    "epic": ["epic link", "custom field (epic link)", "parent", "parent summary", "epic"],
    "issue_type": ["issue type", "type"],
    "due_date": ["due date", "due", "duedate"],
}

# Status names seen in Jira (lower case) -> (the default workflow's key, its category). A product
# whose workflow lacks that key gets its first status of the same category: "Done" lands in a
# `shipped` status when that is the product's done status (docs/decisions/1101).
STATUS_DEFAULTS = {
    "backlog": ("idea", "todo"), "open": ("idea", "todo"), "idea": ("idea", "todo"), "new": ("idea", "todo"),
    "to do": ("ready", "todo"), "todo": ("ready", "todo"), "selected for development": ("ready", "todo"),
    "ready": ("ready", "todo"),
    "in progress": ("in_progress", "active"), "in_progress": ("in_progress", "active"),
    "in development": ("in_progress", "active"),
    "in review": ("in_review", "active"), "in_review": ("in_review", "active"),
    "code review": ("in_review", "active"), "review": ("in_review", "active"),
    "done": ("done", "done"), "closed": ("done", "done"), "resolved": ("done", "done"),
    "won't do": ("wont_do", "excluded"), "wont_do": ("wont_do", "excluded"), "won't fix": ("wont_do", "excluded"),
    "rejected": ("wont_do", "excluded"),
}


def status_for(raw: str, statuses: dict[str, str], status_map: dict) -> str | None:
    """The workflow key for a file's status: the user's mapping, then the key itself, then the
    usual name's key, then the workflow's first status of that name's category. `statuses`:
    {key: category} in workflow order."""
    lowered = raw.lower()
    if lowered in status_map:
        return status_map[lowered]
    if lowered in statuses:
        return lowered
    key, category = STATUS_DEFAULTS.get(lowered, (None, None))
    if key in statuses:
        return key
    return next((k for k, c in statuses.items() if c == category), None)
DATE_FORMATS = ("%Y-%m-%d", "%d/%b/%y %I:%M %p", "%d/%b/%y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M",
                "%d/%b/%Y %I:%M %p", "%m/%d/%Y")


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding): pmhub.textfiles decides (a BOM first, UTF-16 included; binary,
    NUL bytes and UTF-16 without a mark refused with FileRefused), invalid UTF-8 falls back to
    cp1252, then latin-1."""
    return decode_text(data, fallbacks=ENCODINGS[1:])


def parse(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows; quoted newlines stay inside their field. Empty lines are dropped. A field
    over 128 KB raises FileRefused."""
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # the header decides: ',' unless ';' or tab dominate
    rows = [row for row in csv_rows(text, delimiter=delimiter) if any(cell.strip() for cell in row)]
    if not rows:
        return [], []
    headers = [h.strip() for h in rows[0]]
    width = len(headers)
    body = [[unescape_cell(c) for c in (row + [""] * width)[:width]] for row in rows[1:]]
    return headers, body


def default_mapping(headers: list[str]) -> dict:
    """{field: [column indexes]}; a repeated header (Labels) maps all its columns."""
    lowered = [h.lower() for h in headers]
    mapping: dict = {}
    for field, names in HEADER_DEFAULTS.items():
        for name in names:
            columns = [i for i, h in enumerate(lowered) if h == name]
            if columns:
                mapping[field] = columns if field in MULTI_FIELDS else columns[:1]
                break
    return mapping


def clean_mapping(mapping: dict, width: int) -> dict:
    """Keep known fields and valid column indexes (a form or JSON may send strings)."""
    cleaned = {}
    for field, columns in (mapping or {}).items():
        if field not in FIELDS:
            continue
        if not isinstance(columns, list | tuple):
            columns = [columns]
        indexes = []
        for c in columns:
            try:
                c = int(c)
            except (TypeError, ValueError):
                continue
            if 0 <= c < width:
                indexes.append(c)
        if indexes:
            cleaned[field] = indexes if field in MULTI_FIELDS else indexes[:1]
    return cleaned


def _cell(row, columns):
    return row[columns[0]].strip() if columns else ""


def _parse_date(value: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _parse_points(value: str):
    """Jira writes '3.0'; our points are whole numbers from 0 to 999."""
    text = value.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    if number < 0 or number > 999 or number != int(number):
        return None
    return int(number)


def normalise(*, headers, rows, mapping, members: dict, statuses: dict, status_map: dict | None = None,
              existing_keys: set = frozenset(), first_row_number: int = 2) -> dict:
    """Validate every row. Returns {"stories": [...], "epics": {key: title}, "errors": [...]}

    - members: {lowercase e-mail or name: user_id};
    - statuses: {workflow key: category}, in workflow order (a row without a status gets the
      first); status_map: extra {file value (lower): key} from the user;
    - rows are numbered as in a spreadsheet (header = row 1).
    A row with any error is left out and reported; nothing else is skipped silently.
    """
    mapping = clean_mapping(mapping, len(headers))
    status_map = {k.lower(): v for k, v in (status_map or {}).items() if v in statuses}
    errors: list[dict] = []
    stories: list[dict] = []
    epics: dict = {}
    seen_keys: dict = {}
    unknown_statuses: dict = {}
    for offset, row in enumerate(rows):
        number = first_row_number + offset
        problems: list[str] = []
        key = _cell(row, mapping.get("key"))
        title = _cell(row, mapping.get("title"))
        issue_type = _cell(row, mapping.get("issue_type")).lower()
        if key:
            if key in seen_keys:
                problems.append(f"Duplicate issue key {key} (first on row {seen_keys[key]}).")
            elif key in existing_keys:
                problems.append(f"Issue key {key} was already imported into this product.")
            else:
                seen_keys[key] = number
        if not title:
            problems.append("Title (Summary) is empty.")
        elif len(title) > 200:
            problems.append("Title is longer than 200 characters.")
        if issue_type == "epic":
            if not problems and key:
                epics[key] = title
            elif problems:
                errors.append({"row": number, "key": key, "errors": problems})
            continue
        raw_status = _cell(row, mapping.get("status"))
        status = next(iter(statuses))
        if raw_status:
            status = status_for(raw_status, statuses, status_map)
            if status is None or status not in statuses:
                unknown_statuses[raw_status] = unknown_statuses.get(raw_status, 0) + 1
                problems.append(f"Unknown status “{raw_status}”: map it to a workflow status.")
        raw_points = _cell(row, mapping.get("points"))
        points = None
        if raw_points:
            points = _parse_points(raw_points)
            if points is None:
                problems.append(f"Points “{raw_points}” is not a whole number from 0 to 999.")
        raw_due = _cell(row, mapping.get("due_date"))
        due = None
        if raw_due:
            due = _parse_date(raw_due)
            if due is None:
                problems.append(f"Due date “{raw_due}” is not a date (use YYYY-MM-DD).")
        raw_assignee = _cell(row, mapping.get("assignee"))
        assignee_id = None
        if raw_assignee and raw_assignee.lower() not in ("unassigned", "none", "-"):
            assignee_id = members.get(raw_assignee.lower())
            if assignee_id is None:
                problems.append(f"Assignee “{raw_assignee}” is not a member of this workspace.")
        labels: list[str] = []
        for column in mapping.get("labels", []):
            for label in re.split(r"[,;]\s*|\s+", row[column].strip()) if row[column].strip() else []:
                if label and label not in labels:
                    labels.append(label)
        if problems:
            errors.append({"row": number, "key": key, "errors": problems})
            continue
        stories.append({
            "row": number, "key": key, "title": title, "description": _cell(row, mapping.get("description")),
            "status": status, "points": points, "assignee_id": assignee_id, "labels": labels,
            "epic": _cell(row, mapping.get("epic")), "due_date": due.isoformat() if due else None,
        })
    return {"stories": stories, "epics": epics, "errors": errors, "unknown_statuses": unknown_statuses}


# --- export -----------------------------------------------------------------------------------
EXPORT_HEADERS = ["Issue key", "Summary", "Description", "Status", "Story Points", "Assignee", "Labels",
                  "Epic Link"]
def safe_cell(value) -> str:
    """pmhub.csvsafe.safe_cell as text (the Jira-shaped export writes strings); the importer's
    unescape_cell strips the apostrophe again."""
    cell = csvsafe.safe_cell(value)
    return "" if cell is None else str(cell)


def unescape_cell(text: str) -> str:
    """Undo pmhub.csvsafe.safe_cell on a cell of our own export."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def export_rows(stories: list[dict]) -> str:
    """stories: dicts with key, title, description, status, points, assignee, labels, epic.
    Labels are written one per repeated "Labels" column, as Jira does."""
    width = max([len(s["labels"]) for s in stories] + [1])
    headers = EXPORT_HEADERS[:6] + ["Labels"] * width + EXPORT_HEADERS[7:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for s in stories:
        labels = list(s["labels"]) + [""] * (width - len(s["labels"]))
        writer.writerow([safe_cell(v) for v in [s["key"], s["title"], s["description"], s["status"],
                                                "" if s["points"] is None else s["points"], s["assignee"]]
                         + labels + [s["epic"]]])
    return out.getvalue()
