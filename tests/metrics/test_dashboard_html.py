"""The dashboards' KPI tiles and adoption funnel rows are printed in Python (metrics/dashboard_html.py,
decision 2012) with exactly the markup metrics/dashboard.html's loops printed before: each case
renders the old loop (kept here as it was) and the new function on the same rows and compares the
bytes. The health badge is compared with metrics/_health.html itself for every status."""

from decimal import Decimal

import pytest
from django.template import engines
from django.test import RequestFactory

from metrics import dashboard_html

OLD_TILES = """{% load pmhub rowurls %}<div>
  {% for t in tiles %}
    <article class="kpi-tile tile-{{ t.health }}" data-kpi-tile="{{ t.id_text }}" data-live-item="kpi:{{ t.id_text }}">
      <header><a href="{% row_url 'metrics_kpi_detail' 'kpi_id' t.id ws=workspace.slug product_id=t.product %}">{{ t.name }}</a>
        {% include "metrics/_health.html" with status=t.health %}</header>
      <p class="kpi-value"><strong>{{ t.current|kpi_value:t.unit }}</strong>
        <span class="delta{% if t.change %} delta-{{ t.change.tone }}{% endif %}" data-delta-for="{{ t.id_text }}" title="Change since {{ data.window.previous_end }}{% if t.change %} ({% if t.change.tone == 'good' %}toward{% elif t.change.tone == 'bad' %}away from{% else %}no change against{% endif %} the target direction){% endif %}">{% if t.change %}{{ t.change.text }}{% else %}–{% endif %}</span></p>
      <canvas class="sparkline" data-sparkline="{{ t.id_text }}" height="40" role="img" aria-label="Trend of {{ t.name }}"></canvas>
      <small class="muted" data-target-for="{{ t.id_text }}">target {{ t.target_text }}</small>
    </article>
  {% empty %}
    <p>No KPIs yet.</p>
  {% endfor %}
  </div>"""

OLD_FUNNEL = """{% load pmhub %}{% for row in funnel %}<tr data-feature="{{ row.feature_id_text }}"><td>{{ row.feature }}</td><td class="num">{{ row.users|num:0 }}</td><td class="num">{{ row.active_users|num:0 }}</td><td data-testid="adoption-7d">{% if row.adoption_7d is not None %}{{ row.adoption_7d|num:1 }}%{% else %}–{% endif %}</td></tr>{% endfor %}"""

NASTY = "Tom & \"Jerry\" <b>'x'</b>"


def _render(source, **context):
    return engines["django"].from_string(source).render(context, request=RequestFactory().get("/"))


def _tile(n, **over):
    tile = {"id": 500 + n, "product": 3 + n % 2, "name": f"KPI {n}", "health": "on_track", "current": Decimal("52013.5"),
            "unit": "currency", "change": {"tone": "good", "text": "+4.2%"}, "target_text": "€60,000"}
    tile |= over
    return tile | {"id_text": str(tile["id"]), "product_text": str(tile["product"])}


TILES = [
    _tile(0),
    _tile(1, name=NASTY, health="at_risk", unit="percent", current=Decimal("3.85"),
          change={"tone": "bad", "text": "-1.0 pts <x>"}, target_text="5% & up"),
    _tile(2, health="off_track", unit="duration", current=Decimal("90"), change={"tone": "flat", "text": "0%"}),
    _tile(3, health="no_data", unit="count", current=None, change=None, target_text="—"),
    _tile(4, health=None, unit=None, current=Decimal("2816.764"), change={}),
]


@pytest.mark.parametrize("tiles", [TILES, TILES[:1], []])
def test_tiles_print_the_markup_of_the_old_template_loop(tiles):
    previous_end = "2026-11-04"
    old = _render(OLD_TILES, tiles=tiles, workspace={"slug": "acme"}, data={"window": {"previous_end": previous_end}})
    html = dashboard_html.tiles_html(tiles, ws="acme", previous_end=previous_end)
    new = _render('<div>\n  {% if tiles %}{{ html }}{% else %}\n    <p>No KPIs yet.</p>\n  {% endif %}\n  </div>',
                  tiles=tiles, html=html)
    assert new == old
    assert "<b>" not in new
    assert new.count("<article") == len(tiles)


def test_funnel_rows_print_the_markup_of_the_old_template_loop():
    rows = [{"feature_id_text": "7", "feature": NASTY, "users": 12345, "active_users": 2000, "adoption_7d": 37.46},
            {"feature_id_text": "8", "feature": "Export", "users": 0, "active_users": 0, "adoption_7d": None},
            {"feature_id_text": "9", "feature": "Import", "users": None, "active_users": 3, "adoption_7d": 0}]
    old = _render(OLD_FUNNEL, funnel=rows)
    assert dashboard_html.funnel_rows_html(rows) == old
    assert "Tom &amp;" in old and "<b>" not in old


@pytest.mark.parametrize("status", ["on_track", "at_risk", "off_track", "no_data", None, "<x>"])
def test_the_health_badge_is_the_health_partials(status):
    assert dashboard_html.health_badge(status) == _render('{% include "metrics/_health.html" %}', status=status)
