"""Row context of the roadmap pages that draw hundreds of initiatives (the Now/Next/Later board and
the timeline): every figure, label and URL of a row computed once in Python, so the template's loop
only prints ready strings (issue 23, target 3; docs/decisions/1925-roadmap-rows-precomputed.md).

Before, each card or bar reversed two or three URLs, formatted four dates, resolved the status label,
the owner's name and the labels through model methods, and included two partial templates: the
template engine's cost per node, times ~40 nodes, times 300 initiatives, was most of the page.
The markup is unchanged (the same attributes and text); the tests of the pages read it as before.
"""

import functools
from datetime import date
from html import escape as html_escape
from urllib.parse import quote

from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from pmhub.icons import render_icon
from pmhub.templatetags.pmhub import risk_flags, select_options, work_progress
from pmhub.utils import url_for_ids

from .models import Initiative

DAY = "j M Y"


def day(value, months: dict | None = None) -> str:
    """A date as the `date:"j M Y"` filter prints it; "" for none. `months` (month_names()) skips
    the filter's per-call translation lookups: a page formatting 600 dates passes it."""
    if not value:
        return ""
    if months is None:
        return date_format(value, DAY)
    return f"{value.day} {months[value.month]} {value.year:04d}"


def month_names() -> dict[int, str]:
    """The active language's month abbreviations as `date:"M"` prints them (read once per process
    and language: twelve date_format calls were 0.3-0.6 ms of every board and timeline)."""
    return _month_names(get_language())


@functools.lru_cache(maxsize=64)
def _month_names(language: str | None) -> dict[int, str]:
    return {m: date_format(date(2000, m, 1), "M") for m in range(1, 13)}


def iso(value) -> str:
    """A date as the `date:"Y-m-d"` filter prints it; "" for none."""
    return value.isoformat() if value else ""


def urls(workspace, product) -> dict:
    """`id -> URL` of the routes a row links to, each reversed once per page."""
    scope = {"ws": workspace.slug, "product_id": product.id}
    return {
        name: url_for_ids(f"roadmaps:{name}", "initiative_id", **scope)
        for name in ("initiative", "initiative_move", "initiative_work")
    }


def horizon_options() -> dict[str, str]:
    """The <option>s of a card's "Move to" select for each horizon it can be in (four variants,
    built once per page instead of a loop per card)."""
    choices = Initiative.Horizon.choices
    return {
        current: format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, " selected" if v == current else "", label) for v, label in choices),
        )
        for current in [v for v, _ in choices] + [""]
    }


def board_cards(initiatives, *, workspace, product) -> list[dict]:
    """One dict per card of the board (roadmaps/board.html); initiatives come with their owner
    (selectors.initiatives_annotated), work progress, risk flags and statement status."""
    url = urls(workspace, product)
    statuses = dict(Initiative.Status.choices)
    options = horizon_options()
    months = month_names()
    cards = []
    for i in initiatives:
        start, end = day(i.start_date, months), day(i.end_date, months)
        dates = f"{start or 'No start'} – {end or 'no end'}" if (start or end) else "No dates yet"
        cards.append(
            {
                "id": i.id,
                "title": i.title,
                "version": i.version,
                "rank": f"{i.rank:f}",
                "horizon": i.horizon,
                "move_url": url["initiative_move"](i.id),
                "work_url": url["initiative_work"](i.id),
                "risk_flags": i.risk_flags,
                "awaiting": i.statement_status == "awaiting",
                "status": statuses.get(i.status, i.status),
                "owner": str(i.owner) if i.owner_id else "",
                "labels": i.label_list,
                "dates": f"{dates} · {i.confidence}% confidence",
                "work": i.work,
                "work_label": f"Progress of {i.title}",
                "options": options.get(i.horizon, options[""]),
            }
        )
    return cards


def bar_title(i, start: str, end: str) -> str:
    """The bar's tooltip: dates, progress, confidence and blockers."""
    parts = [f"{i.title}: {start} – {end}"]
    if i.work.ratio is not None:
        parts.append(f"{i.work.percent}% done")
    text = ", ".join(parts) + f", {i.confidence}% confidence"
    for d in i.blockers:
        text += f"; blocked by #{d.blocker_id}" + (" (conflict: ends after this starts)" if d.conflict else "")
    return text


