"""The adoption page's feature rows printed by Python (adoption/table_html.py, decision 2133) are what
the template loop they replaced printed, byte for byte: the loop is kept here as text and both are
rendered from the same rows, with hostile text in names and keys, every kind of figure (none,
missing, zero, rising, falling, above and below the target) and no rows at all."""

from decimal import Decimal

import pytest
from django.template import engines

from adoption import table_html
from adoption.models import Feature

from .factories import FeatureFactory

pytestmark = pytest.mark.django_db

OLD_LOOP = '{% for row in table.rows %}\n    <tr data-testid="feature-row">\n      <td><a href="{% url \'adoption_feature\' ws=workspace.slug product_id=product.id feature_id=row.feature.id %}">{{ row.feature.label }}</a> <small class="muted"><code>{{ row.feature.key }}</code></small></td>\n      <td>{{ row.users|default:0 }}</td>\n      <td data-testid="adoption">{% if row.percent is not None %}{{ row.percent|num:1 }} %{% else %}–{% endif %}\n        {% if row.feature.target is not None and row.percent is not None %}<progress class="progress-bar" value="{{ row.percent }}" max="100" aria-label="adoption"></progress>{% endif %}</td>\n      <td>{% if row.previous_percent is not None %}{{ row.previous_percent|num:1 }} %{% else %}–{% endif %}</td>\n      <td data-testid="trend">{% if row.trend is not None %}<span class="{% if row.trend > 0 %}health-on_track{% elif row.trend < 0 %}health-off_track{% endif %}">{% if row.trend > 0 %}▲ +{% elif row.trend < 0 %}▼ {% endif %}{{ row.trend|num:1 }} pt</span>{% else %}–{% endif %}</td>\n      <td>{% if row.feature.target is not None %}{{ row.feature.target|num:1 }} %{% if row.percent is not None %}{% if row.percent >= row.feature.target %} <span class="health-on_track">met</span>{% else %} <span class="health-at_risk">below</span>{% endif %}{% endif %}{% else %}–{% endif %}</td>\n    </tr>\n  {% empty %}\n    <tr><td colspan="6" class="muted" data-testid="no-features">No features yet. Create an ingestion key and send usage events; features register themselves from the events\' <code>feature</code> field.</td></tr>\n  {% endfor %}'

HOSTILE = '<b>"R&D" & <script>alert(1)</script>\'s'


def _old(rows, product) -> str:
    template = engines["django"].from_string("{% load pmhub %}" + OLD_LOOP)
    return template.render({"table": {"rows": rows}, "workspace": product.workspace, "product": product})


def _new(rows, product) -> str:
    return str(table_html.feature_rows_html(rows, workspace_slug=product.workspace.slug, product_id=product.id))


def test_feature_rows_are_printed_as_the_template_printed_them(product):
    from tests.metrics.factories import KpiFactory

    kpi = KpiFactory(product=product, target_value=Decimal("40"))
    features = [FeatureFactory(product=product, key=f"k{i}&<x>", name=name, target_percent=target, kpi=k)
                for i, (name, target, k) in enumerate([(HOSTILE, Decimal("25.5"), None), ("", None, None),
                                                       ("Plain", Decimal("50"), None), ("By KPI", None, kpi),
                                                       ("Zero", Decimal("0"), None)])]
    features = list(Feature.objects.filter(id__in=[f.id for f in features]).select_related("kpi").order_by("id"))
    figures = [{"users": 12345, "percent": 33.333333, "previous_percent": 30.0, "trend": 3.3333},
               {},
               {"users": 0, "percent": 12.5, "previous_percent": None, "trend": -2.25},
               {"users": 7, "percent": 40.0, "previous_percent": 40.0, "trend": 0.0},
               {"users": None, "percent": None, "previous_percent": 1.0, "trend": None}]
    rows = [{"feature": f, **fig} for f, fig in zip(features, figures, strict=True)]
    new = _new(rows, product)
    assert new == _old(rows, product)
    assert "&lt;script&gt;" in new and "<script>" not in new and "health-at_risk" in new and "health-on_track" in new


def test_no_features_print_the_empty_row(product):
    assert _new([], product) == _old([], product)


def test_the_adoption_page_prints_its_rows_and_form(client_as, editor, product):
    FeatureFactory(product=product, key="search", name=HOSTILE)
    html = client_as(editor).get(f"/w/{product.workspace.slug}/products/{product.id}/adoption/").content.decode()
    assert html.count('data-testid="feature-row"') == 1 and "&lt;script&gt;" in html
    assert 'name="key"' in html and "Add feature" in html
