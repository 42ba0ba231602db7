"""Values as the template engine prints them, for markup written in Python (the rows, cards, tiles
and frame parts that hot pages print without a template per item: backlog/rowhtml.py,
backlog/cards.py, metrics/dashboard_html.py, pmhub/frame.py, roadmaps/rows.py; decision 2041).
One place, so every printer escapes by the same rule and byte-for-byte tests against the old
templates hold for all of them."""

from html import escape as html_escape

from django.utils.formats import localize


def esc(value) -> str:
    """`{{ value }}` under autoescape for text and ids: safe strings as they are, anything else
    `html.escape`d (what django.utils.html.escape does), without the lazy-string wrapper."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html_escape(str(value))


def val(value) -> str:
    """`{{ value }}` under autoescape for any value: localized first (numbers as the active
    language writes them), then escaped unless safe."""
    return esc(localize(value))
