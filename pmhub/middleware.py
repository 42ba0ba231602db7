import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from whitenoise.middleware import WhiteNoiseMiddleware


class ContentSecurityPolicyMiddleware:
    """Only our own static files may run scripts (no CDN, no inline script)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class RequestSizeLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE gets a clear 413 (JSON on the API) instead of
    Django's generic 400, or - worse - DRF parsing it anyway: DRF reads the JSON stream itself
    and never hits Django's own size check. Multipart uploads are left to Django, whose limit
    counts form fields and not files (file uploads stream to disk)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        is_multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        if limit is not None and length > limit and not is_multipart:
            return self.too_large(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return self.too_large(request)
        return None

    @staticmethod
    def too_large(request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is larger than the limit of {limit} bytes."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": "too_large", "errors": {}}, status=413)
        return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")


class ApiJsonErrorsMiddleware:
    """Under /api/, every error is JSON in the one format: also the ones raised outside DRF
    (an unmatched URL such as /api/v1/jobs/abc/, Django's 400/403/500 pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/v1/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            detail = {404: "Not found.", 405: "Method not allowed.", 403: "Forbidden."}.get(
                response.status_code, "Request failed." if response.status_code < 500 else "Server error.")
            code = {404: "not_found", 405: "method_not_allowed", 403: "permission_denied"}.get(
                response.status_code, "error")
            json_response = JsonResponse({"detail": detail, "code": code, "errors": {}}, status=response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response


class OwnErrorPagesMiddleware:
    """Pages keep the product's own 404 and 403 pages even with DEBUG=true (`make run`), where
    Django would show its debug page listing every URL pattern - to anyone opening a mistyped
    share link. The API keeps its JSON errors (ApiJsonErrorsMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied
        from django.http import Http404
        from django.shortcuts import render

        if not settings.DEBUG or request.path.startswith("/api/"):
            return None
        if isinstance(exception, Http404):
            return render(request, "404.html", status=404)
        if isinstance(exception, PermissionDenied):
            return render(request, "403.html", status=403)
        return None


class UnstorableTextMiddleware:
    """A form value with a NUL character is refused with a 400 before any view runs: PostgreSQL
    cannot store NUL in text, and views that hand POST values to services answered 500. DRF
    refuses NUL in its own fields and pmhub.jsonsafe in JSON; this covers form posts (pages and
    form-encoded API calls) in one place."""

    MESSAGE = "Text may not contain NUL characters."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            try:
                values = [v for _k, vs in request.POST.lists() for v in vs]
            except RequestDataTooBig:
                return RequestSizeLimitMiddleware.too_large(request)
            if any("\x00" in v for v in values if isinstance(v, str)):
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": self.MESSAGE, "code": "invalid", "errors": {}}, status=400)
                return HttpResponse(self.MESSAGE, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class HtmxMessagesMiddleware:
    """A save made through htmx confirms itself like any other: the messages a view queued (and no
    template showed) travel in an `HX-Trigger: {"pmhub:messages": ...}` header, and pmhub.js says
    them in the page's live region as a toast. Sits after MessageMiddleware (it reads the storage
    before that middleware stores what is left)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        storage = getattr(request, "_messages", None)
        if (storage is None or storage.used or not request.headers.get("HX-Request")
                or 300 <= response.status_code < 400):
            return response
        queued = [{"text": str(m), "level": m.tags or "info"} for m in storage]
        if queued:
            triggers = {}
            if response.get("HX-Trigger"):
                try:
                    triggers = json.loads(response["HX-Trigger"])
                except ValueError:
                    triggers = {response["HX-Trigger"]: None}
            triggers["pmhub:messages"] = {"messages": queued}
            response["HX-Trigger"] = json.dumps(triggers)
        return response


# The static files found by the finders, keyed by everything that shapes their table; built once per
# process (see StaticFilesMiddleware).
_FINDER_FILES: dict[tuple, dict] = {}


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, with the table of files the static-files finders list built once per process.

    WhiteNoise lists and stats every file of every finder (some 3,000: Pico's themes, the icon set)
    each time the middleware is built. A server builds it once per process, but Django's test client
    builds a new middleware chain for every client, and the suite paid 0.3-0.9 s of file listing per
    test. The table is the same for the same settings, so it is kept and reused; a process started
    after a file changed lists the files afresh (runserver restarts its process on changes)."""

    def add_files_from_finders(self):
        key = (self.static_prefix, self.max_age, self.allow_all_origins, self.charset,
               repr(settings.STATICFILES_DIRS), tuple(settings.STATICFILES_FINDERS),
               repr(getattr(settings, "WHITENOISE_ADD_HEADERS_FUNCTION", None)),
               repr(getattr(settings, "WHITENOISE_IMMUTABLE_FILE_TEST", None)),
               repr(getattr(settings, "WHITENOISE_MIMETYPES", None)))
        table = _FINDER_FILES.get(key)
        if table is None:
            before = dict(self.files)
            super().add_files_from_finders()
            table = {url: f for url, f in self.files.items() if before.get(url) is not f}
            _FINDER_FILES[key] = table
        else:
            self.files.update(table)


class LiveTabMiddleware:
    """The tab that sent a request (header `X-PMHub-Tab`, set by static/js/live.js) is remembered
    while the request runs, so the live events its changes cause are not echoed back to it
    (pmhub.live)."""

    def __init__(self, get_response):
        from django.core.signals import request_finished

        from .live import sends_release_pending

        self.get_response = get_response
        request_finished.connect(sends_release_pending, dispatch_uid="pmhub.live.sends_release_pending")

    def __call__(self, request):
        from .live import (
            sends_held,
            sends_hold_end,
            sends_release,
            sends_release_later,
            sends_release_pending,
            tab_from_request,
            tab_reset,
            tab_set,
        )

        sends_release_pending()  # a response of this thread that was never closed: its sends go now
        token = tab_set(tab_from_request(request))
        held: list = []
        holding = sends_held(held)
        try:
            response = self.get_response(request)
        except BaseException:
            sends_release(held)
            raise
        finally:
            sends_hold_end(holding)
            tab_reset(token)
        # The live sends of this request's writes leave once the server has written the response
        # (request_finished, sent when it is closed), not while it is being built (decision 2303).
        if held:
            sends_release_later(held)
        return response
