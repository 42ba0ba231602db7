import functools
from html import escape

from django import forms, template
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, mark_safe

from .. import formatting
from ..htmltext import esc
from ..icons import render_icon
from ..markdown import render_markdown
from ..models import display_name_of
from ..utils import url_for_ids

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """The one place user text becomes HTML: Markdown rendered, then sanitised by nh3."""
    return mark_safe(render_markdown(text))  # noqa: S308 - output of an allow-list sanitiser


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag(takes_context=True)
def query_transform(context, **kwargs):
    """Current query string with some parameters replaced (filters that persist in the URL)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.simple_tag(takes_context=True)
def product_nav(context):
    """The product's sectioned menu (pmhub.navigation) for the page being rendered, written by
    pmhub/frame.py (was a template of its own: its nodes cost more than the menu's data)."""
    from ..frame import product_menu
    from ..navigation import product_sections

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    workspace, product = context.get("workspace"), context.get("product")
    if workspace is None or product is None:
        return product_menu(sections=[], product=None)
    nav = context.get("nav")
    role = getattr(getattr(nav, "current_role", None), "value", 10) if nav is not None else 10
    sections = product_sections(view_name=match.view_name if match else "", workspace_slug=workspace.slug,
                                product_id=product.id, role=role)
    return product_menu(sections=sections, product=product)


@register.simple_tag
def work_progress(work, label="", compact=False):
    """The work progress of a scope (backlog/progress.py's Progress: ratio, percent, points and
    counts), the one markup of every page that shows it (backlog/_work_progress.html calls this).
    A tag, not an include: boards and lists show it on hundreds of rows, and an include with its
    dozen nodes cost more than the rest of a card (issue 23, target 3)."""
    # f-strings with every value escaped as format_html would (a board prints 60 of these; three
    # format_html calls a card were half of the card's cost). tests/core/test_work_progress_tag.py
    # compares the output with format_html's.
    if getattr(work, "ratio", None) is None:
        return mark_safe(f'<span class="muted">{"—" if compact else "no stories yet"}</span>')  # noqa: S308 - fixed text
    percent = esc(work.percent)
    done, total = esc(work.done_points), esc(work.total_points)
    if compact:
        bar = tail = ""
    else:
        bar = (f'<progress class="progress-bar" value="{percent}" max="100" '
               f'aria-label="{esc(label or "Work progress")}"></progress> ')
        counts = f"{esc(work.done_count)}/{esc(work.total_count)}"
        tail = f' <small class="muted">{done}/{total} pts · {counts} stories</small>'
    return mark_safe(  # noqa: S308 - every value escaped by esc
        f'<span class="work-progress" data-testid="work-progress" data-percent="{percent}" '
        f'data-done-points="{done}" data-total-points="{total}">{bar}<strong>{percent}%</strong>{tail}</span>')


@register.simple_tag
def risk_items(items, ws):
    """The `<li>`s of a list of risks above appetite (governance/_risk_list.html, the one markup of
    that list): `items` are governance.selectors.RISK_ROW rows (id, title, score, appetite,
    product_id, product__name, owner_id, owner__name, owner__email), `ws` the workspace's slug.
    Printed in Python: a workspace's dashboard lists 100 (decision 2012)."""
    if not items:
        return mark_safe("<li class=\"muted\">No risk is above its product's appetite.</li>")  # noqa: S308 - fixed text
    urls = {}  # the register's URL per product: reversed once each ({% row_url %}'s memo)
    parts = []
    for r in items:
        url = urls.get(r.product_id)
        if url is None:
            url = urls[r.product_id] = url_for_ids("governance:risk", "risk_id", ws=ws, product_id=r.product_id)
        owner = "no owner" if r.owner_id is None else display_name_of(r.owner__name, r.owner__email)
        parts.append(f'<li><a href="{esc(url(r.id))}">{esc(r.title)}</a> <span class="risk-flag">'
                     f'{r.score:d} &gt; {r.appetite:d}</span> <span class="muted">{esc(r.product__name)} · '
                     f'{esc(owner)}</span></li>')
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped by esc


@register.simple_tag
def risk_flags(flags):
    """The flag of the open risks above appetite on one roadmap item or release: `flags` =
    [{id, title, score, appetite}], highest first (governance.selectors.flags_for_*); "" for none.
    The one markup of the flag (governance/_risk_flags.html calls this). A function, not a
    template: the roadmap timeline prints it on dozens of bars, and a template render each cost
    more than the rest of the bar (issue 23, target 3; docs/decisions/1950)."""
    if not flags:
        return ""
    top, n = flags[0], len(flags)
    title = "; ".join(f"{escape(str(f['title']))} ({escape(str(f['score']))} &gt; {escape(str(f['appetite']))})"
                      for f in flags)
    more = f" +{n - 1}" if n > 1 else ""
    score, appetite = escape(str(top["score"])), escape(str(top["appetite"]))
    return mark_safe(  # noqa: S308 - every value escaped above
        f'<span class="risk-flag" data-testid="risk-flag" title="{title}" aria-label="{n} risk{"" if n == 1 else "s"} '
        f'above appetite, highest {score} of appetite {appetite}">⚑ {score}&gt;{appetite}{more}</span>')


# --- values as a person writes them (pmhub.formatting): pages, e-mails, PDFs -----------------
@register.filter
def num(value, places=2):
    """{{ 2816.764|num }} -> "2,816.76"; {{ 45.0|num }} -> "45"; None -> "—"."""
    return formatting.number(value, int(places))


@register.filter
def kpi_value(value, unit):
    """{{ kpi.current_value|kpi_value:kpi.unit }} -> "€52,013", "3.8%", "2,811"."""
    return formatting.kpi_value(value, unit)


@register.filter
def status_label(code, labels=None):
    """{{ story.status|status_label:workflow_labels }} -> "In progress"."""
    return formatting.status_label(code, labels)


@register.filter
def plural(count, nouns):
    """{{ points|plural:"point" }} -> "1 point" / "3 points"; "story,stories" for irregular nouns."""
    singular, _, plural_form = str(nouns).partition(",")
    return formatting.plural(count, singular, plural_form or None)


@register.filter
def human_date(value):
    """{{ kpi.target_date|human_date }} -> "26 Aug 2026"."""
    return formatting.date(value)


@register.filter
def human_month(value):
    """{{ month|human_month }} -> "Aug 2026"."""
    return formatting.month(value)


@register.simple_tag
def frame_parts():
    """`{% frame_parts as frame %}` (base.html): the frame's fixed URLs and asset URLs (pmhub/frame.py)."""
    from ..frame import frame_parts as parts

    return parts()


@register.simple_tag(takes_context=True)
def site_header(context):
    """The site header of base.html (pmhub/frame.py: the template's markup, written in Python)."""
    from ..frame import site_header as render

    return render(context)


@register.simple_tag
def icon(name, label="", size=20, css=""):
    """`{% icon "delete" %}` or, on a button with no words, `{% icon "delete" label="Delete story" %}`:
    an inline SVG from the Lucide package (pmhub/icons.py), aria-hidden, with the label for screen readers."""
    return render_icon(name, label=label, size=size, css=css)


@register.simple_tag
def select_options(choices, selected=None):
    """`<select>{% select_options epics story.epic_id %}</select>`: the `<option>`s of a list in
    one pass of Python instead of a template loop (a page with three selects of 400 epics
    rendered 2,400 template variables for them). `choices` are objects (value .id or .pk, label
    .title or str()), (value, label) pairs, or plain strings; `selected` is compared as text."""
    chosen = "" if selected is None else str(selected)
    parts = []
    for o in choices or ():
        if isinstance(o, list | tuple):
            value, label = o[0], o[1]
        elif isinstance(o, str):
            value = label = o
        else:
            value = o.id if hasattr(o, "id") else o.pk
            label = o.title if hasattr(o, "title") else str(o)
        # html.escape, not django.utils.html.escape: the same characters, without the lazy-string
        # wrapper that costs more than the escaping itself; an int's text has nothing to escape.
        text = str(value)
        escaped = text if type(value) is int else escape(text)
        parts.append(f'<option value="{escaped}"{" selected" if text == chosen else ""}>'
                     f"{escape(str(label))}</option>")
    return mark_safe("".join(parts))  # noqa: S308 - every value and label escaped above


@register.simple_tag
def check_choices(options, selected=None):
    """The options of a searchable check list (`_check_list.html`) as {value, label, checked}:
    options are objects with .id and .title, (value, label) pairs, or plain strings; `selected`
    is the chosen values (compared as text, so typed and saved values both tick their box)."""
    if selected is None or isinstance(selected, str | int):
        selected = [] if selected in (None, "") else [selected]
    chosen = {str(v) for v in selected}
    items = []
    for o in options or ():
        if isinstance(o, list | tuple):
            value, label = o[0], o[1]
        elif isinstance(o, str):
            value = label = o
        else:
            value, label = o.id, o.title
        items.append({"value": value, "label": label, "checked": str(value) in chosen})
    return items


def _escaped_all(texts: list[str]) -> list[str]:
    """html.escape of each text, in one pass over their join: a KPI's form escapes ~1,400 values and
    labels, and one call each was most of its check lists' cost. NUL never reaches a stored title
    (PostgreSQL refuses it; pmhub.middleware.UnstorableTextMiddleware); a text that holds one is
    escaped alone."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):
        return [escape(t) for t in texts]
    return escape(joined).split("\x00") if texts else []


# A printed list of choices kept per process, keyed by the choice rows themselves (decision 2340,
# as roadmaps.rows._options, decision 2313): a member or title that is added, removed or renamed
# changes the key, so no list is ever stale and nothing needs invalidating. Only rows whose
# printing is a function of their key are kept: (value, label) pairs with an int or str value and
# a plain str label (not SafeData, which prints unescaped yet equals the same plain text, nor a
# lazy or typed label, nor None or bool values that compare equal to other keys).
_KEYED_VALUES = (int, str)


def _rows_key(choices) -> tuple | None:
    """The choices as a tuple of (value, label) pairs when their printing depends on the pairs only,
    else None (the caller prints them as before). Only choices that can be iterated twice at no cost
    are looked at: a list or tuple, or an iterator that keeps its rows (`keeps_rows`, as
    metrics.forms.RowChoices)."""
    if not (isinstance(choices, list | tuple) or getattr(choices, "keeps_rows", False)):
        return None  # e.g. Django's ModelChoiceIterator: it would read the database twice
    rows = tuple(choices)
    for row in rows:
        if type(row) is not tuple or len(row) != 2 or type(row[0]) not in _KEYED_VALUES or type(row[1]) is not str:
            return None
    return rows


@register.simple_tag
def check_boxes(field):
    """The boxes of a multiple choice field's check list (`_field.html`), built in one pass: a KPI's
    form offers every initiative and epic of the product (hundreds), where a loop of template
    nodes per box was most of the page (issue 23, target 3). The items are check_choices'
    (tests/core/test_check_boxes.py compares with that loop, decision 2222). Plain rows are printed
    once per process and selection (decision 2340)."""
    selected = field.value()
    rows = _rows_key(field.field.choices)
    if rows and (selected is None or isinstance(selected, list | tuple)):
        chosen = frozenset(str(v) for v in selected or ())
        return _boxes_printed(str(field.html_name), rows, chosen)
    return _boxes(field.html_name, field.field.choices, selected)


@functools.lru_cache(maxsize=256)
def _boxes_printed(name: str, rows: tuple, chosen: frozenset):
    return _boxes(name, rows, chosen)


def _boxes(html_name, choices, selected):
    items = check_choices(choices, selected)
    if not items:
        return format_html('<p class="muted">{}</p>', "Nothing to choose from yet.")
    name = escape(str(html_name))
    # html.escape: the same characters as Django's, without a SafeString per argument.
    values = _escaped_all([str(o["value"]) for o in items])
    labels = _escaped_all([str(o["label"]) for o in items])
    return mark_safe("".join(  # noqa: S308 - every value and label escaped here
        f'<label><input type="checkbox" name="{name}" value="{value}"'
        f'{" checked" if o["checked"] else ""}> {label}</label>'
        for o, value, label in zip(items, values, labels, strict=True)))


@register.filter
def getlist(query, key):
    """Every value of `key` in a QueryDict (request.POST kept after an error): `typed|getlist:"story_ids"`."""
    return query.getlist(key) if hasattr(query, "getlist") else []


def control_attrs(field) -> dict:
    """What `control` adds to a field's widget: `aria-describedby` naming its help text and its
    error, and `aria-invalid` when it has an error."""
    ids = [f"{field.auto_id}_helptext"] if field.help_text else []
    attrs = {}
    if field.errors:
        ids.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return attrs


@register.filter
def control(field):
    """A form field's control pointing at its help text and its error (`aria-describedby`, with
    `aria-invalid` when it has an error), so a screen reader says the error with the field.
    `_field.html` renders every control through it: `{{ field|control }}`."""
    if not field.auto_id:
        return field.as_widget()
    attrs = control_attrs(field)
    if type(field.field.widget) in _PRINTABLE_SELECTS and not field.field.localize:
        return _select(field, attrs)
    if _printable_input(field.field.widget) and not field.field.localize:
        return _input(field, attrs)
    return field.as_widget(attrs=attrs)


# Django's templates of a plain <input> (and of <textarea>): what _input prints, for widgets that
# render through them unchanged (Widget.render, this template). A subclass with a template or
# render of its own keeps Django's path.
_INPUT_TEMPLATES = frozenset(f"django/forms/widgets/{name}.html" for name in (
    "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "search", "tel",
    "color"))
_TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
_PRINTABLE_TEMPLATES = _INPUT_TEMPLATES | {_TEXTAREA_TEMPLATE}


def _printable_input(widget) -> bool:
    kind = type(widget)
    return (kind.render is forms.Widget.render and kind.get_context in _INPUT_CONTEXTS
            and widget.template_name in _PRINTABLE_TEMPLATES)


_INPUT_CONTEXTS = (forms.Widget.get_context, forms.widgets.Input.get_context, forms.Textarea.get_context)


def _tv(value) -> str:
    """`{{ value|stringformat:'s' }}` (or `{{ value }}`) under autoescape."""
    return str(value) if isinstance(value, SafeData) else escape(str(value))


def _input(field, attrs: dict):
    """A plain <input> or <textarea>, the HTML BoundField.as_widget gives through Django's
    widgets/input.html (or textarea.html) and attrs.html, built in Python: the KPI page's three
    forms rendered sixteen such templates a view (issue 23, target 3; decision 2222;
    tests/core/test_fast_input.py compares both for every input kind)."""
    widget = field.field.widget
    attrs = field.build_widget_attrs(attrs, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    w = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    attrs_html = "".join(f" {_tv(name)}" if value is True else f' {_tv(name)}="{_tv(value)}"'
                         for name, value in w["attrs"].items() if value is not False)
    if widget.template_name == _TEXTAREA_TEMPLATE:
        text = _tv(w["value"]) if w["value"] else ""
        return mark_safe(f'<textarea name="{_tv(w["name"])}"{attrs_html}>\n{text}</textarea>')  # noqa: S308 - escaped
    value = f' value="{_tv(w["value"])}"' if w["value"] is not None else ""
    return mark_safe(f'<input type="{_tv(w["type"])}" name="{_tv(w["name"])}"{value}{attrs_html}>')  # noqa: S308 - escaped


_PRINTABLE_SELECTS = (forms.Select, forms.SelectMultiple)
_SELECT_TEMPLATE = forms.Select.template_name
_OPTION_TEMPLATE = forms.Select.option_template_name


def _flat_options(widget, values: list[str]) -> str | None:
    """The <option> lines of select.html and select_option.html for a list of plain (value, label)
    choices, straight from the widget's choices: the rule of ChoiceWidget.optgroups (a value is
    chosen when its text is among the field's values; one only, unless the widget allows several)
    without a dict of attributes per option. None when a choice is a group or a label is not text
    (a number or date that the template would localize): the caller takes Django's optgroups."""
    multiple = bool(widget.allow_multiple_selected)
    rows = _rows_key(widget.choices)
    if rows is not None and all(type(v) is str for v in values):
        return _options_printed(rows, tuple(values), multiple)
    return _options(widget.choices, values, multiple)


