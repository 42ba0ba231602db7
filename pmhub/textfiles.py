"""Uploaded text files (CSV imports), read safely: one place that decides what is text.

`decode_text(data)` returns (text, encoding) or raises FileRefused with a message for people:
- a byte-order mark decides: UTF-8, UTF-16 LE/BE (decoded properly; before, UTF-16 was read as
  cp1252 and its NUL bytes reached PostgreSQL: 500);
- UTF-16 without a mark, a NUL byte anywhere else, or a known binary signature (images, PDF,
  zip/xlsx) is refused: it is not a CSV we can read;
- otherwise UTF-8, then the fallbacks the caller names (cp1252 from Windows Excel, latin-1).
`csv_rows(text)` reads CSV and refuses a field over `MAX_FIELD` (128 KB) with its line number
instead of letting csv.Error escape (500).
"""

import codecs
import csv
import io

MAX_FIELD = 128 * 1024
BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image", b"%PDF": "a PDF",
    b"PK\x03\x04": "a zip archive or an Excel workbook (.xlsx)", b"\xd0\xcf\x11\xe0": "an Excel workbook (.xls)",
    b"\x1f\x8b": "a gzip archive",
}
SAVE_AS = "Save it as CSV (UTF-8) and upload that."


class FileRefused(ValueError):
    """Not a text file we can read; the message says why and what to do."""


def decode_text(data: bytes, *, fallbacks=("cp1252", "latin-1")) -> tuple[str, str]:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise FileRefused(f"The file says it is {encoding.upper()} but is not. {SAVE_AS}") from None
            return _no_nul(text.removeprefix("\ufeff")), encoding
    for signature, kind in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise FileRefused(f"This is {kind}, not a CSV file. {SAVE_AS}")
    if b"\x00" in data:
        head = data[:2000]
        if head.count(b"\x00") * 3 > len(head):  # every other byte NUL: UTF-16 text without its mark
            raise FileRefused(f"This file looks like UTF-16 without a byte-order mark. {SAVE_AS}")
        raise FileRefused(f"This file contains NUL bytes: it is binary, not CSV text. {SAVE_AS}")
    for encoding in ("utf-8", *fallbacks):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileRefused(f"This file is not UTF-8 text. {SAVE_AS}")


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise FileRefused(f"This file contains NUL characters: it is binary, not CSV text. {SAVE_AS}")
    return text


def csv_rows(text: str, **reader_kwargs) -> list[list[str]]:
    """Every row of `text` as CSV; FileRefused for a field over MAX_FIELD or a broken file."""
    reader = csv.reader(io.StringIO(text, newline=""), **reader_kwargs)
    rows = []
    try:
        for row in reader:
            if any(len(cell) > MAX_FIELD for cell in row):
                raise FileRefused(f"Line {reader.line_num} has a field longer than {MAX_FIELD // 1024} KB.")
            rows.append(row)
    except csv.Error as exc:
        if "field limit" in str(exc):  # csv.field_size_limit: 128 KB by default, like MAX_FIELD
            raise FileRefused(f"Line {reader.line_num} has a field longer than {MAX_FIELD // 1024} KB.") from None
        raise FileRefused(f"Line {reader.line_num} cannot be read as CSV ({exc}).") from None
    return rows
