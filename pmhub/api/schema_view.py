"""The OpenAPI document, generated once per code version and shared by every process.

drf-spectacular walks every viewset and serializer on each request (seconds on this API), yet the
document changes only when the code does. The schema is public (SERVE_PUBLIC) and holds no host
(no `servers`, relative paths only), so it does not depend on who asks nor on the host asked for:
one copy per **code digest**, API version and output format serves everyone (decision 1421).

- `schema_digest()`: a hash of the URL conf's routes (pattern and view) and of the source of every
  module whose views or serializers the API uses, plus drf-spectacular's version and settings. A
  deploy that changes a route, a view or a serializer gets a new digest, so a new document.
- Two layers: this process's memory, then the shared cache (Redis in production), so a restarted
  web process answers from what the previous one (or the worker) built.
- `schema_warm()` renders the usual formats (YAML, JSON) into the shared cache; the Celery worker
  runs it once when it boots (pmhub/celery.py), so even the first visitor after a deploy finds it.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import sys
from functools import lru_cache
from threading import Lock

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import NotAcceptable
from rest_framework.response import Response

logger = logging.getLogger("pmhub.api.schema")

_SCHEMAS: dict = {}
_RENDERED: dict = {}
_RENDERED_MAX = 32  # keys are (digest, version, format, lang): bounded all the same
_LOCK = Lock()
CACHE_SECONDS = 7 * 24 * 3600  # a digest names one code version: its document never goes stale


def _routes(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _api_modules(callback) -> set[str]:
    """The modules that shape a route's part of the document: its view and its serializers."""
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:
        return set()
    modules = {view.__module__}
    for attr in ("serializer_class", "filterset_class"):
        if (klass := getattr(view, attr, None)) is not None:
            modules.add(klass.__module__)
    return modules


def schema_digest(urlconf: str | None = None) -> str:
    """A short hash that changes whenever the API's routes or their code change (once per process
    and URL conf)."""
    return _digest(urlconf or settings.ROOT_URLCONF)


@lru_cache(maxsize=4)
def _digest(urlconf: str) -> str:
    import drf_spectacular

    h = hashlib.sha256()
    modules: set[str] = set()
    for route, callback in sorted(_routes(get_resolver(urlconf)), key=lambda rc: rc[0]):
        if not route.startswith("api/"):
            continue
        h.update(f"{route}\0{getattr(callback, '__module__', '')}.{getattr(callback, '__qualname__', '')}\n".encode())
        modules |= _api_modules(callback)
    for name in sorted(modules):
        module = sys.modules.get(name)
        try:
            h.update(inspect.getsource(module).encode() if module else name.encode())
        except (OSError, TypeError):
            h.update(name.encode())
    h.update(repr(sorted(getattr(settings, "SPECTACULAR_SETTINGS", {}).items())).encode())
    h.update(drf_spectacular.__version__.encode())
    return h.hexdigest()[:16]


def _lang(request) -> str:
    """`?lang=` when it names one of our languages, else "" (an unknown one renders the default
    text): keys stay few, so odd query strings cannot fill the cache."""
    lang = request.GET.get("lang", "")
    return lang if lang in dict(settings.LANGUAGES) else ""


class CachedSpectacularAPIView(SpectacularAPIView):
    def _render_key(self, request, kwargs) -> tuple | None:
        """(digest, version, renderer format, lang) after DRF's content negotiation, so every
        Accept header that picks the same renderer shares one copy; None when nothing fits."""
        self.args, self.kwargs = (), kwargs
        drf_request = self.initialize_request(request, **kwargs)
        self.request = drf_request
        self.format_kwarg = self.get_format_suffix(**kwargs)
        try:
            renderer, _ = self.perform_content_negotiation(drf_request)
        except NotAcceptable:
            return None
        request_version, _ = self.determine_version(drf_request, **kwargs)
        version = self.api_version or request_version or self._get_version_parameter(drf_request)
        return (schema_digest(self.urlconf), version, renderer.format, _lang(request))

    def dispatch(self, request, *args, **kwargs):
        key = self._render_key(request, kwargs)
        if key is None:
            return super().dispatch(request, *args, **kwargs)
        shared_key = "api-schema:" + ":".join(str(k) for k in key)
        hit = _RENDERED.get(key) or cache.get(shared_key)
        if hit is not None:
            _RENDERED.setdefault(key, hit)
            content, content_type, disposition = hit
            response = HttpResponse(content, content_type=content_type)
            response["Content-Disposition"] = disposition
            return response
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200:
            response.render()
            entry = (response.content, response["Content-Type"], response.get("Content-Disposition", ""))
            if len(_RENDERED) >= _RENDERED_MAX:
                _RENDERED.clear()
            _RENDERED[key] = entry
            try:
                cache.set(shared_key, entry, CACHE_SECONDS)
            except Exception as exc:  # a cache that is down must not fail the document
                logger.warning("API schema not stored in the shared cache: %s", exc)
        return response

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (schema_digest(self.urlconf), version, _lang(request))
        schema = _SCHEMAS.get(key)
        if schema is None:
            with _LOCK:  # two first requests at once build it once
                schema = _SCHEMAS.get(key)
                if schema is None:
                    generator = self.generator_class(urlconf=self.urlconf, api_version=version,
                                                     patterns=self.patterns)
                    schema = _SCHEMAS[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(data=schema, headers={
            "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'})


def schema_warm() -> list[str]:
    """Render the document in its usual formats into the shared cache (after start-up, in the
    worker). Returns the formats now cached."""
    from django.test import RequestFactory
    from django.urls import reverse

    # Any allowed host: the document does not name it.
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")), "localhost")
    factory = RequestFactory(HTTP_HOST=host)
    view = CachedSpectacularAPIView.as_view()
    warmed = []
    for query, accept in (("", "*/*"), ("?format=json", "application/json")):
        request = factory.get(reverse("schema") + query, HTTP_ACCEPT=accept)
        response = view(request)
        if response.status_code == 200:
            warmed.append(response["Content-Type"].split(";")[0])
    return warmed


def schema_cache_clear() -> None:
    """For tests that change the API's shape at run time (the shared cache is the test's own)."""
    _SCHEMAS.clear()
    _RENDERED.clear()
    _digest.cache_clear()
