from django import template
from django.utils.safestring import mark_safe

from ..markdown import render_markdown

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
