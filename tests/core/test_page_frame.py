"""The page frame every server-rendered page pays (base.html, the product menu, session and
membership look-ups): its URLs come from routes reversed once per process and are exactly what
reverse() gives, its markup keeps every link, mark and landmark, its queries are a fixed number
whatever the number of workspaces and products, and a membership change shows at once
(issue 23, target 3; docs/decisions/2000)."""

import re

import pytest
from django.http import Http404, HttpResponse
from django.template import engines
from django.templatetags.static import static
from django.urls import path, reverse
from django.views import View

from pmhub import navigation
from pmhub.frame import FRAME_ASSETS
from pmhub.models import Membership, Role, Workspace
from pmhub.urls import urlpatterns as real_urlpatterns
from pmhub.views import WorkspacePageMixin
from roadmaps.models import Product
from roadmaps.pages import ProductPageMixin

pytestmark = pytest.mark.django_db

# A page that is only the frame: base.html with nothing in it (and the product menu for a product).
_WORKSPACE_FRAME = engines["django"].from_string('{% extends "base.html" %}')
_PRODUCT_FRAME = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}{% include "_product_nav.html" %}{% endblock %}')


class WorkspaceFrame(WorkspacePageMixin, View):
    required_role = Role.VIEWER

    def get(self, request, **kwargs):
        return HttpResponse(_WORKSPACE_FRAME.render(self.get_context_data(), request))


class ProductFrame(ProductPageMixin, View):
    required_role = Role.VIEWER

    def get(self, request, **kwargs):
        return HttpResponse(_PRODUCT_FRAME.render(self.get_context_data(), request))


urlpatterns = [
    path("w/<slug:ws>/frame/", WorkspaceFrame.as_view(), name="test_frame"),
    path("w/<slug:ws>/products/<int:product_id>/frame/", ProductFrame.as_view(), name="test_product_frame"),
    *real_urlpatterns,
]


@pytest.fixture
def product(workspace):
    return Product.objects.create(workspace=workspace, name="Acme Analytics")


# --- URLs: the same strings as reverse() ---------------------------------------------------

SLUGS = ["acme", "a-b_c9", "pmhubwsslot", "x"]


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("product_id", [1, 42, 987654321])
def test_menu_routes_give_what_reverse_gives(slug, product_id):
    workspace_only = {"reports:preview", *(name for _, name, _ in navigation.WORKSPACE_LINKS)}
    for name, route in navigation.routes().items():
        if route is None:
            continue
        if name in workspace_only:
            assert route.url(slug) == reverse(name, kwargs={"ws": slug}), name
        else:
            assert route.url(slug, product_id) == reverse(name, kwargs={"ws": slug, "product_id": product_id}), name


@pytest.mark.parametrize("slug", SLUGS)
def test_frame_routes_give_what_reverse_gives(slug):
    for name, url_name in navigation.FRAME_LINKS.items():
        assert navigation.frame_urls()[name] == reverse(url_name)
    for name in ["workspace_home", "live_poll", *(n for _, n in navigation.WORKSPACE_ADMIN_LINKS)]:
        assert navigation.workspace_url(name, slug) == reverse(name, kwargs={"ws": slug})


def test_menus_give_what_reverse_gives():
    sections = navigation.product_sections(view_name="backlog:story", workspace_slug="acme", product_id=7, role=30)
    urls = [link.url for s in sections for link in s.links]
    assert reverse("backlog:list", kwargs={"ws": "acme", "product_id": 7}) in urls
    assert f"{reverse('reports:preview', kwargs={'ws': 'acme'})}?product=7" in urls
    assert [s.label for s in sections if s.current] == ["Backlog"]
    links = navigation.workspace_links(view_name="members", workspace_slug="acme")
    assert [(link.url, link.current) for link in links if link.label == "Members"] == [
        (reverse("members", kwargs={"ws": "acme"}), True)]


# --- Markup: every link, mark and landmark ----------------------------------------------------

def _hrefs(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action|data-source|data-live-poll)="([^"]*)"', html)