# --- rows as HTML ---------------------------------------------------------------------------------
# The board's cards and the timeline's bars are printed by Python, not by a template loop: even
# with every string ready (above), Django's engine spent ~10 µs per variable node, ~20 nodes a
# card, and the loop was most of each page (docs/decisions/1950-roadmap-rows-as-html.md). The
# markup is what roadmaps/_board_cards.html and roadmaps/_timeline.html printed, byte for byte
# (tests/roadmaps/test_rows_html.py renders both and compares); change it here, not there. Every
# value goes through `esc` (Django's escaping: & < > " ' as the template's autoescape does).
def esc(value) -> str:
    """`{{ value }}` under autoescape: safe strings as they are, anything else as escaped text."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html_escape(str(value))


def risk_flags_html(flags) -> str:
    """What `{% include "governance/_risk_flags.html" %}` printed: pmhub's risk_flags (the one
    markup of the flag) and the template file's final newline."""
    return f"{risk_flags(flags)}\n"


def board_card_html(c: dict, *, can_edit: bool, csrf_token: str, next_path: str) -> str:
    """One card of a board column (a dict of board_cards, with `risk_flags` attached)."""
    title = esc(c["title"])
    flags = f" {risk_flags_html(c['risk_flags'])}" if c["risk_flags"] else ""
    awaiting = ' <span class="tag" data-testid="awaiting-approval">awaiting approval</span>' if c["awaiting"] else ""
    owner = f" · {esc(c['owner'])}" if c["owner"] else ""
    labels = "".join(f' <span class="tag">{esc(label)}</span>' for label in c["labels"])
    move_url = esc(c["move_url"])
    form = move_attr = ""
    if can_edit:
        move_attr = f' data-move-url="{move_url}"'
        form = (f'\n        <form method="post" action="{move_url}" class="rm-move-form"><input type="hidden" '
                f'name="csrfmiddlewaretoken" value="{esc(csrf_token)}">\n'
                f'          <input type="hidden" name="version" value="{c["version"]}"><input type="hidden" '
                f'name="next" value="{esc(next_path)}">\n'
                f'          <label class="visually-hidden" for="mv-{c["id"]}">Move “{title}” to</label>\n'
                f'          <select id="mv-{c["id"]}" name="horizon">{esc(c["options"])}</select>\n'
                f'          <button type="submit" class="secondary outline">Move</button>\n'
                f'        </form>')
    return (f'\n      <li class="rm-card{" rm-draggable" if can_edit else ""}" data-id="{c["id"]}" '
            f'data-live-item="initiative:{c["id"]}" data-version="{c["version"]}" data-rank="{esc(c["rank"])}"'
            f'{move_attr}>\n'
            f'        <strong class="rm-card-title"><a href="{esc(c["work_url"])}">{title}</a></strong>'
            f'{flags}{awaiting}\n'
            f'        <small class="muted">{esc(c["status"])}{owner}{labels}</small>\n'
            f'        <small class="rm-card-dates" data-testid="card-dates">{esc(c["dates"])}</small>\n'
            f'        <div class="rm-card-progress">{work_progress(c["work"], c["work_label"])}</div>\n'
            f'        {form}\n      </li>\n      ')


def board_cards_html(cards, *, can_edit: bool, csrf_token: str, next_path: str) -> str:
    """The `<li>`s of a column (or of the rest of one that "Show N more" fetches)."""
    return mark_safe("".join(  # noqa: S308 - every value escaped by esc() in board_card_html
        board_card_html(c, can_edit=can_edit, csrf_token=csrf_token, next_path=next_path) for c in cards))


CONFLICT_FLAG = '<span class="rm-flag" aria-label="dependency conflict">⚠</span>'
AWAITING_FLAG = ('<span class="rm-flag" data-testid="awaiting-approval" title="Business impact statement awaiting '
                 'approval" aria-label="awaiting approval">⏳</span>')
PCT = '<span class="rm-pct" data-testid="work-progress" data-percent="{percent}" title="{title}">{percent}%</span>'


