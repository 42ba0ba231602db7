"""Icons come from the installed Lucide package (pmhub/icons.py), inline, hidden from screen readers."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template import Context, Template

from pmhub.icons import ALIASES, UnknownIcon, icon_body, render_icon

TEMPLATES = Path(settings.BASE_DIR) / "templates"
USED = re.compile(r"""{%\s*icon\s+["']([a-z0-9-]+)["']""")


def _used_names():
    names = set()
    for path in TEMPLATES.rglob("*.html"):
        names |= set(USED.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_alias_and_every_icon_a_template_names_is_in_the_package():
    names = set(ALIASES) | _used_names()
    assert {"add", "edit", "delete", "drag", "share", "present", "export", "bell", "search", "menu", "user"} <= names
    for name in sorted(names):
        assert "<path" in icon_body(name) or "<circle" in icon_body(name) or "<line" in icon_body(name), name


def test_icons_are_served_from_our_static_files_not_a_cdn():
    found = finders.find("vendor/lucide/bell.svg")
    assert found and "node_modules" in found and "lucide-static" in found


def test_an_icon_is_inline_svg_hidden_from_screen_readers_with_an_optional_label():
    html = Template('{% load pmhub %}<button>{% icon "delete" label="Delete story" %}</button>').render(Context())
    assert html.startswith('<button><svg class="icon icon-delete"')
    assert 'aria-hidden="true"' in html and 'focusable="false"' in html and 'stroke="currentColor"' in html
    assert '<span class="visually-hidden">Delete story</span></button>' in html
    assert "<!--" not in html and "lucide-static" not in html  # the licence comment stays in the file


def test_the_label_is_escaped():
    assert "&lt;b&gt;" in render_icon("add", label="<b>")


@pytest.mark.parametrize("name", ["no-such-icon-here", "../../etc/passwd", "Bell"])
def test_an_unknown_or_odd_name_fails_loudly(name):
    with pytest.raises(UnknownIcon):
        icon_body(name)


def test_the_old_include_draws_the_package_icon():
    html = Template('{% include "_icon.html" with name="menu" %}').render(Context())
    assert 'class="icon icon-menu"' in html
