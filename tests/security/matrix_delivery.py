"""Tenancy-matrix entries of the delivery app. Format: see tests/security/README.md.

Builders reuse tests/delivery/factories.py and the app's services (a planned iteration, an
approved release scope with a pending change request, a staged CSV import); "unchanged" is every
row of every delivery table plus the stories they point at.
"""

from backlog.models import Story
from delivery import services
from delivery.models import (
    ChangeRequest,
    ImportJob,
    Iteration,
    IterationItem,
    ReleaseScopeItem,
    ScopeApproval,
    StoryImportRef,
)
from pmhub.models import BackgroundJob, Role
from tests.delivery.factories import IterationFactory, ProductFactory, ReleaseFactory, StoryFactory, staged_import
from tests.factories import MembershipFactory, UserFactory

from .matrix import Exempt, Route

DELIVERY_MODELS = (Iteration, IterationItem, ReleaseScopeItem, ScopeApproval, ChangeRequest, ImportJob,
                   StoryImportRef, Story, BackgroundJob)


def fingerprint(_obj=None):
    """Every row of every delivery table (and the stories and jobs), to assert that nothing changed."""
    return {m.__name__: sorted(repr(_plain(row)) for row in m.objects.values()) for m in DELIVERY_MODELS}


def _plain(row: dict) -> dict:
    """A binary column (ImportJob.raw) comes back as a memoryview, whose repr is its address."""
    return {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}


def _actor(ws, role=Role.EDITOR):
    return MembershipFactory(workspace=ws, role=role, user=UserFactory()).user


def _product(ws):
    return ProductFactory(workspace=ws)


def _iteration(ws):
    product = _product(ws)
    iteration = IterationFactory(product=product, capacity_points=5)
    planned = StoryFactory(product=product)
    StoryFactory(product=product)
    services.iteration_add_story(actor=_actor(ws), iteration=iteration, story_id=planned.id)
    return iteration


def _release(ws):
    product = _product(ws)
    release = ReleaseFactory(product=product)
    story = StoryFactory(product=product)
    services.scope_change(actor=_actor(ws), release=release, story_id=story.id, kind="add")
    return release


def _change_request(ws):
    release = _release(ws)
    services.scope_approve(actor=_actor(ws, Role.ADMIN), release=release)
    extra = StoryFactory(product=release.product)
    return services.scope_change(actor=_actor(ws), release=release, story_id=extra.id, kind="add",
                                 reason="The customer asked")


def _import(ws):
    return staged_import(actor=_actor(ws), product=_product(ws), filename="issues.csv",
                                  data=b"Summary,Story Points\nOne,3\nTwo,5\n")


def _route(build, **kwargs):
    kwargs.setdefault("snapshot", fingerprint)
    return Route(build=build, **kwargs)


def _product_kwargs(name):
    return lambda obj: {"product_id": obj.product_id, name: obj.pk}


# Valid bodies, so each refusal is the role check and not a validation error.
def _payload(obj):
    story = Story.objects.filter(product_id=obj.product_id).order_by("id").last()
    return {"name": "Pwned", "start_date": "2026-01-01", "end_date": "2026-01-02", "capacity_points": 1,
            "story": story.id if story else 0, "reason": "Pwned", "note": "Pwned"}


API = {
    "iteration": Exempt("The viewset's list action GET /api/v1/iterations/velocity/ needs the required query "
                        "parameter ?product=<id> (400 without it, by the API contract) and the matrix's list check "
                        "cannot send one; an exemption is per basename, so the detail routes (iteration-detail, "
                        "-stories, -add-story, -remove-story, -burndown) go with it. They passed the outsider and "
                        "viewer checks with a Route(build=IterationFactory + a planned story) entry; isolation is "
                        "also tested in tests/delivery/test_tenancy.py."),
    # release-scope-detail, -add, -remove, -approve (admins)
    "release-scope": _route(_release, payload=_payload),
    # change-request-detail, -approve, -reject (admins)
    "change-request": _route(_change_request, payload=lambda cr: {"note": "Pwned"}),
    "import": Exempt("Import staging (ImportViewSet) is for editors only by design: even list/retrieve need "
                     "Role.EDITOR, so the matrix's viewer GET cannot be 200. Outsider 404 on GET/POST of "
                     "imports/<id>/, preview/ and confirm/, viewer 403, and unchanged rows are tested in "
                     "tests/delivery/test_tenancy.py."),
}

PAGES = {
    "delivery:iterations": _route(_product),
    "delivery:iteration": _route(_iteration, kwargs=_product_kwargs("iteration_id"), payload=_payload),
    "delivery:iteration_backlog": _route(_iteration, kwargs=_product_kwargs("iteration_id")),
    "delivery:iteration_items": _route(_iteration, kwargs=_product_kwargs("iteration_id"),
                                       payload=lambda it: dict(_payload(it), action="add")),
    "delivery:release_scope": _route(_release, kwargs=_product_kwargs("release_id"),
                                     payload=lambda r: dict(_payload(r), kind="add")),
    "delivery:scope_approve": _route(_release, kwargs=_product_kwargs("release_id"), payload=_payload),
    "delivery:change_request_decide": _route(_change_request, kwargs=lambda cr: {
        "product_id": cr.release.product_id, "release_id": cr.release_id, "cr_id": cr.pk},
        payload=lambda cr: {"decision": "approve", "note": "Pwned"}),
    "delivery:import": _route(_product),
    "delivery:import_detail": _route(_import, kwargs=_product_kwargs("import_id"),
                                     payload=lambda job: {"map_title": "0"}),
    "delivery:import_confirm": _route(_import, kwargs=_product_kwargs("import_id")),
    "delivery:import_reading": _route(_import, kwargs=_product_kwargs("import_id")),
    "delivery:export": _route(_product),
}

API_BASE_EXCEPTIONS: dict[str, str] = {}
