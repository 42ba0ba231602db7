"""`{% backlog_rows %}` and `{% backlog_row %}`: the backlog list's rows printed by backlog/rowhtml.py
(decision 2041). The context is the page's (or the rows or row endpoint's)."""

from django import template
from django.utils.safestring import mark_safe

from ..rowhtml import BacklogRows

register = template.Library()


@register.simple_tag(takes_context=True)
def backlog_rows(context):
    """Every row of `stories`, with group headings when the list is grouped."""
    return BacklogRows(context).rows(context.get("stories") or ())


@register.simple_tag(takes_context=True)
def backlog_row(context):
    """The row of `story` (after an inline edit, a live refresh)."""
    return mark_safe(BacklogRows(context).row(context["story"]))  # noqa: S308 - escaped by rowhtml.val
