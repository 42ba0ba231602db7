"""Domain errors that services raise; pages and the API turn them into responses.

Rule violations use Django's ValidationError (400 with field errors); tenancy uses Http404 and
PermissionDenied (see pmhub.access). A stale write raises Conflict (409 with current state).
"""


class Conflict(Exception):
    """An update named a version that is no longer current."""

    def __init__(self, message: str = "This object was changed by someone else.", current=None):
        super().__init__(message)
        self.message = message
        self.current = current or {}