@pytest.mark.urls(__name__)
def test_frame_of_an_admin_links_where_reverse_says(client_as, admin, workspace, other_workspace, product):
    other_workspace.memberships.create(user=admin, role=Role.VIEWER)
    html = client_as(admin).get(f"/w/{workspace.slug}/products/{product.id}/frame/").content.decode()
    hrefs = _hrefs(html)
    expected = [static(p) for p in FRAME_ASSETS.values()]
    expected += [reverse(n) for n in ("home", "workspace_create", "search", "notifications", "api_tokens",
                                      "notification_preferences", "swagger-ui", "logout")]
    expected += [reverse(n, kwargs={"ws": w}) for w in ("acme", "globex") for n in ("workspace_home",)]
    expected += [reverse(n, kwargs={"ws": "acme"}) for _, n, _ in navigation.WORKSPACE_LINKS]
    expected += [reverse(n, kwargs={"ws": "acme"}) for _, n in navigation.WORKSPACE_ADMIN_LINKS]
    expected += [reverse("live_poll", kwargs={"ws": "acme"}), reverse("backlog:list", kwargs={
        "ws": "acme", "product_id": product.id})]
    assert set(expected) <= set(hrefs)
    assert '<a class="skip-link" href="#main">Skip to content</a>' in html
    assert f'<a href="{reverse("workspace_home", kwargs={"ws": "acme"})}" aria-current="true">Acme</a>' in html
    assert f'<a href="{reverse("workspace_home", kwargs={"ws": "globex"})}">Globex</a>' in html
    assert html.index(">Acme</a>") < html.index(">Globex</a>")
    assert 'aria-label="Notifications, 0 unread"' in html
    assert f'<li><a href="{reverse("workspace_settings", kwargs={"ws": "acme"})}">Workspace settings</a></li>' in html
    assert 'name="csrfmiddlewaretoken"' in html and '"X-CSRFToken": "' in html
    assert f'data-live-ws="{workspace.id}"' in html


@pytest.mark.urls(__name__)
def test_frame_of_a_viewer_has_no_admin_links(client_as, viewer, workspace):
    html = client_as(viewer).get(f"/w/{workspace.slug}/frame/").content.decode()
    assert "Workspace settings" not in html and "Single sign-on" not in html
    assert reverse("members", kwargs={"ws": "acme"}) in html


def test_frame_of_a_visitor_links_to_sign_in(client):
    html = client.get(reverse("login")).content.decode()
    assert f'<ul><li><a href="{reverse("login")}">Sign in</a></li></ul>' in html
    assert f'<link rel="stylesheet" href="{static("css/pmhub.css")}">' in html
    assert f'<a href="{reverse("swagger-ui")}">API</a></small></footer>' in html
    assert "site-nav-tools" not in html


# --- Queries: a fixed number; membership changes show at once ---------------------------------

def _more_workspaces(user, n):
    for i in range(n):
        ws = Workspace.objects.create(name=f"Team {i}", slug=f"team-{i}")
        Membership.objects.create(user=user, workspace=ws, role=Role.EDITOR)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("others", [0, 6])
def test_workspace_frame_queries(client_as, admin, workspace, others, django_assert_num_queries):
    _more_workspaces(admin, others)
    for i in range(others):
        Product.objects.create(workspace=workspace, name=f"P{i}")
    client = client_as(admin)
    url = f"/w/{workspace.slug}/frame/"
    client.get(url)  # the session and the unread count are cached from here on
    # the user, the memberships with their workspaces' rows (the workspace comes from them)
    with django_assert_num_queries(2):
        assert client.get(url).status_code == 200


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("others", [0, 6])
def test_product_frame_queries(client_as, admin, workspace, product, others, django_assert_num_queries):
    _more_workspaces(admin, others)
    for i in range(others):
        Product.objects.create(workspace=workspace, name=f"P{i}")
    client = client_as(admin)
    url = f"/w/{workspace.slug}/products/{product.id}/frame/"
    client.get(url)
    # the user, the memberships, the product with its workspace
    with django_assert_num_queries(3):
        assert client.get(url).status_code == 200


@pytest.mark.urls(__name__)
def test_a_removed_member_loses_the_workspace_at_once(client_as, admin, editor, workspace, product):
    client = client_as(editor)
    url = f"/w/{workspace.slug}/products/{product.id}/frame/"
    assert client.get(url).status_code == 200
    Membership.objects.filter(user=editor, workspace=workspace).delete()
    assert client.get(url).status_code == 404
    assert client.get(f"/w/{workspace.slug}/frame/").status_code == 404


@pytest.mark.urls(__name__)
def test_a_role_change_shows_in_the_frame_at_once(client_as, admin, workspace):
    client = client_as(admin)
    url = f"/w/{workspace.slug}/frame/"
    assert "Workspace settings" in client.get(url).content.decode()
    Membership.objects.filter(user=admin, workspace=workspace).update(role=Role.VIEWER)
    assert "Workspace settings" not in client.get(url).content.decode()
    Workspace.objects.filter(pk=workspace.pk).update(name="Acme Renamed")
    assert ">Acme Renamed<" in client.get(url).content.decode()


def test_the_workspace_from_the_memberships_is_the_row(admin, workspace, other_workspace):
    from pmhub.selectors import workspace_for_user

    built = workspace_for_user(user=admin, slug=workspace.slug)
    fresh = Workspace.objects.get(pk=workspace.pk)
    assert [getattr(built, f.attname) for f in Workspace._meta.concrete_fields] == \
        [getattr(fresh, f.attname) for f in Workspace._meta.concrete_fields]
    assert not built._state.adding and built._state.db == fresh._state.db
    assert built.get_deferred_fields() == set()
    with pytest.raises(Http404):
        workspace_for_user(user=admin, slug=other_workspace.slug)


