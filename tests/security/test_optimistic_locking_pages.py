"""No lost update on the pages: every edit form carries the version it was rendered with, and
saving it after someone else saved answers 409 with a message and changes nothing; a form sent
without its version is refused the same way; the form as rendered saves and bumps the version.

Each case opens the real edit page, reads the form back from the HTML (so a form that forgets its
hidden `version` fails here), changes one field and posts it.
"""

from html.parser import HTMLParser

import pytest
from django.db.models import F
from django.urls import reverse

from pmhub.utils import state_of

from . import matrix_adoption, matrix_backlog, matrix_delivery, matrix_metrics, matrix_reports, matrix_roadmaps

pytestmark = pytest.mark.django_db


class _Form(HTMLParser):
    """The fields of the first POST form that has a `version` input: {name: value or [values]}."""

    def __init__(self):
        super().__init__()
        self.forms, self._fields, self._select, self._textarea, self._option = [], None, None, None, None

    def _add(self, name, value, multiple=False):
        if multiple:
            self._fields.setdefault(name, []).append(value)
        else:
            self._fields[name] = value

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._fields = {}
        elif self._fields is None:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a["name"], a.get("value", "on"), multiple=a.get("type") == "checkbox")
            else:
                self._add(a["name"], a.get("value") or "")
        elif tag == "textarea":
            self._textarea, self._fields[a["name"]] = a["name"], ""
        elif tag == "select":
            self._select = (a["name"], "multiple" in a)
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select[0], a.get("value", ""), multiple=self._select[1])

    def handle_data(self, data):
        if self._textarea:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._fields is not None:
            self.forms.append(self._fields)
            self._fields = None


def _edit_form(html: str) -> dict:
    parser = _Form()
    parser.feed(html)
    forms = [f for f in parser.forms if "version" in f]
    assert forms, "the edit form has no hidden version field"
    return forms[0]


# (url name, build(workspace), url kwargs(obj), the one field changed)
CASES = {
    "workspace": ("workspace_settings", lambda ws: ws, lambda w: {}, {"name": "Renamed workspace"}),
    "product": ("roadmaps:product_edit", matrix_roadmaps._product, lambda p: {"product_id": p.id},
                {"name": "Renamed product"}),
    "key result": ("roadmaps:objectives", matrix_roadmaps._key_result,
                   lambda k: {"product_id": k.objective.product_id}, {"current_value": "7"}),
    "iteration": ("delivery:iteration", matrix_delivery._iteration,
                  lambda i: {"product_id": i.product_id, "iteration_id": i.id}, {"name": "Renamed sprint"}),
    "feature": ("adoption_feature", matrix_adoption._feature, lambda f: {"product_id": f.product_id, "feature_id": f.id},
                {"name": "Renamed feature"}),
    "action plan": ("metrics_plan_detail", matrix_metrics._plan, lambda p: {"plan_id": p.id},
                    {"title": "Renamed plan"}),
    "kpi": ("metrics_kpi_detail", matrix_metrics._kpi, matrix_metrics._kpi_kwargs, {"name": "Renamed KPI"}),
    "report": ("reports:detail", matrix_reports._subscription, lambda s: {"subscription_id": s.id},
               {"name": "Renamed report"}),
    "epic": ("backlog:epic", matrix_backlog._epic, lambda e: {"product_id": e.product_id, "epic_id": e.id},
             {"title": "Renamed epic"}),
    "story": ("backlog:story", matrix_backlog._story, matrix_backlog._story_kwargs, {"title": "Renamed story"}),
    "initiative": ("roadmaps:initiative", matrix_roadmaps._initiative,
                   lambda i: {"product_id": i.product_id, "initiative_id": i.id}, {"title": "Renamed initiative"}),
}


def _post_url(name, obj, kwargs, ws):
    if name == "roadmaps:objectives":  # the inline form posts to the key result's own URL
        return reverse("roadmaps:key_result", kwargs={"ws": ws, "product_id": obj.objective.product_id,
                                                      "key_result_id": obj.id})
    return reverse(name, kwargs={"ws": ws, **kwargs})


def _row(obj):
    return state_of(type(obj)._base_manager.get(pk=obj.pk))


@pytest.mark.parametrize("case", sorted(CASES))
def test_page_refuses_a_stale_or_missing_version_and_saves_the_read_one(case, workspace, admin, client_as):
    name, build, kwargs, change = CASES[case]
    obj = build(workspace)
    client = client_as(admin)
    page = client.get(reverse(name, kwargs={"ws": workspace.slug, **kwargs(obj)}))
    assert page.status_code == 200
    form = _edit_form(page.content.decode()) | change
    url = _post_url(name, obj, kwargs(obj), workspace.slug)
    read = int(form["version"])
    assert read == obj.version

    type(obj)._base_manager.filter(pk=obj.pk).update(version=F("version") + 1)  # someone else saved
    before = _row(obj)
    stale = client.post(url, form)
    assert stale.status_code in (409, 302), f"{case}: {stale.status_code}"
    if stale.status_code == 302:  # inline forms redirect back with a message
        assert "Someone else changed" in client.get(stale.url).content.decode()
    else:
        assert "Someone else changed" in stale.content.decode()
    assert _row(obj) == before, f"{case}: a stale form changed the row"
    missing = client.post(url, {k: v for k, v in form.items() if k != "version"})
    assert missing.status_code in (409, 302) and _row(obj) == before, f"{case}: a form without version saved"

    saved = client.post(url, form | {"version": read + 1})
    assert saved.status_code == 302, f"{case}: {saved.status_code} {saved.content[:800]!r}"
    after = type(obj)._base_manager.get(pk=obj.pk)
    assert after.version == read + 2
    field, value = next(iter(change.items()))
    assert str(getattr(after, field)) in (value, f"{value}.0000"), f"{case}: {field} not saved"
