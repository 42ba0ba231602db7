"""The backlog rows printed by Python (backlog/rowhtml.py, decision 2041) are what the templates
printed before, byte for byte: the old templates are kept here as text and both renderings of the
same rows are compared, for every column shown and hidden, editable or not, every custom field
type, every grouping, titles and values with every character autoescape changes, and numbers that
localization formats."""


import pytest
from django.template import engines
from django.test import override_settings

from backlog import selectors
from backlog.models import CustomField, Epic, Story
from backlog.rowhtml import BacklogRows
from backlog.views import BASE_COLUMNS
from pmhub.utils import reverse_prefix

from .factories import make_stories

pytestmark = pytest.mark.django_db

# backlog/_row.html and the loop of backlog/_rows.html before decision 2041.
OLD_ROW = '{% load pmhub %}<tr id="story-{{ story.id_text }}" class="story-row" data-story-id="{{ story.id_text }}" data-live-item="story:{{ story.id_text }}" data-move-url="{{ stories_url }}{{ story.id_text }}/move/" tabindex="0" data-testid="story-row">\n  <td>{% if can_edit %}<input type="checkbox" name="ids" value="{{ story.id_text }}" form="bulk-form" aria-label="Select {{ story.title }}">{% endif %}</td>\n  <td class="drag-cell">{% if can_edit %}<span class="drag-handle" title="Drag to reorder (or Alt+↑/↓)" aria-hidden="true">{% icon "drag" %}</span>{% endif %}</td>\n  <td class="title-cell"><a href="{{ stories_url }}{{ story.id_text }}/" data-testid="story-title">{{ story.title }}</a>\n    {% if "labels" in columns %}{% for label in story.labels %} <span class="tag">{{ label }}</span>{% endfor %}{% endif %}</td>\n  {% if "epic" in columns %}<td>{{ story.epic.title|default:"—" }}</td>{% endif %}\n  {% if "status" in columns %}<td>{% if can_edit %}<input type="hidden" name="version" value="{{ story.version_text }}">\n    <select name="status" aria-label="Status of {{ story.title }}" hx-post="{{ stories_url }}{{ story.id_text }}/row/" hx-trigger="change" hx-include="closest tr" hx-target="closest tr" hx-swap="outerHTML">\n      {% select_options status_choices story.status %}\n    </select>{% else %}{{ status_labels|get_item:story.status|default:story.status }}{% endif %}</td>{% endif %}\n  {% if "points" in columns %}<td>{{ story.points_text|default:"—" }}</td>{% endif %}\n  {% if "assignee" in columns %}<td>{{ story.assignee|default:"—" }}</td>{% endif %}\n  {% if "score" in columns %}<td data-testid="story-score">{{ story.score|num }}</td>{% endif %}\n  {% for f in shown_fields %}<td>{% with v=story.custom_values|get_item:f.key %}{% if v is None %}—{% elif f.type == "user" %}{{ member_names|get_item:v|default:v }}{% elif f.type == "multi_select" %}{{ v|join:", " }}{% elif f.type == "url" %}<a href="{{ v }}" rel="noopener nofollow">link</a>{% else %}{{ v }}{% endif %}{% endwith %}</td>{% endfor %}\n  <td>{% if can_edit %}<button type="button" class="link-button edit-button" hx-get="{{ stories_url }}{{ story.id_text }}/row/?edit=1" hx-target="closest tr" hx-swap="outerHTML" aria-label="Edit {{ story.title }}">{% icon "edit" %}Edit</button>{% endif %}</td>\n</tr>\n'
OLD_LOOP = '{% load pmhub %}{% for story in stories %}{% if group %}{% ifchanged %}{% if group == "epic" %}{% with g=story.epic.title|default:"No epic" %}<tr class="group-row"><th colspan="20" scope="rowgroup">{{ g }}</th></tr>{% endwith %}{% elif group == "status" %}<tr class="group-row"><th colspan="20" scope="rowgroup">{{ status_labels|get_item:story.status|default:story.status }}</th></tr>{% elif group == "assignee" %}<tr class="group-row"><th colspan="20" scope="rowgroup">{{ story.assignee|default:"Unassigned" }}</th></tr>{% else %}<tr class="group-row"><th colspan="20" scope="rowgroup">{{ story.custom_values|get_item:group_key|default:"—" }}</th></tr>{% endif %}{% endifchanged %}{% endif %}{% include "backlog/_row.html" %}{% endfor %}'

HOSTILE = '<script>alert("x")</script> & \'quotes\' ≤ “curly” 🚀'


