"""The browsable API (JSON in a page, for people exploring the API in a browser)."""

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """Without generated HTML forms, and without edit forms pre-filled from the object: our
    viewsets read with one serializer and write with another (pmhub.api.base), so DRF fed the
    object to the write serializer and crashed on its related objects (500 on every detail page).
    The raw JSON form for creating stays; edits go through the API client or the Swagger UI."""

    def get_rendered_html_form(self, data, view, method, request):
        return None

    def show_form_for_method(self, view, method, request, obj):
        if method in ("PUT", "PATCH"):
            return False
        return super().show_form_for_method(view, method, request, obj)
