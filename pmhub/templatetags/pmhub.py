from django import template
from django.utils.safestring import mark_safe

from .. import formatting
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


@register.inclusion_tag("_product_nav_sections.html", takes_context=True)
def product_nav(context):
    """The product's sectioned menu (pmhub.navigation) for the page being rendered."""
    from ..navigation import product_sections

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    workspace, product = context.get("workspace"), context.get("product")
    if workspace is None or product is None:
        return {"sections": []}
    nav = context.get("nav")
    role = getattr(getattr(nav, "current_role", None), "value", 10) if nav is not None else 10
    sections = product_sections(view_name=match.view_name if match else "", workspace_slug=workspace.slug,
                                product_id=product.id, role=role)
    return {"sections": sections, "product": product,
            "current": next((s for s in sections if s.current), None)}


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