@functools.lru_cache(maxsize=256)
def _options_printed(rows: tuple, values: tuple, multiple: bool) -> str | None:
    """_options of plain rows (_rows_key), kept per process by the rows, the field's values and
    whether several may be chosen (decision 2340)."""
    return _options(rows, values, multiple)


def _options(choices, values, multiple: bool) -> str | None:
    chosen, has_selected = set(values), False
    parts = []
    for value, label in choices:
        if value is None:
            value = ""
        if not isinstance(label, str | Promise):
            return None  # a group (list or tuple), or a number, date, ... label
        selected = (not has_selected or multiple) and str(value) in chosen
        has_selected |= selected
        parts.append(f'\n  <option value="{_tv(value)}"{" selected" if selected else ""}>{_tv(label)}</option>\n')
    return "".join(parts)


def _select(field, attrs: dict):
    """A plain <select> (or <select multiple>), the same HTML as Django's widget templates give
    (BoundField.as_widget with widgets/select.html, select_option.html and attrs.html), built in
    Python: Django renders one template per <option>, and an owner field of 200 members cost more
    than the rest of the KPI page's form (issue 23, target 3; tests/core/test_fast_select.py
    compares both). Plain choices are printed in one pass over the widget's choices, not through
    ChoiceWidget.optgroups' dict per option (decision 2320); grouped choices take optgroups."""
    widget = field.field.widget
    attrs = field.build_widget_attrs(attrs, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    if widget.template_name == _SELECT_TEMPLATE and widget.option_template_name == _OPTION_TEMPLATE:
        # Widget.get_context and Select.get_context, less ChoiceWidget's optgroups.
        values = widget.format_value(field.value())
        options = _flat_options(widget, values)
        if options is not None:
            final = widget.build_attrs(widget.attrs, attrs)
            if widget.allow_multiple_selected:
                final["multiple"] = True
            return mark_safe(  # noqa: S308 - every name, value and label escaped
                f'<select name="{_tv(field.html_name)}"{_attrs_tv(final)}>{options}\n</select>')
    w = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    parts = [f'<select name="{_tv(w["name"])}"{_attrs_tv(w["attrs"])}>']
    for group_name, options, _index in w["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_tv(group_name)}">')
        for o in options:
            parts.append(f'\n  <option value="{_tv(o["value"])}"{_attrs_tv(o["attrs"])}>'
                         f'{_tv(o["label"])}</option>\n')  # select_option.html ends with a newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every name, value and label escaped above


def _attrs_tv(attrs: dict) -> str:
    """Django's widgets/attrs.html in Python, under autoescape (safe text as is)."""
    return "".join(f" {_tv(name)}" if value is True else f' {_tv(name)}="{_tv(value)}"'
                   for name, value in attrs.items() if value is not False)


@register.simple_tag(takes_context=True)
def panels(context, place, obj):
    """{% panels "story" story %}: the panels other apps registered for this place (pmhub.panels),
    each an ordinary auto-escaped template."""
    from django.template.loader import render_to_string

    from ..panels import panels_of

    request = context.get("request")
    parts = []
    for panel in panels_of(place):
        extra = panel.context(obj, request)
        if extra is not None:
            parts.append(render_to_string(panel.template, {**context.flatten(), **extra}, request=None))
    return mark_safe("".join(parts))  # noqa: S308 - each part is a rendered, auto-escaped template


@register.simple_tag
def live_seq(workspace_id) -> int:
    """The workspace's live sequence number as the page is rendered: the page's socket asks for
    what happened after it (pmhub.live), so nothing between render and connect is missed."""
    from pmhub.live import event_log

    try:
        return event_log().current(int(workspace_id))
    except Exception:  # noqa: BLE001 - Redis away: the page still renders and the socket says reload
        return 0


@register.filter
def live_object(obj) -> str:
    """`<model>:<id>` of an object whose form keeps its version: static/js/live.js warns the person
    editing it when another person saves a newer version (the event's `<noun>:<id>`)."""
    meta, pk = getattr(obj, "_meta", None), getattr(obj, "pk", None)
    return f"{meta.model_name}:{pk}" if meta is not None and pk is not None else ""


def _v(value) -> str:
    """`{{ value }}` under autoescape for the form printer: escaped unless already safe."""
    return str(conditional_escape(value))


def field_html(field) -> str:
    """`{% include "_field.html" with field=field %}` printed by Python, byte for byte
    (tests/core/test_form_html.py keeps the template's text; decision 2052)."""
    if field.is_hidden:
        if _printable_input(field.field.widget) and not field.field.show_hidden_initial and not field.field.localize:
            return f"\n{_input(field, {})}\n"  # str(field): as_widget() without attributes
        return f"\n{_v(field)}\n"
    errors = field.errors
    out = f'\n\n<div class="field{" has-error" if errors else ""}">\n'
    if getattr(field.field.widget, "allow_multiple_selected", False) or field.widget_type == "checkboxselectmultiple":
        label = _v(field.label)
        auto_id = _v(field.auto_id)
        search = ""
        try:
            many = len(field.field.choices) > 8
        except (ValueError, TypeError):
            many = False
        if many:
            lower = _v(str(field.label).lower())
            search = (f'<input type="search" class="check-filter" placeholder="Filter {lower}…" '
                      f'aria-label="Filter {lower}" data-check-filter="#checks-{auto_id}">')
        out += (f"\n  <fieldset>\n    <legend>{label}</legend>\n    {search}\n"
                f'    <div class="check-list" id="checks-{auto_id}">\n      {check_boxes(field)}\n'
                "    </div>\n  </fieldset>\n")
    elif field.widget_type == "checkbox":
        out += f'\n  <label for="{_v(field.id_for_label)}">{_v(control(field))} {_v(field.label)}</label>\n'
    else:
        out += f'\n  <label for="{_v(field.id_for_label)}">{_v(field.label)}</label>\n  {_v(control(field))}\n'
    out += "\n  "
    if field.help_text:
        out += f'<small id="{_v(field.auto_id)}_helptext">{field.help_text}</small>'
    out += "\n  "
    if errors:
        out += (f'<ul class="errorlist" id="{_v(field.auto_id)}_error">'
                + "".join(f"<li>{_v(e)}</li>" for e in errors) + "</ul>")
    return out + "\n</div>\n\n"


@register.simple_tag
def form_html(form):
    """`{% include "_form.html" %}` printed by Python, byte for byte (decision 2052): the KPI page's
    three forms were a quarter of it as ~19 `_field.html` includes (issue 23, target 3)."""
    out = "\n"
    non_field = form.non_field_errors()
    if non_field:
        out += '<ul class="errorlist" role="alert">' + "".join(f"<li>{_v(e)}</li>" for e in non_field) + "</ul>"
    out += "\n"
    n = len(form.errors)
    if form.errors:
        out += (f'<p class="visually-hidden" role="alert">{n} field{"" if n == 1 else "s"} '
                f'need{"s" if n == 1 else ""} attention.</p>')
    out += "\n" + "".join(field_html(field) for field in form) + "\n"
    return mark_safe(out)  # noqa: S308 - every value escaped by _v (help texts are trusted, as |safe was)
