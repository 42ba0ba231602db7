"""Share links show the view and the initiatives their sharer chose, and nothing else; presentation
mode shows the roadmap review as slides (decisions/1401, 1402)."""

from datetime import date

import pytest
from django.urls import reverse

from roadmaps import services
from roadmaps.models import Dependency, Initiative, Objective, Release, ShareLink

pytestmark = pytest.mark.django_db


def _url(product, name, **kw):
    return reverse(f"roadmaps:{name}", kwargs={"ws": product.workspace.slug, "product_id": product.pk, **kw})


@pytest.fixture
def roadmap(world):
    """world's Alpha (now, planned, objective Grow, label growth) and Beta (next, proposed), plus a
    secret initiative in release 2.0 that no filter below lets through, blocked by Beta."""
    product = world["products"]
    secret = Initiative.objects.create(product=product, title="Secret acquisition", horizon="later",
                                       status="in_progress", start_date=date(2026, 10, 5),
                                       end_date=date(2026, 12, 20), release=Release.objects.get(name="2.0"))
    Dependency.objects.create(blocker=product.initiatives.get(title="Beta"), blocked=secret)
    return product


def _share(product, editor, **kw):
    _, raw = services.share_link_create(actor=editor, product=product, days=5, **kw)
    return reverse("share:timeline", kwargs={"token": raw}), raw


@pytest.mark.parametrize("view, marker", [("timeline", 'data-testid="timeline"'), ("board", 'data-testid="board"'),
                                          ("list", 'data-testid="initiative-list"')])
def test_each_view_shows_only_the_filtered_initiatives(client, roadmap, editor, view, marker):
    url, _ = _share(roadmap, editor, view=view, filters={"horizon": "now"})
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200 and marker in html
    assert "Alpha" in html
    # Hidden ones are nowhere in the page source (titles, ids, dependency lines).
    assert "Beta" not in html and "Secret acquisition" not in html
    hidden = roadmap.initiatives.exclude(title="Alpha").values_list("id", flat=True)
    for pk in hidden:
        assert f'data-id="{pk}"' not in html and f'"from": {pk}' not in html and f'"to": {pk}' not in html
    assert "Horizon: Now" in html
    assert "/w/" not in html and "data-move-url" not in html and "csrfmiddlewaretoken" not in html
    assert response["X-Robots-Tag"] == "noindex" and response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("filters, shown", [
    ({"status": "planned"}, {"Alpha"}),
    ({"objective": "objective"}, {"Alpha"}),
    ({"label": "growth"}, {"Alpha"}),
    ({"release": "release"}, {"Secret acquisition"}),
    ({}, {"Alpha", "Beta", "Secret acquisition"}),
])
def test_filters_by_status_objective_label_and_release(client, roadmap, editor, filters, shown):
    ids = {"objective": Objective.objects.get(title="Grow").id, "release": Release.objects.get(name="2.0").id}
    filters = {k: ids.get(v, v) for k, v in filters.items()}
    url, _ = _share(roadmap, editor, view="list", filters=filters)
    html = client.get(url).content.decode()
    titles = {"Alpha", "Beta", "Secret acquisition"}
    assert {t for t in titles if t in html} == shown


def test_the_release_filter_shows_only_that_release_on_the_timeline(client, roadmap, editor):
    other = Release.objects.create(product=roadmap, name="Hidden 3.0", release_date=date(2026, 11, 20))
    url, _ = _share(roadmap, editor, filters={"release": Release.objects.get(name="2.0").id})
    html = client.get(url).content.decode()
    assert "2.0" in html and other.name not in html


def test_an_existing_link_keeps_showing_the_whole_timeline(client, roadmap):
    """A link made before views and filters (migration default: timeline, no filters)."""
    from roadmaps.services import _hash

    ShareLink.objects.create(product=roadmap, token_hash=_hash("old-token"), prefix="old-toke",
                             expires_at=ShareLink._meta.get_field("expires_at").to_python("2099-01-01T00:00Z"))
    html = client.get(reverse("share:timeline", kwargs={"token": "old-token"})).content.decode()
    assert 'data-testid="timeline"' in html and "Alpha" in html and "Beta" in html


@pytest.mark.parametrize("bad, field", [
    ({"view": "kanban"}, "view"),
    ({"filters": {"status": "shipped"}}, "status"),
    ({"filters": {"horizon": "someday"}}, "horizon"),
    ({"filters": {"colour": "red"}}, "filters"),
    ({"filters": {"label": "x" * 41}}, "label"),
])
def test_the_service_refuses_bad_views_and_filters(roadmap, editor, bad, field):
    from django.core.exceptions import ValidationError

    before = ShareLink.objects.count()
    with pytest.raises(ValidationError) as e:
        services.share_link_create(actor=editor, product=roadmap, **bad)
    assert field in e.value.message_dict
    assert ShareLink.objects.count() == before


