"""The register's pages and the places the rest of PMHub shows risks above appetite: the heat map
and its filters, an item with its log and history, the appetite form, the roadmap's flags
(timeline, board, list, initiative page), the release page, the dashboards and the report."""

from datetime import date

import pytest
from django.urls import reverse

from governance.models import ProductGovernance, Risk
from reports.rendering import report_render
from reports.services import report_build
from tests.metrics.factories import KpiFactory
from tests.roadmaps.factories import InitiativeFactory, ReleaseFactory

from .factories import IssueNoteFactory, RiskFactory, appetite

pytestmark = pytest.mark.django_db


def _url(name, product, **kw):
    return reverse(f"governance:{name}", kwargs={"ws": product.workspace.slug, "product_id": product.id, **kw})


def test_heat_map_counts_open_items_per_cell_and_a_cell_filters_the_list(client_as, viewer, product):
    appetite(product, 12)
    RiskFactory(product=product, likelihood=4, impact=5, title="Vendor sunset")
    RiskFactory(product=product, likelihood=4, impact=5, title="Second vendor")
    RiskFactory(product=product, likelihood=1, impact=2, title="Tiny risk")
    RiskFactory(product=product, likelihood=4, impact=5, title="Closed one", status="closed")
    page = client_as(viewer).get(_url("risks", product))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-likelihood="4" data-impact="5" data-count="2"' in html
    assert 'data-likelihood="1" data-impact="2" data-count="1"' in html
    assert html.count('data-testid="heat-cell"') == 25
    cell = client_as(viewer).get(_url("risks", product), {"likelihood": 4, "impact": 5}).content.decode()
    assert "Vendor sunset" in cell and "Second vendor" in cell and "Tiny risk" not in cell and "Closed one" not in cell
    assert 'aria-current="true"' in cell


def test_filters_by_kind_owner_above_and_status(client_as, viewer, editor, product):
    appetite(product, 12)
    RiskFactory(product=product, likelihood=4, impact=4, title="High risk", owner=editor)
    RiskFactory(product=product, kind="issue", likelihood=5, impact=1, title="Minor issue")
    RiskFactory(product=product, title="Old", status="closed")
    get = lambda **q: client_as(viewer).get(_url("risks", product), q).content.decode()  # noqa: E731
    assert "Minor issue" in get(kind="issue") and "High risk" not in get(kind="issue")
    assert "High risk" in get(above="1") and "Minor issue" not in get(above="1")
    assert "High risk" in get(owner=editor.id) and "Minor issue" not in get(owner=editor.id)
    assert "Old" in get(status="closed") and "Old" not in get()
    assert get(likelihood="9", impact="x")  # nonsense is no filter, not an error


def test_editor_logs_a_risk_through_the_form_and_bad_input_keeps_what_was_typed(client_as, editor, product):
    client = client_as(editor)
    bad = client.post(_url("risk_new", product), {"kind": "risk", "title": "", "likelihood": "3", "impact": "9",
                                                  "status": "open", "trend": "steady", "description": "kept text"})
    assert bad.status_code == 400 and b"kept text" in bad.content and not Risk.objects.exists()
    ok = client.post(_url("risk_new", product), {"kind": "risk", "title": "Legal review", "likelihood": "3",
                                                 "impact": "5", "status": "open", "trend": "rising"})
    risk = Risk.objects.get()
    assert ok.status_code == 302 and ok["Location"] == _url("risk", product, risk_id=risk.id)
    assert risk.score == 15 and risk.created_by == editor


def test_a_stale_edit_is_409_and_keeps_the_form(client_as, editor, product):
    risk = RiskFactory(product=product, title="Before")
    data = {"kind": "risk", "title": "Mine", "likelihood": "2", "impact": "2", "status": "open", "trend": "steady",
            "version": "5"}
    r = client_as(editor).post(_url("risk_edit", product, risk_id=risk.id), data)
    assert r.status_code == 409 and b"Mine" in r.content
    assert Risk.objects.get(pk=risk.pk).title == "Before"
    data["version"] = str(risk.version)
    assert client_as(editor).post(_url("risk_edit", product, risk_id=risk.id), data).status_code == 302
    assert Risk.objects.get(pk=risk.pk).title == "Mine"