# --- The header in Python is the template it replaced, byte for byte --------------------------

# base.html's header before decision 2000, as it was ({% url %}, {% static %}, {% icon %} and all).
_HEADER_TEMPLATE = engines["django"].from_string("{% load static pmhub %}" + """<header class="site-header">
  <nav class="container-fluid site-nav" aria-label="Main">
    <ul class="site-nav-start">
      <li><a href="{% url 'home' %}" class="brand"><img src="{% static 'img/pmhub.svg' %}" alt="" width="22" height="22"> <strong>PMHub</strong></a></li>
      {% if user.is_authenticated and nav.current_workspace %}
      <li>
        <details class="dropdown ws-switcher">
          <summary>{{ nav.current_workspace.name }}<span class="visually-hidden">: switch workspace</span></summary>
          <ul>
            {% for w in nav.workspaces %}<li><a href="{% url 'workspace_home' ws=w.slug %}"{% if w.id == nav.current_workspace.id %} aria-current="true"{% endif %}>{{ w.name }}</a></li>{% endfor %}
            <li><a href="{% url 'workspace_create' %}">+ New workspace</a></li>
          </ul>
        </details>
      </li>
      {% endif %}
    </ul>
    {% if user.is_authenticated %}
    <ul class="site-nav-tools">
      <li class="header-search"><form method="get" action="{% url 'search' %}" role="search"><label for="header-search-q" class="search-label">{% icon "search" %}<span class="visually-hidden">Search (Ctrl+K)</span></label><input type="search" id="header-search-q" name="q" placeholder="Search" aria-keyshortcuts="Control+K Meta+K" autocomplete="off" data-search-open><kbd class="search-kbd" aria-hidden="true">Ctrl K</kbd></form></li>
      <li><a href="{% url 'notifications' %}" class="icon-link" aria-label="Notifications, {{ nav.unread_notifications }} unread"{% if request.resolver_match.view_name == 'notifications' %} aria-current="page"{% endif %}>{% icon "bell" %}{% if nav.unread_notifications %}<span class="badge" data-testid="unread-count">{{ nav.unread_notifications }}</span>{% else %}<span class="badge badge-zero" data-testid="unread-count">0</span>{% endif %}</a></li>
      <li><button type="button" class="nav-toggle" aria-expanded="false" aria-controls="site-menu" data-nav-toggle>{% icon "menu" %}<span>Menu</span></button></li>
    </ul>
    <div class="site-menu" id="site-menu">
      <ul class="nav-links">
        {% for link in nav.links %}<li><a href="{{ link.url }}"{% if link.current %} aria-current="page"{% endif %}>{{ link.label }}</a></li>{% endfor %}
        <li>
          <details class="dropdown user-menu">
            <summary>{% icon "user" %}{{ user.display_name }}</summary>
            <ul dir="rtl">
              <li><a href="{% url 'api_tokens' %}"{% if request.resolver_match.view_name == 'api_tokens' %} aria-current="page"{% endif %}>API tokens</a></li>
              <li><a href="{% url 'notification_preferences' %}">E-mail preferences</a></li>
              <li><a href="{% url 'swagger-ui' %}">API docs</a></li>
              <li><label class="inline-check" dir="ltr"><input type="checkbox" data-shortcuts-toggle checked> Single-key shortcuts</label></li>
              {% if nav.current_workspace and nav.current_role.value >= 30 %}<li><a href="{% url 'workspace_settings' ws=nav.current_workspace.slug %}">Workspace settings</a></li><li><a href="{% url 'reports:webhooks' ws=nav.current_workspace.slug %}">Webhooks</a></li><li><a href="{% url 'integrations:channels' ws=nav.current_workspace.slug %}">Chat channels</a></li><li><a href="{% url 'integrations:repositories' ws=nav.current_workspace.slug %}">GitHub pull requests</a></li><li><a href="{% url 'integrations:github_apps' ws=nav.current_workspace.slug %}">GitHub Apps</a></li><li><a href="{% url 'integrations:jira_connections' ws=nav.current_workspace.slug %}">Issue sync (Jira, GitHub)</a></li><li><a href="{% url 'sso_admin:providers' ws=nav.current_workspace.slug %}">Single sign-on</a></li>{% endif %}
              <li><form method="post" action="{% url 'logout' %}" class="inline-form">{% csrf_token %}<button type="submit" class="link-button">Sign out</button></form></li>
            </ul>
          </details>
        </li>
      </ul>
    </div>
    {% else %}
    <ul><li><a href="{% url 'login' %}">Sign in</a></li></ul>
    {% endif %}
  </nav>
</header>""")
_HEADER_TAG = engines["django"].from_string("{% load pmhub %}{% site_header %}")


