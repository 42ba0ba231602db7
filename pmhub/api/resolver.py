"""The API's URLs resolved by their first path segment (issue 23, target 2; decision 2202).

`/api/v1/` holds the router's 386 patterns (every viewset's list, detail and action routes, each
twice with the `.json` format suffix); Django tries them in order, so a stories request tested
about 100 regular expressions before its own: 0.12-0.26 ms of a request whose DRF floor is 2-3 ms
(the floor's own route is the first of the bench's URLconf).

`SegmentResolver` is that include with the same patterns, in the same order, that tries only the
patterns that can match the path's first segment (up to the first "/" or "."): a pattern whose
route starts with a literal segment followed by "/", "." or the end can only match paths with
that first segment; every other pattern is tried for every path. The first match in that subset is
the first match in the whole list, so a path resolves to the same view with the same arguments.
A path nothing in the subset matches is resolved by Django over the whole list (the 404 and its
list of patterns tried are Django's). Reversing, the schema and everything else that reads
`url_patterns` see the full list, unchanged.
"""

from __future__ import annotations

import re
import threading

from django.urls import URLResolver, include
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

_SEGMENT = re.compile(r"[^/.]*")
# A route's literal first segment, and what must follow it: "/", an escaped "." or the end.
_REGEX_PREFIX = re.compile(r"\^([A-Za-z0-9_-]*)(?:/|\\\.|\$)")
_ROUTE_PREFIX = re.compile(r"([A-Za-z0-9_-]*)(?:/|$)")


def literal_segment(pattern) -> str | None:
    """The first path segment every path the pattern matches starts with, or None if unknown."""
    if type(pattern) is RegexPattern:
        found = _REGEX_PREFIX.match(pattern._regex)
    elif type(pattern) is RoutePattern:
        found = _ROUTE_PREFIX.match(pattern._route)
    else:
        return None
    return None if found is None else found.group(1)


class SegmentResolver(URLResolver):
    """An include resolved by the path's first segment (see the module's docstring)."""

    _lock = threading.Lock()

    def _by_segment(self) -> tuple[dict[str, URLResolver], URLResolver]:
        built = self.__dict__.get("_segment_resolvers")
        if built is None:
            with self._lock:
                built = self.__dict__.get("_segment_resolvers")
                if built is None:
                    segments = [literal_segment(p.pattern) for p in self.url_patterns]
                    names = {s for s in segments if s is not None}

                    def resolver(keep):
                        subset = [p for p, s in zip(self.url_patterns, segments, strict=True) if keep(s)]
                        return URLResolver(self.pattern, subset, self.default_kwargs, self.app_name, self.namespace)

                    built = ({name: resolver(lambda s, name=name: s is None or s == name) for name in names},
                             resolver(lambda s: s is None))
                    self.__dict__["_segment_resolvers"] = built
        return built

    def resolve(self, path):
        path = str(path)
        match = self.pattern.match(path)
        if match:
            by_segment, unknown = self._by_segment()
            segment = _SEGMENT.match(match[0]).group()
            try:
                return by_segment.get(segment, unknown).resolve(path)
            except Resolver404:
                pass
        return super().resolve(path)  # no match: Django's answer over every pattern


def include_by_segment(route: str, urlconf: str) -> SegmentResolver:
    """`path(route, include(urlconf))`, resolved by first segment."""
    module, app_name, namespace = include(urlconf)
    return SegmentResolver(RoutePattern(route, is_endpoint=False), module, app_name=app_name, namespace=namespace)