def timeline_lanes(lanes, *, workspace, product, next_path: str, editable: bool) -> None:
    """`html` on each lane of the timeline: its rows (the lane's title on its first), each bar with
    its label, dates, tooltip, flags and progress, printed in one pass over the initiatives (with
    `bar`, `work`, `blockers`, and on the product's page `conflict`, `risk_flags` and
    `statement_status`). Before decision 2311 a dict of ready strings was made per bar and then
    printed; the markup is the same, byte for byte (tests/roadmaps/test_rows_html.py compares it
    with the old template loop over the old row dicts)."""
    url = urls(workspace, product)
    move_url, edit_url = url["initiative_move"], url["initiative"]
    months = month_names()
    next_query = f"?next={next_path}"
    for lane in lanes:
        out = []
        lane_head = f"<strong>{esc(lane['title'])}</strong>"
        for i in lane["items"]:
            start, end = day(i.start_date, months), day(i.end_date, months)
            title = esc(i.title)
            label_tail = (f'{title}<span class="visually-hidden">'
                          f'{html_escape(f", {start} – {end}, {i.confidence}% confidence")}</span>')
            if editable:
                move = f'data-move-url="{esc(move_url(i.id))}"'
                label = (f'<a href="{esc(edit_url(i.id) + next_query)}" class="rm-bar-label" title="{title}">'
                         f'{label_tail}</a>')
            else:
                move = ""
                label = f'<span class="rm-bar-label" title="{title}">{label_tail}</span>'
            conflict = getattr(i, "conflict", False)
            flags = getattr(i, "risk_flags", None)
            w = i.work
            percent = ""
            if w.ratio is not None:
                p = w.percent
                percent = PCT.format(percent=p, title=html_escape(
                    f"{w.done_points}/{w.total_points} points, {w.done_count}/{w.total_count} stories done"))
            out.append(
                f'\n      <div class="rm-row">\n'
                f'        <div class="rm-lane-title">{lane_head}</div>\n'
                f'        <div class="rm-track">\n'
                f'          <div class="rm-bar rm-status-{esc(i.status)}{" rm-conflict" if conflict else ""}" '
                f'style="left:{i.bar["left"]:.3f}%;width:{i.bar["width"]:.3f}%"\n'
                f'               data-id="{i.id}" data-live-item="initiative:{i.id}" data-title="{title}" '
                f'data-version="{i.version}" data-start="{iso(i.start_date)}" data-end="{iso(i.end_date)}"\n'
                f'               {move}\n'
                f'               title="{html_escape(bar_title(i, start, end))}">\n'
                f'            {label}\n'
                f'            {CONFLICT_FLAG if conflict else ""}\n'
                f'            {risk_flags_html(flags) if flags else ""}\n'
                f'            {AWAITING_FLAG if getattr(i, "statement_status", "") == "awaiting" else ""}\n'
                f'            {percent}\n'
                f'          </div>\n        </div>\n      </div>\n      ')
            lane_head = ""
        lane["html"] = mark_safe("".join(out))  # noqa: S308 - every value escaped above


# The timeline's month (or quarter) header and its release markers, the two loops left in
# roadmaps/_timeline.html after the bars: ~22 columns and ~20 markers of five to eight template nodes
# each (decision 2212). The markup of those loops, byte for byte (tests/roadmaps/test_rows_html.py).
def timeline_columns_html(columns) -> str:
    """The header's `<span class="rm-col">`s (timeline.columns)."""
    return mark_safe("".join(  # noqa: S308 - labels escaped by esc(); offsets are numbers
        f'<span class="rm-col" style="left:{c["left"]:.3f}%;width:{c["width"]:.3f}%" title="{esc(c["label"])}">'
        f'{esc(c["label"])}</span>' for c in columns))


def release_markers_html(markers) -> str:
    """The release markers of the overlay ({"release", "left"} of build_timeline)."""
    out = []
    for m in markers:
        milestone = m["release"].kind == "milestone"
        out.append(f'<div class="rm-release-marker{" rm-milestone" if milestone else ""}" '
                   f'style="left:{m["left"]:.3f}%" data-testid="release-marker"><span>{"◆" if milestone else "▲"} '
                   f'{esc(m["release"].name)}</span></div>')
    return mark_safe("".join(out))  # noqa: S308 - names escaped by esc(); offsets are numbers