def _both(request):
    """Both renders, the CSRF token (masked afresh at every call) set to one value."""
    def same_token(html):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="T"', html)

    return same_token(_HEADER_TEMPLATE.render({}, request)), same_token(_HEADER_TAG.render({}, request))


def _request(client, url):
    """The request object of a page (its session, user and resolver match), for a second render."""
    response = client.get(url)
    assert response.status_code == 200
    return response.wsgi_request


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("who", ["admin", "viewer"])
@pytest.mark.parametrize("where", ["frame", "notifications", "api_tokens", "members", "workspace_home"])
def test_the_header_tag_prints_what_the_template_printed(client_as, who, where, request, workspace, other_workspace,
                                                          product):
    user = request.getfixturevalue(who)
    other_workspace.memberships.create(user=user, role=Role.EDITOR)
    Workspace.objects.create(name="<b>Team & Co</b>", slug="team-co").memberships.create(user=user, role=Role.ADMIN)
    user.name = 'Ann "the PM" <O\'Neil>'
    user.save(update_fields=["name"])
    if who == "admin":
        from pmhub import services

        for i in range(3):
            services.notify(recipient=user, kind="mention", title=f"n{i}", workspace_id=workspace.id)
    client = client_as(user)
    url = (f"/w/{workspace.slug}/products/{product.id}/frame/" if where == "frame" else reverse(where) if
           where in ("notifications", "api_tokens") else reverse(where, kwargs={"ws": workspace.slug}))
    client.get(reverse("workspace_home", kwargs={"ws": workspace.slug}))
    template, tag = _both(_request(client, url))
    assert tag == template
    assert "site-nav-tools" in tag


def test_the_header_of_a_visitor_and_of_someone_in_no_workspace(client):
    from pmhub.models import User

    template, tag = _both(_request(client, reverse("login")))
    assert tag == template and "Sign in" in tag
    loner = User.objects.create_user(email="loner@acme.test", password="x" * 12)
    client.force_login(loner)
    template, tag = _both(_request(client, reverse("notifications")))
    assert tag == template and "ws-switcher" not in tag


# The product menu's template before decision 2000 (_product_nav_sections.html, an inclusion tag's).
_PRODUCT_MENU_TEMPLATE = engines["django"].from_string("""{% load pmhub %}{% comment %}A product's menu: sections (pmhub.navigation.PRODUCT_SECTIONS), then the pages of the current one.
The current page is the only link with aria-current; its section is highlighted by class.{% endcomment %}
{% if sections %}
<nav class="product-nav" aria-label="{{ product.name }}">
  <p class="product-nav-name"><a href="{{ sections.0.links.0.url }}">{{ product.name }}</a></p>
  <ul class="product-sections">
    {% for s in sections %}<li><a href="{{ s.url }}"{% if s.current %} class="is-current"{% if s.links|length == 1 %} aria-current="page"{% endif %}{% endif %}>{% if s.icon %}{% icon s.icon %}{% endif %}{{ s.label }}</a></li>{% endfor %}
  </ul>
  {% if current and current.links|length > 1 %}
  <ul class="product-pages" aria-label="{{ current.label }}">
    {% for link in current.links %}<li><a href="{{ link.url }}"{% if link.current %} aria-current="page"{% endif %}>{{ link.label }}</a></li>{% endfor %}
  </ul>
  {% endif %}
</nav>
{% endif %}
""")


@pytest.mark.parametrize("view_name", ["backlog:story", "roadmaps:product", "reports:preview", "outcomes",
                                       "discovery:portal", "members", ""])
@pytest.mark.parametrize("role", [10, 20, 30])
def test_the_product_menu_prints_what_its_template_printed(view_name, role):
    from pmhub.frame import product_menu

    product = Product(id=7, name='Acme <Analytics> & "Co"')
    sections = navigation.product_sections(view_name=view_name, workspace_slug="acme", product_id=7, role=role)
    context = {"sections": sections, "product": product, "current": next((s for s in sections if s.current), None)}
    assert product_menu(sections=sections, product=product) == _PRODUCT_MENU_TEMPLATE.render(context)
    assert product_menu(sections=[], product=None) == _PRODUCT_MENU_TEMPLATE.render({"sections": []})


def test_the_frame_renders_without_a_request():
    from django.template.loader import render_to_string

    html = render_to_string("404.html")  # no request, no context processors
    assert f'<link rel="stylesheet" href="{static("css/pmhub.css")}">' in html
    assert f'<ul><li><a href="{reverse("login")}">Sign in</a></li></ul>' in html
