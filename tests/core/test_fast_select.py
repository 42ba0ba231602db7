"""The `control` filter builds a plain <select> in Python: the same HTML as Django's widget
templates (BoundField.as_widget), for every case a form of ours meets."""

import pytest
from django import forms

from pmhub.templatetags.pmhub import control, control_attrs


class Sample(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "A & B"), ("b", 'Quote " <b>')])
    optional = forms.ChoiceField(choices=[("", "—"), ("1", "One")], required=False, help_text="Pick one")
    grouped = forms.ChoiceField(choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("x", "X")])
    typed = forms.TypedChoiceField(choices=[(1, "One"), (2, "Two")], coerce=int, initial=2)
    styled = forms.ChoiceField(choices=[("a", "A")], widget=forms.Select(attrs={"class": "wide", "data-x": "1<2"}))


@pytest.mark.parametrize(
    "data", [None, {"plain": "b", "optional": "", "grouped": "pear", "typed": "1"}, {"plain": "zzz"}]
)
def test_fast_select_is_what_django_renders(data):
    form = Sample(data)
    if data:
        form.is_valid()
    for name in Sample.base_fields:
        field = form[name]
        fast = str(control(field))
        # The filter's own attributes (aria-describedby / aria-invalid), then Django's rendering.
        assert fast == str(field.as_widget(attrs=control_attrs(field))), name
        assert fast.startswith("<select")


@pytest.mark.django_db
def test_fast_select_of_a_model_choice_field(workspace, editor, viewer):
    from metrics.forms import KpiForm
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name="P")
    for form in (KpiForm(product=product), KpiForm({"owner": str(editor.pk)}, product=product)):
        form.is_valid()
        field = form["owner"]
        attrs = {"aria-describedby": f"{field.auto_id}_helptext"} if field.help_text else {}
        if field.errors:
            attrs = {
                "aria-invalid": "true",
                "aria-describedby": " ".join(
                    ([f"{field.auto_id}_helptext"] if field.help_text else []) + [f"{field.auto_id}_error"]
                ),
            }
        assert str(control(field)) == str(field.as_widget(attrs=attrs))
