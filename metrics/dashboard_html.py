"""The dashboards' KPI tiles and adoption funnel rows, and the KPI page's measurement rows (decision
2051), printed by Python, not by template loops (issue 23, target 3;
docs/decisions/2012-dashboard-tiles-and-funnels-in-python.md).

The workspace dashboard shows 50 tiles of ~25 template nodes each (and an include of the health
badge) and about 300 funnel rows of ~10 nodes: with every value prepared (decision 1955), Django's
engine still spent about half of the page on those loops. The markup is what metrics/dashboard.html's
loops printed, byte for byte (tests/metrics/test_dashboard_html.py keeps the loops as template text
and compares both renderings of the same rows: every health, tone, unit, missing figures, names with
every character autoescape changes); the health badge is metrics/_health.html's, compared with that
template for every status. Change the markup here, not in the template. Every value goes through
`esc` (autoescape's rule).
"""

from html import escape

from django.utils.safestring import mark_safe

from pmhub.formatting import kpi_value, number
from pmhub.htmltext import esc
from pmhub.utils import url_for_ids

HEALTH = {"on_track": "● On track", "at_risk": "▲ At risk", "off_track": "■ Off track"}
TONE = {"good": "toward", "bad": "away from"}


def health_badge(status) -> str:
    """What `{% include "metrics/_health.html" with status=... %}` prints (its final newline included)."""
    s = esc(status)
    return (f'<span class="health-badge health-bg-{s}" data-health="{s}">'
            f'{HEALTH.get(status, "○ No data")}</span>\n')


def tiles_html(tiles, *, ws: str, previous_end) -> str:
    """The dashboard's KPI tiles (metrics.selectors.dashboard_page_data's rows with `id_text`):
    what the `{% for t in tiles %}` loop printed for them; "" for none."""
    urls: dict = {}  # the KPI page's URL per product: one reverse each (what {% row_url %} does)
    since = esc(previous_end)
    parts = []
    for t in tiles:
        url = urls.get(t["product"])
        if url is None:
            url = urls[t["product"]] = url_for_ids("metrics_kpi_detail", "kpi_id", ws=ws, product_id=t["product"])
        health, tid, name, change = esc(t["health"]), esc(t["id_text"]), esc(t["name"]), t["change"]
        if change:
            tone = change["tone"]
            delta_class = f' delta-{esc(tone)}'
            direction = f' ({TONE.get(tone, "no change against")} the target direction)'
            delta = esc(change["text"])
        else:
            delta_class = direction = ""
            delta = "–"
        parts.append(
            f'\n    <article class="kpi-tile tile-{health}" data-kpi-tile="{tid}" data-live-item="kpi:{tid}">\n'
            f'      <header><a href="{esc(url(t["id"]))}">{name}</a>\n'
            f'        {health_badge(t["health"])}</header>\n'
            f'      <p class="kpi-value"><strong>{esc(kpi_value(t["current"], t["unit"]))}</strong>\n'
            f'        <span class="delta{delta_class}" data-delta-for="{tid}" title="Change since {since}{direction}">'
            f'{delta}</span></p>\n'
            f'      <canvas class="sparkline" data-sparkline="{tid}" height="40" role="img" '
            f'aria-label="Trend of {name}"></canvas>\n'
            f'      <small class="muted" data-target-for="{tid}">target {esc(t["target_text"])}</small>\n'
            f'    </article>\n  ')
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped by esc()


def funnel_rows_html(rows) -> str:
    """The `<tr>`s of one product's adoption funnel (adoption.selectors.adoption_funnels rows with
    `adoption_7d` and `feature_id_text`)."""
    parts = []
    for row in rows:
        pct = row["adoption_7d"]
        adoption = "–" if pct is None else f"{esc(number(pct, 1))}%"
        parts.append(f'<tr data-feature="{esc(row["feature_id_text"])}"><td>{esc(row["feature"])}</td>'
                     f'<td class="num">{esc(number(row["users"], 0))}</td>'
                     f'<td class="num">{esc(number(row["active_users"], 0))}</td>'
                     f'<td data-testid="adoption-7d">{adoption}</td></tr>')
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped by esc()


class FunnelRows(list):
    """A product's funnel rows (the page's context and its tests read them as before) with their
    markup as `html`."""

    html = ""


def measurement_rows(rows, *, can_edit: bool, csrf_token: str) -> str:
    """The KPI page's measurement table body (`<tbody>` content) printed by Python, not a loop of
    template nodes per row (issue 23, target 3; decision 2051): 100 rows were most of the page's
    template nodes. Byte for byte what the loop printed (tests/metrics/test_kpi_rows_html.py keeps
    it as text). One CSRF token for all rows (decision 1920)."""
    if not rows:
        return mark_safe('<tr><td colspan="4">No values yet.</td></tr>')
    token = escape(str(csrf_token))
    parts = []
    for m in rows:
        period = escape(str(m["period"]))
        line = (f'<tr><td>{period}</td><td class="num">{escape(str(m["value"]))}</td>'
                f'<td>{escape(str(m["source"]))}</td>\n      ')
        if can_edit:
            line += (f'<td><form method="post" class="inline-form" action="{escape(str(m["delete_url"]))}">'
                     f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}"><button type="submit" '
                     f'class="link-button" aria-label="Delete value of {period}">Delete</button></form></td>')
        parts.append(line + "</tr>\n    ")
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped above
