"""Dates and numbers bounded in one place (pmhub.bounds): every writable date, datetime and
number field of every serializer and form is one of the bounded fields, and the bounds hold."""

import contextlib
import importlib
from datetime import date, datetime
from decimal import Decimal

import pytest
from django import forms
from django.apps import apps
from rest_framework import serializers

from pmhub import bounds, formfields
from pmhub.api import fields as api_fields

APPS = ("pmhub", "roadmaps", "backlog", "delivery", "metrics", "adoption", "reports")


def _import_all():
    for app in APPS:
        for module in ("forms", "api.serializers", "api.views", "views"):
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"{apps.get_app_config(app).name}.{module}")


def _subclasses(base):
    seen, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return [c for c in seen if c.__module__.split(".")[0] in APPS]


def _serializer_fields(cls):
    try:
        return cls().fields
    except Exception:  # needs context or arguments to build: its declared fields are what it writes
        return cls._declared_fields


def _plain(field, bounded, plain) -> bool:
    return isinstance(field, plain) and not isinstance(field, bounded)


def test_every_writable_date_and_number_field_of_the_api_is_bounded():
    _import_all()
    plain = []
    for cls in _subclasses(serializers.Serializer):
        for name, field in _serializer_fields(cls).items():
            fields = [field, getattr(field, "child", None)]
            if not field.read_only and any(_plain(f, api_fields.BOUNDED, api_fields.PLAIN) for f in fields):
                plain.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert not plain, f"Use pmhub.api.fields (bounded.DateField, ...) for: {plain}"


def test_every_date_and_number_field_of_the_forms_is_bounded():
    _import_all()
    plain = []
    for cls in _subclasses(forms.BaseForm):
        for name, field in cls.base_fields.items():
            if _plain(field, formfields.BOUNDED, formfields.PLAIN) and not _model_bounded(field):
                plain.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert not plain, f"Use pmhub.formfields (bounded.DateField, ...) for: {plain}"


def _model_bounded(field) -> bool:
    """A ModelForm integer field carries its column's range from the model (Django adds it)."""
    return isinstance(field, forms.IntegerField) and field.max_value is not None and field.min_value is not None


@pytest.mark.parametrize("value,ok", [
    (date(1900, 1, 1), True), (date(2200, 12, 31), True), (date(1899, 12, 31), False), (date(9999, 12, 31), False),
    (datetime(2201, 1, 1), False), (datetime(2026, 12, 5, 12), True),
])
def test_date_bounds(value, ok):
    assert (bounds.date_error(value) is None) is ok


@pytest.mark.parametrize("value,ok", [
    (10**12, True), (10**12 + 1, False), (-(10**12) - 1, False), (1e308, False), (float("nan"), False),
    (float("inf"), False), (Decimal("Infinity"), False), (Decimal("1.5"), True), (True, True),
])
def test_number_bounds(value, ok):
    assert (bounds.number_error(value) is None) is ok


def test_api_fields_refuse_out_of_range_input_and_accept_the_range():
    assert api_fields.DateField().run_validation("2200-12-31") == date(2200, 12, 31)
    assert api_fields.IntegerField().run_validation(2**31 - 1) == 2**31 - 1
    for field, value in [(api_fields.DateField(), "9999-12-31"), (api_fields.IntegerField(), 2**40),
                         (api_fields.DateTimeField(), "9999-12-31T23:00:00-12:00"),
                         (api_fields.FloatField(), "1e308"), (api_fields.FloatField(), "nan")]:
        with pytest.raises(serializers.ValidationError):
            field.run_validation(value)


def test_form_fields_refuse_out_of_range_input_and_accept_the_range():
    assert formfields.DateField().clean("2026-12-05") == date(2026, 12, 5)
    for field, value in [(formfields.DateField(), "9999-12-31"), (formfields.IntegerField(), str(2**40)),
                         (formfields.DecimalField(), "1e308")]:
        with pytest.raises(forms.ValidationError):
            field.clean(value)


def test_clamp_and_add_days_survive_the_ends_of_the_calendar():
    assert bounds.clamp_date(date(9999, 12, 31)) == bounds.DATE_MAX
    assert bounds.clamp_date(date(1, 1, 1)) == bounds.DATE_MIN
    assert bounds.add_days(date(9999, 12, 30), 10) == date.max
    assert bounds.add_days(date(2026, 1, 1), 1) == date(2026, 1, 2)
