"""One error format for the whole API:

    {"detail": "<summary>", "code": "<machine code>", "errors": {"field": ["message", ...]}}

Django ValidationError raised by services becomes a 400 with field errors; Conflict a 409
with the current state; Http404/PermissionDenied the usual 404/403; a number too large for the
database driver (OverflowError) a 400; a unique-constraint violation (a race between identical
creates) the 400 a duplicate gets (pmhub.integrity).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import Conflict
from ..integrity import is_unique_violation, unique_violation_errors


def _django_errors(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {field: [m for e in errs for m in e.messages] for field, errs in exc.error_dict.items()}
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        return Response(
            {"detail": exc.message, "code": "conflict", "errors": {}, "current": exc.current},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        exc = DRFValidationError(_django_errors(exc))
    elif isinstance(exc, Http404):  # converted here (not only inside DRF) so the code is "not_found"
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, IntegrityError) and is_unique_violation(exc):
        # Two identical creates at the same moment: the loser is answered like a single duplicate
        # (a 400), not with a 500. Services that check first give their own message through
        # pmhub.integrity.duplicate_as; this is the net under every other write.
        exc = DRFValidationError(unique_violation_errors(exc))
    elif isinstance(exc, OverflowError):
        # An id or number beyond 64 bits reached the database driver (SQLite refuses to bind it;
        # PostgreSQL simply matches nothing): the input is out of range, not a server error.
        exc = DRFValidationError({"non_field_errors": ["A number in the request is out of range."]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, DRFValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": "Invalid input.", "code": "invalid", "errors": errors}
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else data
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": str(code), "errors": {}}
    return response
