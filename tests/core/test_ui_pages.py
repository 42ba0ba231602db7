"""Page furniture shared by every page: the product menu marks the place once, pages outside a
workspace keep its menu, our own error pages (also with DEBUG on), the favicon, and a story form
that comes back with what was typed and the error under its field."""

import re

import pytest
from django.urls import reverse

from backlog.models import Story
from roadmaps.models import Product
from tests.backlog.factories import make_stories

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(workspace):
    return Product.objects.create(workspace=workspace, name="Acme Analytics")


def _current_links(html: str) -> list[str]:
    return re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]*)<', html)


@pytest.mark.parametrize("name,label", [("roadmaps:list", "Timeline"), ("backlog:list", "Stories"),
                                        ("backlog:scoring", "Scoring"), ("metrics_kpi_list", "KPIs")])
def test_the_current_place_is_marked_exactly_once(client_as, admin, workspace, product, name, label):
    html = client_as(admin).get(reverse(name, kwargs={"ws": workspace.slug, "product_id": product.id})).content.decode()
    assert _current_links(html) == [label]
    assert html.count('class="is-current"') == 1  # one section highlighted


@pytest.mark.parametrize("name", ["notifications", "api_tokens"])
def test_pages_outside_a_workspace_keep_its_menu(client_as, admin, workspace, name):
    client = client_as(admin)
    client.get(reverse("workspace_home", kwargs={"ws": workspace.slug}))
    html = client.get(reverse(name)).content.decode()
    assert reverse("members", kwargs={"ws": workspace.slug}) in html
    assert reverse("roadmaps:products", kwargs={"ws": workspace.slug}) in html