def test_an_objective_or_release_of_another_product_is_refused(roadmap, editor, foreign_product):
    from django.core.exceptions import ValidationError

    foreign = Objective.objects.create(product=foreign_product, title="Theirs", start_date=date(2026, 1, 1),
                                       end_date=date(2026, 3, 31))
    foreign_release = Release.objects.create(product=foreign_product, name="Theirs 1.0")
    for key, pk in (("objective", foreign.id), ("release", foreign_release.id)):
        with pytest.raises(ValidationError) as e:
            services.share_link_create(actor=editor, product=roadmap, filters={key: pk})
        assert key in e.value.message_dict
    # Its acceptance twin: the product's own objective is accepted.
    link, _ = services.share_link_create(actor=editor, product=roadmap,
                                         filters={"objective": Objective.objects.get(title="Grow").id})
    assert link.filters == {"objective": Objective.objects.get(title="Grow").id}


# --- the page that makes links -------------------------------------------------------------------------
def test_the_sharer_picks_view_filters_and_presentation_on_the_page(client_as, client, roadmap, editor):
    response = client_as(editor).post(_url(roadmap, "share_links"), {
        "label": "Board for the board", "days": "7", "view": "board", "horizon": "now", "status": "",
        "objective": str(Objective.objects.get(title="Grow").id), "release": "", "tag": "", "allow_present": "on"})
    assert response.status_code == 200
    link = ShareLink.objects.get(label="Board for the board")
    assert (link.view, link.filters, link.allow_present) == (
        "board", {"horizon": "now", "objective": Objective.objects.get(title="Grow").id}, True)
    url = response.context["new_url"]
    html = client.get(url).content.decode()
    assert 'data-testid="board"' in html and "Alpha" in html and "Beta" not in html
    listing = client_as(editor).get(_url(roadmap, "share_links")).content.decode()
    assert "Now / Next / Later board" in listing and "Objective: Grow" in listing


def test_a_bad_form_keeps_what_was_typed_and_shows_the_error_at_its_field(client_as, roadmap, editor):
    response = client_as(editor).post(_url(roadmap, "share_links"), {
        "label": "Keep me", "days": "0", "view": "board", "horizon": "now"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "days" in form.errors and form["label"].value() == "Keep me" and form["view"].value() == "board"
    assert not ShareLink.objects.filter(label="Keep me").exists()


# --- API --------------------------------------------------------------------------------------------------
def test_api_creates_a_link_with_view_and_filters(api_as, client, roadmap, editor):
    response = api_as(editor).post("/api/v1/share-links/", {
        "product": roadmap.id, "view": "list", "filters": {"status": "planned"}, "allow_present": True}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["view"], body["filters"], body["allow_present"]) == ("list", {"status": "planned"}, True)
    html = client.get(body["url"]).content.decode()
    assert "Alpha" in html and "Beta" not in html


@pytest.mark.parametrize("bad, field", [
    ({"view": "kanban"}, "view"),
    ({"filters": {"status": "shipped"}}, "filters"),
    ({"filters": {"colour": "red"}}, "filters"),
    ({"filters": {"objective": -1}}, "filters"),
    ({"filters": "status=planned"}, "filters"),
])
def test_api_answers_400_with_field_errors(api_as, roadmap, editor, bad, field):
    before = ShareLink.objects.count()
    response = api_as(editor).post("/api/v1/share-links/", {"product": roadmap.id} | bad, format="json")
    assert response.status_code == 400, response.content
    assert field in str(response.json())
    assert ShareLink.objects.count() == before


def test_api_refuses_another_products_objective(api_as, roadmap, editor, foreign_product):
    foreign = Objective.objects.create(product=foreign_product, title="Theirs", start_date=date(2026, 1, 1),
                                       end_date=date(2026, 3, 31))
    response = api_as(editor).post("/api/v1/share-links/", {"product": roadmap.id, "filters": {"objective": foreign.id}},
                                   format="json")
    assert response.status_code == 400 and "objective" in str(response.json())


# --- presentation mode ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_member_can_present_the_roadmap(client_as, roadmap, role, request):
    response = client_as(request.getfixturevalue(role)).get(_url(roadmap, "present"))
    html = response.content.decode()
    assert response.status_code == 200
    keys = [s["key"] for s in response.context["deck"]["slides"]]
    assert keys == ["title", "vision", "objectives", "horizons", "timeline", "releases", "risks"]
    assert html.count("data-slide ") == len(keys) and "Alpha" in html and "Secret acquisition" in html
    assert 'data-testid="slide-counter"' in html


def test_presentation_of_another_workspace_is_404(client_as, outsider, roadmap, foreign_product, viewer):
    assert client_as(outsider).get(_url(roadmap, "present")).status_code == 404
    assert client_as(viewer).get(_url(foreign_product, "present")).status_code == 404


def test_the_roadmap_header_links_to_presentation(client_as, roadmap, viewer):
    html = client_as(viewer).get(_url(roadmap, "timeline")).content.decode()
    assert _url(roadmap, "present") in html


def test_a_share_link_presents_only_when_allowed_and_only_its_initiatives(client, roadmap, editor):
    _, raw = _share(roadmap, editor, filters={"horizon": "now"})
    assert client.get(reverse("share:present", kwargs={"token": raw})).status_code == 404
    url, raw = _share(roadmap, editor, filters={"horizon": "now"}, allow_present=True)
    assert 'data-testid="share-present"' in client.get(url).content.decode()
    response = client.get(reverse("share:present", kwargs={"token": raw}))
    html = response.content.decode()
    assert response.status_code == 200 and "Alpha" in html
    assert "Beta" not in html and "Secret acquisition" not in html and "/w/" not in html
    assert "Decide with" not in html  # the vision and business case are not part of a filtered link
    assert client.get(reverse("share:present", kwargs={"token": "nope"})).status_code == 404


# --- query counts: the same at two sizes ---------------------------------------------------------------------
def _grow(product, n):
    from metrics.models import Kpi

    objective = Objective.objects.get(title="Grow")
    for k in range(n):
        initiative = Initiative.objects.create(product=product, title=f"More {k}", horizon=("now", "next", "later")[k % 3],
                                               status="in_progress", start_date=date(2026, 9, 1),
                                               end_date=date(2026, 9, 30), owner=product.workspace.memberships.first().user)
        initiative.objectives.add(objective)
        Release.objects.create(product=product, name=f"r{k}", release_date=date(2027, 1, 1 + k % 28))
        Kpi.objects.create(product=product, name=f"KPI {k}", target_value=k)


@pytest.mark.parametrize("page", ["present", "share-board", "share-list", "share-timeline", "share-present"])
def test_presentation_and_shared_pages_make_a_fixed_number_of_queries(client_as, client, roadmap, editor, page,
                                                                    django_assert_max_num_queries):
    def url():
        if page == "present":
            return _url(roadmap, "present")
        view = page.removeprefix("share-")
        link, _ = _share(roadmap, editor, view=view if view in ("board", "list") else "timeline",
                         allow_present=True)
        return link + ("present/" if view == "present" else "")

    reader = client_as(editor) if page == "present" else client
    first = url()
    reader.get(first)  # warm the session and caches
    limit = 30
    with django_assert_max_num_queries(limit) as small:
        assert reader.get(first).status_code == 200
    _grow(roadmap, 12)  # 12 more initiatives (some late), releases and KPIs
    second = url()
    with django_assert_max_num_queries(limit) as large:
        assert reader.get(second).status_code == 200
    assert len(large.captured_queries) <= len(small.captured_queries) + 1, (
        len(small.captured_queries), len(large.captured_queries))


def test_bad_revoked_and_expired_links_get_the_products_404_page(client, roadmap, editor):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    link, raw = services.share_link_create(actor=editor, product=roadmap, days=1, view="board", allow_present=True)
    revoked, revoked_raw = services.share_link_create(actor=editor, product=roadmap, view="list")
    services.share_link_revoke(actor=editor, link=revoked)
    urls = [reverse("share:timeline", kwargs={"token": "not-a-token"}),
            reverse("share:present", kwargs={"token": "not-a-token"}),
            reverse("share:timeline", kwargs={"token": revoked_raw})]
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=5), tick=False):
        urls_expired = [reverse("share:timeline", kwargs={"token": raw}), reverse("share:present", kwargs={"token": raw})]
        responses = [client.get(u) for u in urls + urls_expired]
    for response in responses:
        html = response.content.decode()
        assert response.status_code == 404
        assert "<h1>Not found</h1>" in html and "shared roadmap link may have expired" in html
        assert "Alpha" not in html and roadmap.name not in html