def _old(context) -> str:
    template = engines["django"].from_string(OLD_LOOP.replace('{% include "backlog/_row.html" %}', OLD_ROW))
    return template.render(context)


def _old_row(context) -> str:
    return engines["django"].from_string(OLD_ROW).render(context)


@pytest.fixture
def world(product, admin, editor):
    types = ["text", "number", "single_select", "multi_select", "date", "user", "url"]
    for position, kind in enumerate(types):
        CustomField.objects.create(product=product, key=f"f_{kind}", label=f"F {kind}", type=kind, position=position,
                                   options=["a", "b"] if "select" in kind else [])
    epic = Epic.objects.create(product=product, title=HOSTILE)
    stories = make_stories(product, 6, actor=admin)
    Story.objects.filter(id=stories[0].id).update(
        title=HOSTILE, epic=epic, assignee=admin, points=0, score=1234567.891, labels=[HOSTILE, "ux"], status="done",
        custom_values={"f_text": HOSTILE, "f_number": 12345.5, "f_single_select": "a", "f_multi_select": ["a", "<b>"],
                       "f_date": "2026-12-05", "f_user": admin.id, "f_url": "https://example.com/?a=1&b=<2>"})
    Story.objects.filter(id=stories[1].id).update(
        epic=epic, points=8, score=0, custom_values={"f_user": 999999, "f_number": 0, "f_text": ""})
    Story.objects.filter(id=stories[2].id).update(assignee=editor, points=None, score=None, labels=[],
                                                  custom_values={"f_multi_select": "not a list"})
    Story.objects.filter(id=stories[3].id).update(status="no_longer_in_workflow", custom_values={})
    Story.objects.filter(id=stories[4].id).update(status="done", epic=epic)
    return product


def _context(product, *, can_edit, columns, group):
    fields = selectors.custom_fields_of(product)
    members = selectors.member_choices(product.workspace_id)
    workflow = selectors.settings_of(product).workflow
    stories = list(selectors.stories_for_backlog(product=product, params={}, fields=fields))
    if group == "epic":
        stories.sort(key=lambda s: s.epic_id or 0)
    return {
        "stories": selectors.with_texts(stories), "story": stories[0], "can_edit": can_edit, "columns": columns,
        "shown_fields": [f for f in fields if f"cf_{f.key}" in columns], "member_names": dict(members),
        "status_labels": {s["key"]: s["label"] for s in workflow},
        "status_choices": [(s["key"], s["label"]) for s in workflow], "group": group,
        "group_key": group[3:] if group.startswith("cf_") else "",
        "stories_url": reverse_prefix("backlog:story", {"ws": product.workspace.slug, "product_id": product.id},
                                      "story_id"),
    }


ALL = BASE_COLUMNS + [f"cf_f_{k}" for k in ("text", "number", "single_select", "multi_select", "date", "user", "url")]


@pytest.mark.parametrize("can_edit", [True, False])
@pytest.mark.parametrize("columns", [ALL, [], ["labels", "status"], ["epic", "points", "assignee", "score", "cf_f_user"]],
                         ids=["all", "none", "labels-status", "some"])
def test_rows_print_what_the_templates_printed(world, can_edit, columns):
    context = _context(world, can_edit=can_edit, columns=columns, group="")
    assert BacklogRows(context).rows(context["stories"]) == _old(context)
    for story in context["stories"]:
        one = {**context, "story": story}
        assert BacklogRows(one).row(story) == _old_row(one)


@pytest.mark.parametrize("group", ["epic", "status", "assignee", "cf_f_text", "cf_f_number", "cf_missing"])
def test_grouped_rows_print_what_the_templates_printed(world, group):
    context = _context(world, can_edit=True, columns=ALL, group=group)
    assert BacklogRows(context).rows(context["stories"]) == _old(context)


@override_settings(USE_THOUSAND_SEPARATOR=True, LANGUAGE_CODE="de")
def test_localized_numbers_print_as_the_template_printed_them(world):
    context = _context(world, can_edit=False, columns=ALL, group="cf_f_number")
    assert BacklogRows(context).rows(context["stories"]) == _old(context)


def test_the_page_the_next_rows_and_one_row_print_the_same_rows(client, world, admin):
    client.force_login(admin)
    base = f"/w/{world.workspace.slug}/products/{world.id}/backlog/"
    page = client.get(base).content.decode()
    story = Story.objects.filter(product=world).order_by("rank").first()
    row = client.get(f"{base}stories/{story.id}/row/").content.decode()
    assert row.strip() and row in page
    more = client.get(f"{base}rows/?offset=0").content.decode()
    assert row in more