def test_the_bell_is_an_svg_icon_not_an_emoji(client_as, admin, workspace):
    html = client_as(admin).get(reverse("workspace_home", kwargs={"ws": workspace.slug})).content.decode()
    assert "🔔" not in html
    assert 'class="icon icon-bell"' in html


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)
    assert "max-age=86400" in response["Cache-Control"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_bad_share_token_gets_our_404_page(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/share/not-a-real-token/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "PMHub" in html and "Not found" in html
    assert "URLconf" not in html  # not Django's debug page listing our URL patterns


def test_the_500_page_renders_without_a_request(settings):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html


def _story_url(workspace, product, story):
    return reverse("backlog:story", kwargs={"ws": workspace.slug, "product_id": product.id, "story_id": story.id})


def test_story_form_with_an_error_keeps_what_was_typed_and_says_why_at_the_field(client_as, admin, workspace,
                                                                                 product):
    story = make_stories(product, 1, actor=admin)[0]
    before = Story.objects.values().get(pk=story.pk)
    response = client_as(admin).post(_story_url(workspace, product, story), {
        "version": story.version, "title": "A better title", "description": "Typed with care",
        "points": "-4", "status": story.status})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="A better title"' in html and "Typed with care" in html
    # The error sits right after the points field, in words.
    points_at = html.index('name="points"')
    assert "Points must be 0 or more." in html[points_at:points_at + 600]
    assert Story.objects.values().get(pk=story.pk) == before


def test_story_form_reports_a_scoring_input_that_is_not_a_number(client_as, admin, workspace, product):
    from backlog.models import ScoringModel

    ScoringModel.objects.update_or_create(product=product, defaults={"framework": "rice"})
    story = make_stories(product, 1, actor=admin)[0]
    response = client_as(admin).post(_story_url(workspace, product, story), {
        "version": story.version, "title": story.title, "input_impact": "huge"})
    assert response.status_code == 400
    assert "Impact must be a number (“huge” is not)." in response.content.decode()


def test_story_form_saves_valid_input(client_as, admin, workspace, product):
    story = make_stories(product, 1, actor=admin)[0]
    response = client_as(admin).post(_story_url(workspace, product, story), {
        "version": story.version, "title": "A better title", "points": "0", "status": story.status})
    assert response.status_code == 302
    story.refresh_from_db()
    assert (story.title, story.points) == ("A better title", 0)


def test_api_schema_is_generated_once_per_process(client, monkeypatch):
    from pmhub.api.schema_view import CachedSpectacularAPIView, schema_cache_clear

    schema_cache_clear()
    calls = []
    generator = CachedSpectacularAPIView.generator_class
    original = generator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(generator, "get_schema", counting)
    first = client.get("/api/schema/?format=json")
    yaml = client.get("/api/schema/")
    again = client.get("/api/schema/?format=json")
    assert first.status_code == yaml.status_code == again.status_code == 200
    assert first.content == again.content and b'"openapi"' in first.content
    assert len(calls) == 1  # the YAML rendering reused the generated document
    schema_cache_clear()


def _count_generations(monkeypatch):
    from pmhub.api.schema_view import CachedSpectacularAPIView

    calls = []
    generator = CachedSpectacularAPIView.generator_class
    original = generator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(generator, "get_schema", counting)
    return calls


def test_the_cached_schema_serves_every_host_and_survives_a_restart(client, monkeypatch):
    """Decision 1421: the document names no host, so one copy serves any host; it lives in the
    shared cache too, so a new process (memory cleared) answers without generating it."""
    from pmhub.api import schema_view

    schema_view.schema_cache_clear()
    calls = _count_generations(monkeypatch)
    first = client.get("/api/schema/", HTTP_HOST="testserver")
    other = client.get("/api/schema/", HTTP_HOST="localhost", HTTP_ACCEPT="*/*")
    secure = client.get("/api/schema/", HTTP_HOST="127.0.0.1", secure=True)
    assert first.status_code == other.status_code == secure.status_code == 200
    assert first.content == other.content == secure.content and b"openapi:" in first.content
    assert b"testserver" not in first.content and b"servers" not in first.content  # host-free
    assert len(calls) == 1
    for n in range(5):  # odd query strings share the one copy: they cannot fill the cache
        assert client.get(f"/api/schema/?lang=zz{n}&x={n}").content == first.content
    assert len(calls) == 1
    schema_view._SCHEMAS.clear()  # a restarted process: its memory is empty, the shared cache is not
    schema_view._RENDERED.clear()
    again = client.get("/api/schema/", HTTP_HOST="localhost")
    assert again.content == first.content and len(calls) == 1
    schema_view.schema_cache_clear()


def test_the_schema_changes_when_the_routes_change(client, monkeypatch, settings):
    from pmhub.api import schema_view

    schema_view.schema_cache_clear()
    calls = _count_generations(monkeypatch)
    before = client.get("/api/schema/?format=json")
    digest = schema_view.schema_digest()
    assert schema_view.schema_digest() == digest  # stable for the same code
    settings.ROOT_URLCONF = "tests.core.schema_urls_more"
    assert schema_view.schema_digest() != digest
    after = client.get("/api/schema/?format=json")
    assert len(calls) == 2 and b"ping-for-schema-test" in after.content
    assert b"ping-for-schema-test" not in before.content
    schema_view.schema_cache_clear()


def test_the_worker_warms_the_schema_so_the_first_visit_generates_nothing(client, monkeypatch):
    from pmhub.api import schema_view
    from pmhub.tasks import api_schema_warm

    schema_view.schema_cache_clear()
    calls = _count_generations(monkeypatch)
    assert api_schema_warm.delay().get() == ["application/vnd.oai.openapi", "application/json"]
    schema_view._SCHEMAS.clear()  # the web process is another process: only the shared cache is common
    schema_view._RENDERED.clear()
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/schema/?format=json").status_code == 200
    assert len(calls) == 1  # the warm-up's, none for the visits
    schema_view.schema_cache_clear()


def test_the_menu_offers_share_links_to_editors_not_to_viewers(client_as, editor, viewer, workspace, product):
    url = reverse("roadmaps:timeline", kwargs={"ws": workspace.slug, "product_id": product.id})
    assert ">Share links</a>" in client_as(editor).get(url).content.decode()
    assert ">Share links</a>" not in client_as(viewer).get(url).content.decode()


def test_forms_show_no_label_for_hidden_fields_and_objectives_are_check_boxes(client_as, editor, workspace, product):
    import datetime as dt

    from roadmaps.models import Objective

    Objective.objects.create(product=product, title="Grow revenue", start_date=dt.date(2026, 1, 1),
                             end_date=dt.date(2026, 3, 31))
    url = reverse("roadmaps:initiative_new", kwargs={"ws": workspace.slug, "product_id": product.id})
    html = client_as(editor).get(url).content.decode()
    assert ">Version<" not in html
    assert 'type="checkbox" name="objectives"' in html and "<select name=\"objectives\"" not in html


def test_make_run_links_e_mails_to_the_port_it_serves(tmp_path):
    """`make run PORT=8111` must not send people to :8000; an explicit SITE_URL still wins."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    dry = subprocess.run(["make", "-n", "run", "PORT=8111"], cwd=root, env=env, capture_output=True, text=True)
    assert "SITE_URL=http://127.0.0.1:8111" in dry.stdout
    dry = subprocess.run(["make", "-n", "run", "PORT=8111"], cwd=root, capture_output=True, text=True,
                         env={**env, "SITE_URL": "https://pm.example.com"})
    assert "SITE_URL=https://pm.example.com" in dry.stdout
