"""The `control` filter builds a plain <select> in Python: the same HTML as Django's widget
templates (BoundField.as_widget), for every case a form of ours meets."""

import pytest
from django import forms
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from pmhub.templatetags.pmhub import control, control_attrs


class Sample(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "A & B"), ("b", 'Quote " <b>')])
    optional = forms.ChoiceField(choices=[("", "—"), ("1", "One")], required=False, help_text="Pick one")
    grouped = forms.ChoiceField(choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("x", "X")])
    typed = forms.TypedChoiceField(choices=[(1, "One"), (2, "Two")], coerce=int, initial=2)
    styled = forms.ChoiceField(choices=[("a", "A")], widget=forms.Select(attrs={"class": "wide", "data-x": "1<2"}))


def _assert_every_select_is_djangos(form, data):
    """Each field's fast <select> equals Django's rendering with the filter's own attributes
    (aria-describedby / aria-invalid), on the form bound to `data` (validated when bound)."""
    if data:
        form.is_valid()
    for name in type(form).base_fields:
        field = form[name]
        fast = str(control(field))
        assert fast == str(field.as_widget(attrs=control_attrs(field))), name
        assert fast.startswith("<select")


@pytest.mark.parametrize(
    "data", [None, {"plain": "b", "optional": "", "grouped": "pear", "typed": "1"}, {"plain": "zzz"}]
)
def test_fast_select_is_what_django_renders(data):
    _assert_every_select_is_djangos(Sample(data), data)


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


HOSTILE = "<b>&\"'</b> ünï 🚀"


class Hostile(forms.Form):
    """Every kind of choice the one-pass printer meets (decision 2320): hostile and unicode values
    and labels, safe and lazy labels, None and integer values, a duplicated value, several chosen."""

    plain = forms.ChoiceField(choices=[(HOSTILE, HOSTILE), ("b", "B"), ("b", "B again")])
    safe = forms.ChoiceField(choices=[("s", mark_safe("<i>kept</i>")), (mark_safe("<v>"), "V")], required=False)
    lazy = forms.ChoiceField(choices=[("l", gettext_lazy("Lazy & label")), (None, "None value")], required=False)
    numbers = forms.TypedChoiceField(choices=[(1, "One"), (2, "Two"), (10, "Ten")], coerce=int, required=False)
    many = forms.MultipleChoiceField(choices=[(HOSTILE, "H"), ("x", "X"), ("y", HOSTILE)], required=False,
                                     widget=forms.SelectMultiple(attrs={"data-t": HOSTILE}))
    many_grouped = forms.MultipleChoiceField(choices=[("G <&>", [("a", "A"), ("b", "B")]), ("c", "C")],
                                             required=False, widget=forms.SelectMultiple)
    number_labels = forms.ChoiceField(choices=[("1", 1), ("2", 2.5)], required=False)
    disabled = forms.ChoiceField(choices=[("a", "A")], disabled=True, initial="a", required=False)


@pytest.mark.parametrize("data", [
    None,
    {"plain": HOSTILE, "safe": "<v>", "lazy": "", "numbers": "10", "many": [HOSTILE, "y"], "many_grouped": ["b", "c"],
     "number_labels": "2"},
    {"plain": "b", "numbers": "1", "many": ["x", "nope"]},
    {"plain": "nope", "safe": "zzz", "many": ["zzz"], "many_grouped": ["zzz"]},
])
def test_one_pass_select_is_what_django_renders_with_hostile_choices(data):
    form = Hostile(data, initial={"plain": "b", "many": ["x", HOSTILE]})
    _assert_every_select_is_djangos(form, data)
    assert "&lt;b&gt;&amp;&quot;&#x27;&lt;/b&gt; ünï 🚀" in str(control(form["plain"]))


def test_only_the_first_of_equal_values_is_selected_in_a_single_select():
    form = Hostile({"plain": "b"})
    form.is_valid()
    assert str(control(form["plain"])).count(" selected") == 1


def test_a_subclassed_select_keeps_djangos_path():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/select_option.html"

        def create_option(self, *args, **kwargs):
            option = super().create_option(*args, **kwargs)
            option["attrs"]["data-custom"] = "1"
            return option

    class F(forms.Form):
        pick = forms.ChoiceField(choices=[("a", "A")], widget=Custom)

    field = F()["pick"]
    assert 'data-custom="1"' in str(control(field))
