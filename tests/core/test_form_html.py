"""`{% form_html form %}` (pmhub/templatetags/pmhub.py, decision 2052) prints what
`{% include "_form.html" %}` and its `_field.html` printed, byte for byte: the old templates are
kept here as text and both renderings of the same forms are compared, unbound and bound with
errors (field and non-field), hidden, checkbox, select, multiple choice (few and many options),
text, date, number, file fields, help texts, labels with characters autoescape changes."""

import pytest
from django import forms
from django.template import engines

from delivery.forms import IterationForm, UploadForm
from metrics.forms import KpiForm, MeasurementForm
from metrics.forms import UploadForm as KpiUploadForm

pytestmark = pytest.mark.django_db

OLD_FIELD = '{% load pmhub %}{% comment %}One form field, the one pattern every form uses: label, control, help, error in words right under it.\nA multiple choice renders as a searchable check list (never a Ctrl-click list box).\nUsage: {% include "_field.html" with field=form.title %}{% endcomment %}\n{% if field.is_hidden %}{{ field }}{% else %}\n<div class="field{% if field.errors %} has-error{% endif %}">\n{% if field.field.widget.allow_multiple_selected or field.widget_type == "checkboxselectmultiple" %}\n  <fieldset>\n    <legend>{{ field.label }}</legend>\n    {% if field.field.choices|length > 8 %}<input type="search" class="check-filter" placeholder="Filter {{ field.label|lower }}…" aria-label="Filter {{ field.label|lower }}" data-check-filter="#checks-{{ field.auto_id }}">{% endif %}\n    <div class="check-list" id="checks-{{ field.auto_id }}">\n      {% check_boxes field %}\n    </div>\n  </fieldset>\n{% elif field.widget_type == "checkbox" %}\n  <label for="{{ field.id_for_label }}">{{ field|control }} {{ field.label }}</label>\n{% else %}\n  <label for="{{ field.id_for_label }}">{{ field.label }}</label>\n  {{ field|control }}\n{% endif %}\n  {% if field.help_text %}<small id="{{ field.auto_id }}_helptext">{{ field.help_text|safe }}</small>{% endif %}\n  {% if field.errors %}<ul class="errorlist" id="{{ field.auto_id }}_error">{% for e in field.errors %}<li>{{ e }}</li>{% endfor %}</ul>{% endif %}\n</div>\n{% endif %}\n'
OLD_FORM = '{% comment %}Render a Django form: errors that belong to no field first, then each field through _field.html.{% endcomment %}\n{% if form.non_field_errors %}<ul class="errorlist" role="alert">{% for e in form.non_field_errors %}<li>{{ e }}</li>{% endfor %}</ul>{% endif %}\n{% if form.errors %}<p class="visually-hidden" role="alert">{{ form.errors|length }} field{{ form.errors|length|pluralize }} need{{ form.errors|length|pluralize:"s," }} attention.</p>{% endif %}\n{% for field in form %}{% include "_field.html" with field=field %}{% endfor %}\n'

HOSTILE = '<b>"x" & \'y\'</b>'


class Everything(forms.Form):
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=HOSTILE, help_text="Use <em>words</em>.", max_length=5)
    flag = forms.BooleanField(required=False, label="Flag " + HOSTILE)
    pick = forms.ChoiceField(choices=[("a", HOSTILE), ("b", "B")])
    few = forms.MultipleChoiceField(choices=[("1", "One"), ("2", HOSTILE)], required=False)
    many = forms.MultipleChoiceField(choices=[(str(i), f"O{i}") for i in range(12)], label="Many " + HOSTILE,
                                     widget=forms.CheckboxSelectMultiple)
    when = forms.DateField(required=False)
    amount = forms.DecimalField(required=False)

    def clean(self):
        raise forms.ValidationError(["Whole form " + HOSTILE, "Second"])


def _old(form) -> str:
    template = engines["django"].from_string(
        "{% load pmhub %}" + OLD_FORM.replace('{% include "_field.html" with field=field %}', OLD_FIELD))
    return template.render({"form": form})


def _new(form) -> str:
    return engines["django"].from_string("{% load pmhub %}{% form_html form %}").render({"form": form})


@pytest.mark.parametrize("data", [None, {"title": "far too long " + HOSTILE, "pick": "zz", "many": ["1", "2"],
                                         "when": "nope", "amount": "x"}, {"title": "ok", "pick": "a", "many": ["3"]}])
def test_a_form_of_every_kind_is_printed_as_before(data):
    form = Everything(data) if data is not None else Everything(initial={"few": ["2"], "hidden": HOSTILE})
    if data is not None:
        form.is_valid()
    assert _new(form) == _old(form)
    assert 'class="check-filter"' in _new(form) and "<legend>" in _new(form)


def test_the_kpi_pages_forms_are_printed_as_before(workspace, editor):
    from tests.metrics.factories import KpiFactory, ProductFactory

    product = ProductFactory(workspace=workspace)
    kpi = KpiFactory(product=product, owner=editor)
    forms_ = [KpiForm(product=product, initial={"name": kpi.name, "owner": editor.id}),
              KpiForm({"name": "", "target_value": "x"}, product=product), MeasurementForm(), KpiUploadForm(),
              MeasurementForm({"period": "bad", "value": ""}), IterationForm(), UploadForm()]
    for form in forms_:
        if form.is_bound:
            form.is_valid()
        assert _new(form) == _old(form)


def test_the_iteration_pages_form_is_printed_as_before():
    """delivery/iteration.html prints its form with `{% form_html %}` (decision 2133)."""
    from datetime import date

    initial = {"name": HOSTILE, "goal": HOSTILE, "start_date": date(2026, 12, 1), "end_date": date(2026, 12, 14),
               "capacity_points": 30}
    bound = IterationForm({"name": "", "goal": HOSTILE * 40, "start_date": "later", "end_date": "2026-12-14",
                           "capacity_points": "-1"})
    bound.is_valid()
    for form in (IterationForm(initial=initial), bound):
        assert _new(form) == _old(form)
    assert "&lt;b&gt;" in _new(IterationForm(initial=initial))


def test_the_adoption_pages_form_is_printed_as_before(workspace):
    """adoption/adoption.html prints its feature form with `{% form_html %}` (decision 2133)."""
    from adoption.forms import FeatureForm
    from tests.metrics.factories import KpiFactory, ProductFactory

    product = ProductFactory(workspace=workspace)
    KpiFactory(product=product, name=HOSTILE)
    bound = FeatureForm({"key": "bad key " + HOSTILE, "name": HOSTILE, "target_percent": "120", "kpi": "x"},
                        product=product)
    bound.is_valid()
    for form in (FeatureForm(product=product), bound):
        assert _new(form) == _old(form)
    assert "&lt;b&gt;" in _new(bound)
