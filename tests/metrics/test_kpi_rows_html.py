"""The KPI page's measurement rows printed by Python (metrics.dashboard_html.measurement_rows, decision 2051)
are what the template loop printed before, byte for byte: the old loop is kept here as text and both
renderings of the same rows are compared, editable or not, empty or not, with values, sources and
URLs carrying every character autoescape changes."""

import pytest
from django.template import engines

from metrics.dashboard_html import measurement_rows

# The <tbody> loop of metrics/kpi_detail.html before decision 2051.
OLD_LOOP = '''{% for m in measurements %}<tr><td>{{ m.period }}</td><td class="num">{{ m.value }}</td><td>{{ m.source }}</td>
      {% if can_edit %}<td><form method="post" class="inline-form" action="{{ m.delete_url }}"><input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}"><button type="submit" class="link-button" aria-label="Delete value of {{ m.period }}">Delete</button></form></td>{% endif %}</tr>
    {% empty %}<tr><td colspan="4">No values yet.</td></tr>{% endfor %}'''

HOSTILE = '<script>alert("x")</script> & \'quotes\' ≤ “curly” 🚀'
ROWS = [
    {"period": "2026-12-05", "value": "€52,013", "source": "Manual", "delete_url": "/w/a/m/1/delete/"},
    {"period": HOSTILE, "value": HOSTILE, "source": HOSTILE, "delete_url": "/w/a&b/m/<2>/delete/?x=\"1\""},
    {"period": "2026-01-01", "value": "—", "source": "CSV upload", "delete_url": ""},
]


@pytest.mark.parametrize("can_edit", [True, False])
@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], []])
def test_rows_are_the_old_loop_byte_for_byte(rows, can_edit):
    token = "tok<en>&"
    old = engines["django"].from_string(OLD_LOOP).render(
        {"measurements": rows, "can_edit": can_edit, "csrf_token": token})
    assert measurement_rows(rows, can_edit=can_edit, csrf_token=token) == old
