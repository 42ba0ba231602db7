"""The seam between delivery and the backlog app's stories.

The backlog engineer adds `backlog.services.stories_bulk_create` and story fields
(description, labels, ...) on their branch; until those exist we fall back to what the Story
model has, and keep description and labels on delivery's StoryImportRef. Every function here
checks what is there at run time, so the code keeps working after the branches are merged.
"""

from django.utils import timezone

from backlog.models import Story
from backlog.signals import story_status_changed


def _story_field_names() -> set[str]:
    return {f.name for f in Story._meta.get_fields()}


def _backlog_bulk_create():
    try:
        from backlog import services as backlog_services
    except ImportError:
        return None
    return getattr(backlog_services, "stories_bulk_create", None)


def create_stories(*, actor, product, rows: list[dict]) -> list:
    """Create stories from dicts (title, description, status, points, epic_id, assignee_id,
    labels, acceptance_criteria). Uses the backlog's service when it exists (it sends
    story_status_changed per story); otherwise one bulk INSERT plus one bulk INSERT of the
    status events the signal would have recorded."""
    bulk = _backlog_bulk_create()
    if bulk is not None:
        return bulk(actor=actor, product=product, stories=rows)
    names = _story_field_names()
    base = ("title", "status", "points", "epic_id", "assignee_id")
    extra = [f for f in ("description",) if f in names]
    stories = Story.objects.bulk_create(
        [Story(product=product, **{k: row.get(k) for k in base + tuple(extra)}) for row in rows],
        batch_size=1000,
    )
    from .models import StoryStatusEvent

    now = timezone.now()
    StoryStatusEvent.objects.bulk_create(
        [StoryStatusEvent(product_id=product.id, story_id=s.id, old_status=None, new_status=s.status, at=now)
         for s in stories], batch_size=1000)
    return stories


def set_status(*, story, status: str, at=None) -> None:
    """Change a story's status and announce it, as backlog's services do (used by delivery's
    tests and the demo until backlog's own service is merged)."""
    old = story.status
    if old == status:
        return
    story.status = status
    Story.objects.filter(pk=story.pk).update(status=status)
    story_status_changed.send(sender=Story, story=story, old_status=old, new_status=status,
                              at=at or timezone.now())


def announce_created(*, story, at=None) -> None:
    story_status_changed.send(sender=Story, story=story, old_status=None, new_status=story.status,
                              at=at or timezone.now())


def description_of(story) -> str:
    value = getattr(story, "description", None)
    if isinstance(value, str):
        return value
    ref = getattr(story, "import_ref", None) if _has_ref(story) else None
    return ref.description if ref else ""


def labels_of(story) -> list[str]:
    value = getattr(story, "labels", None)
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value is not None and hasattr(value, "all"):
        return [getattr(label, "name", str(label)) for label in value.all()]
    ref = getattr(story, "import_ref", None) if _has_ref(story) else None
    return list(ref.labels) if ref else []


def key_of(story) -> str:
    ref = getattr(story, "import_ref", None) if _has_ref(story) else None
    return (ref.key if ref and ref.key else "") or f"S-{story.pk}"


def _has_ref(story) -> bool:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return story.import_ref is not None
    except ObjectDoesNotExist:
        return False


def workflow_statuses(product=None) -> list[tuple[str, str]]:
    """Workflow statuses of a product (backlog may add per-product workflows later)."""
    from backlog import models as backlog_models

    workflow_for = getattr(backlog_models, "workflow_for", None)
    if workflow_for is not None and product is not None:
        return list(workflow_for(product))
    return list(backlog_models.DEFAULT_WORKFLOW)


def done_statuses() -> frozenset:
    from backlog import models as backlog_models

    return frozenset(getattr(backlog_models, "DONE_STATUSES", {"done"}))
