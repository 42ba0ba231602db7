"""Launch readiness: templates, a release's checklist, the readiness figure (hand-computed), the
ship gate and its recorded override (service, API, page), the release page and the report."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from governance import services
from governance.models import ChecklistTemplate, LaunchItem, ShipOverride
from governance.readiness import readiness
from reports.rendering import report_render
from reports.services import report_build
from roadmaps import services as roadmap_services
from roadmaps.models import Release
from tests.effects import emitted, subscribe_all, verbs
from tests.roadmaps.factories import ReleaseFactory

pytestmark = pytest.mark.django_db
ITEMS = [{"category": "legal", "title": "Privacy review", "required": True, "days_before": 14},
         {"category": "marketing", "title": "Blog post", "required": True, "days_before": 3},
         {"category": "marketing", "title": "Social posts", "required": False, "days_before": 1}]


def test_readiness_is_the_share_of_required_items_done_rounded_down():
    assert readiness(required_total=3, required_done=2, total=4, done=3) == {
        "required_total": 3, "required_done": 2, "required_open": 1, "total": 4, "done": 3, "percent": 66,
        "ready": False}
    assert readiness(required_total=3, required_done=3)["ready"] is True
    assert readiness(required_total=0, required_done=0, total=2, done=0) | {} == {
        "required_total": 0, "required_done": 0, "required_open": 0, "total": 2, "done": 0, "percent": None,
        "ready": True}


@pytest.fixture
def release(product):
    return ReleaseFactory(product=product, name="2.0", release_date=date(2026, 9, 30))


@pytest.fixture
def template(workspace, admin):
    return services.template_create(user=admin, workspace=workspace, name="Standard launch", items=ITEMS)


def test_template_create_keeps_the_items_in_order(template, workspace):
    assert list(template.items.values_list("title", "required", "days_before")) == [
        ("Privacy review", True, 14), ("Blog post", True, 3), ("Social posts", False, 1)]
    assert verbs(workspace)[-1] == "created launch checklist template"


def test_template_create_refuses_an_empty_list_and_a_duplicate_name(workspace, admin, template):
    with pytest.raises(ValidationError):
        services.template_create(user=admin, workspace=workspace, name="Empty", items=[])
    with pytest.raises(ValidationError) as e:
        services.template_create(user=admin, workspace=workspace, name="Standard launch", items=ITEMS)
    assert "name" in e.value.error_dict


def test_template_delete_removes_it(workspace, admin, template):
    services.template_delete(user=admin, template=template)
    assert not ChecklistTemplate.objects.exists()


def test_applying_a_template_copies_items_due_before_the_release_once(editor, admin, release, template):
    subscribe_all(workspace=release.product.workspace, admin=admin)
    assert services.checklist_apply_template(user=editor, release=release, template=template) == 3
    assert services.checklist_apply_template(user=editor, release=release, template=template) == 0
    assert dict(LaunchItem.objects.values_list("title", "due_date")) == {
        "Privacy review": date(2026, 9, 16), "Blog post": date(2026, 9, 27), "Social posts": date(2026, 9, 29)}
    assert emitted(release.product.workspace)[-1][0] == "governance.launch.changed"


def test_launch_item_create_and_tick_keep_who_and_when(editor, release):
    item = services.launch_item_create(user=editor, release=release, data={"title": "Sales deck", "category": "sales"})
    services.launch_item_update(user=editor, item=item, data={"done": True}, version=item.version)
    item.refresh_from_db()
    assert item.done and item.done_by == editor and item.version == 2
    assert verbs(release.product.workspace)[-1] == "ticked launch item"
    services.launch_item_update(user=editor, item=item, data={"done": False}, version=item.version)
    item.refresh_from_db()
    assert not item.done and item.done_by is None


def test_launch_item_delete_removes_it(editor, release):
    item = services.launch_item_create(user=editor, release=release, data={"title": "Sales deck"})
    services.launch_item_delete(user=editor, item=item)
    assert not LaunchItem.objects.exists()


# --- the ship gate ----------------------------------------------------------------------------------
def test_shipping_with_open_required_items_needs_a_reason_which_is_recorded(editor, admin, release, template):
    subscribe_all(workspace=release.product.workspace, admin=admin)
    services.checklist_apply_template(user=editor, release=release, template=template)
    LaunchItem.objects.filter(title="Privacy review").update(done_at="2026-06-01T10:00:00Z")
    with pytest.raises(ValidationError) as e:
        roadmap_services.release_mark_released(actor=editor, release=release)
    assert "override_reason" in e.value.error_dict and "Blog post" in str(e.value)
    assert Release.objects.get(pk=release.pk).status != "released" and not ShipOverride.objects.exists()
    roadmap_services.release_mark_released(actor=editor, release=release, override_reason="Customer deadline")
    assert Release.objects.get(pk=release.pk).status == "released"
    override = ShipOverride.objects.get()
    assert (override.actor, override.reason, override.open_items) == (editor, "Customer deadline", ["Blog post"])
    assert "shipped with open launch items" in verbs(release.product.workspace)
    assert "governance.launch.override" in [e for e, _ in emitted(release.product.workspace)]


def test_ship_override_record_is_the_guards_record(editor, release):
    override = services.ship_override_record(release=release, actor=editor, reason="Go", open_items=["A"])
    assert ShipOverride.objects.get(pk=override.pk).open_items == ["A"]


def test_a_ready_release_or_one_without_a_checklist_ships_without_a_reason(editor, product, release, template):
    bare = ReleaseFactory(product=product)
    roadmap_services.release_mark_released(actor=editor, release=bare)
    services.checklist_apply_template(user=editor, release=release, template=template)
    LaunchItem.objects.filter(required=True).update(done_at="2026-06-01T10:00:00Z")  # the optional one stays open
    roadmap_services.release_mark_released(actor=editor, release=release)
    assert Release.objects.filter(status="released").count() == 2 and not ShipOverride.objects.exists()


def test_the_api_ship_is_a_400_naming_the_override_then_ships_with_one(api_as, editor, release, template):
    services.checklist_apply_template(user=editor, release=release, template=template)
    client = api_as(editor)
    r = client.post(f"/api/v1/releases/{release.id}/ship/", {}, format="json")
    assert r.status_code == 400 and "override_reason" in r.json()["errors"]
    r = client.post(f"/api/v1/releases/{release.id}/ship/", {"override_reason": "Agreed with sales"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "released"
    assert client.get("/api/v1/ship-overrides/", {"release": release.id}).json()["results"][0]["reason"] == \
        "Agreed with sales"


def test_the_release_page_shows_readiness_and_asks_for_the_reason(client_as, editor, release, template):
    services.checklist_apply_template(user=editor, release=release, template=template)
    LaunchItem.objects.filter(title="Privacy review").update(done_at="2026-06-01T10:00:00Z")
    url = reverse("roadmaps:release", kwargs={"ws": release.product.workspace.slug, "product_id": release.product_id,
                                              "release_id": release.id})
    html = client_as(editor).get(url).content.decode()
    assert 'data-percent="50"' in html and "1 required open" in html and 'name="override_reason"' in html
    refused = client_as(editor).post(url, {"action": "ship"})
    assert refused.status_code == 400 and b"Give a reason to ship anyway" in refused.content
    assert client_as(editor).post(url, {"action": "ship", "override_reason": "Deadline"}).status_code == 302
    assert ShipOverride.objects.get().reason == "Deadline"


def test_the_checklist_page_ticks_adds_and_applies(client_as, editor, viewer, release, template):
    kw = {"ws": release.product.workspace.slug, "product_id": release.product_id, "release_id": release.id}
    url = reverse("governance:launch", kwargs=kw)
    assert client_as(editor).post(url, {"action": "apply", "template": template.id}).status_code == 302
    bad = client_as(editor).post(url, {"category": "legal", "title": "", "due_date": "2026-09-01"})
    assert bad.status_code == 400 and LaunchItem.objects.count() == 3
    assert client_as(editor).post(url, {"category": "support", "title": "Macros", "required": "on"}).status_code == 302
    item = LaunchItem.objects.get(title="Blog post")
    tick = reverse("governance:launch_item", kwargs=kw | {"item_id": item.id})
    assert client_as(viewer).post(tick, {"done": "1", "version": item.version}).status_code == 403
    assert client_as(editor).post(tick, {"done": "1", "version": item.version}).status_code == 302
    assert LaunchItem.objects.get(pk=item.pk).done
    html = client_as(viewer).get(url).content.decode()
    assert html.count('data-testid="launch-item"') == 4 and 'data-percent="33"' in html


def test_the_templates_page_writes_a_template_from_lines(client_as, admin, editor, workspace):
    url = reverse("governance:templates", kwargs={"ws": workspace.slug})
    assert client_as(editor).post(url, {"name": "X", "items": "legal | Review"}).status_code == 403
    bad = client_as(admin).post(url, {"name": "Quick", "items": "nonsense line"})
    assert bad.status_code == 400 and b"nonsense line" in bad.content
    ok = client_as(admin).post(url, {"name": "Quick", "items": "legal | Review | required | 10\nmarketing | Tweet | optional"})
    assert ok.status_code == 302
    assert list(ChecklistTemplate.objects.get(name="Quick").items.values_list("title", "required", "days_before")) == [
        ("Review", True, 10), ("Tweet", False, 7)]


def test_the_report_shows_the_readiness_of_the_next_launches(editor, product, release, template):
    services.checklist_apply_template(user=editor, release=release, template=template)
    LaunchItem.objects.filter(title="Privacy review").update(done_at="2026-06-01T10:00:00Z")
    ReleaseFactory(product=product, name="Later", release_date=date(2026, 12, 1))
    data = report_build(product=product, workspace=product.workspace, section_keys=["launches"])
    items = data["sections"][0]["data"]["items"]
    assert [(i["name"], i["percent"], i["ready"], i["has_checklist"]) for i in items] == [
        ("2.0", 50, False, True), ("Later", None, True, False)]
    assert "50% ready, 1 required item open" in report_render(data, fmt="text")
    assert "50% ready" in report_render(data, fmt="html")


def test_the_api_lists_and_ticks_items_and_applies_templates(api_as, editor, admin, release, template):
    client = api_as(editor)
    r = client.post(f"/api/v1/launch-templates/{template.id}/apply/", {"release": release.id}, format="json")
    assert r.status_code == 200 and r.json() == {"added": 3}
    items = client.get("/api/v1/launch-items/", {"release": release.id}).json()["results"]
    assert [i["title"] for i in items] == ["Privacy review", "Blog post", "Social posts"]
    first = items[0]
    assert client.patch(f"/api/v1/launch-items/{first['id']}/", {"done": True}, format="json").status_code == 409
    r = client.patch(f"/api/v1/launch-items/{first['id']}/", {"done": True, "version": first["version"]},
                     format="json")
    assert r.status_code == 200 and r.json()["done"] is True
    assert client.post("/api/v1/launch-templates/", {"workspace": release.product.workspace_id, "name": "Y",
                                                      "items": [{"title": "Z"}]}, format="json").status_code == 403
    r = api_as(admin).post("/api/v1/launch-templates/", {"workspace": release.product.workspace_id, "name": "Y",
                                                          "items": [{"title": "Z", "category": "legal"}]}, format="json")
    assert r.status_code == 201 and r.json()["items"][0]["title"] == "Z"


@pytest.mark.parametrize("n", [2, 25])
def test_readiness_of_many_releases_is_one_query(product, editor, n, django_assert_num_queries):
    from governance.selectors import readiness_for_releases

    ids = []
    for i in range(n):
        r = ReleaseFactory(product=product)
        LaunchItem.objects.create(release=r, title="A", required=True)
        LaunchItem.objects.create(release=r, title="B", required=i % 2 == 0)
        ids.append(r.id)
    with django_assert_num_queries(1):
        assert len(readiness_for_releases(release_ids=ids)) == n


def test_post_only_launch_routes_refuse_outsiders_and_lower_roles(client_as, outsider, editor, admin, release,
                                                                  template):
    ws = release.product.workspace.slug
    item = LaunchItem.objects.create(release=release, title="A")
    tick = reverse("governance:launch_item", kwargs={"ws": ws, "product_id": release.product_id,
                                                     "release_id": release.id, "item_id": item.id})
    delete = reverse("governance:template_delete", kwargs={"ws": ws, "template_id": template.id})
    assert client_as(outsider).post(tick, {"done": "1", "version": item.version}).status_code == 404
    assert client_as(outsider).post(delete).status_code == 404
    assert client_as(editor).post(delete).status_code == 403
    assert not LaunchItem.objects.get(pk=item.pk).done and ChecklistTemplate.objects.filter(pk=template.pk).exists()
    assert client_as(admin).post(delete).status_code == 302
    assert not ChecklistTemplate.objects.filter(pk=template.pk).exists()


def test_post_only_launch_routes_answer_every_input_class_without_a_500(client_as, admin, release, template):
    from tests.security.inputclasses import PAGE_VALUES

    item = LaunchItem.objects.create(release=release, title="A")
    kw = {"ws": release.product.workspace.slug, "product_id": release.product_id, "release_id": release.id}
    client = client_as(admin)
    client.raise_request_exception = False
    targets = [(reverse("governance:launch_item", kwargs=kw | {"item_id": item.id}), f) for f in ("done", "version",
                                                                                                   "action")]
    targets += [(reverse("governance:launch", kwargs=kw), "template"),
                (reverse("roadmaps:release", kwargs=kw), "override_reason")]
    for url, field in targets:
        for cls, value in PAGE_VALUES:
            data = {"action": "apply" if field == "template" else "ship" if field == "override_reason" else "",
                    "done": "1", "version": str(item.version)} | {field: value}
            status = client.post(url, data).status_code
            assert status < 500, (cls, url, field, status)
