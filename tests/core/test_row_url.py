"""{% row_url %}: the URL `{% url %}` gives, reversed once per route and page (decision 1955)."""

from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

ROW_URL = Template("{% load rowurls %}{% for r in rows %}{% row_url 'governance:risk' 'risk_id' r.id ws=ws "
                   "product_id=r.product_id %}|{% endfor %}")
URL = Template("{% for r in rows %}{% url 'governance:risk' ws=ws product_id=r.product_id risk_id=r.id %}|{% endfor %}")
ROWS = [{"id": i, "product_id": p} for p in (1, 7, 12345) for i in (1, 9, 10, 999_999)]


def test_row_url_prints_what_the_url_tag_prints_for_every_row():
    context = {"rows": ROWS, "ws": "acme-9"}
    assert ROW_URL.render(Context(context)) == URL.render(Context(context))


def test_row_url_reverses_each_route_once_per_request_and_other_arguments():
    request = RequestFactory().get("/")
    ROW_URL.render(Context({"rows": ROWS, "ws": "acme", "request": request}))
    assert len(request._row_urls) == 3  # one per product: the id is filled in per row
    first = request._row_urls[("governance:risk", "risk_id", (("product_id", 7), ("ws", "acme")))]
    assert first(5) == reverse("governance:risk", kwargs={"ws": "acme", "product_id": 7, "risk_id": 5})


def test_row_url_in_another_workspace_is_that_workspaces_url():
    request = RequestFactory().get("/")
    one = ROW_URL.render(Context({"rows": ROWS[:1], "ws": "one", "request": request}))
    two = ROW_URL.render(Context({"rows": ROWS[:1], "ws": "two", "request": request}))
    assert one == "/w/one/products/1/risks/1/|" and two == "/w/two/products/1/risks/1/|"
