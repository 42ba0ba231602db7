"""The API's URLs resolved by their first path segment (decision 2202): every route of /api/v1/
resolves to the same view, arguments and route as Django's resolver over the whole list, a path
nothing matches is Django's 404, and reversing and the schema see every pattern."""

import re

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

from pmhub.api.resolver import SegmentResolver, include_by_segment, literal_segment

SAMPLES = {"format": "json"}


def _paths(patterns) -> list[str]:
    """A path each pattern matches (named groups filled with a sample), and near misses."""
    out = []
    for pattern in patterns:
        regex = getattr(pattern.pattern, "_regex", None)
        if regex is None:
            continue
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLES.get(m.group(1), "7"), regex)
        text = text.lstrip("^").rstrip("$").replace("/?", "/").replace("\\.", ".")
        out += [text, text + "x/", text.rstrip("/") + "x", text.upper()]
    return out + ["", ".json", "nope/", "stories", "storiesx/", "stories/7/unknown/", "stories/7/move",
                  "stories/../", "stories/7/move/.json", "/stories/", "stories//", "%73tories/"]


def _answer(resolver, path):
    try:
        found = resolver.resolve(path)
    except Resolver404 as missing:
        return ("404", len(missing.args[0].get("tried", [])))
    return (found.func, found.args, found.kwargs, found.url_name, found.route, found.app_names, found.namespaces)


def test_every_api_route_resolves_as_djangos_resolver_does():
    plain = URLResolver(RoutePattern("api/v1/", is_endpoint=False), "pmhub.api.urls")
    mine = include_by_segment("api/v1/", "pmhub.api.urls")
    paths = ["api/v1/" + p for p in _paths(plain.url_patterns)] + ["api/v2/stories/", "api/v1"]
    assert len(paths) > 1000
    for path in paths:
        assert _answer(mine, path) == _answer(plain, path), path


def test_the_project_urlconf_uses_it_and_reverses_and_lists_every_pattern(api_as, admin):
    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    assert isinstance(api, SegmentResolver) and len(api.url_patterns) > 300
    assert reverse("story-move", kwargs={"pk": 7}) == "/api/v1/stories/7/move/"
    assert reverse("story-list", kwargs={"format": "json"}) == "/api/v1/stories.json"
    client = api_as(admin)
    assert client.get("/api/v1/stories.json").status_code == 200
    assert client.get("/api/v1/").status_code == 403  # the router's root, refused by DenyAll as before
    assert client.get("/api/v1/stories/7/nothing/").status_code == 404


@pytest.mark.parametrize(("route", "segment"), [
    ("^stories/$", "stories"), (r"^stories\.(?P<format>[a-z0-9]+)/?$", "stories"), ("^$", ""),
    (r"^\.(?P<format>[a-z0-9]+)/?$", ""), ("^(?P<pk>[^/.]+)/$", None), ("^stor(ies)?/$", None),
    ("^stories", None), ("(?i)^stories/$", None)])
def test_a_patterns_literal_segment(route, segment):
    from django.urls import re_path

    assert literal_segment(re_path(route, lambda request: None).pattern) == segment
