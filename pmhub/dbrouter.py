"""Reads of reports, dashboards and exports from a PostgreSQL replica (docs/decisions/1911-*.md).

With `DATABASE_REPLICA_URL` set, settings define a second alias, "replica" (in tests a mirror
of "default": `TEST: {"MIRROR": "default"}`). Nothing is sent there by model: the same tables
feed a dashboard and the write path that must read its own writes. Instead a request, or any
block of code, opts in:

- `ReplicaReadsMiddleware` marks GET/HEAD requests to the views of REPLICA_VIEWS (report pages,
  KPI and workspace dashboards with their JSON and CSV exports, the delivery export, the adoption
  pages);
- `replica_reads()` is a context manager for other code (a report built by a worker).

Inside such a block `ReplicaRouter.db_for_read` answers "replica", except
- inside a transaction on "default" (a read that may need the transaction's own writes, and
  every test wrapped in a TestCase transaction), and
- for a browser that wrote a moment ago (the middleware sets a short-lived cookie on every
  unsafe request, so the page a save redirects to reads the primary: no figure older than the
  save the user just made, whatever the replication lag).
Writes always go to "default"; migrations never run on the replica.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PIN_COOKIE = "pmhub_primary"
_reading: ContextVar[bool] = ContextVar("pmhub_replica_reads", default=False)

# URL names (namespace:name) whose GET/HEAD reads go to the replica.
REPLICA_VIEWS = frozenset({
    "reports:report", "reports:run",
    "metrics_product_dashboard", "metrics_product_dashboard_data", "metrics_product_dashboard_csv",
    "metrics_workspace_dashboard", "metrics_workspace_dashboard_data", "metrics_workspace_dashboard_csv",
    "delivery:export",
    "adoption", "adoption_feature",
})


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads(enabled: bool = True):
    """Reads in this block may go to the replica (a no-op without one)."""
    token = _reading.set(enabled and replica_configured())
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _reading.get():
            return None
        instance = hints.get("instance")
        if instance is not None and instance._state.db not in (None, REPLICA):
            return None  # related rows of an object read from the primary come from the primary
        if connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


class ReplicaReadsMiddleware:
    """Opt the read-only report, dashboard and export views into replica reads; pin a browser
    that just wrote to the primary for REPLICA_PIN_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = self.get_response(request)
            response.set_cookie(PIN_COOKIE, "1", max_age=settings.REPLICA_PIN_SECONDS, httponly=True,
                                samesite="Lax", secure=request.is_secure())
            return response
        try:
            return self.get_response(request)
        finally:
            token = request.__dict__.pop("_replica_token", None)
            if token is not None:
                _reading.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (request.method in ("GET", "HEAD") and PIN_COOKIE not in request.COOKIES and replica_configured()
                and request.resolver_match and request.resolver_match.view_name in REPLICA_VIEWS):
            request._replica_token = _reading.set(True)
        return None
