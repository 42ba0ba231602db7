"""Receivers of other apps' domain events: record facts only, no slow work."""

from django.utils import timezone


def record_status_event(sender, *, story, old_status, new_status, at=None, **kwargs):
    """Append to the status history that burn charts and velocity read (docs/decisions/0501)."""
    from .models import StoryStatusEvent

    StoryStatusEvent.objects.create(product_id=story.product_id, story_id=story.pk, old_status=old_status,
                                    new_status=new_status, at=at or timezone.now())