# --- icons on share and present (docs/ui.md: actions carry their Lucide icon) ------------------------------
def _icon_before(html: str, name: str, words: str) -> bool:
    """The action whose words are `words` starts with `{% icon name %}` (an aria-hidden inline SVG)."""
    import re

    return re.search(rf'<svg class="icon icon-{re.escape(name)}"[^>]*aria-hidden="true"[^>]*>.*?</svg>'
                     rf'{re.escape(words)}', html) is not None


def test_share_and_present_actions_carry_their_icons(client_as, client, roadmap, editor, viewer):
    header = client_as(editor).get(_url(roadmap, "timeline")).content.decode()
    assert _icon_before(header, "present", "Present") and _icon_before(header, "share", "Share")
    assert _icon_before(header, "add", "New initiative")
    assert 'data-testid="share-link"' not in client_as(viewer).get(_url(roadmap, "timeline")).content.decode()
    response = client_as(editor).post(_url(roadmap, "share_links"), {
        "label": "Review", "days": "7", "view": "timeline", "allow_present": "on"})
    links = response.content.decode()
    for name, words in (("copy", "Copy"), ("present", "Presentation"), ("link-2-off", "Revoke"),
                        ("add", "Create link")):
        assert _icon_before(links, name, words), words
    overview = client_as(editor).get(_url(roadmap, "product")).content.decode()
    assert _icon_before(overview, "share", "Share links")
    shared = client.get(response.context["new_url"]).content.decode()
    assert _icon_before(shared, "present", "Present")
    deck = client_as(viewer).get(_url(roadmap, "present")).content.decode()
    for name, words in (("close", "Exit"), ("maximize", "Full screen"), ("printer", "Print / PDF")):
        assert _icon_before(deck, name, words), words
    assert 'aria-label="Previous slide"><svg class="icon icon-chevron-left"' in deck
