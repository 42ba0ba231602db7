"""Django form fields bounded by pmhub.bounds, for every page form
(`from pmhub import formfields as bounded`; `bounded.DateField(...)`); the API's twins are in
pmhub.api.fields. tests/core/test_bounds.py walks every form and fails on a plain one.
"""

from django import forms
from django.db import models

from . import bounds


class DateField(forms.DateField):
    default_validators = [bounds.validate_date]


class DateTimeField(forms.DateTimeField):
    default_validators = [bounds.validate_date]

    def to_python(self, value):
        try:
            return super().to_python(value)
        except OverflowError:
            raise forms.ValidationError(bounds.DATE_RANGE_MESSAGE,
                                        code="date_range") from None


class IntegerField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", bounds.INT_MIN)
        kwargs.setdefault("max_value", bounds.INT_MAX)
        super().__init__(**kwargs)


class FloatField(forms.FloatField):
    default_validators = [bounds.validate_number]


class DecimalField(forms.DecimalField):
    default_validators = [bounds.validate_number]


BOUNDED = (DateField, DateTimeField, IntegerField, FloatField, DecimalField)
PLAIN = (forms.DateField, forms.DateTimeField, forms.IntegerField, forms.FloatField, forms.DecimalField)


_FOR_MODEL_FIELD = [(models.DateTimeField, DateTimeField), (models.DateField, DateField),
                    (models.DecimalField, DecimalField), (models.FloatField, FloatField)]


def formfield(model_field, **kwargs):
    """A ModelForm's `Meta.formfield_callback` (wrapped in staticmethod): the bounded form field
    for dates and numbers (integer columns already carry their range from the model)."""
    for model_class, form_class in _FOR_MODEL_FIELD:
        if isinstance(model_field, model_class):
            kwargs.setdefault("form_class", form_class)
            break
    return model_field.formfield(**kwargs)
