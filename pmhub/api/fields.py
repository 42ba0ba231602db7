"""DRF fields bounded by pmhub.bounds: every date, datetime and number an API client sends goes
through one of these (`from pmhub.api import fields as bounded`; `bounded.DateField(...)`).
tests/core/test_bounds.py walks every serializer and fails on a plain DRF one.

Integers default to PostgreSQL's `integer` range unless the field states tighter bounds (ids
included: every table's ids count up from 1, two billion rows away from that bound).
"""

from rest_framework import serializers

from .. import bounds


class _Bounded:
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        message = bounds.date_error(value) if self.bound == "date" else bounds.number_error(value)
        if message:
            raise serializers.ValidationError(message, code="out_of_range")
        return value


class DateField(_Bounded, serializers.DateField):
    bound = "date"


class DateTimeField(_Bounded, serializers.DateTimeField):
    bound = "date"

    def to_internal_value(self, value):
        # A far datetime with an offset overflowed while being made aware (OverflowError: 500).
        try:
            return super().to_internal_value(value)
        except OverflowError:
            raise serializers.ValidationError(bounds.DATE_RANGE_MESSAGE,
                                              code="out_of_range") from None


class IntegerField(_Bounded, serializers.IntegerField):
    bound = "number"

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):  # output is not validated: no bounds to promise in the schema
            kwargs.setdefault("min_value", bounds.INT_MIN)
            kwargs.setdefault("max_value", bounds.INT_MAX)
        super().__init__(**kwargs)


class FloatField(_Bounded, serializers.FloatField):
    bound = "number"


class DecimalField(_Bounded, serializers.DecimalField):
    bound = "number"


BOUNDED = (DateField, DateTimeField, IntegerField, FloatField, DecimalField)
PLAIN = (serializers.DateField, serializers.DateTimeField, serializers.IntegerField, serializers.FloatField,
         serializers.DecimalField)


def use_in_model_serializers():
    """Make every ModelSerializer build these for its model's dates and numbers (called once, in
    PmhubConfig.ready), so a serializer generated from a model is bounded like a declared one.
    DRF documents `serializer_field_mapping` as the hook for this; we set it on the base class
    because every serializer of the project should get it."""
    from django.db import models

    serializers.ModelSerializer.serializer_field_mapping.update({
        models.DateField: DateField, models.DateTimeField: DateTimeField,
        models.IntegerField: IntegerField, models.PositiveIntegerField: IntegerField,
        models.PositiveSmallIntegerField: IntegerField, models.SmallIntegerField: IntegerField,
        models.BigIntegerField: IntegerField, models.PositiveBigIntegerField: IntegerField,
        models.FloatField: FloatField, models.DecimalField: DecimalField,
    })
