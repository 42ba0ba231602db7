"""In a real Chromium: while the worker reads an uploaded file the import page says so and polls
(htmx, every second); when the file has been read, the page reloads itself into the mapping."""

import pytest
from playwright.sync_api import expect

from delivery import services
from delivery.models import ImportJob
from pmhub.models import Role
from tests.delivery.factories import ProductFactory
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_import_page_polls_until_the_worker_has_read_the_file(page, live_server, sign_in):
    user = UserFactory(email="pm@example.com", name="Priya PM")
    membership = MembershipFactory(user=user, role=Role.EDITOR)
    product = ProductFactory(workspace=membership.workspace, name="Acme Analytics")
    # As the upload request leaves it, before any worker has run (the live server's Celery is eager,
    # so the row is made here rather than through the upload).
    job = ImportJob.objects.create(product=product, created_by=user, filename="jira.csv", status="parsing",
                                   raw=b"Summary,Issue key,Story Points\nCafe signup,PM-1,3\n")
    sign_in(page, user)
    page.goto(f"{live_server.url}/w/{membership.workspace.slug}/products/{product.id}/import/{job.id}/")
    expect(page.get_by_test_id("import-reading")).to_contain_text("Reading your file…")
    expect(page.get_by_role("heading", name="1. Map columns")).to_have_count(0)
    with page.expect_response(lambda r: r.url.endswith(f"/import/{job.id}/reading/")):
        pass  # it polls

    assert services.import_parse(import_job_id=job.id) == "parsed"  # the worker's turn
    expect(page.get_by_role("heading", name="1. Map columns")).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("import-reading")).to_have_count(0)
    expect(page.locator("select[name=map_points]")).to_contain_text("Story Points (column 3)")
