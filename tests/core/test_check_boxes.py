"""`{% check_boxes %}` escapes its values and labels in one pass (decision 2222): the same HTML as
the one-call-per-text printer it replaced, kept here, for hostile, empty, NUL-holding and ticked
choices of every kind check_choices takes."""

from html import escape

import pytest
from django import forms

from pmhub.templatetags.pmhub import check_boxes, check_choices


def _old_check_boxes(field) -> str:
    items = check_choices(field.field.choices, field.value())
    if not items:
        return '<p class="muted">Nothing to choose from yet.</p>'
    name = escape(str(field.html_name))
    return "".join(f'<label><input type="checkbox" name="{name}" value="{escape(str(o["value"]))}"'
                   f'{" checked" if o["checked"] else ""}> {escape(str(o["label"]))}</label>' for o in items)


HOSTILE = [(1, '<script>alert("x")</script>'), (2, "Tom & Jerry's"), (3, ""), (4, "plain"),
           ("a&b", "value & label"), (6, "nul \x00 inside"), (7, "\x00"), (8, "ünïcødé ‹›")]


def _field(choices, data=None, name="links"):
    class F(forms.Form):
        links = forms.MultipleChoiceField(choices=choices, required=False)

    form = F(data) if data is not None else F(initial={"links": []})
    return form[name]


@pytest.mark.parametrize("choices", [HOSTILE, HOSTILE[:1], [], [(i, f"Item {i} <b>") for i in range(700)]])
@pytest.mark.parametrize("ticked", [[], ["1", "a&b"], ["7", "699"]])
def test_check_boxes_print_what_one_escape_per_text_printed(choices, ticked):
    field = _field(choices, data={"links": ticked} if ticked else None)
    assert str(check_boxes(field)) == _old_check_boxes(field)


def test_an_unbound_field_ticks_its_initial_values():
    class F(forms.Form):
        links = forms.MultipleChoiceField(choices=HOSTILE, required=False)

    field = F(initial={"links": [2, 6]})["links"]
    html = str(check_boxes(field))
    assert html == _old_check_boxes(field) and html.count(" checked>") == 2
