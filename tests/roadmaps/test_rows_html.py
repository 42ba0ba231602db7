"""The board's cards and the timeline's bars are printed in Python (roadmaps/rows.py, decision 1950)
with exactly the markup the template loops printed before: each case renders the old loop body (kept
here as it was in roadmaps/_board_cards.html and roadmaps/_timeline.html) and the new function on the
same row, and compares the bytes. Escaping included: a title with every character autoescape changes."""

from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils.safestring import mark_safe

from backlog.progress import EMPTY, Progress
from roadmaps import rows

OLD_CARD = """{% load pmhub %}{% for i in cards %}
      <li class="rm-card{% if can_edit %} rm-draggable{% endif %}" data-id="{{ i.id }}" data-live-item="initiative:{{ i.id }}" data-version="{{ i.version }}" data-rank="{{ i.rank }}"{% if can_edit %} data-move-url="{{ i.move_url }}"{% endif %}>
        <strong class="rm-card-title"><a href="{{ i.work_url }}">{{ i.title }}</a></strong>{% if i.risk_flags %} {% include "governance/_risk_flags.html" with flags=i.risk_flags %}{% endif %}{% if i.awaiting %} <span class="tag" data-testid="awaiting-approval">awaiting approval</span>{% endif %}
        <small class="muted">{{ i.status }}{% if i.owner %} · {{ i.owner }}{% endif %}{% for l in i.labels %} <span class="tag">{{ l }}</span>{% endfor %}</small>
        <small class="rm-card-dates" data-testid="card-dates">{{ i.dates }}</small>
        <div class="rm-card-progress">{% work_progress i.work i.work_label %}</div>
        {% if can_edit %}
        <form method="post" action="{{ i.move_url }}" class="rm-move-form"><input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}">
          <input type="hidden" name="version" value="{{ i.version }}"><input type="hidden" name="next" value="{{ next_path }}">
          <label class="visually-hidden" for="mv-{{ i.id }}">Move “{{ i.title }}” to</label>
          <select id="mv-{{ i.id }}" name="horizon">{{ i.options }}</select>
          <button type="submit" class="secondary outline">Move</button>
        </form>{% endif %}
      </li>
      {% endfor %}"""

OLD_LANE = """{% for i in lane.items %}
      <div class="rm-row">
        <div class="rm-lane-title">{% if forloop.first %}<strong>{{ lane.title }}</strong>{% endif %}</div>
        <div class="rm-track">
          {% with r=i.row %}<div class="rm-bar rm-status-{{ i.status }}{% if i.conflict %} rm-conflict{% endif %}" style="{{ r.style }}"
               data-id="{{ i.id }}" data-live-item="initiative:{{ i.id }}" data-title="{{ i.title }}" data-version="{{ i.version }}" data-start="{{ r.start_iso }}" data-end="{{ r.end_iso }}"
               {% if editable %}data-move-url="{{ r.move_url }}"{% endif %}
               title="{{ r.title_attr }}">
            {% if editable %}<a href="{{ r.edit_url }}" class="rm-bar-label" title="{{ i.title }}">{{ i.title }}<span class="visually-hidden">{{ r.hidden }}</span></a>{% else %}<span class="rm-bar-label" title="{{ i.title }}">{{ i.title }}<span class="visually-hidden">{{ r.hidden }}</span></span>{% endif %}{% endwith %}
            {% if i.conflict %}<span class="rm-flag" aria-label="dependency conflict">⚠</span>{% endif %}
            {% if i.risk_flags %}{% include "governance/_risk_flags.html" with flags=i.risk_flags %}{% endif %}
            {% if i.statement_status == "awaiting" %}<span class="rm-flag" data-testid="awaiting-approval" title="Business impact statement awaiting approval" aria-label="awaiting approval">⏳</span>{% endif %}
            {% with p=i.row.pct %}{% if p %}<span class="rm-pct" data-testid="work-progress" data-percent="{{ p.percent }}" title="{{ p.title }}">{{ p.percent }}%</span>{% endif %}{% endwith %}
          </div>
        </div>
      </div>
      {% endfor %}"""

# governance/_risk_flags.html as it was before pmhub's risk_flags tag printed it.
OLD_FLAGS = """{% comment %}Risks above appetite on one roadmap item or release: flags = [{id, title, score, appetite}] (governance.selectors.flags_for_*).{% endcomment %}{% if flags %}{% with top=flags.0 %}<span class="risk-flag" data-testid="risk-flag" title="{% for f in flags %}{{ f.title }} ({{ f.score }} &gt; {{ f.appetite }}){% if not forloop.last %}; {% endif %}{% endfor %}" aria-label="{{ flags|length }} risk{{ flags|length|pluralize }} above appetite, highest {{ top.score }} of appetite {{ top.appetite }}">⚑ {{ top.score }}&gt;{{ top.appetite }}{% if flags|length > 1 %} +{{ flags|length|add:"-1" }}{% endif %}</span>{% endwith %}{% endif %}
"""

