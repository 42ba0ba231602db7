"""Pages: rendering, safe Markdown, moves from the board and the timeline, share links."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from roadmaps import services
from roadmaps.models import Initiative, Product, Segment

pytestmark = pytest.mark.django_db


def _url(world, name, **kw):
    p = world["products"]
    return reverse(f"roadmaps:{name}", kwargs={"ws": p.workspace.slug, "product_id": p.pk, **kw})


def test_vision_markdown_is_sanitised(client_as, editor, world):
    product = world["products"]
    product.vision = ("**Bold** <script>alert(1)</script> [click](javascript:alert(2)) "
                      "<img src=x onerror=alert(3)>")
    product.save()
    html = client_as(editor).get(_url(world, "product")).content.decode()
    vision = html.split('data-testid="vision"')[1].split("</div>")[0]
    assert "<strong>Bold</strong>" in vision
    assert "<script" not in vision and "javascript:" not in vision and "onerror" not in vision


def test_overview_shows_segments_competitors_and_grid(client_as, editor, world):
    html = client_as(editor).get(_url(world, "product")).content.decode()
    assert "PMs" in html and "Lookr" in html and 'data-testid="capability-grid"' in html


def test_adding_a_segment_with_bad_input_is_400_and_adds_nothing(client_as, editor, world):
    response = client_as(editor).post(_url(world, "product"), {"kind": "segment", "name": ""})
    assert response.status_code == 400 and Segment.objects.count() == 1
    response = client_as(editor).post(_url(world, "product"), {"kind": "segment", "name": "Execs", "size": "300"})
    assert response.status_code == 302 and Segment.objects.count() == 2


def test_products_list_excludes_deleted_and_offers_restore(client_as, admin, world):
    product = world["products"]
    client = client_as(admin)
    assert client.get(_url(world, "product_delete")).status_code == 200
    assert client.post(_url(world, "product_delete")).status_code == 302
    html = client.get(reverse("roadmaps:products", kwargs={"ws": product.workspace.slug})).content.decode()
    assert 'data-testid="product-list"' not in html and "Restore" in html
    assert client.get(_url(world, "product")).status_code == 404
    assert Product.objects.get(pk=product.pk).deleted_at is not None


@pytest.mark.parametrize("name", ["timeline", "board", "list"])
def test_roadmap_views_render_with_filters(client_as, editor, world, name):
    response = client_as(editor).get(_url(world, name) + f"?status=planned&label=growth&objective="
                                                         f"{world['objectives'].pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha" in html and ">Beta<" not in html


def test_timeline_flags_conflicts_and_draws_release_markers(client_as, editor, world):
    with time_machine.travel("2026-10-20"):
        html = client_as(editor).get(_url(world, "timeline") + "?group=status&scale=quarter").content.decode()
    assert "rm-conflict" in html and 'data-testid="release-marker"' in html and "rm-today" in html


def test_move_endpoint_json_writes_dates_with_version(client_as, editor, world):
    initiative = world["initiatives"]
    url = _url(world, "initiative_move", initiative_id=initiative.pk)
    client = client_as(editor)
    response = client.post(url, json.dumps({"version": 1, "start_date": "2026-10-08", "end_date": "2026-11-22"}),
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["initiative"]["version"] == 2
    stale = client.post(url, json.dumps({"version": 1, "horizon": "later"}), content_type="application/json")
    assert stale.status_code == 409 and stale.json()["current"]["start_date"] == "2026-10-08"
    bad = client.post(url, json.dumps({"version": 2, "horizon": "someday"}), content_type="application/json")
    assert bad.status_code == 400 and "horizon" in bad.json()["errors"]
    # A sentence for the page script (PMHub.fetch announces `detail`), in words, no codes.
    assert bad.json()["detail"].startswith("Could not move: ") and "someday" in bad.json()["detail"]
    assert Initiative.objects.get(pk=initiative.pk).horizon == "now"


def test_keyboard_move_form_redirects_back(client_as, editor, world):
    initiative = world["initiatives"]
    board = _url(world, "board")
    response = client_as(editor).post(_url(world, "initiative_move", initiative_id=initiative.pk),
                                      {"version": 1, "horizon": "later", "next": board})
    assert response.status_code == 302 and response["Location"] == board
    assert Initiative.objects.get(pk=initiative.pk).horizon == "later"


def test_initiative_form_with_stale_version_is_409(client_as, editor, world):
    initiative = world["initiatives"]
    Initiative.objects.filter(pk=initiative.pk).update(version=5)
    response = client_as(editor).post(_url(world, "initiative", initiative_id=initiative.pk),
                                      {"title": "Mine", "status": "planned", "confidence": 5, "version": 1})
    assert response.status_code == 409
    assert Initiative.objects.get(pk=initiative.pk).title == "Alpha"


def test_initiative_form_bad_input_is_400(client_as, editor, world):
    response = client_as(editor).post(_url(world, "initiative_new"), {"title": "", "status": "x"})
    assert response.status_code == 400 and Initiative.objects.count() == 2


def test_release_page_shows_scope_and_ships(client_as, editor, world):
    release = world["releases"]
    client = client_as(editor)
    client.post(_url(world, "release", release_id=release.pk), {"action": "assign",
                                                                 "initiatives": [world["initiatives"].pk]})
    html = client.get(_url(world, "release", release_id=release.pk)).content.decode()
    assert "Alpha" in html.split('data-testid="release-initiatives"')[1].split("</ul>")[0]
    client.post(_url(world, "release", release_id=release.pk), {"action": "ship"})
    release.refresh_from_db()
    assert release.status == "released"


def test_snapshot_compare_page(client_as, editor, world):
    client = client_as(editor)
    client.post(_url(world, "snapshots"), {"name": "Before"})
    Initiative.objects.create(product=world["products"], title="Gamma")
    snap = world["products"].snapshots.get(name="Before")
    html = client.get(_url(world, "snapshot_compare") + f"?a={snap.pk}&b=current").content.decode()
    assert "Added (1)" in html and "Gamma" in html


def test_share_link_page_shows_only_the_timeline(client, world, editor):
    _, raw = services.share_link_create(actor=editor, product=world["products"], days=2)
    html = client.get(reverse("share:timeline", kwargs={"token": raw})).content.decode()
    assert "Alpha" in html and 'data-testid="timeline"' in html
    assert "/w/" not in html and "Sign in" not in html and "data-move-url" not in html


def test_share_link_expires(client, world, editor):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _, raw = services.share_link_create(actor=editor, product=world["products"], days=2)
        url = reverse("share:timeline", kwargs={"token": raw})
        assert client.get(url).status_code == 200
        traveller.shift(timedelta(days=2, seconds=1))
        assert client.get(url).status_code == 404


def test_share_link_revoked_and_unknown_are_404(client, client_as, world, editor):
    link, raw = services.share_link_create(actor=editor, product=world["products"], days=2)
    client_as(editor).post(_url(world, "share_link_revoke", link_id=link.pk))
    assert client.get(reverse("share:timeline", kwargs={"token": raw})).status_code == 404
    assert client.get(reverse("share:timeline", kwargs={"token": "nope"})).status_code == 404


def test_share_link_of_deleted_product_is_404(client, world, editor, admin):
    _, raw = services.share_link_create(actor=editor, product=world["products"], days=2)
    services.product_delete(actor=admin, product=world["products"])
    assert client.get(reverse("share:timeline", kwargs={"token": raw})).status_code == 404


def test_workspace_home_lists_products(client_as, viewer, world):
    html = client_as(viewer).get(reverse("workspace_home", kwargs={"ws": "acme"})).content.decode()
    assert "Acme Analytics" in html


def test_nav_links(client_as, viewer, world):
    html = client_as(viewer).get(_url(world, "objectives")).content.decode()
    # Sections of the product menu, and the pages of the current one (Strategy).
    for label in ("Products", "Strategy", "Roadmap", "Backlog", "Overview", "Objectives"):
        assert f">{label}</a>" in html
    html = client_as(viewer).get(_url(world, "timeline")).content.decode()
    for label in ("Timeline", "Releases", "Snapshots"):
        assert f">{label}</a>" in html


def test_timeline_month_headings_carry_the_year_and_bars_their_full_title(client_as, editor, world):
    with time_machine.travel("2026-10-20"):
        html = client_as(editor).get(_url(world, "timeline")).content.decode()
    assert 'title="Oct 2026">Oct 2026</span>' in html and "Oct 26<" not in html
    # the visible label may ellipsise; hover and screen readers get the whole title and the dates
    assert 'class="rm-bar-label" title="Alpha">Alpha<span class="visually-hidden">, 1 Oct 2026 – 15 Nov 2026, 50% confidence</span>' in html


def test_now_next_later_cards_show_dates_confidence_and_progress(client_as, editor, world):
    html = client_as(editor).get(_url(world, "board")).content.decode()
    assert "1 Oct 2026 – 15 Nov 2026 · 50% confidence" in html
    assert html.count('data-testid="card-dates"') == 2
    assert "rm-card-progress" in html
