"""Row context of the roadmap pages that draw hundreds of initiatives (the Now/Next/Later board and
the timeline): every figure, label and URL of a row computed once in Python, so the template's loop
only prints ready strings (issue 23, target 3; docs/decisions/1925-roadmap-rows-precomputed.md).

Before, each card or bar reversed two or three URLs, formatted four dates, resolved the status label,
the owner's name and the labels through model methods, and included two partial templates: the
template engine's cost per node, times ~40 nodes, times 300 initiatives, was most of the page.
The markup is unchanged (the same attributes and text); the tests of the pages read it as before.
"""

from datetime import date
from html import escape as html_escape

from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from pmhub.templatetags.pmhub import risk_flags, work_progress
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
    """The active language's month abbreviations as `date:"M"` prints them, read once per page."""
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


def timeline_rows(lanes, *, workspace, product, next_path: str) -> None:
    """Adds to each bar of the timeline's lanes what roadmaps/_timeline.html prints: `row` with
    formatted dates, the tooltip, the bar's position and its two URLs."""
    url = urls(workspace, product)
    months = month_names()
    for lane in lanes:
        for i in lane["items"]:
            start, end = day(i.start_date, months), day(i.end_date, months)
            i.row = {
                "style": mark_safe(f"left:{i.bar['left']:.3f}%;width:{i.bar['width']:.3f}%"),  # noqa: S308 - two numbers
                "start": start,
                "end": end,
                "start_iso": iso(i.start_date),
                "end_iso": iso(i.end_date),
                "title_attr": bar_title(i, start, end),
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


def timeline_bar_html(i, *, first: bool, lane_title: str, editable: bool) -> str:
    """One row of a timeline lane: the lane's title on its first row, the bar with its label,
    flags and progress (an initiative with `row` from timeline_rows and, on the product's page,
    `risk_flags` and `statement_status`)."""
    r = i.row
    title = esc(i.title)
    label_tail = f'{title}<span class="visually-hidden">{esc(r["hidden"])}</span>'
    if editable:
        move = f'data-move-url="{esc(r["move_url"])}"'
        label = f'<a href="{esc(r["edit_url"])}" class="rm-bar-label" title="{title}">{label_tail}</a>'
    else:
        move = ""
        label = f'<span class="rm-bar-label" title="{title}">{label_tail}</span>'
    conflict = getattr(i, "conflict", False)
    flags = getattr(i, "risk_flags", None)
    pct = r["pct"]
    lane_head = f"<strong>{esc(lane_title)}</strong>" if first else ""
    bar_class = f"rm-bar rm-status-{esc(i.status)}{' rm-conflict' if conflict else ''}"
    data = (f'data-id="{i.id}" data-live-item="initiative:{i.id}" data-title="{title}" data-version="{i.version}" '
            f'data-start="{r["start_iso"]}" data-end="{r["end_iso"]}"')
    awaiting = AWAITING_FLAG if getattr(i, "statement_status", "") == "awaiting" else ""
    percent = PCT.format(percent=pct["percent"], title=esc(pct["title"])) if pct else ""
    return (f'\n      <div class="rm-row">\n'
            f'        <div class="rm-lane-title">{lane_head}</div>\n'
            f'        <div class="rm-track">\n'
            f'          <div class="{bar_class}" style="{esc(r["style"])}"\n'
            f'               {data}\n'
            f'               {move}\n'
            f'               title="{esc(r["title_attr"])}">\n'
            f'            {label}\n'
            f'            {CONFLICT_FLAG if conflict else ""}\n'
            f'            {risk_flags_html(flags) if flags else ""}\n'
            f'            {awaiting}\n'
            f'            {percent}\n'
            f'          </div>\n        </div>\n      </div>\n      ')


CONFLICT_FLAG = '<span class="rm-flag" aria-label="dependency conflict">⚠</span>'
AWAITING_FLAG = ('<span class="rm-flag" data-testid="awaiting-approval" title="Business impact statement awaiting '
                 'approval" aria-label="awaiting approval">⏳</span>')
PCT = '<span class="rm-pct" data-testid="work-progress" data-percent="{percent}" title="{title}">{percent}%</span>'


def timeline_lanes_html(lanes, *, editable: bool) -> None:
    """`html` on each lane: its rows, printed by timeline_bar_html."""
    for lane in lanes:
        lane["html"] = mark_safe("".join(  # noqa: S308 - every value escaped by esc() in timeline_bar_html
            timeline_bar_html(i, first=n == 0, lane_title=lane["title"], editable=editable)
            for n, i in enumerate(lane["items"])))


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