NASTY = "Tom & \"Jerry\" <b>'x'</b>"
FLAGS = [{"id": 1, "title": "Vendor <late>", "score": 20, "appetite": 12},
         {"id": 2, "title": "Key & person", "score": 15, "appetite": 12}]


def _render(source, **context):
    return engines["django"].from_string(source).render(context)


def _card(**over):
    card = {"id": 12345, "title": "Onboarding", "version": 7, "rank": "1.500000", "horizon": "now",
            "move_url": "/w/acme/products/3/roadmap/initiatives/12345/move/",
            "work_url": "/w/acme/products/3/roadmap/initiatives/12345/work/", "risk_flags": [],
            "awaiting": False, "status": "Planned", "owner": "", "labels": [], "dates": "No dates yet · 50% confidence",
            "work": EMPTY, "work_label": "Progress of Onboarding", "options": rows.horizon_options()["now"]}
    return card | over


CARDS = [
    _card(),
    _card(title=NASTY, work_label=f"Progress of {NASTY}", owner="Ann <O'Hara>", labels=["growth", "a&b"],
          risk_flags=FLAGS, awaiting=True, work=Progress(3, 8, 1, 4), horizon="", options=rows.horizon_options()[""]),
    _card(risk_flags=FLAGS[:1], work=Progress(0, 0, 0, 2), dates="1 Jan 2027 – 9 Feb 2027 · 80% confidence"),
]


@pytest.mark.parametrize("can_edit", [True, False])
def test_board_cards_print_the_markup_of_the_old_template_loop(can_edit):
    next_path = "/w/acme/products/3/roadmap/board/?status=planned&label=<x>"
    old = _render(OLD_CARD, cards=CARDS, can_edit=can_edit, csrf_token="tok&en", next_path=next_path)
    new = rows.board_cards_html(CARDS, can_edit=can_edit, csrf_token="tok&en", next_path=next_path)
    assert str(new) == old
    assert "Tom &amp; &quot;Jerry&quot; &lt;b&gt;&#x27;x&#x27;&lt;/b&gt;" in new and "<b>" not in new


def _old_timeline_rows(lanes, *, workspace, product, next_path: str) -> None:
    """roadmaps.rows.timeline_rows as it was before decision 2311: the row dict OLD_LANE prints."""
    url = rows.urls(workspace, product)
    months = rows.month_names()
    for lane in lanes:
        for i in lane["items"]:
            start, end = rows.day(i.start_date, months), rows.day(i.end_date, months)
            i.row = {
                "style": mark_safe(f"left:{i.bar['left']:.3f}%;width:{i.bar['width']:.3f}%"),
                "start": start,
                "end": end,
                "start_iso": rows.iso(i.start_date),
                "end_iso": rows.iso(i.end_date),
                "title_attr": rows.bar_title(i, start, end),
                "move_url": url["initiative_move"](i.id),
                "edit_url": f"{url['initiative'](i.id)}?next={next_path}",
                "hidden": f", {start} – {end}, {i.confidence}% confidence",
                "pct": None,
            }
            if i.work.ratio is not None:
                w = i.work
                i.row["pct"] = {
                    "percent": w.percent,
                    "title": f"{w.done_points}/{w.total_points} points, {w.done_count}/{w.total_count} stories done",
                }


def _bar(n, **over):
    from datetime import date

    i = SimpleNamespace(id=100 + n, title=f"Initiative {n}", status="planned", version=n, conflict=False,
                        start_date=date(2027, 1, n), end_date=date(2027, 2, 9), confidence=50, work=EMPTY,
                        blockers=[], bar={"left": n + 0.12345, "width": 10.0})
    for key, value in over.items():
        setattr(i, key, value)
    return i


