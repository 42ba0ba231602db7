"""Business impact statements of change requests in pages: the release page's panel (a seam of
pmhub.panels, registered by governance), the statement page of a change request (write, submit,
approve/reject like an initiative's), what an approver who is told is sent to, other products."""

import pytest
from django.urls import reverse

from delivery.models import ChangeRequest
from governance import services
from governance.models import ImpactStatement
from tests.delivery.factories import StoryFactory
from tests.roadmaps.factories import ReleaseFactory

from .factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def change(product, editor):
    release = ReleaseFactory(product=product, name="Spring")
    return ChangeRequest.objects.create(release=release, story=StoryFactory(product=product, title="Export to CSV"),
                                        kind="add", reason="Customer ask", proposed_by=editor)


def _url(change, product=None):
    product = product or change.release.product
    return reverse("governance:cr_statement", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                      "release_id": change.release_id, "cr_id": change.id})


def _release_url(change):
    product = change.release.product
    return reverse("delivery:release_scope", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                     "release_id": change.release_id})


def test_write_submit_and_approve_a_change_request_statement_in_pages(client_as, editor, admin, change):
    url = _url(change)
    page = client_as(editor).get(url)
    assert page.status_code == 200 and "Export to CSV" in page.content.decode()
    r = client_as(editor).post(url, {"action": "save", "benefit": "Keeps the Acme renewal", "cost": "800",
                                     "approver_role": "30", "version": ""})
    assert r.status_code == 302 and r.url == url
    statement = ImpactStatement.objects.get(change_request=change)
    assert (statement.revision, statement.status, statement.initiative_id) == (1, "draft", None)
    assert statement.revisions.get().benefit == "Keeps the Acme renewal"
    r = client_as(editor).post(url, {"action": "submit", "version": statement.version})
    assert r.status_code == 302
    statement.refresh_from_db()
    assert statement.status == "awaiting"
    html = client_as(admin).get(url).content.decode()
    assert 'data-testid="statement-decide"' in html
    r = client_as(admin).post(url, {"action": "approved", "comment": "Worth it", "version": statement.version})
    assert r.status_code == 302
    statement.refresh_from_db()
    assert statement.status == "approved"
    assert list(statement.decisions.values_list("decision", "comment", "approver")) == [("approved", "Worth it", admin.id)]


def test_a_rejection_without_a_comment_is_refused_and_nothing_changes(client_as, editor, admin, change, product):
    statement = services.statement_save(user=editor, product=product, change_request=change, data={"benefit": "b"})
    statement = services.statement_submit(user=editor, statement=statement, version=statement.version)
    r = client_as(admin).post(_url(change), {"action": "rejected", "comment": "", "version": statement.version})
    assert r.status_code == 400
    statement.refresh_from_db()
    assert statement.status == "awaiting" and not statement.decisions.exists()


def test_release_page_panel_lists_each_change_request_with_its_statement(client_as, editor, viewer, change, product):
    other = ChangeRequest.objects.create(release=change.release, story=StoryFactory(product=product, title="Dark mode"),
                                         kind="remove", reason="Late", proposed_by=editor)
    statement = services.statement_save(user=editor, product=product, change_request=change, data={"benefit": "b"})
    services.statement_submit(user=editor, statement=statement, version=statement.version)
    html = client_as(editor).get(_release_url(change)).content.decode()
    assert 'data-testid="cr-statements"' in html
    assert f'data-testid="cr-statement-{change.id}"' in html and "Review the statement" in html
    assert "Awaiting approval</span>" in html
    assert _url(change) in html and _url(other) in html  # "Write one" for the editor
    viewer_html = client_as(viewer).get(_release_url(change)).content.decode()
    assert "Write one" not in viewer_html and _url(change) in viewer_html


def test_no_panel_without_change_requests(client_as, editor, product):
    release = ReleaseFactory(product=product)
    url = reverse("delivery:release_scope", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                    "release_id": release.id})
    assert 'data-testid="cr-statements"' not in client_as(editor).get(url).content.decode()


def test_panel_costs_the_same_number_of_queries_for_2_and_12_change_requests(client_as, editor, product):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (2, 12):
        release = ReleaseFactory(product=product)
        for i in range(n):
            cr = ChangeRequest.objects.create(release=release, story=StoryFactory(product=product), kind="add",
                                              reason="r", proposed_by=editor)
            if i % 2:
                services.statement_save(user=editor, product=product, change_request=cr, data={"benefit": f"b{i}"})
        url = reverse("delivery:release_scope", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                        "release_id": release.id})
        client = client_as(editor)
        assert client.get(url).content.decode().count('data-testid="cr-statement-') == n
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_change_request_of_another_product_is_not_found(client_as, editor, change, workspace):
    other = ProductFactory(workspace=workspace)
    assert client_as(editor).get(_url(change, product=other)).status_code == 404


def test_approvers_are_sent_to_the_change_request_statement_page(editor, change, product):
    statement = services.statement_save(user=editor, product=product, change_request=change, data={"benefit": "b"})
    assert services._statement_url(statement) == _url(change)


def test_demo_seeds_a_change_request_statement_awaiting_approval_once():
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    rows = ImpactStatement.objects.filter(change_request__isnull=False, product__workspace__slug="acme")
    assert list(rows.values_list("status", flat=True)) == ["awaiting"]
    assert rows.get().revisions.count() == 1
