"""No input answers 500, generated over every page form.

Every page of the URL resolver that offers POST (the tenancy matrix's routes and object builders,
tests/security/matrix_<app>.py) is opened as an admin; each POST form on it is sent back with each
class of inputclasses.PAGE_VALUES in each of its fields (the others keep the values the page put
there; a class's further values go to the inputs of their kind, inputclasses.page_field_cases), and
with a body that is not valid form encoding. Any answer of 500 or more fails. Probes
run in a savepoint that is rolled back.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import reverse

from .inputclasses import PAGE_INPUT_KINDS, page_field_cases
from .matrix import Exempt
from .test_tenancy_matrix import PAGE_ROUTES, _page_entry, _page_kwargs

pytestmark = pytest.mark.django_db

ROUTES = [r for r in PAGE_ROUTES if "post" in r.offered_methods() and r.in_workspace]


class Forms(HTMLParser):
    """The POST forms of a page: [(action, {field: value}, {field: kind})], the kind as
    inputclasses.PAGE_INPUT_KINDS reads an input's type (None: not known, e.g. a select or hidden input)."""

    def __init__(self):
        super().__init__()
        self.forms, self._current, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._current = (a.get("action") or "", {}, {})
            self.forms.append(self._current)
        elif self._current is None or not a.get("name") or a["name"] == "csrfmiddlewaretoken":
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "file", "image", "reset"):
            self._kind(a["name"], PAGE_INPUT_KINDS.get(a.get("type") or "text"))
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                self._current[1].setdefault(a["name"], "")
            else:
                self._current[1][a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
            self._kind(a["name"], None)
            self._current[1].setdefault(a["name"], "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._kind(a["name"], "text")
            self._current[1][a["name"]] = ""

    def _kind(self, name, kind):
        """Two inputs of one name that disagree (a hidden default beside a checkbox): not known."""
        kinds = self._current[2]
        kinds[name] = kind if kinds.get(name, kind) == kind else None

    def handle_data(self, data):
        if self._textarea and self._current:
            self._current[1][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)




def _post(client, url, **kwargs):
    with transaction.atomic():
        try:
            return client.post(url, **kwargs)
        finally:
            transaction.set_rollback(True)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_page_form_answers_every_input_class_without_a_500(route, workspace, admin, client):
    entry = _page_entry(route)
    if isinstance(entry, Exempt) or (route.object_kwargs and entry is None):
        pytest.skip("exempt or not in the matrix (test_tenancy_matrix.py says which)")
    obj = entry.build(workspace) if route.object_kwargs else workspace
    client.force_login(admin)
    client.raise_request_exception = False
    url = reverse(route.name, kwargs=_page_kwargs(route, entry, obj, workspace.slug))
    page = client.get(url)
    targets = []
    if page.status_code == 200 and "html" in page.get("Content-Type", ""):
        parser = Forms()
        parser.feed(page.content.decode())
        # The page's own forms (the workspace's routes); not the header's sign-out form, which
        # would end the session mid-walk (sign-in forms are walked in tests/security/test_auth.py).
        prefix = f"/w/{workspace.slug}/"
        targets = [(path, fields, kinds) for path, fields, kinds in
                   ((urlsplit(action).path or url, fields, kinds) for action, fields, kinds in parser.forms)
                   if path.startswith(prefix)]
    if not any(action == url for action, _f, _k in targets):
        targets.append((url, {}, {}))  # a POST-only route (or one whose form lives elsewhere): its URL bare
    failures, sent = [], 0
    for action, fields, kinds in targets:
        for cls, name, value in page_field_cases({name: kinds.get(name) for name in fields} or {"name": None}):
            response = _post(client, action, data={**fields, name: value})
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{cls} in {action} {name}: {response.status_code}")
        response = _post(client, action, data=b"name=%FF%FE%00&title=\xff\xfe", content_type="application/x-www-form-urlencoded")
        sent += 1
        if response.status_code >= 500:
            failures.append(f"bad encoding body to {action}: {response.status_code}")
    print(f"page input classes: {route.key}: {len(targets)} forms, {sent} requests")
    assert not failures, f"{route.key}:\n" + "\n".join(failures)


# --- what the walk found, with their acceptance twins ------------------------------------------------
def _epics_url(product):
    return reverse("backlog:epics", kwargs={"ws": product.workspace.slug, "product_id": product.id})


def test_nul_in_a_form_post_is_refused_and_nothing_is_written(client_as, editor, workspace):
    from backlog.models import Epic
    from tests.roadmaps.factories import ProductFactory

    product = ProductFactory(workspace=workspace)
    response = client_as(editor).post(_epics_url(product), {"title": "Check\x00out"})
    assert response.status_code == 400 and b"NUL" in response.content
    assert not Epic.objects.filter(product=product).exists()
    accepted = client_as(editor).post(_epics_url(product), {"title": "Checkout"})
    assert accepted.status_code in (200, 302) and Epic.objects.filter(product=product, title="Checkout").exists()


def test_epic_title_longer_than_its_column_is_a_field_error(client_as, editor, workspace):
    from backlog.models import Epic
    from tests.roadmaps.factories import ProductFactory

    product = ProductFactory(workspace=workspace)
    response = client_as(editor).post(_epics_url(product), {"title": "x" * 201})
    assert response.status_code == 400 and not Epic.objects.filter(product=product).exists()
    client_as(editor).post(_epics_url(product), {"title": "x" * 200})
    assert Epic.objects.filter(product=product, title="x" * 200).exists()
