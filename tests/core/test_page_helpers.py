"""The page helpers of decision 1920: `{% select_options %}` (options in one pass, escaped) and
pmhub.utils.reverse_prefix (one reverse per page, ids appended per row)."""

from collections import namedtuple

import pytest
from django.template import Context, Template
from django.urls import reverse

from pmhub.templatetags.pmhub import select_options
from pmhub.utils import reverse_prefix

Row = namedtuple("Row", "id title")


class Person:
    def __init__(self, pk, name):
        self.id, self.name = pk, name

    def __str__(self):
        return self.name


def test_select_options_escapes_marks_the_chosen_one_and_takes_every_kind_of_choice():
    html = select_options([Row(1, "<b>Tom & “Jerry”</b>"), Row(2, "Two")], 2)
    assert html == ('<option value="1">&lt;b&gt;Tom &amp; “Jerry”&lt;/b&gt;</option>'
                    '<option value="2" selected>Two</option>')
    assert select_options([("a", "A"), ("b", 'B"')], "b") == '<option value="a">A</option><option value="b" selected>B&quot;</option>'
    assert select_options(["x", "y"]) == '<option value="x">x</option><option value="y">y</option>'
    assert select_options([Person(7, "Ada")], "7") == '<option value="7" selected>Ada</option>'  # typed text matches
    assert select_options(None) == ""
    rendered = Template('{% load pmhub %}<select>{% select_options rows chosen %}</select>').render(
        Context({"rows": [Row(1, "<script>")], "chosen": 1}))
    assert rendered == '<select><option value="1" selected>&lt;script&gt;</option></select>'


def test_reverse_prefix_is_the_url_up_to_its_last_argument():
    kwargs = {"ws": "acme", "product_id": 5}
    prefix = reverse_prefix("backlog:story", kwargs, "story_id")
    assert prefix + "123/" == reverse("backlog:story", kwargs={**kwargs, "story_id": 123})
    assert prefix + "123/move/" == reverse("backlog:move", kwargs={**kwargs, "story_id": 123})
    with pytest.raises(ValueError):
        reverse_prefix("backlog:story", {**kwargs, "story_id": 1}, "product_id")