@pytest.mark.parametrize("editable", [True, False])
def test_timeline_bars_print_the_markup_of_the_old_row_dicts_and_template_loop(editable):
    from datetime import date

    blocker = SimpleNamespace(blocker_id=3, conflict=True)
    items = [
        _bar(1),
        _bar(2, title=NASTY, conflict=True, risk_flags=FLAGS, statement_status="awaiting", status="in_progress",
             blockers=[blocker, SimpleNamespace(blocker_id=4, conflict=False)], work=Progress(3, 8, 1, 4),
             confidence=80, end_date=date(2031, 12, 31)),
        _bar(3, risk_flags=[], statement_status="approved", work=Progress(0, 0, 0, 2), start_date=None),
        _bar(4, status="<x>&\"'", end_date=None, bar={"left": 0, "width": 99.99951}),
    ]
    del items[0].conflict  # a share page's bars carry no flags at all
    lane = {"title": "Grow <fast> & far", "items": items}
    other = {"title": "Nö objective ✓", "items": [_bar(5, title="Ünïcode “quoted” 'x'")]}
    workspace, product = SimpleNamespace(slug="acme"), SimpleNamespace(id=3)
    next_path = "%2Fw%2Facme%3Fa%3D1%26b%3D%3Cx%3E"
    _old_timeline_rows([lane, other], workspace=workspace, product=product, next_path=next_path)
    old = [_render(OLD_LANE, lane=x, editable=editable) for x in (lane, other)]
    rows.timeline_lanes([lane, other], workspace=workspace, product=product, next_path=next_path,
                        editable=editable)
    assert [str(lane["html"]), str(other["html"])] == old
    assert "Grow &lt;fast&gt; &amp; far" in lane["html"] and "<b>" not in lane["html"]
    assert "rm-status-&lt;x&gt;&amp;&quot;&#x27;" in lane["html"] and "Ünïcode “quoted” &#x27;x&#x27;" in other["html"]
    assert "None" not in lane["html"] + other["html"]


@pytest.mark.parametrize("flags", [[], FLAGS[:1], FLAGS, FLAGS + [{"id": 3, "title": NASTY, "score": 13, "appetite": 12}]])
def test_the_risk_flag_prints_the_markup_of_the_old_template(flags):
    old = _render(OLD_FLAGS, flags=flags)
    assert _render('{% include "governance/_risk_flags.html" %}', flags=flags) == old
    if flags:
        assert rows.risk_flags_html(flags) == old


# The header's columns and the release markers of roadmaps/_timeline.html before decision 2212.
OLD_COLUMNS = """{% for c in t.columns %}<span class="rm-col" style="left:{{ c.left|stringformat:'.3f' }}%;width:{{ c.width|stringformat:'.3f' }}%" title="{{ c.label }}">{{ c.label }}</span>{% endfor %}"""
OLD_MARKERS = """{% for m in t.release_markers %}<div class="rm-release-marker{% if m.release.kind == 'milestone' %} rm-milestone{% endif %}" style="left:{{ m.left|stringformat:'.3f' }}%" data-testid="release-marker"><span>{% if m.release.kind == 'milestone' %}◆{% else %}▲{% endif %} {{ m.release.name }}</span></div>{% endfor %}"""


@pytest.mark.parametrize("scale", ["month", "quarter"])
def test_timeline_columns_print_the_markup_of_the_old_template_loop(scale):
    from datetime import date

    from roadmaps import timeline as tl

    for start, end in ((date(2026, 1, 1), date(2026, 7, 1)), (date(2025, 11, 1), date(2028, 3, 1))):
        columns = tl.columns(start, end, scale)
        columns.append({"label": NASTY, "left": 0, "width": 12.3456})
        assert rows.timeline_columns_html(columns) == _render(OLD_COLUMNS, t={"columns": columns})
    assert rows.timeline_columns_html([]) == _render(OLD_COLUMNS, t={"columns": []}) == ""


def test_release_markers_print_the_markup_of_the_old_template_loop():
    markers = [{"release": SimpleNamespace(kind=kind, name=name), "left": left}
               for kind, name, left in (("milestone", NASTY, 0.0), ("release", "v1.2", 33.3333), ("release", NASTY, 100),
                                        ("milestone", "", 7.5))]
    assert rows.release_markers_html(markers) == _render(OLD_MARKERS, t={"release_markers": markers})
    assert rows.release_markers_html([]) == ""


