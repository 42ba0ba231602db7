"""The backlog list's rows printed by Python, not by a template per row (issue 23, target 3;
docs/decisions/2041-backlog-rows-in-python.md).

The backlog page shows 50 rows, each `{% include "backlog/_row.html" %}` of about 40 template
nodes (variables, filters, `if`s, a loop over the custom fields): half of the page's time went to
the engine's per-node cost, not to the data. The markup is what the templates printed, byte for
byte: tests/backlog/test_backlog_rows_html.py keeps the old templates as text and compares both
renderings of the same rows (editable or not, every column shown or hidden, every custom field
type, grouping by epic, status, assignee and a custom field, titles and values with every
character autoescape changes). Change the markup here, not in a template. Every value goes
through `val` (what `{{ value }}` does: localized, then escaped unless already safe).

The page, the next rows (infinite scroll) and a row after an inline edit (the row endpoint, live
updates) all print through this class, so the three cannot drift apart.
"""

from django.template.defaultfilters import join
from django.utils.safestring import mark_safe

from pmhub import formatting
from pmhub.htmltext import val
from pmhub.icons import render_icon
from pmhub.templatetags.pmhub import select_options


def _or_dash(value) -> str:
    """`{{ value|default:"—" }}`."""
    return val(value) if value else "—"


class BacklogRows:
    """Prints the rows of one page: what is the same for every row (the URL prefix, the columns,
    the icons, the status `<option>`s per status) is escaped or built once. `context` is the
    page's template context (BacklogBase.row_context and what the view adds)."""

    def __init__(self, context):
        self.can_edit = bool(context.get("can_edit"))
        self.stories_url = val(context.get("stories_url", ""))
        columns = context.get("columns") or ()
        self.labels = "labels" in columns
        self.epic, self.status, self.points = "epic" in columns, "status" in columns, "points" in columns
        self.assignee, self.score = "assignee" in columns, "score" in columns
        self.shown_fields = [(f.key, f.type) for f in context.get("shown_fields") or ()]
        self.member_names = context.get("member_names") or {}
        self.status_labels = context.get("status_labels") or {}
        self.status_choices = context.get("status_choices")
        self.group = context.get("group") or ""
        self.group_key = context.get("group_key")
        self._options: dict[str, str] = {}
        self._drag = str(render_icon("drag")) if self.can_edit else ""
        self._edit = str(render_icon("edit")) if self.can_edit else ""

    def options(self, status) -> str:
        """`{% select_options status_choices story.status %}`, once per status a page shows."""
        found = self._options.get(status)
        if found is None:
            found = self._options[status] = str(select_options(self.status_choices, status))
        return found

    def _field(self, values, key, kind) -> str:
        v = values.get(key) if hasattr(values, "get") else None
        if v is None:
            return "—"
        if kind == "user":
            return val(self.member_names.get(v) or v)
        if kind == "multi_select":
            return str(join(v, ", ", autoescape=True))
        if kind == "url":
            return f'<a href="{val(v)}" rel="noopener nofollow">link</a>'
        return val(v)

    def row(self, story) -> str:
        """One `<tr>` (backlog/_row.html): a story of selectors.stories_for_backlog with its
        texts (selectors.with_texts)."""
        sid = story.id_text
        title = val(story.title)
        url = f"{self.stories_url}{sid}/"
        edit = self.can_edit
        out = [f'<tr id="story-{sid}" class="story-row" data-story-id="{sid}" data-live-item="story:{sid}" '
               f'data-move-url="{url}move/" tabindex="0" data-testid="story-row">\n  <td>']
        if edit:
            out.append(f'<input type="checkbox" name="ids" value="{sid}" form="bulk-form" aria-label="Select {title}">')
        out.append('</td>\n  <td class="drag-cell">')
        if edit:
            out.append(f'<span class="drag-handle" title="Drag to reorder (or Alt+↑/↓)" aria-hidden="true">'
                       f'{self._drag}</span>')
        out.append(f'</td>\n  <td class="title-cell"><a href="{url}" data-testid="story-title">{title}</a>\n    ')
        if self.labels:
            out.extend(f' <span class="tag">{val(label)}</span>' for label in story.labels or ())
        out.append("</td>\n  ")
        if self.epic:
            epic = story.epic
            out.append(f"<td>{_or_dash(epic.title if epic is not None else None)}</td>")
        out.append("\n  ")
        if self.status:
            out.append("<td>")
            if edit:
                out.append(f'<input type="hidden" name="version" value="{story.version_text}">\n    '
                           f'<select name="status" aria-label="Status of {title}" hx-post="{url}row/" '
                           f'hx-trigger="change" hx-include="closest tr" hx-target="closest tr" hx-swap="outerHTML">'
                           f"\n      {self.options(story.status)}\n    </select>")
            else:
                out.append(_or_dash_status(self.status_labels.get(story.status), story.status))
            out.append("</td>")
        out.append("\n  ")
        if self.points:
            out.append(f"<td>{_or_dash(story.points_text)}</td>")
        out.append("\n  ")
        if self.assignee:
            out.append(f"<td>{_or_dash(story.assignee)}</td>")
        out.append("\n  ")
        if self.score:
            out.append(f'<td data-testid="story-score">{val(formatting.number(story.score, 2))}</td>')
        out.append("\n  ")
        values = story.custom_values
        for key, kind in self.shown_fields:
            out.append(f"<td>{self._field(values, key, kind)}</td>")
        out.append("\n  <td>")
        if edit:
            out.append(f'<button type="button" class="link-button edit-button" hx-get="{url}row/?edit=1" '
                       f'hx-target="closest tr" hx-swap="outerHTML" aria-label="Edit {title}">'
                       f'{self._edit}Edit</button>')
        out.append("</td>\n</tr>\n")
        return "".join(out)

    def _group_header(self, story) -> str:
        group = self.group
        if group == "epic":
            text = _or_dash_text(story.epic.title if story.epic is not None else None, "No epic")
        elif group == "status":
            text = _or_dash_status(self.status_labels.get(story.status), story.status)
        elif group == "assignee":
            text = _or_dash_text(story.assignee, "Unassigned")
        else:
            values = story.custom_values
            text = _or_dash_text(values.get(self.group_key) if hasattr(values, "get") else None, "—")
        return f'<tr class="group-row"><th colspan="20" scope="rowgroup">{text}</th></tr>'

    def rows(self, stories) -> str:
        """The rows of backlog/_rows.html's loop: with grouping, a heading row wherever the group's
        heading changes (`{% ifchanged %}`)."""
        out, last = [], None
        for story in stories:
            if self.group:
                header = self._group_header(story)
                if header != last:
                    out.append(header)
                    last = header
            out.append(self.row(story))
        return mark_safe("".join(out))  # noqa: S308 - every value escaped by val()


def _or_dash_text(value, default: str) -> str:
    """`{{ value|default:"<default>" }}`."""
    return val(value) if value else val(default)


def _or_dash_status(label, status) -> str:
    """`{{ status_labels|get_item:story.status|default:story.status }}`."""
    return val(label) if label else val(status)