def test_item_page_shows_links_log_and_history(client_as, editor, viewer, product):
    initiative = InitiativeFactory(product=product, title="Dashboard builder")
    issue = RiskFactory(product=product, kind="issue", likelihood=5, impact=4, title="Slow dashboards")
    issue.initiatives.add(initiative)
    client_as(editor).post(_url("risk_note", product, risk_id=issue.id), {"text": "Cache the ten heaviest."})
    client_as(editor).post(_url("risk_edit", product, risk_id=issue.id), {
        "kind": "issue", "title": "Slow dashboards", "likelihood": "5", "impact": "5", "status": "mitigating",
        "trend": "rising", "version": issue.version, "initiatives": [initiative.id]})
    html = client_as(viewer).get(_url("risk", product, risk_id=issue.id)).content.decode()
    assert "Dashboard builder" in html and "Cache the ten heaviest." in html
    assert "score 20 → 25" in html and "Open → Mitigating" in html
    assert "above the appetite of 12" in html


def test_an_empty_note_is_a_400_with_the_error(client_as, editor, product):
    issue = RiskFactory(product=product, kind="issue", likelihood=5)
    r = client_as(editor).post(_url("risk_note", product, risk_id=issue.id), {"text": "  "})
    assert r.status_code == 400 and not issue.notes.exists()


def test_viewer_may_not_write_and_only_an_admin_sets_the_appetite(client_as, viewer, editor, admin, product):
    risk = RiskFactory(product=product)
    assert client_as(viewer).post(_url("risk_note", product, risk_id=risk.id), {"text": "x"}).status_code == 403
    assert client_as(viewer).get(_url("risk_new", product)).status_code == 403
    assert client_as(editor).post(_url("appetite", product), {"risk_appetite": "5"}).status_code == 403
    assert client_as(admin).post(_url("appetite", product), {"risk_appetite": "5"}).status_code == 302
    assert ProductGovernance.objects.get(product=product).risk_appetite == 5


def test_another_workspace_sees_404(client_as, outsider, product):
    risk = RiskFactory(product=product)
    assert client_as(outsider).get(_url("risk", product, risk_id=risk.id)).status_code == 404
    assert client_as(outsider).get(_url("risks", product)).status_code == 404


def test_a_risk_of_another_product_is_404_under_this_one(client_as, viewer, product, workspace):
    from tests.roadmaps.factories import ProductFactory

    other = RiskFactory(product=ProductFactory(workspace=workspace))
    assert client_as(viewer).get(_url("risk", product, risk_id=other.id)).status_code == 404


# --- flags elsewhere --------------------------------------------------------------------------------
@pytest.fixture
def flagged(product):
    """An initiative on the timeline and a release, touched by a risk above the appetite of 10, and a
    calmer initiative touched only by a risk within it."""
    appetite(product, 10)
    release = ReleaseFactory(product=product, name="2.0", release_date=date(2026, 8, 1))
    hot = InitiativeFactory(product=product, title="Hot", start_date=date(2026, 6, 1), end_date=date(2026, 8, 1),
                            horizon="now", release=release)
    calm = InitiativeFactory(product=product, title="Calm", start_date=date(2026, 6, 1), end_date=date(2026, 9, 1),
                             horizon="next")
    big = RiskFactory(product=product, title="Vendor sunset", likelihood=4, impact=4)
    big.initiatives.add(hot)
    big.releases.add(release)
    RiskFactory(product=product, title="Minor", likelihood=2, impact=2).initiatives.add(calm)
    return {"hot": hot, "calm": calm, "release": release, "risk": big}


@pytest.mark.parametrize("page", ["timeline", "board", "list"])
def test_roadmap_views_flag_only_the_items_a_risk_above_appetite_touches(client_as, viewer, product, flagged, page):
    html = client_as(viewer).get(reverse(f"roadmaps:{page}", kwargs={"ws": product.workspace.slug,
                                                                     "product_id": product.id})).content.decode()
    assert html.count('data-testid="risk-flag"') == 1
    assert "16&gt;10" in html and "Vendor sunset (16 &gt; 10)" in html


def test_the_initiative_and_release_pages_name_the_risk(client_as, viewer, product, flagged):
    ws = product.workspace.slug
    work = client_as(viewer).get(reverse("roadmaps:initiative_work", kwargs={
        "ws": ws, "product_id": product.id, "initiative_id": flagged["hot"].id})).content.decode()
    assert 'data-testid="initiative-risks"' in work and "Vendor sunset · 16 &gt; 10" in work
    release = client_as(viewer).get(reverse("roadmaps:release", kwargs={
        "ws": ws, "product_id": product.id, "release_id": flagged["release"].id})).content.decode()
    assert 'data-testid="release-risks"' in release


def test_a_closed_risk_flags_nothing(client_as, viewer, product, flagged):
    Risk.objects.filter(pk=flagged["risk"].pk).update(status="closed")
    html = client_as(viewer).get(reverse("roadmaps:timeline", kwargs={"ws": product.workspace.slug,
                                                                      "product_id": product.id})).content.decode()
    assert 'data-testid="risk-flag"' not in html


