"""The OpenAPI document, generated once per process.

drf-spectacular walks every viewset and serializer on each request (seconds on this API), yet
the document changes only when the code does, and a new deploy starts new processes. The
schema is public (SERVE_PUBLIC), so it does not depend on who asks: one copy per API version
and host serves everyone; its rendering (YAML is the slow part) is kept per format too.
"""

from threading import Lock

from django.http import HttpResponse
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_SCHEMAS: dict = {}
_RENDERED: dict = {}
_RENDERED_MAX = 32  # keys include the Accept header and query: bounded, so odd headers cannot grow it
_LOCK = Lock()


class CachedSpectacularAPIView(SpectacularAPIView):
    def dispatch(self, request, *args, **kwargs):
        key = (request.get_host(), request.is_secure(), request.GET.urlencode(), request.META.get("HTTP_ACCEPT", ""))
        hit = _RENDERED.get(key)
        if hit is not None:
            content, content_type, disposition = hit
            response = HttpResponse(content, content_type=content_type)
            response["Content-Disposition"] = disposition
            return response
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200:
            response.render()
            if len(_RENDERED) >= _RENDERED_MAX:
                _RENDERED.clear()
            _RENDERED[key] = (response.content, response["Content-Type"], response.get("Content-Disposition", ""))
        return response

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, request.get_host(), request.is_secure())
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


def schema_cache_clear() -> None:
    """For tests that change the API's shape at run time."""
    _SCHEMAS.clear()
    _RENDERED.clear()
