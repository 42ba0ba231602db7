"""Unique-constraint conflicts answered like the check that normally catches them.

A service checks "already exists?" and then inserts. Two identical requests at the same moment
both pass the check; the database's unique constraint stops the second insert with an
IntegrityError, which nothing caught: the loser got a 500 where a single duplicate gets a 400.

- In a service, wrap the insert so the loser gets exactly the single duplicate's error:

      if Feature.objects.filter(product=product, key=key).exists():
          raise ValidationError(DUPLICATE)
      with duplicate_as(DUPLICATE):
          feature = Feature.objects.create(...)

- Everywhere else, the API's exception handler (pmhub.api.exceptions) turns any unique
  violation into a 400 naming the constraint's fields (`unique_violation_errors`).
"""

from contextlib import contextmanager

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


def is_unique_violation(exc: BaseException) -> bool:
    cause = getattr(exc, "__cause__", None)
    code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if code is not None:
        return code == UNIQUE_VIOLATION
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc)  # SQLite


@contextmanager
def duplicate_as(errors):
    """Run the block in a savepoint; a unique violation inside becomes ValidationError(errors)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise ValidationError(errors) from None


def _model_of_table(table: str):
    return next((m for m in apps.get_models() if m._meta.db_table == table), None)


def _constraint_fields(model, name: str) -> list[str]:
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.name == name:
            return list(constraint.fields)
    for field in model._meta.concrete_fields:
        if field.unique and name.startswith(f"{model._meta.db_table}_{field.column}"):
            return [field.name]
    return []


def unique_violation_errors(exc: IntegrityError) -> dict:
    """Field errors for a unique violation: {last field of the rule: ["... already exists."]}.

    The last field of a rule such as (product, key) is the one a person chose; the others say
    where (a product, a KPI)."""
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    model = _model_of_table(getattr(diag, "table_name", "") or "")
    fields = _constraint_fields(model, getattr(diag, "constraint_name", "") or "") if model else []
    if not fields:
        return {"non_field_errors": ["This already exists."]}
    names = " and ".join(str(model._meta.get_field(f).verbose_name) for f in fields)
    return {fields[-1]: [f"A {model._meta.verbose_name} with this {names} already exists."]}
