"""The adoption page's feature rows printed by Python (decision 2133): what the `{% for row in
table.rows %}` loop of adoption/adoption.html printed, byte for byte (tests/adoption/test_table_html.py
keeps the loop and compares), with the values escaped by pmhub.htmltext's rule. The loop's tags
and filters were most of the page's own time (issue 23, target 3)."""

from django.utils.safestring import SafeString, mark_safe

from pmhub.formatting import number
from pmhub.htmltext import esc, val
from pmhub.utils import url_for_ids

EMPTY_ROW = ('\n    <tr><td colspan="6" class="muted" data-testid="no-features">No features yet. Create an ingestion '
             "key and send usage events; features register themselves from the events' <code>feature</code> "
             "field.</td></tr>\n  ")


def _pct(value) -> str:
    return "–" if value is None else f"{esc(number(value, 1))} %"


def _trend(trend) -> str:
    if trend is None:
        return "–"
    css, sign = ("health-on_track", "▲ +") if trend > 0 else ("health-off_track", "▼ ") if trend < 0 else ("", "")
    return f'<span class="{css}">{sign}{esc(number(trend, 1))} pt</span>'


def _target(target, percent) -> str:
    if target is None:
        return "–"
    verdict = ""
    if percent is not None:
        verdict = (' <span class="health-on_track">met</span>' if percent >= target
                   else ' <span class="health-at_risk">below</span>')
    return f"{esc(number(target, 1))} %{verdict}"


def feature_rows_html(rows: list[dict], *, workspace_slug: str, product_id: int) -> SafeString:
    """The <tr>s of adoption_table's `rows` (a feature and, when it has figures, users, percent,
    previous_percent and trend)."""
    if not rows:
        return mark_safe(EMPTY_ROW)  # noqa: S308 - fixed text
    url = url_for_ids("adoption_feature", "feature_id", ws=workspace_slug, product_id=product_id)
    out = []
    for row in rows:
        feature = row["feature"]
        percent, target = row.get("percent"), feature.target
        bar = (f'<progress class="progress-bar" value="{val(percent)}" max="100" aria-label="adoption"></progress>'
               if target is not None and percent is not None else "")
        out.append(
            f'\n    <tr data-testid="feature-row">\n'
            f'      <td><a href="{url(feature.id)}">{esc(feature.label)}</a> <small class="muted"><code>'
            f"{esc(feature.key)}</code></small></td>\n"
            f"      <td>{val(row.get('users') or 0)}</td>\n"
            f'      <td data-testid="adoption">{_pct(percent)}\n        {bar}</td>\n'
            f"      <td>{_pct(row.get('previous_percent'))}</td>\n"
            f'      <td data-testid="trend">{_trend(row.get("trend"))}</td>\n'
            f"      <td>{_target(target, percent)}</td>\n"
            f"    </tr>\n  ")
    return mark_safe("".join(out))  # noqa: S308 - every value escaped above