def test_the_share_link_timeline_shows_no_risks(client, product, flagged, admin):
    from roadmaps.services import share_link_create

    _, raw = share_link_create(actor=admin, product=product, label="Board")
    html = client.get(reverse("share:timeline", kwargs={"token": raw})).content.decode()
    assert "Hot" in html and "Vendor sunset" not in html


@pytest.mark.parametrize("scope", ["product", "workspace"])
def test_dashboards_list_the_risks_above_appetite(client_as, viewer, product, flagged, scope):
    KpiFactory(product=product)
    if scope == "product":
        url = reverse("metrics_product_dashboard", kwargs={"ws": product.workspace.slug, "product_id": product.id})
    else:
        url = reverse("metrics_workspace_dashboard", kwargs={"ws": product.workspace.slug})
    html = client_as(viewer).get(url).content.decode()
    assert 'data-testid="dashboard-risks"' in html and "Vendor sunset" in html and "Minor" not in html


def test_the_home_page_panel_counts_them(client_as, viewer, product, flagged):
    html = client_as(viewer).get(reverse("workspace_home", kwargs={"ws": product.workspace.slug})).content.decode()
    assert 'data-testid="risk-summary"' in html and "Vendor sunset" in html


def test_the_progress_report_has_a_risks_section_in_every_format(product, flagged):
    data = report_build(product=product, workspace=product.workspace, section_keys=["risks"])
    section = data["sections"][0]
    assert section["key"] == "risks" and section["data"]["above"] == 1 and section["data"]["open"] == 2
    assert section["data"]["items"][0] | {} == section["data"]["items"][0]
    assert (section["data"]["items"][0]["score"], section["data"]["items"][0]["appetite"]) == (16, 10)
    assert "Vendor sunset" in report_render(data, fmt="html")
    assert "Vendor sunset (Acme Analytics) 16 > 10" in report_render(data, fmt="text")


def test_the_mediation_log_lists_notes_in_order(client_as, viewer, product):
    issue = RiskFactory(product=product, kind="issue", likelihood=5)
    IssueNoteFactory(risk=issue, text="First")
    IssueNoteFactory(risk=issue, text="Second")
    html = client_as(viewer).get(_url("risk", product, risk_id=issue.id)).content.decode()
    assert html.index("First") < html.index("Second")


def test_the_note_and_appetite_forms_answer_every_input_class_without_a_500(client_as, admin, product):
    """The two POST-only routes the page walk skips (exempt in the matrix): each input class in
    each field gives a 400 or a redirect with an error, never a 500, and nothing is written."""
    from tests.security.inputclasses import PAGE_VALUES

    risk = RiskFactory(product=product)
    client = client_as(admin)
    client.raise_request_exception = False
    for url, field in ((_url("risk_note", product, risk_id=risk.id), "text"),
                       (_url("appetite", product), "risk_appetite"), (_url("appetite", product), "version")):
        for cls, value in PAGE_VALUES:
            data = {"text": "ok", "risk_appetite": "9", "version": ""} | {field: value}
            status = client.post(url, data).status_code
            assert status < 500, (cls, url, field, status)


@pytest.mark.parametrize("n", [3, 40])
def test_the_register_page_is_a_fixed_number_of_queries(client_as, viewer, editor, product, n,
                                                         django_assert_max_num_queries):
    appetite(product, 10)
    for i in range(n):
        RiskFactory(product=product, likelihood=1 + i % 5, impact=1 + (i * 3) % 5, owner=editor,
                    review_date=date(2026, 7, 1))
    client = client_as(viewer)
    client.get(_url("risks", product))  # warm the per-session caches (navigation, unread count)
    with django_assert_max_num_queries(8):
        assert client.get(_url("risks", product)).status_code == 200


@pytest.mark.parametrize("n", [2, 30])
def test_roadmap_flags_cost_a_fixed_number_of_queries_whatever_the_number_of_risks(client_as, viewer, product, n,
                                                                  django_assert_max_num_queries):
    appetite(product, 5)
    initiative = InitiativeFactory(product=product, start_date=date(2026, 6, 1), end_date=date(2026, 9, 1))
    for _ in range(n):
        RiskFactory(product=product, likelihood=4, impact=4).initiatives.add(
            initiative, InitiativeFactory(product=product, start_date=date(2026, 6, 1), end_date=date(2026, 7, 1)))
    client = client_as(viewer)
    url = reverse("roadmaps:timeline", kwargs={"ws": product.workspace.slug, "product_id": product.id})
    client.get(url)
    with django_assert_max_num_queries(13):  # the page, plus one for the flags and one for the statements
        html = client.get(url).content.decode()
    assert html.count('data-testid="risk-flag"') == n + 1
