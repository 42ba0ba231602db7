"""Shared helpers of the per-app XSS tests (test_xss_<app>.py).

Each app test has one case per payload; case `i` puts payload `i + k` into field `k`, so across
the cases every payload of xss_corpus.PAYLOADS is tried in every field while the number of cases
stays len(PAYLOADS)."""

import csv
import io
import re
import zlib

from django.test import Client
from django.test.client import ClientHandler

from pmhub.csvsafe import FORMULA_STARTS

from .htmlcheck import unsafe_parts
from .xss_corpus import MARKER, PAYLOADS

CASES = range(len(PAYLOADS))
_handler = None


def browser(user=None) -> Client:
    """A test client, signed in as `user` (else anonymous). Unlike the `client_as` fixture, every
    client here shares one request handler: a new handler loads the middleware again, and
    WhiteNoise's scan of the static files then took a fifth of these tests' time."""
    global _handler
    if _handler is None:
        _handler = ClientHandler(enforce_csrf_checks=False)
    client = Client()
    client.handler = _handler
    if user is not None:
        client.force_login(user)
    return client


def payload(case: int, field: int, limit: int | None = None) -> str:
    """The payload that case `case` puts into field number `field` (cut to the column's length)."""
    text = PAYLOADS[(case + field) % len(PAYLOADS)]
    return text[:limit] if limit else text


def assert_inert(html: str, where: str) -> None:
    problems = unsafe_parts(html, MARKER)
    assert not problems, f"{where}: {problems}"


def get_inert(client, url: str, where: str | None = None, status: int = 200, accept: str | None = None) -> str:
    """GET a page, check the status and that nothing of a payload can run in it; returns the HTML."""
    response = client.get(url, HTTP_ACCEPT=accept) if accept else client.get(url)
    assert response.status_code == status, f"{where or url}: {response.status_code}"
    html = response.content.decode()
    assert_inert(html, where or url)
    return html


def strings_in(value):
    """Every string inside decoded JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def assert_json_data(response, *expected: str) -> None:
    """The payloads come back as JSON data (not HTML), byte for byte."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    found = set(strings_in(response.json()))
    missing = [text for text in expected if text not in found]
    assert not missing, f"not returned as data: {missing}"


def csv_cells(body: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body, newline="")) for cell in row]


def assert_csv_neutralised(body: str, where: str) -> list[str]:
    """No cell carrying a payload starts a spreadsheet formula; returns the payload cells."""
    cells = [cell for cell in csv_cells(body) if MARKER in cell]
    live = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert not live, f"{where}: formula cells {live}"
    return cells


# PDF names are case-sensitive; link schemes are not.
PDF_ACTIONS = re.compile(rb"/JavaScript|/JS\b|/Launch|/SubmitForm|/ImportData|/RichMedia")
PDF_SCRIPT_LINKS = re.compile(rb"/URI\s*\(\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)


def pdf_expanded(pdf: bytes) -> bytes:
    """The PDF with its Flate streams inflated: WeasyPrint packs link annotations into
    compressed object streams, where a plain byte search would not see them."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_actions(pdf: bytes) -> list[bytes]:
    """JavaScript, launch or form actions and javascript:/data: links found in the PDF."""
    expanded = pdf_expanded(pdf)
    return PDF_ACTIONS.findall(expanded) + PDF_SCRIPT_LINKS.findall(expanded)


def browsable_inert(client, url: str) -> None:
    """The same API URL opened in a browser (DRF's browsable API renders HTML): still inert."""
    get_inert(client, url, f"browsable API {url}", accept="text/html")
