"""Receivers of other apps' domain events: record facts only, no slow work."""

from django.utils import timezone


def record_status_event(sender, *, story, old_status, new_status, at=None, **kwargs):
    """Append to the status history that burn charts and velocity read (docs/decisions/0501)."""
    from pmhub.sqlbatch import insert_soon

    from .models import StoryStatusEvent

    # With the writer's own statements when it collects them (backlog's story create, decision 1960).
    insert_soon(StoryStatusEvent(product_id=story.product_id, story_id=story.pk, old_status=old_status,
                                 new_status=new_status, at=at or timezone.now()))


def record_created_stories(sender, *, stories, at=None, **kwargs):
    """A bulk creation (import): the initial status of every story, in one insert."""
    from .models import StoryStatusEvent

    at = at or timezone.now()
    StoryStatusEvent.objects.bulk_create(
        [StoryStatusEvent(product_id=s.product_id, story_id=s.pk, old_status=None, new_status=s.status, at=at)
         for s in stories], batch_size=1000)
