"""The `control` filter and the form printer build plain <input>s and <textarea>s in Python: the
same HTML as Django's widget templates (BoundField.as_widget and str(field)), for every input kind
our forms use, unbound and bound, with hostile values and attributes (decision 2222)."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.utils.safestring import mark_safe

from pmhub.templatetags.pmhub import _printable_input, control, control_attrs, field_html


class DateInput(forms.DateInput):
    input_type = "date"


class Sample(forms.Form):
    text = forms.CharField(max_length=20, help_text="Say <it>")
    optional = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": 'a "b" & <c>',
                                                                            "autofocus": True, "off": False}))
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    number = forms.DecimalField(max_digits=8, decimal_places=2, required=False)
    whole = forms.IntegerField(min_value=0, initial=3)
    day = forms.DateField(widget=DateInput, required=False, initial=datetime.date(2026, 12, 5))
    plain_day = forms.DateField(required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    secret = forms.CharField(widget=forms.PasswordInput, required=False)
    hidden = forms.IntegerField(widget=forms.HiddenInput, required=False, initial=7)
    off = forms.CharField(disabled=True, required=False, initial="x & y")
    safe = forms.CharField(required=False, initial=mark_safe("<b>safe</b>"))


DATA = [None,
        {"text": '<script>alert("x")</script>', "optional": "", "email": "not an address", "url": "x",
         "number": "12.345", "whole": "-1", "day": "2026-02-30", "plain_day": "05/12/2026",
         "notes": "line one\n<b>two</b> & 'three'", "secret": "s3cr&t", "hidden": "abc", "safe": "<i>"},
        {"text": "fine", "whole": "4", "number": Decimal("1.50"), "notes": "", "day": "2026-12-05"}]


@pytest.mark.parametrize("data", DATA)
def test_fast_inputs_are_what_django_renders(data):
    form = Sample(data)
    if data:
        form.is_valid()
    for name in Sample.base_fields:
        field = form[name]
        # PasswordInput has a context of its own (render_value): Django renders it.
        assert _printable_input(field.field.widget) == (name != "secret"), name
        assert str(control(field)) == str(field.as_widget(attrs=control_attrs(field))), name


@pytest.mark.parametrize("data", DATA)
def test_a_hidden_field_prints_what_str_of_it_prints(data):
    form = Sample(data)
    if data:
        form.is_valid()
    assert field_html(form["hidden"]) == f"\n{form['hidden']}\n"


def test_widgets_with_their_own_rendering_keep_django_s():
    class Own(forms.TextInput):
        template_name = "custom/input.html"

    for widget in (Own(), forms.CheckboxInput(), forms.ClearableFileInput(), forms.FileInput(),
                   forms.Select(), forms.SplitDateTimeWidget(), forms.MultipleHiddenInput()):
        assert not _printable_input(widget), widget


@pytest.mark.django_db
def test_the_kpi_page_forms_print_what_django_renders(workspace, editor):
    from metrics.forms import KpiForm, MeasurementForm
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name="P")
    forms_ = [KpiForm(product=product, initial={"name": "<K>", "version": 3, "target_value": Decimal("2.5")}),
              KpiForm({"name": "", "target_value": "x", "target_date": "2026-13-01", "description": "<b>"},
                      product=product),
              MeasurementForm(), MeasurementForm({"period": "nope", "value": "1e999"})]
    for form in forms_:
        if form.is_bound:
            form.is_valid()
        for field in form:
            if _printable_input(field.field.widget):
                assert str(control(field)) == str(field.as_widget(attrs=control_attrs(field))), field.name
