"""One form pattern everywhere, checked on every form of every page (generated, like the sweep).

The page routes come from the URL resolver and are filled from `seed_demo` (tests/e2e/sweep.py).
Each page is opened as the demo's admin (sign-in pages signed out); for each POST form on it:
- no `<select multiple>` anywhere (a Ctrl-click list box): multiple choices are the searchable
  check list (`_check_list.html` / `_field.html`);
- the form is sent with what a person might type in every text field and one required field left
  empty (or a number field holding words): the answer is the page again with every typed value in
  it and the error in words next to the emptied field - inside the field's wrapper (its label,
  fieldset or `.field`) or linked from the control by `aria-describedby` - not only at the top.
Forms whose nature makes this meaningless are in EXEMPT_FORMS with the reason.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from pmhub.models import Role
from tests.core.htmltree import parse
from tests.e2e.sweep import ANONYMOUS, EXEMPT, DemoWorld, fill, page_routes, url_for

pytestmark = pytest.mark.django_db(transaction=False)

# (view name the form posts to) -> why the check does not apply.
EXEMPT_FORMS: dict[str, str] = {
    "login": "a failed sign-in says one sentence for both fields on purpose (no hint which was wrong); "
             "the e-mail typed is kept (tests/accounts)",
    "search": "a GET search box, not a saved form",
    "portal:signin": "the walk fills every field, the hidden honeypot too, and a filled honeypot is answered like a "
                     "success on purpose (a bot learns nothing); a refused e-mail keeps what was typed "
                     "(tests/discovery/test_portal.py)",
}

TEXT_TYPES = {"", "text", "search", "email", "url", "tel"}
WRAPPERS = {"label", "fieldset"}


def _controls(form):
    for n in form.iter():
        if n.tag in ("input", "textarea", "select") and n.get("name") and "disabled" not in n.attrs:
            yield n


def _is_text(n) -> bool:
    return n.tag == "textarea" or (n.tag == "input" and (n.get("type") or "").lower() in TEXT_TYPES)


def _marker(n, i) -> str:
    kind = (n.get("type") or "").lower()
    if kind == "email":
        return f"kept{i}@example.com"
    if kind == "url":
        return f"https://kept{i}.example.com/"
    return f"Kept{i}xq"


def _payload(form):
    """(data, markers, broken field name) for an invalid submission, or None when nothing can be broken."""
    data: dict[str, list[str]] = {}
    markers, broken, number = [], None, None
    for i, n in enumerate(_controls(form)):
        name, kind = n.get("name"), (n.get("type") or "").lower()
        if n.tag == "select":
            options = list(n.find_all("option"))
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            data.setdefault(name, []).extend(o.get("value", o.text().strip()) for o in chosen)
        elif kind in ("checkbox", "radio"):
            if "checked" in n.attrs:
                data.setdefault(name, []).append(n.get("value", "on"))
        elif kind in ("hidden",):
            data.setdefault(name, []).append(n.get("value", ""))
        elif kind in ("submit", "button", "reset", "image", "file", "password"):
            continue
        elif _is_text(n) and broken is None and "required" in n.attrs:
            broken = name
            data[name] = [""]
        elif _is_text(n) and n.get("maxlength", "99") and int(n.get("maxlength", "99") or 99) >= 12:
            value = _marker(n, i)
            markers.append(value)
            data[name] = [value]
        elif kind == "number" and number is None:
            number = name
            data[name] = [n.get("value", "")]
        else:
            data.setdefault(name, []).append(n.get("value", ""))
    if broken is None and number is not None:
        broken, data[number] = number, ["many"]
    if broken is None:
        return None
    return data, markers, broken


def _error_at_field(tree, name) -> bool:
    controls = [n for n in tree.iter() if n.tag in ("input", "textarea", "select") and n.get("name") == name]
    ids = {n.get("id") for n in tree.iter() if n.get("id")}
    for control in controls:
        described = (control.get("aria-describedby") or "").split()
        if any(d in ids and "error" in d for d in described):
            return True
        for wrapper in control.ancestors():
            if wrapper.tag in WRAPPERS or "field" in wrapper.classes:
                if any("errorlist" in e.classes for e in wrapper.iter()):
                    return True
                if wrapper.tag == "label" or "field" in wrapper.classes:
                    continue  # a label inside a .field: look one wrapper further
                break
            if wrapper.tag == "form":
                break
    return False


def _post_target(form, page_url: str) -> str:
    action = form.get("action") or page_url
    parts = urlsplit(action)
    return parts.path + (f"?{parts.query}" if parts.query else "") if not parts.netloc else ""


def test_every_form_keeps_what_was_typed_and_says_why_at_the_field():
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    world = DemoWorld.load()
    admin = world.workspace.memberships.filter(role=Role.ADMIN).select_related("user").order_by("pk").first().user
    member, anonymous = Client(), Client()
    member.force_login(admin)

    problems, checked, seen = [], [], set()
    for route in page_routes():
        if route.name in EXEMPT or route.name == "share:timeline":
            continue
        kwargs = fill(route, world)
        if kwargs is None:
            continue
        url = url_for(route, kwargs)
        client = anonymous if route.name in ANONYMOUS else member
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        tree = parse(response.content.decode())
        for select in tree.find_all("select"):
            if "multiple" in select.attrs:
                problems.append(f"{route.name}: <select multiple name={select.get('name')!r}>: use _check_list.html")
        for form in tree.find_all("form"):
            if (form.get("method") or "get").lower() != "post":
                continue
            target = _post_target(form, url)
            try:
                view = resolve(urlsplit(target).path).view_name if target else ""
            except Resolver404:
                continue
            if not view or view in EXEMPT_FORMS:
                continue
            payload = _payload(form)
            if payload is None:
                continue  # buttons only (delete, restore, confirm): nothing typed
            data, markers, broken = payload
            key = (view, tuple(sorted(data)))
            if key in seen:
                continue
            seen.add(key)
            headers = {"HTTP_HX_REQUEST": "true"} if form.get("hx-post") else {}
            answer = client.post(target, data, **headers)
            where = f"{route.name} -> {view} (field {broken!r})"
            checked.append(where)
            if answer.status_code in (301, 302, 303):
                problems.append(f"{where}: accepted with {broken!r} empty/invalid (redirect to {answer.get('Location')})")
                continue
            if answer.status_code not in (200, 400, 422):
                problems.append(f"{where}: answered {answer.status_code}")
                continue
            html = answer.content.decode()
            lost = [m for m in markers if m not in html]
            if lost:
                problems.append(f"{where}: typed values lost: {lost}")
            if not _error_at_field(parse(html), broken):
                problems.append(f"{where}: no error next to the field {broken!r}")
    assert len(checked) >= 20, checked  # the walk really found the forms
    assert not problems, "\n".join(problems)


# The walk above opens pages with the demo data; these two lists only show with data the demo does
# not stage (a product with a multi-select custom field, an uploaded import waiting for its mapping).
def test_a_multi_select_custom_field_is_a_check_list_that_keeps_the_choices(client_as, admin, workspace):
    from backlog.models import CustomField, Story
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name="Acme")
    CustomField.objects.create(product=product, key="tags", label="Tags", type="multi_select",
                               options=["alpha", "beta", "gamma"])
    story = Story.objects.create(product=product, title="A story", rank="a0", status="idea")
    url = reverse("backlog:story", kwargs={"ws": workspace.slug, "product_id": product.id, "story_id": story.id})
    client = client_as(admin)
    html = client.get(url).content.decode()
    assert not [s for s in parse(html).find_all("select") if "multiple" in s.attrs]
    assert html.count('type="checkbox" name="cf_tags"') == 3
    answer = client.post(url, {"version": story.version, "title": "", "cf_tags": ["beta", "gamma"]})
    assert answer.status_code == 400
    tree = parse(answer.content.decode())
    checked = [n.get("value") for n in tree.find_all("input", name="cf_tags") if "checked" in n.attrs]
    assert checked == ["beta", "gamma"]
    assert _error_at_field(tree, "title")


def test_the_import_mapping_offers_check_boxes_for_repeated_columns(client_as, editor, workspace):
    from pathlib import Path

    from roadmaps.models import Product
    from tests.delivery.factories import staged_import

    product = Product.objects.create(workspace=workspace, name="Acme")
    data = (Path(__file__).parents[1] / "delivery" / "data" / "jira_export.csv").read_bytes()
    job = staged_import(actor=editor, product=product, filename="jira_export.csv", data=data)
    html = client_as(editor).get(reverse("delivery:import_detail", kwargs={
        "ws": workspace.slug, "product_id": product.id, "import_id": job.id})).content.decode()
    tree = parse(html)
    assert not [s for s in tree.find_all("select") if "multiple" in s.attrs]
    labels = [n.get("value") for n in tree.find_all("input", name="map_labels") if "checked" in n.attrs]
    assert labels == ["10", "11", "12"]


def test_a_django_form_field_points_at_its_error_and_help():
    from django import forms
    from django.template import Context, Template

    class StoryForm(forms.Form):
        title = forms.CharField(help_text="A short name.")
        points = forms.IntegerField(min_value=0)
        tags = forms.MultipleChoiceField(choices=[(str(i), f"Tag {i}") for i in range(10)], required=False)

    form = StoryForm({"title": "", "points": "-4", "tags": ["3", "7"]})
    assert not form.is_valid()
    tree = parse(Template('{% include "_form.html" %}').render(Context({"form": form})))
    title = next(tree.find_all("input", name="title"))
    assert title.get("aria-describedby") == "id_title_helptext id_title_error" and title.get("aria-invalid") == "true"
    assert next(tree.find_all(id="id_title_error")).text().strip() == "This field is required."
    assert next(tree.find_all("input", name="points")).get("value") == "-4"  # kept
    assert [n.get("value") for n in tree.find_all("input", name="tags") if "checked" in n.attrs] == ["3", "7"]
    assert next(tree.find_all("input", type="search")).get("data-check-filter") == "#checks-id_tags"  # > 8: a filter
    assert _error_at_field(tree, "points")


def test_unticking_every_box_of_a_multi_select_clears_it(client_as, admin, workspace):
    from backlog.models import CustomField, Story
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name="Acme")
    CustomField.objects.create(product=product, key="tags", label="Tags", type="multi_select", options=["alpha", "beta"])
    story = Story.objects.create(product=product, title="A story", rank="a0", status="idea",
                                 custom_values={"tags": ["alpha"]})
    url = reverse("backlog:story", kwargs={"ws": workspace.slug, "product_id": product.id, "story_id": story.id})
    client = client_as(admin)
    html = client.get(url).content.decode()
    assert '<input type="hidden" name="cf_tags" value="">' in html
    assert client.post(url, {"version": story.version, "title": "A story", "cf_tags": [""]}).status_code == 302
    story.refresh_from_db()
    assert not story.custom_values.get("tags")  # cleared
    assert client.post(url, {"version": story.version, "title": "A story", "cf_tags": ["", "beta"]}).status_code == 302
    story.refresh_from_db()
    assert story.custom_values["tags"] == ["beta"]


def test_the_import_mapping_keeps_what_was_chosen_when_it_is_refused(client_as, editor, workspace):
    """The staged import's column mapping is a hand-written form: a refused preview (no title
    column) comes back with every column chosen and every unknown status mapped, the error at the
    title's column."""
    from pathlib import Path

    from delivery.models import ImportJob
    from roadmaps.models import Product
    from tests.delivery.factories import staged_import

    product = Product.objects.create(workspace=workspace, name="Acme")
    data = (Path(__file__).parents[1] / "delivery" / "data" / "jira_export.csv").read_bytes()
    job = staged_import(actor=editor, product=product, filename="jira_export.csv", data=data)
    url = reverse("delivery:import_detail", kwargs={"ws": workspace.slug, "product_id": product.id, "import_id": job.id})
    client = client_as(editor)
    # A first preview finds statuses the workflow does not know; they get their own menus.
    assert client.post(url, {"map_title": "0", "map_status": "4"}).status_code == 302
    unknown = list(ImportJob.objects.get(id=job.id).preview["unknown_statuses"])
    assert unknown
    stored = ImportJob.objects.get(id=job.id).mapping
    typed = {"map_title": "", "map_key": "1", "map_status": "4", "map_points": "15", "map_labels": ["10", "12"],
             f"status_{unknown[0]}": "done"}
    answer = client.post(url, typed)
    assert answer.status_code == 400
    tree = parse(answer.content.decode())

    def chosen(name):
        select = next(tree.find_all("select", name=name))
        return [o.get("value") for o in select.find_all("option") if "selected" in o.attrs]

    assert (chosen("map_key"), chosen("map_status"), chosen("map_points"), chosen("map_title")) == (["1"], ["4"], ["15"], [])
    assert [n.get("value") for n in tree.find_all("input", name="map_labels") if "checked" in n.attrs] == ["10", "12"]
    assert chosen(f"status_{unknown[0]}") == ["done"]
    assert _error_at_field(tree, "map_title")
    assert "Map a column to the story title" in answer.content.decode()
    assert ImportJob.objects.get(id=job.id).mapping == stored  # nothing saved
