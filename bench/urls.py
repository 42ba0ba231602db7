"""The bench server's URLconf: every real route (pmhub.urls) plus two floors serving one fixed
JSON body (about 78 KB, the size of a 50-story API page):

- /__bench__/plain/  a plain Django view through the full middleware stack: the framework floor;
- /__bench__/drf/    the same body through DRF with the real token authentication, permission
  class and throttles (a ScopedViewSet like every API view): the authenticated-API floor.

Both encode the same Python structure to JSON on every request, so their difference is what DRF,
authentication and throttling cost. Served only by bench/serving.py, never by pmhub.settings.
"""

from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response

from pmhub.api.base import ScopedViewSet
from pmhub.models import Role
from pmhub.urls import urlpatterns as real_urlpatterns


def _body() -> dict:
    """A deterministic story-like page: 50 rows, about 78 KB of JSON."""
    text = ("As a product manager I want the backlog to answer quickly so that grooming keeps its pace. " * 6)
    rows = [{"id": 100_000 + i, "title": f"Story {i}: keep the backlog fast under load", "status": "ready",
             "points": i % 13, "rank": f"{i:08d}1", "version": 3, "epic": 4_000 + i % 7,
             "labels": ["performance", "api", f"team-{i % 5}"], "as_a": "product manager",
             "i_want": text[:300], "so_that": text[300:520], "description": text,
             "assignee": {"id": i % 17, "name": f"Member {i % 17}", "email": f"member{i % 17}@example.com"},
             "created_at": "2026-11-26T09:00:00Z", "updated_at": "2026-12-01T10:30:00Z"}
            for i in range(50)]
    return {"next": "/api/v1/stories/?cursor=cD0wMDAwMDA1MDE%3D", "previous": None, "results": rows}


BODY = _body()


def plain_floor(request):
    return JsonResponse(BODY)


class DrfFloor(ScopedViewSet):
    """Authentication, WorkspaceRole (viewer) and the throttles of every API view; no query of its own."""

    action_roles = {"list": Role.VIEWER}

    def list(self, request):
        return Response(BODY)


urlpatterns = [
    path("__bench__/plain/", plain_floor, name="bench-plain-floor"),
    path("__bench__/drf/", DrfFloor.as_view({"get": "list"}), name="bench-drf-floor"),
    *real_urlpatterns,
]
