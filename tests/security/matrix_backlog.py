"""Tenancy-matrix entries of the backlog app. Format: see tests/security/README.md.

Builders go through the app's services (tests/backlog/factories.make_stories and the service
functions), so ranks, versions and scores are real; "unchanged" is every row of every backlog
table plus the background jobs (a refused scoring change must not start a re-scoring job).
"""

from backlog import services
from backlog.models import (
    AcceptanceCriterion,
    BacklogSettings,
    Comment,
    CustomField,
    Epic,
    SavedView,
    ScoringModel,
    Story,
    default_workflow,
)
from pmhub.models import BackgroundJob, Role
from tests.backlog.factories import make_stories
from tests.factories import MembershipFactory, UserFactory
from tests.roadmaps.factories import ProductFactory

from .matrix import Route

BACKLOG_MODELS = (Story, Epic, AcceptanceCriterion, Comment, CustomField, SavedView, ScoringModel,
                  BacklogSettings, BackgroundJob)


def fingerprint(_obj=None):
    """Every row of every backlog table (and the jobs), to assert that a refused write changed nothing."""
    return {m.__name__: sorted(map(repr, m.objects.values())) for m in BACKLOG_MODELS}


def _actor(ws, role=Role.EDITOR):
    return MembershipFactory(workspace=ws, role=role, user=UserFactory()).user


def _product(ws):
    return ProductFactory(workspace=ws)


def _story(ws):
    product = _product(ws)
    story = make_stories(product, 2, actor=_actor(ws))[0]
    services.criterion_add(actor=_actor(ws), story=story, text="Given a user, then it works")
    services.comment_create(actor=_actor(ws), story=story, body="Looks good")
    story.refresh_from_db()
    return story


def _criterion(ws):
    return _story(ws).criteria.first()


def _iteration(ws):
    from delivery.models import Iteration

    product = _product(ws)
    story = make_stories(product, 1, actor=_actor(ws))[0]
    iteration = Iteration.objects.create(product=product, name="Sprint", start_date="2026-08-03",
                                         end_date="2026-08-14")
    iteration.items.create(story=story)
    return iteration


def _epic(ws):
    return services.epic_create(actor=_actor(ws), product=_product(ws), title="Onboarding")


def _custom_field(ws):
    return services.custom_field_create(actor=_actor(ws, Role.ADMIN), product=_product(ws), key="team",
                                        label="Team", type="text")


def _saved_view(ws):
    # Shared by an editor: a viewer of the workspace sees it (GET 200) but may not change or delete it.
    return services.saved_view_create(actor=_actor(ws), product=_product(ws), name="Mine",
                                      config={"filters": {"status": "ready"}}, shared=True)


def _story_kwargs(s):
    return {"product_id": s.product_id, "story_id": s.pk}


def _route(build, **kwargs):
    kwargs.setdefault("snapshot", fingerprint)
    return Route(build=build, **kwargs)


# Valid bodies, so each refusal is the role check and not a validation error.
STORY_PAYLOAD = {"title": "Pwned", "status": "done", "body": "Pwned @everyone", "text": "Pwned"}
PRODUCT_PAYLOAD = {"framework": "wsjf", "workflow": default_workflow(), "segment_weights": {"enterprise": 9.0}}

API = {
    # story-detail (versioned), story-move, story-comments (GET for viewers, POST for editors), story-criteria
    "story": _route(_story, payload=lambda s: dict(STORY_PAYLOAD, version=s.version)),
    "epic": _route(_epic, payload=lambda e: {"title": "Pwned", "version": e.version}),
    "custom-field": _route(_custom_field, payload=lambda f: {"label": "Pwned", "required": True}),
    "saved-view": _route(_saved_view, payload=lambda v: {"name": "Pwned", "shared": False}),
    # backlog-product-scoring-model (GET/PUT), -settings (GET/PUT), -what-if (POST)
    "backlog-product": _route(_product, payload=lambda p: dict(PRODUCT_PAYLOAD), viewer_may={
        "post": "POST what-if/ is a preview for every reader (it writes nothing; the fingerprint would show it); "
                "the other routes of the viewset offer no POST."}),
}

PAGES = {
    "backlog:list": _route(_product),
    "backlog:rows": _route(_product),
    "backlog:bulk": _route(_product),
    "backlog:view_save": _route(_product, viewer_may={
        "post": "viewers keep personal (unshared) saved views; sharing one needs an editor (the service checks)"}),
    "backlog:view_delete": _route(_saved_view, kwargs=lambda v: {"product_id": v.product_id, "view_id": v.pk}),
    "backlog:settings": _route(_product),
    "backlog:story": _route(_story, kwargs=_story_kwargs),
    "backlog:row": _route(_story, kwargs=_story_kwargs),
    "backlog:move": _route(_story, kwargs=_story_kwargs),
    "backlog:story_status": _route(_story, kwargs=_story_kwargs),
    "backlog:board": _route(_product),
    "backlog:board_more": _route(_product),
    "backlog:iteration_board": _route(_iteration, kwargs=lambda it: {"product_id": it.product_id,
                                                                     "iteration_id": it.pk}),
    "backlog:story_delete": _route(_story, kwargs=_story_kwargs),
    "backlog:comment": _route(_story, kwargs=_story_kwargs),
    "backlog:criterion_add": _route(_story, kwargs=_story_kwargs),
    "backlog:criterion_toggle": _route(_criterion, kwargs=lambda c: {
        "product_id": c.story.product_id, "story_id": c.story_id, "criterion_id": c.pk}),
    "backlog:epics": _route(_product),
    "backlog:epic": _route(_epic, kwargs=lambda e: {"product_id": e.product_id, "epic_id": e.pk}),
    "backlog:scoring": _route(_product),
}

API_BASE_EXCEPTIONS: dict[str, str] = {}
