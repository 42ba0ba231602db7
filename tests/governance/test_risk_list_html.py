"""The list of risks above appetite (governance/_risk_list.html: dashboards, the home panel) prints
RISK_ROW rows through pmhub's risk_items (decision 2012) with exactly the markup the old template
loop printed from risk models: the same risks read both ways, compared byte for byte (titles,
product names and owners with every character autoescape changes, no owner, a name-less owner)."""

import pytest
from django.template import engines
from django.test import RequestFactory

from governance.selectors import above_appetite_for_products, above_appetite_rows_for_products
from pmhub.models import User
from roadmaps.models import Product

from .factories import RiskFactory, appetite

pytestmark = pytest.mark.django_db
OLD_LIST = """{% comment %}Risks above appetite (items: Risk rows with .appetite, .product): home panel, dashboards.{% endcomment %}{% load pmhub rowurls %}
<ul data-testid="risks-above-appetite">{% for r in items %}<li><a href="{% row_url 'governance:risk' 'risk_id' r.id ws=ws product_id=r.product_id %}">{{ r.title }}</a> <span class="risk-flag">{{ r.score|stringformat:"d" }} &gt; {{ r.appetite|stringformat:"d" }}</span> <span class="muted">{{ r.product.name }} · {{ r.owner|default:"no owner" }}</span></li>{% empty %}<li class="muted">No risk is above its product's appetite.</li>{% endfor %}</ul>
"""
NASTY = "Tom & \"Jerry\" <b>'x'</b>"


def _render(source, **context):
    return engines["django"].from_string(source).render(context, request=RequestFactory().get("/"))


def test_the_risk_list_prints_the_old_loops_markup_from_rows(product, editor):
    other = Product.objects.create(workspace=product.workspace, name="Globex <Ops> & co")
    appetite(product, 8)
    nameless = User.objects.create(email="no.name@example.com", name="")
    RiskFactory(product=product, title=NASTY, likelihood=5, impact=5, owner=editor)
    RiskFactory(product=product, title="Vendor sunset", likelihood=4, impact=4, owner=None)
    RiskFactory(product=other, title="Key person", likelihood=4, impact=5, owner=nameless)
    RiskFactory(product=other, title="Calm", likelihood=1, impact=1)
    products = Product.objects.filter(id__in=[product.id, other.id])
    for limit in (100, 2):
        models = above_appetite_for_products(products=products, limit=limit)
        rows = above_appetite_rows_for_products(products=products, limit=limit)
        assert [r.id for r in rows] == [r.id for r in models]
        old = _render(OLD_LIST, items=models, ws="acme")
        new = _render('{% include "governance/_risk_list.html" %}', items=rows, ws="acme")
        assert new == old
        assert "<b>" not in new and new.count("<li>") == len(models) == min(limit, 3)


def test_an_empty_list_prints_the_old_loops_line():
    assert _render('{% include "governance/_risk_list.html" %}', items=[], ws="acme") == _render(OLD_LIST, items=[])
