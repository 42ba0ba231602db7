"""Abuse limits shared by every API endpoint.

`check_batch(items)` guards bulk endpoints (events, imports): more than
settings.API_MAX_BATCH_SIZE items is a 413 in the one error format, before any work is done.

    def create(self, request):
        events = check_batch(request.data.get("events", []))
"""

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


def check_batch(items, *, limit: int | None = None):
    """Return `items` unchanged, or raise a 413 when there are more than the batch limit."""
    limit = settings.API_MAX_BATCH_SIZE if limit is None else limit
    try:
        count = len(items)
    except TypeError:
        return items
    if count > limit:
        raise PayloadTooLarge(f"At most {limit} items per request; this one has {count}. Split it into batches.")
    return items