# roadmaps/_roadmap_header.html after its first line (the product menu's include), before decision 2313.
OLD_HEADER = """{% load pmhub %}<div class="page-header"><h1>{{ product.name }} roadmap</h1><span class="presence" data-presence-topic="roadmap:{{ product.id }}" data-testid="presence" hidden></span>
  <nav aria-label="Roadmap views" class="rm-views"><ul>
    <li><a href="{% url 'roadmaps:timeline' ws=workspace.slug product_id=product.id %}?{{ request.GET.urlencode }}"{% if view == 'timeline' %} aria-current="true"{% endif %}>Timeline</a></li>
    <li><a href="{% url 'roadmaps:board' ws=workspace.slug product_id=product.id %}?{{ request.GET.urlencode }}"{% if view == 'board' %} aria-current="true"{% endif %}>Now / Next / Later</a></li>
    <li><a href="{% url 'roadmaps:list' ws=workspace.slug product_id=product.id %}?{{ request.GET.urlencode }}"{% if view == 'list' %} aria-current="true"{% endif %}>List</a></li>
    <li><a href="{% url 'roadmaps:present' ws=workspace.slug product_id=product.id %}" data-testid="present-link">{% icon "present" %}Present</a></li>
    {% if can_edit %}<li><a href="{% url 'roadmaps:share_links' ws=workspace.slug product_id=product.id %}" data-testid="share-link">{% icon "share" %}Share</a></li>{% endif %}
    {% if can_edit %}<li><a href="{% url 'roadmaps:initiative_new' ws=workspace.slug product_id=product.id %}?next={{ request.get_full_path|urlencode }}" role="button">{% icon "add" %}New initiative</a></li>{% endif %}
  </ul></nav>
</div>
<details class="filters"{% if filters.current.objective or filters.current.status or filters.current.owner or filters.current.label %} open{% endif %}>
<summary>{% include "_icon.html" with name="filter" %} Filters</summary>
<form method="get" class="rm-filters" aria-label="Filters">
  {% for k, v in request.GET.items %}{% if k == 'group' or k == 'scale' %}<input type="hidden" name="{{ k }}" value="{{ v }}">{% endif %}{% endfor %}
  <label>Objective<select name="objective"><option value="">All</option>{% select_options filters.objectives filters.current.objective %}</select></label>
  <label>Status<select name="status"><option value="">All</option>{% for v, l in filters.statuses %}<option value="{{ v }}"{% if filters.current.status == v %} selected{% endif %}>{{ l }}</option>{% endfor %}</select></label>
  <label>Owner<select name="owner"><option value="">Anyone</option>{% select_options filters.owners filters.current.owner %}</select></label>
  <label>Label<input name="label" value="{{ filters.current.label }}" placeholder="e.g. growth"></label>
  <button type="submit">Filter</button>
</form>
</details>"""


@pytest.mark.parametrize("view", ["timeline", "board", "list", ""])
@pytest.mark.parametrize("can_edit", [True, False])
@pytest.mark.parametrize("query", ["", "group=owner&scale=quarter&status=<x>&label=a%26b%22'&owner=7&objective=2&x=<y>",
                                   "label=&scale=%3Cq%3E&group=%22&group=status"])
def test_the_roadmap_header_prints_the_markup_of_the_old_template(rf, view, can_edit, query):
    from pmhub.models import Role

    request = rf.get(f"/w/acme/products/3/roadmap/{view or 'timeline'}/?{query}")
    current = {k: request.GET.get(k, "") for k in ("objective", "status", "owner", "label")}
    filters = {"objectives": [(1, "Grow"), (2, NASTY), (3, "Ünïcode “x”")],
               "owners": [(7, "Ann <O'Hara>"), (8, "bob@acme.test"), (9, "Zoë & co")],
               "statuses": [("planned", "Planned"), ("<x>", "Odd & <b>'x'</b>")], "current": current}
    workspace, product = SimpleNamespace(slug="acme"), SimpleNamespace(id=3, name=NASTY)
    context = {"request": request, "workspace": workspace, "product": product, "view": view,
               "can_edit": can_edit, "filters": filters, "role": Role.EDITOR if can_edit else Role.VIEWER}
    old = _render(OLD_HEADER, **context)
    new = rows.roadmap_header_html(request=request, workspace=workspace, product=product, view=view,
                                   can_edit=can_edit, filters=filters)
    assert str(new) == old
    assert "<b>" not in new and "None" not in new
    if "status=<x>" in query:
        assert '<option value="&lt;x&gt;" selected>' in new and " open>" in new


def test_the_filters_show_a_renamed_or_new_member_at_once(rf):
    """The owner options are kept per process by their rows: other rows, other options."""
    request = rf.get("/w/acme/products/3/roadmap/board/?owner=8")
    current = {"objective": "", "status": "", "owner": "8", "label": ""}
    workspace, product = SimpleNamespace(slug="acme"), SimpleNamespace(id=3, name="Acme")

    def header(owners):
        filters = {"objectives": [], "owners": owners, "statuses": [], "current": current}
        return rows.roadmap_header_html(request=request, workspace=workspace, product=product, view="board",
                                        can_edit=False, filters=filters)

    assert '<option value="8" selected>Bob</option>' in header([(7, "Ann"), (8, "Bob")])
    renamed = header([(7, "Ann"), (8, "Robert <R>")])
    assert '<option value="8" selected>Robert &lt;R&gt;</option>' in renamed and ">Bob<" not in renamed
    assert '<option value="9">Cy</option>' in header([(7, "Ann"), (8, "Bob"), (9, "Cy")])