# The heading, views and filters of the three roadmap pages (roadmaps/_roadmap_header.html before
# decision 2313): six {% url %} reversals, three icons, the filters' loops and ~60 template nodes on
# every timeline and board. The markup of that template, byte for byte
# (tests/roadmaps/test_rows_html.py renders the old template text beside this).
_HEADER_ROUTES = ("timeline", "board", "list", "present", "share_links", "initiative_new")


def roadmap_header_html(*, request, workspace, product, view: str, can_edit: bool, filters: dict) -> str:
    url = {name: esc(url_for_ids(f"roadmaps:{name}", "product_id", ws=workspace.slug)(product.id))
           for name in _HEADER_ROUTES}
    query = esc(request.GET.urlencode())
    current = filters["current"]

    def here(name):
        return ' aria-current="true"' if view == name else ""

    edit_links = ""
    if can_edit:
        edit_links = (f'<li><a href="{url["share_links"]}" data-testid="share-link">{esc(render_icon("share"))}Share'
                      f'</a></li>')
    new_link = ""
    if can_edit:
        new_link = (f'<li><a href="{url["initiative_new"]}?next={esc(quote(request.get_full_path()))}" '
                    f'role="button">{esc(render_icon("add"))}New initiative</a></li>')
    hidden = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in request.GET.items()
                     if k in ("group", "scale"))
    statuses = "".join(f'<option value="{esc(v)}"{" selected" if current["status"] == v else ""}>{esc(label)}</option>'
                       for v, label in filters["statuses"])
    is_open = " open" if (current["objective"] or current["status"] or current["owner"] or current["label"]) else ""
    return mark_safe(  # noqa: S308 - every value escaped by esc(); icons and options are safe strings
        f'<div class="page-header"><h1>{esc(product.name)} roadmap</h1><span class="presence" '
        f'data-presence-topic="roadmap:{product.id}" data-testid="presence" hidden></span>\n'
        f'  <nav aria-label="Roadmap views" class="rm-views"><ul>\n'
        f'    <li><a href="{url["timeline"]}?{query}"{here("timeline")}>Timeline</a></li>\n'
        f'    <li><a href="{url["board"]}?{query}"{here("board")}>Now / Next / Later</a></li>\n'
        f'    <li><a href="{url["list"]}?{query}"{here("list")}>List</a></li>\n'
        f'    <li><a href="{url["present"]}" data-testid="present-link">{esc(render_icon("present"))}Present</a></li>\n'
        f'    {edit_links}\n'
        f'    {new_link}\n'
        f'  </ul></nav>\n'
        f'</div>\n'
        f'<details class="filters"{is_open}>\n'
        f'<summary>{_filter_icon()} Filters</summary>\n'
        f'<form method="get" class="rm-filters" aria-label="Filters">\n'
        f'  {hidden}\n'
        f'  <label>Objective<select name="objective"><option value="">All</option>'
        f'{_options(tuple(filters["objectives"]), current["objective"])}</select></label>\n'
        f'  <label>Status<select name="status"><option value="">All</option>{statuses}</select></label>\n'
        f'  <label>Owner<select name="owner"><option value="">Anyone</option>'
        f'{_options(tuple(filters["owners"]), current["owner"])}</select></label>\n'
        f'  <label>Label<input name="label" value="{esc(current["label"])}" placeholder="e.g. growth"></label>\n'
        f'  <button type="submit">Filter</button>\n'
        f'</form>\n'
        f'</details>')


@functools.lru_cache(maxsize=256)
def _options(choices: tuple, selected: str) -> str:
    """select_options of the filters' (id, label) rows, kept per process by the rows themselves: the
    owner list has a workspace's hundreds of members, the same on every roadmap page until someone
    joins, leaves or is renamed, and then the rows (the key) differ. At most 256 lists (with the
    chosen value: a filtered page is its own entry) of ~20 KB each, about 5 MB."""
    return select_options(choices, selected)


@functools.lru_cache(maxsize=1)
def _filter_icon() -> str:
    """`{% include "_icon.html" with name="filter" %}` as that template prints it (its final newline
    included), rendered once per process."""
    from django.template.loader import render_to_string

    return render_to_string("_icon.html", {"name": "filter"})
