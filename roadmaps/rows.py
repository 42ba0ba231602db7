"""Row context of the roadmap pages that draw hundreds of initiatives (the Now/Next/Later board and
the timeline): every figure, label and URL of a row computed once in Python, so the template's loop
only prints ready strings (issue 23, target 3; docs/decisions/1925-roadmap-rows-precomputed.md).

Before, each card or bar reversed two or three URLs, formatted four dates, resolved the status label,
the owner's name and the labels through model methods, and included two partial templates: the
template engine's cost per node, times ~40 nodes, times 300 initiatives, was most of the page.
The markup is unchanged (the same attributes and text); the tests of the pages read it as before.
"""

from datetime import date

from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

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
